"""The optional OCR backend: real ``paddleocr`` (3.x) on a local PP-OCR model folder, via ONNX Runtime.

Install the extra (``pip install 'homework-loop[paddle]'``). PaddleOCR's ``TextRecognition`` with
``engine="onnxruntime"`` loads a folder holding ``inference.onnx`` and ``inference.yml`` (the
preprocessing and the character dictionary). :func:`write_model_dir` makes such a folder from the
PP-OCR recognition model that ships in the rapidocr wheel, so both backends can run the very same
network and nothing is downloaded (PaddleX's model-source check is switched off).

Images go through PaddleOCR's own preprocessing and runner; the per-frame probabilities are then
decoded by :mod:`scanning._ctc`, as in the default backend, so a charset restriction, a calibrated
confidence and key verification work the same way.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from scanning._errors import OCRBackendError
from scanning._ocr import CTCBackend

logger = logging.getLogger(__name__)

PADDLE_MODEL_NAME = "PP-OCRv5_mobile_rec"  # PaddleX's name for this family of CTC text-line recognizers


def write_model_dir(target: str | Path, onnx_path: str | Path | None = None) -> Path:
    """Write a PaddleOCR model folder (``inference.onnx`` + ``inference.yml``) at ``target``.

    ``onnx_path`` defaults to the PP-OCR recognition model in the rapidocr wheel; the character
    dictionary is copied from its ONNX metadata. Returns the folder.
    """
    import onnxruntime as ort
    import yaml

    from scanning._ocr_rapid import shipped_model_path

    source = Path(onnx_path) if onnx_path else shipped_model_path()
    meta = ort.InferenceSession(str(source), providers=["CPUExecutionProvider"]).get_modelmeta()
    if "character" not in meta.custom_metadata_map:
        raise OCRBackendError(f"{source} has no embedded character dictionary")
    folder = Path(target)
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "inference.onnx"
    if not link.exists():
        link.symlink_to(source.resolve())
    config = {
        "Global": {"model_name": PADDLE_MODEL_NAME},
        "PreProcess": {
            "transform_ops": [
                {"DecodeImage": {"channel_first": False, "img_mode": "BGR"}},
                {"RecResizeImg": {"image_shape": [3, 48, 320]}},
            ]
        },
        "PostProcess": {
            "name": "CTCLabelDecode",
            "character_dict": meta.custom_metadata_map["character"].splitlines(),
        },
    }
    (folder / "inference.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return folder


class PaddleOCRBackend(CTCBackend):
    """PaddleOCR ``TextRecognition`` (engine ``onnxruntime``) on a local model folder.

    ``model_dir``: a folder with ``inference.onnx`` and ``inference.yml`` (default: one written
    by :func:`write_model_dir` into a temporary folder); ``threads``: onnxruntime threads.
    """

    name = "paddleocr"

    def __init__(self, model_dir: str | Path | None = None, threads: int = 1) -> None:
        super().__init__(threads)
        self.model_dir = Path(model_dir) if model_dir else None

    def _open(self) -> tuple[Any, list[str]]:
        os.environ.setdefault("PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK", "True")  # never go online
        try:
            from paddleocr import TextRecognition
        except ImportError as exc:
            raise OCRBackendError("paddleocr is not installed: pip install 'homework-loop[paddle]'") from exc
        folder = self.model_dir or write_model_dir(Path(tempfile.mkdtemp(prefix="pp-ocr-rec-")))
        try:
            model = TextRecognition(
                model_name=PADDLE_MODEL_NAME,
                model_dir=str(folder),
                engine="onnxruntime",
                engine_config={"intra_op_num_threads": self.threads, "inter_op_num_threads": 1},
            )
        except Exception as exc:  # PaddleX raises plain Exceptions for a bad folder
            raise OCRBackendError(f"paddleocr cannot load the model folder {folder}: {exc}") from exc
        predictor = model.paddlex_predictor
        logger.info("paddleocr loaded %s", folder)
        return predictor, list(predictor.config["PostProcess"]["character_dict"])

    def _frames(self, model: Any, gray: np.ndarray) -> np.ndarray:
        """PaddleOCR's own resize/normalise and runner for one crop."""
        import cv2

        image = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
        batch = model.pre_tfs["ToBatch"](imgs=model.pre_tfs["ReisizeNorm"](imgs=[image]))
        return np.asarray(model.runner(x=batch)[0][0])
