"""Damage: what a sheet-fed or flatbed scanner, or a phone camera, does to a clean page.

A :class:`Degradation` profile names the ranges; :func:`degrade` draws one page's values from them:

* scanner (:func:`scanner`): rendered at 150/200/300 dpi, paper at 235-250, uneven brightness,
  skew up to 3 degrees on a light scanner bed, fed 0/90/180/270 degrees round, noise, JPEG 60-90;
* phone (:func:`phone`): perspective from a tilt up to ~15 degrees, held any of four ways round,
  a table around the page, a light gradient and a soft shadow, blur, luminance noise, JPEG.

>>> import numpy as np
>>> page = np.full((300, 200), 255, np.uint8)
>>> degrade(page, scanner(150, quarter_turns=1), np.random.default_rng(0)).shape
(200, 300)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Degradation:
    """How a page gets damaged on its way back. ``kind`` is ``"scanner"`` or ``"phone"``.

    Ranges are maxima; each page draws its own values. ``quarter_turns`` is fixed (0-3: the page fed
    sideways or upside down). ``dpi`` is the resolution the page should be rendered at.
    """

    name: str
    kind: str = "scanner"
    dpi: int = 200
    quarter_turns: int = 0
    skew_deg: float = 3.0
    perspective_deg: float = 0.0
    noise_sigma: float = 2.0
    light_drop: float = 0.12  # brightness falls by up to this share across the page
    blur_sigma: float = 0.0
    jpeg_quality: tuple[int, int] = (60, 90)

    def __post_init__(self) -> None:
        if self.kind not in ("scanner", "phone"):
            raise ValueError(f"kind must be 'scanner' or 'phone', got {self.kind!r}")
        if self.quarter_turns not in (0, 1, 2, 3):
            raise ValueError(f"quarter_turns must be 0-3, got {self.quarter_turns}")


def scanner(dpi: int, quarter_turns: int = 0) -> Degradation:
    """A sheet-fed or flatbed scan at ``dpi``, fed ``quarter_turns`` x 90 degrees round.

    >>> scanner(150, 2).name
    'scan150-rot180'
    """
    return Degradation(f"scan{dpi}-rot{90 * quarter_turns}", "scanner", dpi, quarter_turns)


def phone(tilt_deg: float = 15.0, dpi: int = 200) -> Degradation:
    """A phone photo: tilt up to ``tilt_deg``, any turn, shadow, blur, background, JPEG."""
    return Degradation(f"phone-tilt{tilt_deg:g}", "phone", dpi, 0, 10.0, tilt_deg, 3.0, 0.35, 1.2, (60, 85))


def _light_gradient(shape: tuple[int, int], drop: float, rng: np.random.Generator) -> np.ndarray:
    """A multiplicative brightness field: 1 somewhere, ``1 - drop`` at the far side, smooth."""
    import cv2

    h, w = shape
    sh, sw = max(2, h // 16), max(2, w // 16)  # smooth: compute small, then enlarge
    theta = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    t = (xx / sw - 0.5) * np.cos(theta) + (yy / sh - 0.5) * np.sin(theta)
    t = (t - t.min()) / max(1e-6, float(t.max() - t.min()))
    small = (1.0 - float(rng.uniform(0.3, 1.0)) * drop * t**1.5).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _jpeg(image: np.ndarray, quality: int) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover - cv2 encodes any uint8 image
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()


def _scan(image: np.ndarray, p: Degradation, rng: np.random.Generator) -> np.ndarray:
    import cv2

    h, w = image.shape[:2]
    light = _light_gradient((h, w), p.light_drop, rng) * float(rng.uniform(0.92, 0.98))  # paper ~235-250
    out = image.astype(np.float32) * (light if image.ndim == 2 else light[..., None])
    angle = float(rng.uniform(-p.skew_deg, p.skew_deg))
    rot = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    bed = float(rng.uniform(225, 250))
    turned = cv2.warpAffine(out, rot, (w, h), flags=cv2.INTER_LINEAR, borderValue=bed)
    return np.rot90(np.asarray(turned, np.float32), -p.quarter_turns).copy()


def _tilt_corners(w: int, h: int, tilt_deg: float, rng: np.random.Generator) -> np.ndarray:
    """Where the page's corners land when the camera looks at it tilted by ``tilt_deg``."""
    import cv2

    phi = rng.uniform(0, 2 * np.pi)
    axis = np.array([np.cos(phi), np.sin(phi), 0.0]) * np.radians(tilt_deg)
    rot, _ = cv2.Rodrigues(axis)
    corners = np.array([[-w / 2, -h / 2, 0], [w / 2, -h / 2, 0], [w / 2, h / 2, 0], [-w / 2, h / 2, 0]])
    dist = 1.6 * max(w, h)  # a phone held ~ 1.6 page heights away (normal lens)
    pts = corners @ rot.T
    return (pts[:, :2] * dist / (pts[:, 2:3] + dist)).astype(np.float32)


def _photo(image: np.ndarray, p: Degradation, rng: np.random.Generator) -> np.ndarray:
    import cv2

    h, w = image.shape[:2]
    dst = _tilt_corners(w, h, float(rng.uniform(0.3, 1.0)) * p.perspective_deg, rng)
    # people hold the phone roughly square to the page, in any of four ways round
    spin = np.radians(90 * int(rng.integers(4)) + rng.uniform(-p.skew_deg, p.skew_deg))
    dst = dst @ np.array([[np.cos(spin), np.sin(spin)], [-np.sin(spin), np.cos(spin)]], np.float32)
    fill = float(rng.uniform(0.72, 0.88))  # share of the frame the page takes
    span = dst.max(axis=0) - dst.min(axis=0)
    long_side = max(h, w)  # a 4:3 frame held the way the page lies
    out_w, out_h = (int(0.75 * long_side), long_side) if span[1] >= span[0] else (long_side, int(0.75 * long_side))
    k = fill * min(out_w / span[0], out_h / span[1])
    dst = (dst - dst.min(axis=0)) * k
    dst += (np.array([out_w, out_h]) - (dst.max(axis=0))) * rng.uniform(0.2, 0.8, 2)
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    m = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    paper_tint = np.array([rng.uniform(0.9, 1.0), rng.uniform(0.95, 1.0), 1.0], np.float32)
    page = cv2.warpPerspective(gray.astype(np.float32), m, (out_w, out_h), flags=cv2.INTER_LINEAR)
    cover = cv2.warpPerspective(np.ones((h, w), np.float32), m, (out_w, out_h), flags=cv2.INTER_LINEAR)
    table = np.array(rng.uniform(40, 160, 3), np.float32)
    grain = cv2.GaussianBlur(rng.normal(0, 10, (out_h // 8, out_w // 8)).astype(np.float32), (0, 0), 1.0)
    texture = cv2.resize(grain, (out_w, out_h), interpolation=cv2.INTER_CUBIC)
    background = table[None, None, :] + texture[..., None]
    photo = page[..., None] * paper_tint * cover[..., None] + background * (1 - cover[..., None])
    light = _light_gradient((out_h, out_w), p.light_drop, rng) * _shadow((out_h, out_w), rng)
    photo *= light[..., None]
    if p.blur_sigma > 0:
        photo = cv2.GaussianBlur(photo, (0, 0), float(rng.uniform(0.3, 1.0)) * p.blur_sigma)
    return photo


def _shadow(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A soft shadow (a hand or the phone) darkening one region by 15-35 %."""
    import cv2

    h, w = shape
    sh, sw = max(2, h // 16), max(2, w // 16)
    mask = np.zeros((sh, sw), np.float32)
    cx, cy = rng.uniform(0, sw), rng.uniform(0, sh)
    axes = (int(sw * rng.uniform(0.2, 0.5)), int(sh * rng.uniform(0.15, 0.4)))
    cv2.ellipse(mask, (int(cx), int(cy)), axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
    mask = np.asarray(cv2.GaussianBlur(mask, (0, 0), 0.06 * max(sh, sw)), np.float32)
    small = 1.0 - float(rng.uniform(0.15, 0.35)) * mask
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def degrade_to_jpeg(image: np.ndarray, profile: Degradation, rng: np.random.Generator) -> bytes:
    """Damage a clean page as ``profile`` says and encode it as the JPEG file a scanner or phone sends.

    Grey pages stay grey for scanners; phone photos come out in colour (BGR).
    """
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError(f"degrade needs a uint8 grey or BGR page, got {image.dtype} {image.shape}")
    out = _scan(image, profile, rng) if profile.kind == "scanner" else _photo(image, profile, rng)
    noise = rng.normal(0, profile.noise_sigma, out.shape[:2]).astype(np.float32)
    out += noise if out.ndim == 2 else noise[..., None]  # sensor noise is mostly in luminance
    lo, hi = profile.jpeg_quality
    return _jpeg(np.clip(out, 0, 255).astype(np.uint8), int(rng.integers(lo, hi + 1)))


def degrade(image: np.ndarray, profile: Degradation, rng: np.random.Generator) -> np.ndarray:
    """Damage a clean page as ``profile`` says; returns ``uint8`` (grey for scans, BGR for photos).

    The result has been through JPEG at the profile's quality: it is what a reader sees.
    """
    import cv2

    data = degrade_to_jpeg(image, profile, rng)
    return np.asarray(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED))
