"""Registration without our markers: bring a photo or scan of a foreign sheet onto its template page.

A :class:`~scanning.ForeignSheet` lists its ``steps``; :func:`align_page` runs them in order on a
grey image and returns the page at ``scale`` pixels per template unit::

    crop_page          the sheet's edges on a table (phone photo): shrink to ~800 px, close away the
                       print, Otsu-separate the bright paper from the background, take the largest
                       region's outline, fit a quadrilateral (4 corners, no angle below 45 degrees,
                       >= 15 % of the photo) and flatten it onto the page by perspective warp
    crop_on_markers    the template's marker image matched (normalised cross-correlation, a few
                       scales around its stated size) in each quarter of the page; the four centres
                       become the page's corners. A corner matched below ``min_match`` fails.
    align_to_reference ORB features of the page matched to the blank sheet's reference image;
                       RANSAC homography (or a similarity for "2d"); needs >= 12 inlier matches
    levels, blur       grey-level steps, applied where they stand

Without a crop step the whole image is the page (OMRChecker's behaviour). A page that cannot be
aligned raises :class:`~scanning.PageNotRegisteredError` with the step and the reason; the caller
keeps the page for a human.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from scanning._errors import PageNotRegisteredError
from scanning._foreign import AlignToReference, Blur, CropOnMarkers, CropPage, ForeignSheet, Levels

logger = logging.getLogger(__name__)

EDGE_WORK_SIDE = 800
"""Longest side (pixels) the page-edge search works at."""

MIN_PAGE_SHARE = 0.15
"""Smallest share of the photo the sheet must cover for its outline to be believed."""

MIN_INLIERS = 12
"""Fewest feature matches agreeing with one transform for a reference alignment to be believed."""


@dataclass(frozen=True, eq=False)
class AlignedPage:
    """A page on its template: grey ``image`` at ``scale`` px per template unit, and how it got there."""

    image: np.ndarray
    scale: float
    methods: tuple[str, ...]
    confidence: float


def align_page(gray: np.ndarray, sheet: ForeignSheet, scale: float) -> AlignedPage:
    """Run the sheet's steps on ``gray``; :class:`PageNotRegisteredError` (with the reason) if one fails."""
    size = (max(1, round(sheet.page[0] * scale)), max(1, round(sheet.page[1] * scale)))
    current, framed, confidence = gray, False, 1.0
    methods: list[str] = []
    input_width = float(gray.shape[1])  # in the current image's pixels (a crop keeps the scale)
    for step in sheet.steps:
        if isinstance(step, CropPage):
            current, conf = _crop_page(current)
            framed, methods = True, [*methods, "page edges"]
        elif isinstance(step, CropOnMarkers):
            current, conf = _crop_on_markers(current, step, input_width)
            framed, methods = True, [*methods, "markers"]
        elif isinstance(step, AlignToReference):
            current, conf = _align_to_reference(_framed(current, framed, size), step)
            framed, methods = True, [*methods, "reference"]
        else:
            current, conf = _grey_step(current, step, scale), 1.0
        confidence = min(confidence, conf)
    if not framed:
        methods = [*methods, "whole image"]
    return AlignedPage(_framed(current, False, size), scale, tuple(methods), round(confidence, 4))


def _framed(image: np.ndarray, framed: bool, size: tuple[int, int]) -> np.ndarray:
    import cv2

    if framed and image.shape[1] == size[0] and image.shape[0] == size[1]:
        return image
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _grey_step(image: np.ndarray, step: Levels | Blur, scale: float) -> np.ndarray:
    import cv2

    if isinstance(step, Levels):
        levels = np.arange(256, dtype=np.float64) / 255.0
        out = np.clip((levels - step.low) / (step.high - step.low), 0, 1) ** (1.0 / step.gamma)
        return cv2.LUT(image, (out * 255).round().astype(np.uint8))
    size = max(1, int(step.size)) | 1
    if step.method == "median":
        return cv2.medianBlur(image, size)
    return cv2.GaussianBlur(image, (size, size), 0)


# -- page edges -----------------------------------------------------------------------------------


def _crop_page(image: np.ndarray) -> tuple[np.ndarray, float]:
    import cv2

    factor = EDGE_WORK_SIDE / max(image.shape)
    small = cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA) if factor < 1 else image
    factor = min(factor, 1.0)
    quad, confidence = find_page_quad(small)
    if quad is None:
        raise PageNotRegisteredError("the sheet's edges were not found (crop_page): no bright four-sided "
                                     "page stands out from the background")
    corners = (quad / factor).astype(np.float32)
    return _flatten(image, corners), confidence


def _flatten(image: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """The quadrilateral ``corners`` (tl, tr, br, bl) warped to a rectangle of its own mean size."""
    import cv2

    width = int(round((np.linalg.norm(corners[1] - corners[0]) + np.linalg.norm(corners[2] - corners[3])) / 2))
    height = int(round((np.linalg.norm(corners[3] - corners[0]) + np.linalg.norm(corners[2] - corners[1])) / 2))
    width, height = max(width, 8), max(height, 8)
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(corners.astype(np.float32), target)
    return cv2.warpPerspective(image, matrix, (width, height), flags=cv2.INTER_LINEAR)


def find_page_quad(small: np.ndarray) -> tuple[np.ndarray | None, float]:
    """The sheet's four corners (tl, tr, br, bl) in ``small``, and a confidence; None if not found."""
    import cv2

    blurred = cv2.GaussianBlur(small, (5, 5), 0)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (9, 9))
    closed = cv2.morphologyEx(blurred, cv2.MORPH_CLOSE, kernel)
    _, mask = cv2.threshold(closed, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5)))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    area = small.shape[0] * small.shape[1]
    for contour in sorted(contours, key=cv2.contourArea, reverse=True)[:3]:
        hull = cv2.convexHull(contour)
        if cv2.contourArea(hull) < MIN_PAGE_SHARE * area:
            break
        quad = _quadrilateral(hull)
        if quad is not None:
            fill = cv2.contourArea(contour) / max(cv2.contourArea(quad.astype(np.float32)), 1.0)
            return _order(quad), round(float(min(1.0, fill)), 4)
    return None, 0.0


def _quadrilateral(hull: np.ndarray) -> np.ndarray | None:
    import cv2

    perimeter = cv2.arcLength(hull, True)
    for epsilon in (0.01, 0.02, 0.03, 0.04, 0.06):
        approx = cv2.approxPolyDP(hull, epsilon * perimeter, True).reshape(-1, 2).astype(np.float64)
        if len(approx) == 4 and _angles_ok(approx):
            return approx
        if len(approx) < 4:
            break
    return None


def _angles_ok(quad: np.ndarray) -> bool:
    for i in range(4):
        a, b, c = quad[i - 1], quad[i], quad[(i + 1) % 4]
        u, v = a - b, c - b
        cosine = abs(float(u @ v) / (np.linalg.norm(u) * np.linalg.norm(v) + 1e-9))
        if cosine > 0.7:  # an angle under ~45 or over ~135 degrees: not a photographed rectangle
            return False
    return True


def _order(points: np.ndarray) -> np.ndarray:
    """Corners as top-left, top-right, bottom-right, bottom-left."""
    total, diff = points.sum(axis=1), points[:, 0] - points[:, 1]
    return np.array([points[np.argmin(total)], points[np.argmax(diff)], points[np.argmax(total)],
                     points[np.argmin(diff)]], dtype=np.float64)


# -- corner markers -------------------------------------------------------------------------------


def _crop_on_markers(page: np.ndarray, step: CropOnMarkers, input_width: float) -> tuple[np.ndarray, float]:
    import cv2

    factor = min(1.0, 700 / max(page.shape))
    small = cv2.resize(page, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA) if factor < 1 else page
    small = cv2.GaussianBlur(small, (3, 3), 0)
    marker = cv2.GaussianBlur(step.marker(), (5, 5), 0)
    ratio = step.width_ratio or 17.0
    centres, scores = _find_markers(small, marker, input_width * factor / ratio)
    worst = min(scores)
    if worst < max(step.min_match, MARKER_FLOOR):
        corner = ("top-left", "top-right", "bottom-right", "bottom-left")[int(np.argmin(scores))]
        raise PageNotRegisteredError(f"the {corner} marker was not found (crop_on_markers): best match "
                                     f"{worst:.2f} < {max(step.min_match, MARKER_FLOOR):.2f}")
    return _flatten(page, np.array(centres) / factor), round(float(worst), 4)


MARKER_FLOOR = 0.5
"""Least marker match believed whatever the template allows (OMRChecker's default is 0.3): on the
public samples true markers match at 0.67-0.92, another sheet's print at 0.28-0.53."""

MARKER_SCALES = (0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 1.0, 1.15)
"""Marker sizes tried, as shares of its stated size (the page may fill less than the whole photo)."""

MARKER_FINE = 3
"""How many of the best sizes at half resolution are matched again at full resolution."""


def _find_markers(small: np.ndarray, marker: np.ndarray, base_width: float) -> tuple[list[tuple[float, float]], list[float]]:
    """Each corner region's best marker centre and score, at the one scale that suits all four best.

    The regions are the page's top third and bottom two thirds, left and right halves (where
    OMRChecker looks, so templates made for it keep working). Sizes are tried on the image at
    half size; the :data:`MARKER_FINE` best are matched again at full size."""
    import cv2

    half = cv2.resize(small, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    coarse = []
    for relative in MARKER_SCALES:
        _, scores = _match_regions(half, _sized(marker, base_width * relative / 2))
        if len(scores) == 4:
            coarse.append((min(scores), base_width * relative))
    best: tuple[float, list[tuple[float, float]], list[float]] = (-1.0, [(0.0, 0.0)] * 4, [0.0] * 4)
    for _, side in sorted(coarse, reverse=True)[:MARKER_FINE]:
        centres, scores = _match_regions(small, _sized(marker, side))
        if len(scores) == 4 and min(scores) > best[0]:
            best = (min(scores), centres, scores)
    return best[1], best[2]


def _sized(marker: np.ndarray, side: float) -> np.ndarray:
    import cv2

    width = max(6, round(side))
    return cv2.resize(marker, (width, max(6, round(width * marker.shape[0] / marker.shape[1]))),
                      interpolation=cv2.INTER_AREA)


def _match_regions(image: np.ndarray, template: np.ndarray) -> tuple[list[tuple[float, float]], list[float]]:
    import cv2

    height, width = image.shape
    top = height // 3
    regions = ((0, 0, width // 2, top), (width // 2, 0, width, top),
               (width // 2, top, width, height), (0, top, width // 2, height))
    centres, scores = [], []
    for x0, y0, x1, y1 in regions:
        region = image[y0:y1, x0:x1]
        if region.shape[0] <= template.shape[0] or region.shape[1] <= template.shape[1]:
            return [], []
        _, score, _, (x, y) = cv2.minMaxLoc(cv2.matchTemplate(region, template, cv2.TM_CCOEFF_NORMED))
        centres.append((x0 + x + template.shape[1] / 2, y0 + y + template.shape[0] / 2))
        scores.append(float(score))
    return centres, scores


# -- reference image ------------------------------------------------------------------------------


def _align_to_reference(page: np.ndarray, step: AlignToReference) -> tuple[np.ndarray, float]:
    import cv2

    reference = step.reference()
    ref_h, ref_w = reference.shape
    moving = cv2.resize(page, (ref_w, ref_h), interpolation=cv2.INTER_AREA)
    orb = cv2.ORB_create(step.max_features)  # type: ignore[attr-defined]
    kp_ref, des_ref = orb.detectAndCompute(reference, None)
    kp_mov, des_mov = orb.detectAndCompute(moving, None)
    if des_ref is None or des_mov is None or len(kp_ref) < MIN_INLIERS or len(kp_mov) < MIN_INLIERS:
        raise PageNotRegisteredError("too few image features to align to the reference (align_to_reference)")
    matches = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True).match(des_mov, des_ref)
    if len(matches) < MIN_INLIERS:
        raise PageNotRegisteredError(f"only {len(matches)} features match the reference (align_to_reference)")
    src = np.array([kp_mov[m.queryIdx].pt for m in matches], dtype=np.float32)
    dst = np.array([kp_ref[m.trainIdx].pt for m in matches], dtype=np.float32)
    if step.affine:
        matrix, inliers = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=4.0)
    else:
        matrix, inliers = cv2.findHomography(src, dst, cv2.RANSAC, 4.0)
    count = int(inliers.sum()) if inliers is not None else 0
    if matrix is None or count < MIN_INLIERS:
        raise PageNotRegisteredError(f"only {count} feature matches agree on one alignment to the reference "
                                     f"(align_to_reference; {MIN_INLIERS} needed)")
    # moving (reference-sized) -> reference; then back up to the page's size
    up = np.diag([page.shape[1] / ref_w, page.shape[0] / ref_h, 1.0])
    down = np.diag([ref_w / page.shape[1], ref_h / page.shape[0], 1.0])
    full = matrix if matrix.shape == (3, 3) else np.vstack([matrix, [0, 0, 1]])
    warp = up @ full @ down
    size = (page.shape[1], page.shape[0])
    aligned = cv2.warpPerspective(page, warp, size, flags=cv2.INTER_LINEAR, borderValue=255)
    return aligned, round(min(1.0, count / 50), 4)
