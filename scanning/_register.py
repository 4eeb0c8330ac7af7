"""Registration: find a page's four ArUco markers and map page millimetres to image pixels.

Markers are searched for on a reduced copy of the page (the long side shrunk to about
:data:`SEARCH_SIDE` pixels with ``INTER_AREA``), which is four to ten times cheaper than the full
image and, thanks to the averaging, more tolerant of noise and JPEG artefacts; only when fewer than
three markers turn up is the search repeated at twice that resolution and then at full resolution.
The corners found are refined at full resolution (``cornerSubPix``) and a homography is fitted from
the printed corners (mm, from the :class:`~scanning._geometry.PageLayout`) to the found ones (px).

Every ArUco marker knows its own corner order, so a page scanned sideways, upside down or at any
angle maps the right way without a separate orientation step; a phone photo's perspective is what a
homography models. Three markers (twelve corners) are enough; with fewer the page is not registered
and :class:`~scanning.PageNotRegisteredError` names it (the caller keeps the page for a human).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from scanning._errors import PageNotRegisteredError
from scanning._geometry import Marker

logger = logging.getLogger(__name__)

ARUCO_DICTIONARY = "DICT_4X4_50"
"""Default ArUco dictionary (the name of a ``cv2.aruco`` constant)."""

SEARCH_SIDE = 640
"""Long side, in pixels, of the reduced image the markers are first searched on."""

MIN_MARKERS = 3
"""Fewest markers a page can be registered from."""

MAX_RESIDUAL_MM = 1.5
"""A marker whose corners sit further than this from the fitted homography is dropped as a false hit."""


@dataclass(frozen=True, eq=False)
class Registration:
    """Where the page lies in the image: the homography from page millimetres to image pixels.

    ``residual_mm`` is the RMS distance between the found marker corners and where the homography
    puts them; ``confidence`` falls from 1 as it grows (:data:`MAX_RESIDUAL_MM` gives 0) and is reduced
    when a marker is missing.
    """

    homography: np.ndarray
    markers_found: tuple[int, ...]
    residual_mm: float
    px_per_mm: float
    confidence: float

    def to_image(self, points_mm: np.ndarray) -> np.ndarray:
        """Map ``(n, 2)`` page points (mm) to image points (px)."""
        return project(self.homography, points_mm)


def project(homography: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a 3x3 homography to ``(..., 2)`` points.

    >>> project(np.diag([2.0, 3.0, 1.0]), np.array([[1.0, 1.0]]))
    array([[2., 3.]])
    """
    import cv2

    pts = np.asarray(points, np.float64)
    out = cv2.perspectiveTransform(pts.reshape(-1, 1, 2), np.asarray(homography, np.float64))
    return out.reshape(pts.shape)


def detect_markers(gray: np.ndarray, *, dictionary: str = ARUCO_DICTIONARY) -> dict[int, np.ndarray]:
    """Find ArUco markers: ``{marker id: (4, 2) float32 corners in full-resolution pixels}``.

    Corners are in the marker's own order (its top-left, top-right, bottom-right, bottom-left as
    printed), whatever the page's rotation. The search runs on the image shrunk by a whole factor
    (``INTER_AREA`` is several times faster for whole factors), then at half that factor, then at
    full size, stopping as soon as four markers are found.
    """

    detector = _detector(dictionary)
    found: dict[int, np.ndarray] = {}
    shrink = max(1, round(max(gray.shape) / SEARCH_SIDE))
    for step in dict.fromkeys((shrink, max(1, shrink // 2), 1)):
        small = gray if step == 1 else _shrink(gray, step)
        corners, ids, _ = detector.detectMarkers(small)
        if ids is not None:
            found = _largest_per_id(corners, ids.ravel(), step)
        if len(found) >= 4 or (len(found) >= MIN_MARKERS and step < shrink):
            break
    _refine(gray, found, dictionary)
    return found


def _shrink(gray: np.ndarray, step: int) -> np.ndarray:
    """Average ``step`` x ``step`` blocks (cropping the ragged edge keeps OpenCV on its fast path)."""
    import cv2

    height, width = (gray.shape[0] // step) * step, (gray.shape[1] // step) * step
    return cv2.resize(gray[:height, :width], (width // step, height // step), interpolation=cv2.INTER_AREA)


_DETECTORS: dict[tuple[str, int], Any] = {}


def _detector(dictionary: str, *, window: int = 0) -> Any:
    """A cached ``ArucoDetector`` (creating one costs more than a detection on a reduced page).

    ``window`` 0: the search detector (two adaptive-threshold windows, markers spanning at least
    1.25 % of the image's long side); otherwise a refining detector for a window around one marker,
    thresholding once with that window size and refining corners to sub-pixel accuracy.
    """
    import cv2

    key = (dictionary, window)
    if key not in _DETECTORS:
        params = cv2.aruco.DetectorParameters()
        params.minDistanceToBorder = 0  # a skewed scan can put a marker at the image's edge
        if window:
            params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
            params.adaptiveThreshWinSizeMin = params.adaptiveThreshWinSizeMax = window
            params.minMarkerPerimeterRate = 0.3
        else:
            params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_NONE
            params.adaptiveThreshWinSizeMin, params.adaptiveThreshWinSizeMax = 5, 15
            params.minMarkerPerimeterRate = 0.05
        aruco_dict = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, dictionary))
        _DETECTORS[key] = cv2.aruco.ArucoDetector(aruco_dict, params)
    return _DETECTORS[key]


def _largest_per_id(corners: tuple, ids: np.ndarray, step: int) -> dict[int, np.ndarray]:
    """Corners in full-resolution pixels, keeping the largest marker when an id repeats."""
    import cv2

    best: dict[int, tuple[float, np.ndarray]] = {}
    for quad, marker_id in zip(corners, ids, strict=True):
        pts = (quad.reshape(4, 2).astype(np.float32) + 0.5) * step - 0.5
        area = abs(cv2.contourArea(pts))
        if int(marker_id) not in best or area > best[int(marker_id)][0]:
            best[int(marker_id)] = (area, pts)
    return {k: v[1] for k, v in best.items()}


def _refine(gray: np.ndarray, found: dict[int, np.ndarray], dictionary: str) -> None:
    """Refine each marker's corners at full resolution, in place.

    The marker is detected again in a full-resolution window around where the reduced image put
    it, thresholded once with a window about a cell wide, with sub-pixel corner refinement: about
    0.3 px accuracy instead of the reduced image's 3-4 px, for about 0.3 ms a marker. A marker not found again keeps its first estimate.
    """
    height, width = gray.shape
    for marker_id, pts in found.items():
        (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
        cell = max(x1 - x0, y1 - y0) / 6  # a 4x4 marker is 6 cells wide with its black border
        detector = _detector(dictionary, window=int(np.clip(cell, 5, 61)) // 4 * 4 + 3)
        pad = 0.3 * max(x1 - x0, y1 - y0) + 2
        left, top = int(max(0, x0 - pad)), int(max(0, y0 - pad))
        right, bottom = int(min(width, x1 + pad + 1)), int(min(height, y1 + pad + 1))
        corners, ids, _ = detector.detectMarkers(gray[top:bottom, left:right])
        hits = [] if ids is None else [c for c, i in zip(corners, ids.ravel(), strict=True) if i == marker_id]
        if hits:
            found[marker_id] = hits[0].reshape(4, 2).astype(np.float32) + np.array([left, top], np.float32)


def register(
    gray: np.ndarray,
    markers: tuple[Marker, ...],
    *,
    found: dict[int, np.ndarray] | None = None,
    dictionary: str = ARUCO_DICTIONARY,
    source: object = "page",
) -> Registration:
    """Register a page: the homography from the layout's markers (mm) to the image (px).

    ``found`` reuses an earlier :func:`detect_markers` result (a page is registered again, at no
    cost, once its QR code has said which layout it is). Raises
    :class:`~scanning.PageNotRegisteredError` naming ``source`` when fewer than
    :data:`MIN_MARKERS` of the layout's markers are found.
    """
    if found is None:
        found = detect_markers(gray, dictionary=dictionary)
    by_id = {m.marker_id: m for m in markers}
    usable = sorted(set(found) & set(by_id))
    if len(usable) < MIN_MARKERS:
        raise PageNotRegisteredError(
            f"{source}: found {len(usable)} of the page's {len(by_id)} registration markers "
            f"(ids {sorted(found) or 'none'} seen); at least {MIN_MARKERS} are needed"
        )
    return _fit(found, by_id, usable, source)


def _fit(
    found: dict[int, np.ndarray], by_id: dict[int, Marker], usable: list[int], source: object
) -> Registration:
    import cv2

    while True:
        src = np.concatenate([_corners_mm(by_id[i]) for i in usable]).astype(np.float32)
        dst = np.concatenate([found[i] for i in usable]).astype(np.float32)
        homography, _ = cv2.findHomography(src, dst, 0)
        if homography is None:
            raise PageNotRegisteredError(f"{source}: the markers found do not define a page (degenerate)")
        px_per_mm = _scale(homography, src.mean(axis=0))
        errors = np.linalg.norm(project(homography, src) - dst, axis=1).reshape(-1, 4) / px_per_mm
        worst = int(errors.mean(axis=1).argmax())
        if errors[worst].mean() <= MAX_RESIDUAL_MM or len(usable) <= MIN_MARKERS:
            break
        logger.debug("%s: dropping marker %d (%.2f mm off)", source, usable[worst], errors[worst].mean())
        usable = usable[:worst] + usable[worst + 1 :]
    residual = float(np.sqrt((errors**2).mean()))
    if residual > MAX_RESIDUAL_MM:
        raise PageNotRegisteredError(
            f"{source}: markers {usable} do not agree with the layout ({residual:.1f} mm RMS residual)"
        )
    confidence = max(0.0, 1.0 - residual / MAX_RESIDUAL_MM) * (1.0 if len(usable) >= 4 else 0.9)
    return Registration(homography, tuple(usable), residual, px_per_mm, round(confidence, 4))


def _corners_mm(marker: Marker) -> np.ndarray:
    r = marker.rect
    return np.array([[r.x, r.y], [r.x + r.w, r.y], [r.x + r.w, r.y + r.h], [r.x, r.y + r.h]], np.float64)


def _scale(homography: np.ndarray, at: np.ndarray) -> float:
    """Pixels per millimetre around page point ``at`` (square root of the local area scale)."""
    pts = np.array([at, at + [1.0, 0.0], at + [0.0, 1.0]])
    p = project(homography, pts)
    (ax, ay), (bx, by) = p[1] - p[0], p[2] - p[0]
    area = abs(ax * by - ay * bx)
    return float(np.sqrt(area))
