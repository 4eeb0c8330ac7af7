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
from pathlib import Path
from typing import Any

import numpy as np

from scanning._errors import OCRBackendError
from scanning._ocr import CTCBackend

logger = logging.getLogger(__name__)

REC_MODEL = "PP-OCRv6_rec_small.onnx"
HEIGHT = 48
# Lines are padded (mid grey, as PaddleOCR pads) to at least this width. Wider reads a little better
# and costs time in proportion: on 250 real-digit answers, 96 px: 71.6% exact, 86.8% of keys
# verified; 160: 73.2%, 87.2%, 1.3x the time of 96; 320 (PaddleOCR's own width): 75.6%, 88.8%, 2.6x.
MIN_WIDTH = 160


def shipped_model_path() -> Path:
    """Where the installed rapidocr wheel keeps its PP-OCR recognition model (no import of rapidocr)."""
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        raise OCRBackendError("rapidocr is not installed (pip install rapidocr==3.10.0)")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / REC_MODEL
    if not path.is_file():
        raise OCRBackendError(f"the rapidocr wheel has no {REC_MODEL} at {path}")
    return path


class RapidOCRBackend(CTCBackend):
    """PP-OCR text-line recognition through onnxruntime, with charset restriction and verification.

    ``model_path``: another PP-OCR rec ONNX file (default: the one in the rapidocr wheel);
    ``threads``: onnxruntime intra-op threads (1: one core per reader, scale out by processes);
    ``min_width``: pad lines to this width (see ``MIN_WIDTH``: accuracy against time).
    The model loads on first use and the backend is reusable (and thread-safe) across pages.
    """

    name = "rapidocr"

    def __init__(
        self, model_path: str | Path | None = None, threads: int = 1, min_width: int = MIN_WIDTH
    ) -> None:
        super().__init__(threads)
        self.model_path = Path(model_path) if model_path else None
        self.min_width = min_width

    def _open(self) -> tuple[Any, list[str]]:
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
        logger.info("loaded %s", path.name)
        return session, meta["character"].splitlines()

    def _frames(self, model: Any, gray: np.ndarray) -> np.ndarray:
        batch = _prepare(gray, self.min_width)
        return np.asarray(model.run(None, {model.get_inputs()[0].name: batch})[0][0])


def _prepare(gray: np.ndarray, min_width: int = MIN_WIDTH) -> np.ndarray:
    """PaddleOCR's rec preprocessing: height 48 keeping the aspect, scale to [-1, 1], then pad on the
    right with 0 (mid grey) to at least ``min_width`` (the model was trained on such padding: it
    reads handwritten digits better so than on white padding, 75% vs 69% exact in our runs).
    """
    import cv2

    h, w = gray.shape
    width = max(8, round(HEIGHT * w / h))
    line = cv2.resize(gray, (width, HEIGHT)).astype(np.float32) / 127.5 - 1.0
    if width < min_width:
        line = np.pad(line, ((0, 0), (0, min_width - width)))
    return np.ascontiguousarray(np.broadcast_to(line, (1, 3, *line.shape)))
