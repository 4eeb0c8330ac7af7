"""The default OCR backend: the PP-OCR recognition model that ships inside the ``rapidocr`` wheel.

Recognition only, on tight crops: no text detection (a writing box is one short line). The model
file is read from the installed ``rapidocr`` package (``rapidocr/models/PP-OCRv6_rec_small.onnx``)
and run with ``onnxruntime``; its character dictionary is embedded in the ONNX metadata, so nothing
is ever fetched. Preprocessing follows rapidocr/PaddleOCR: 3 channels, height 48, scale to [-1, 1].
Decoding is our own CTC (:mod:`scanning._ctc`), which is what lets us restrict the charset, give a
calibrated string probability as the confidence, and verify an answer key's own spelling.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from scanning._ctc import best_path, restrict, string_probability
from scanning._errors import OCRBackendError
from scanning._ink import as_gray
from scanning._ocr import TextReading

logger = logging.getLogger(__name__)

REC_MODEL = "PP-OCRv6_rec_small.onnx"
HEIGHT = 48
MIN_WIDTH = 64
# The model learnt '/' from print, where it is long and slanted; a handwritten slash between digits
# reads as '1'. When verifying a candidate, its '/' may be read as either (but a written "12"
# cannot verify "1/2": see scanning._ctc.string_probability).
ALIASES = {"/": "1"}  # a single digit still gets enough frames to hold blank-digit-blank


def shipped_model_path() -> Path:
    """Where the installed rapidocr wheel keeps its PP-OCR recognition model (no import of rapidocr)."""
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        raise OCRBackendError("rapidocr is not installed (pip install rapidocr==3.10.0)")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / REC_MODEL
    if not path.is_file():
        raise OCRBackendError(f"the rapidocr wheel has no {REC_MODEL} at {path}")
    return path


class RapidOCRBackend:
    """PP-OCR text-line recognition through onnxruntime, with charset restriction and verification.

    ``model_path``: another PP-OCR rec ONNX file (default: the one in the rapidocr wheel);
    ``threads``: onnxruntime intra-op threads (1: one core per reader, scale out by processes).
    The model loads on first use and the backend is reusable (and thread-safe) across pages.
    """

    name = "rapidocr"

    def __init__(self, model_path: str | Path | None = None, threads: int = 1) -> None:
        self.model_path = Path(model_path) if model_path else None
        self.threads = threads
        self._session: Any = None
        self._characters: list[str] = []
        self._index: dict[str, int] = {}
        self._lock = threading.Lock()

    @property
    def characters(self) -> list[str]:
        """The model's symbols: ``characters[0]`` is the CTC blank (``""``), the last a space."""
        self._load()
        return self._characters

    def _load(self) -> None:
        with self._lock:
            if self._session is None:
                self._session = self._open()

    def _open(self) -> Any:
        import onnxruntime as ort

        path = self.model_path or shipped_model_path()
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise OCRBackendError(f"cannot load the recognition model {path}: {exc}") from exc
        meta = session.get_modelmeta().custom_metadata_map
        if "character" not in meta:
            raise OCRBackendError(f"{path} has no embedded character dictionary")
        self._characters = ["", *meta["character"].splitlines(), " "]
        self._index = {ch: i for i, ch in enumerate(self._characters) if i}
        self._input = session.get_inputs()[0].name
        logger.info("loaded %s (%d symbols)", path.name, len(self._characters))
        return session

    def allowed(self, charset: str | None) -> np.ndarray | None:
        """Column indices of ``charset``'s characters (None: every character)."""
        if charset is None:
            return None
        self._load()
        missing = [ch for ch in charset if ch not in self._index]
        if missing:
            raise OCRBackendError(f"the model cannot write {''.join(missing)!r}")
        return np.array(sorted({self._index[ch] for ch in charset}), dtype=np.int64)

    def frame_probabilities(self, crop: np.ndarray, charset: str | None = None) -> np.ndarray:
        """The model's per-frame symbol probabilities for one line crop, ``(frames, symbols)``."""
        self._load()
        batch = _prepare(as_gray(crop))
        probs = self._session.run(None, {self._input: batch})[0][0]
        allowed = self.allowed(charset)
        return probs if allowed is None else restrict(probs, allowed)

    def recognize(self, crops: Sequence[np.ndarray], charset: str | None = None) -> list[TextReading]:
        """Read each tight line crop (grey uint8, ink dark on light); see :class:`TextReading`."""
        return [self.read(crop, charset) for crop in crops]

    def verify(self, crop: np.ndarray, candidates: Sequence[str], charset: str | None = None) -> list[float]:
        """P(candidate | crop) for each candidate string (0 for one the charset cannot write)."""
        return self._scores(self.frame_probabilities(crop, charset), candidates, charset)

    def read(
        self, crop: np.ndarray, charset: str | None = None, candidates: Sequence[str] = ()
    ) -> TextReading:
        """Recognise one crop and, in the same model pass, verify ``candidates`` (their summed P)."""
        probs = self.frame_probabilities(crop, charset)
        text, chars = best_path(probs, self._characters)
        labels = self.encode(text) or []
        confidence = string_probability(probs, labels)
        key_p = sum(self._scores(probs, candidates, charset)) if candidates else None
        return TextReading(
            text, confidence, chars, key_probability=None if key_p is None else min(1.0, key_p)
        )

    def _scores(self, probs: np.ndarray, candidates: Sequence[str], charset: str | None) -> list[float]:
        columns = self.allowed(charset)
        allowed = None if columns is None else set(columns.tolist())
        scores = []
        for candidate in candidates:
            labels = self.encode(candidate)
            if not labels or (allowed is not None and not set(labels) <= allowed):
                scores.append(0.0)
            else:
                scores.append(string_probability(probs, labels, self._aliases(candidate)))
        return scores

    def _aliases(self, candidate: str) -> dict[int, int]:
        """Positions of ``candidate`` whose character may also be read as its alias (``ALIASES``)."""
        out = {}
        for pos, char in enumerate(candidate):
            alias = ALIASES.get(char)
            if alias is None or alias not in self._index:
                continue
            out[pos] = self._index[alias]
        return out

    def encode(self, text: str) -> list[int] | None:
        """The model's symbol indices for ``text``, or None if it has a character the model lacks."""
        self._load()
        try:
            return [self._index[ch] for ch in text]
        except KeyError:
            return None


def _prepare(gray: np.ndarray) -> np.ndarray:
    """Resize to height 48 keeping the aspect, pad white to a minimum width, scale to [-1, 1]."""
    import cv2

    h, w = gray.shape
    width = max(8, round(HEIGHT * w / h))
    interpolation = cv2.INTER_AREA if h > HEIGHT else cv2.INTER_LINEAR
    line = cv2.resize(gray, (width, HEIGHT), interpolation=interpolation)
    if width < MIN_WIDTH:
        left = (MIN_WIDTH - width) // 2
        line = cv2.copyMakeBorder(line, 0, 0, left, MIN_WIDTH - width - left, cv2.BORDER_CONSTANT, value=255)
    x = line.astype(np.float32) / 127.5 - 1.0
    return np.ascontiguousarray(np.broadcast_to(x, (1, 3, *x.shape)))
