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
        self._head: tuple[Any, np.ndarray, np.ndarray] | None = None

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
        self._head = _split_head(path, options)
        logger.info("loaded %s", path.name)
        return session, meta["character"].splitlines()

    def _frames(self, model: Any, gray: np.ndarray) -> np.ndarray:
        batch = _prepare(gray, self.min_width)
        return np.asarray(model.run(None, {model.get_inputs()[0].name: batch})[0][0])

    def _restricted_frames(self, model: Any, gray: np.ndarray, allowed: np.ndarray) -> np.ndarray | None:
        """Restricted probabilities from the model body's features and only the allowed columns
        of its classifier: a numeric field needs 14 of the 18,710 symbols' scores, and the full
        classifier and softmax are an eighth of the model's time."""
        if self._head is None:
            return None
        body, weight, bias = self._head
        features = body.run(None, {body.get_inputs()[0].name: _prepare(gray, self.min_width)})[0][0]
        return restricted_softmax(features, weight, bias, allowed)


def restricted_softmax(
    features: np.ndarray, weight: np.ndarray, bias: np.ndarray, allowed: np.ndarray
) -> np.ndarray:
    """Softmax over the blank and ``allowed`` columns only of ``features @ weight + bias``; others 0.

    Equal (to float rounding) to the full softmax restricted and renormalised
    (:func:`scanning._ctc.restrict`), since the other columns' scores cancel out.

    >>> p = restricted_softmax(np.array([[1.0, 0.0]]), np.eye(2, 3), np.zeros(3), np.array([2]))
    >>> [[round(float(v), 3) for v in row] for row in p]
    [[0.731, 0.0, 0.269]]
    """
    keep = np.union1d(allowed, [0])
    logits = features.astype(np.float64) @ weight[:, keep].astype(np.float64) + bias[keep]
    logits -= logits.max(axis=1, keepdims=True)
    scores = np.exp(logits)
    out = np.zeros((len(features), weight.shape[1]), np.float32)
    out[:, keep] = scores / scores.sum(axis=1, keepdims=True)
    return out


def _split_head(path: Path, options: Any) -> tuple[Any, np.ndarray, np.ndarray] | None:
    """The model without its classifier (a session giving per-frame features) and the
    classifier's weight and bias; None, with a warning, when the model does not end in
    ``MatMul -> Add -> Softmax`` (then restricted reads run the whole model, slower but the same)."""
    import onnx
    import onnxruntime as ort

    split = _classifier_tail(onnx.load(str(path)))
    if split is None:
        logger.warning("%s does not end in MatMul -> Add -> Softmax; numeric reads run the whole model", path.name)
        return None
    model, matmul, weight, bias = split
    del model.graph.output[:]
    model.graph.output.append(onnx.helper.make_tensor_value_info(matmul.input[0], onnx.TensorProto.FLOAT, None))
    body = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return body, weight, bias


def _classifier_tail(model: Any) -> tuple[Any, Any, np.ndarray, np.ndarray] | None:
    """Cut the classifier off ``model`` (in place): (model, its MatMul node, weight, bias), or None."""
    from onnx import numpy_helper

    graph = model.graph
    made_by = {out: node for node in graph.node for out in node.output}
    tail, name = [], graph.output[0].name if len(graph.output) == 1 else ""
    for op in ("Softmax", "Add", "MatMul"):
        node = made_by.get(name)
        while node is not None and node.op_type == "Identity":
            tail.append(node)
            node = made_by.get(node.input[0])
        if node is None or node.op_type != op:
            return None
        tail.append(node)
        name = node.input[0]
    softmax, add, matmul = (n for n in tail if n.op_type != "Identity")
    weights = {init.name: init for init in graph.initializer}
    axis = next((a.i for a in softmax.attribute if a.name == "axis"), -1)
    if axis not in (-1, 2) or add.input[1] not in weights or matmul.input[1] not in weights:
        return None
    weight = numpy_helper.to_array(weights[matmul.input[1]]).astype(np.float32)
    bias = numpy_helper.to_array(weights[add.input[1]]).astype(np.float32)
    for node in tail:
        graph.node.remove(node)
    for init in (weights[matmul.input[1]], weights[add.input[1]]):
        graph.initializer.remove(init)
    return model, matmul, weight, bias


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
