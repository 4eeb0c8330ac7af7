"""Pages for the reader's tests: sheets rendered by the project's renderer, pencilled in code.

Marks are S4's pencil marks (``scanning._pencil.draw_bubble_mark``: textured ellipses, full,
partial, light or erased) drawn at the bubbles' pixel positions the renderer reports.
"""

from __future__ import annotations

import cv2
import numpy as np

from scanning import load_spec, render_page_images
from scanning._pencil import draw_bubble_mark

SPEC = {
    "assignment_id": "hw-read",
    "title": "读卡 Reader test",
    "class_name": "7-2",
    "students": [{"id": "s1", "name": "李雷"}, {"id": "s2", "name": "Han Meimei"}, {"id": "s3", "name": "王芳"}],
    "fields": [
        {"id": "q1", "type": "single_choice", "options": 4, "key": {"correct": "B"}},
        {"id": "q2", "type": "single_choice", "options": 4},
        {"id": "q3", "type": "single_choice", "options": 5},
        {"id": "q4", "type": "single_choice", "options": 4},
        {"id": "q5", "type": "multiple_choice", "options": 5},
        {"id": "q6", "type": "true_false"},
        {"id": "q7", "type": "grid_in", "columns": 4},
        {"id": "q8", "type": "handwriting", "kind": "number"},
        {"id": "q9", "type": "score", "max_points": 6},
        {"id": "t", "type": "minutes"},
    ],
}

# field -> [(option, column, style)]; and what a correct reader reports: (value, status)
MARKS = {
    "q1": [("B", 0, "full")],
    "q2": [("A", 0, "full"), ("C", 0, "full")],
    "q3": [("D", 0, "light")],
    "q4": [("C", 0, "erased")],
    "q5": [("A", 0, "full"), ("D", 0, "partial"), ("E", 0, "light")],
    "q6": [("F", 0, "full")],
    "q7": [("-", 0, "full"), ("3", 1, "full"), (".", 2, "full"), ("5", 3, "full")],
    "q9": [("4", 0, "full")],
    "t": [("2", 0, "full"), ("5", 1, "full")],
}
EXPECTED = {
    "q1": ("B", "ok"),
    "q2": ("AC", "needs_review"),
    "q3": ("D", "ok"),
    "q4": (None, "needs_review"),
    "q5": ("ADE", "ok"),
    "q6": ("F", "ok"),
    "q7": ("-3.5", "ok"),
    "q9": ("4", "ok"),
    "t": ("25", "ok"),
}


def spec():  # noqa: ANN201 - a SheetSpec
    return load_spec(SPEC)


def rendered(dpi: float = 200.0, spec_data: dict | None = None) -> list[tuple[np.ndarray, object]]:
    """Every student's clean pages as ``(grey image, PixelGeometry)``."""
    return list(render_page_images(load_spec(spec_data or SPEC), dpi=dpi))


def pencil(image: np.ndarray, geometry, marks: dict, seed: int = 0) -> np.ndarray:  # noqa: ANN001
    """A copy of ``image`` with ``marks`` pencilled into the bubbles."""
    out = image.copy()
    rng = np.random.default_rng(seed)
    where = {(b.field_id, b.option, b.column): b for b in geometry.page.bubbles}
    for field_id, field_marks in marks.items():
        for option, column, style in field_marks:
            b = where[(field_id, option, column)]
            cx, cy = geometry.point(b.cx, b.cy)
            draw_bubble_mark(out, cx, cy, b.r * geometry.scale, style, rng)
    return out


def write_in_box(image: np.ndarray, geometry, field_id: str, text: str) -> np.ndarray:  # noqa: ANN001
    """A copy of ``image`` with ``text`` written (in a plain stroke font) inside a writing box."""
    out = image.copy()
    box = next(b for b in geometry.page.boxes if b.field_id == field_id)
    x, y, w, h = geometry.rect(box.rect)
    cv2.putText(out, text, (int(x + 0.15 * w), int(y + 0.75 * h)), cv2.FONT_HERSHEY_SIMPLEX, h / 40, 40, max(2, int(h / 25)), cv2.LINE_AA)
    return out


def warp(image: np.ndarray, matrix: np.ndarray, size: tuple[int, int], fill: int = 235) -> np.ndarray:
    return cv2.warpPerspective(image, matrix, size, borderValue=fill)


def tilt(image: np.ndarray, seed: int = 1) -> np.ndarray:
    """A ~15 degree perspective photo: one side nearer the camera, uneven light, blur, noise, JPEG."""
    h, w = image.shape
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[0.1 * w, 0.05 * h], [0.92 * w, 0.0], [w, h], [0.04 * w, 0.94 * h]])
    photo = warp(image, cv2.getPerspectiveTransform(src, dst), (w, h), 80).astype(np.float32)
    photo *= np.linspace(0.5, 1.0, h, dtype=np.float32)[:, None]
    photo = cv2.GaussianBlur(photo, (0, 0), 1.2) + np.random.default_rng(seed).normal(0, 6, photo.shape)
    return jpeg_roundtrip(np.clip(photo, 0, 255).astype(np.uint8), 70)


def jpeg_roundtrip(image: np.ndarray, quality: int = 80) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)


def encode(image: np.ndarray, ext: str = ".jpg") -> bytes:
    ok, data = cv2.imencode(ext, image)
    return data.tobytes()
