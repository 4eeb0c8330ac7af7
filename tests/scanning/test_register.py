"""Registration on rendered sheets: any rotation, perspective, damage, a missing marker, no markers."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from scanning import PageNotRegisteredError, load_spec, marker_layout
from scanning._register import detect_markers, register
from scanning._render import render_page_images

SPEC = {
    "assignment_id": "hw-reg",
    "title": "Registration 配准",
    "students": [{"id": "s1", "name": "李雷"}],
    "fields": [{"id": "1", "type": "single_choice"}, {"id": "2", "type": "grid_in", "columns": 3}],
}
MARKERS = marker_layout(210.0, 297.0)
PROBES_MM = np.array([[20.0, 40.0], [190.0, 40.0], [105.0, 150.0], [30.0, 280.0], [185.0, 275.0]])


@pytest.fixture(scope="module")
def page() -> tuple[np.ndarray, float]:
    image, geometry = next(render_page_images(load_spec(SPEC), dpi=200))
    return image, geometry.scale


def _truth(scale: float, warp: np.ndarray) -> np.ndarray:
    """Where the probe points land in an image warped by ``warp`` (3x3) from the clean render."""
    px = PROBES_MM * scale - 0.5
    return cv2.perspectiveTransform(px.reshape(-1, 1, 2), warp).reshape(-1, 2)


def _max_error_mm(image: np.ndarray, scale: float, warp: np.ndarray) -> float:
    reg = register(image, MARKERS)
    assert reg.markers_found == (0, 1, 2, 3)
    return float(np.abs(reg.to_image(PROBES_MM) - _truth(scale, warp)).max()) / reg.px_per_mm


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
def test_quarter_turns_register_to_a_fraction_of_a_millimetre(page, turns) -> None:
    image, scale = page
    h, w = image.shape
    turned = np.ascontiguousarray(np.rot90(image, -turns))  # clockwise
    rot = {0: np.eye(3), 1: [[0, -1, h - 1], [1, 0, 0], [0, 0, 1]],
           2: [[-1, 0, w - 1], [0, -1, h - 1], [0, 0, 1]], 3: [[0, 1, 0], [-1, 0, w - 1], [0, 0, 1]]}[turns]
    assert _max_error_mm(turned, scale, np.array(rot, float)) < 0.1


@pytest.mark.parametrize("angle", [23.0, -137.0])
def test_arbitrary_rotation(page, angle) -> None:
    image, scale = page
    h, w = image.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 0.55)
    rotated = cv2.warpAffine(image, m, (w, h), borderValue=235)
    assert _max_error_mm(rotated, scale, np.vstack([m, [0, 0, 1]])) < 0.2


def test_fifteen_degree_perspective_with_shading_blur_noise_and_jpeg(page) -> None:
    image, scale = page
    h, w = image.shape
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[0.12 * w, 0.04 * h], [0.9 * w, 0.0], [w, h], [0.05 * w, 0.93 * h]])  # ~15 deg tilt
    warp = cv2.getPerspectiveTransform(src, dst)
    photo = cv2.warpPerspective(image, warp, (w, h), borderValue=90).astype(np.float32)
    photo *= np.linspace(0.45, 1.0, w, dtype=np.float32)[None, :]  # light falls off to one side
    photo = cv2.GaussianBlur(photo, (0, 0), 1.5) + np.random.default_rng(3).normal(0, 10, photo.shape)
    ok, jpeg = cv2.imencode(".jpg", np.clip(photo, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 45])
    degraded = cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE)
    assert _max_error_mm(degraded, scale, warp) < 0.5


def test_three_markers_are_enough(page) -> None:
    image, scale = page
    damaged = image.copy()
    damaged[-200:, -200:] = 255  # the bottom-right marker torn off
    reg = register(damaged, MARKERS)
    assert reg.markers_found == (0, 1, 3)
    assert float(np.abs(reg.to_image(PROBES_MM) - _truth(scale, np.eye(3))).max()) / reg.px_per_mm < 0.2
    assert reg.confidence < register(image, MARKERS).confidence


def test_markers_are_found_on_a_reduced_image_and_refined(page) -> None:
    image, scale = page
    found = detect_markers(image)
    expected = (np.array([[8.0, 8.0], [22.0, 8.0], [22.0, 22.0], [8.0, 22.0]]) * scale - 0.5)
    assert sorted(found) == [0, 1, 2, 3]
    assert np.abs(found[0] - expected).max() < 0.6


def test_page_without_markers_is_not_registered(page) -> None:
    image, _ = page
    text_only = image.copy()
    for marker in MARKERS:
        x, y = int(marker.rect.x * 200 / 25.4) - 5, int(marker.rect.y * 200 / 25.4) - 5
        text_only[y : y + 125, x : x + 125] = 255
    with pytest.raises(PageNotRegisteredError, match=r"scan\.jpg page 1: found 0 of the page's 4 registration markers"):
        register(text_only, MARKERS, source="scan.jpg page 1")
    with pytest.raises(PageNotRegisteredError, match="found 0 of"):
        register(np.full((2339, 1654), 250, np.uint8), MARKERS)
