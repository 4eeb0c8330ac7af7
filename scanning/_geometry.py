"""Page geometry shared by the renderer and the reader: where everything sits, in millimetres.

A :class:`PageLayout` is the single source of truth for one printed page. The renderer draws it,
the reader warps a scan into its coordinate frame and samples it, and ``--png`` renders export it in
pixels. Coordinates are millimetres from the page's top-left corner, x to the right, y downwards.

This module is the contract between rendering and reading; it holds plain frozen dataclasses only.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rect:
    """An axis-aligned rectangle: top-left corner ``(x, y)``, width ``w`` and height ``h`` (mm)."""

    x: float
    y: float
    w: float
    h: float

    def scaled(self, k: float) -> Rect:
        """The same rectangle in units ``k`` times smaller (e.g. ``k = dpi / 25.4`` gives pixels)."""
        return Rect(self.x * k, self.y * k, self.w * k, self.h * k)


@dataclass(frozen=True)
class Marker:
    """A square fiducial (ArUco) marker: its dictionary id and its outer square (mm)."""

    marker_id: int
    rect: Rect


@dataclass(frozen=True)
class Bubble:
    """One bubble to fill: the field it belongs to, the option it stands for, centre and radius (mm).

    ``option`` is the value the bubble means: "A".."H" for choice, "T"/"F" for true/false,
    "0".."9", "-", "." for grid-in columns (``column`` gives the column), a number of points for a
    teacher score box, a digit for a minutes-spent field.
    """

    field_id: str
    option: str
    cx: float
    cy: float
    r: float
    column: int = 0


@dataclass(frozen=True)
class WritingBox:
    """A box the student writes in, and what kind of answer it holds ("number", "text")."""

    field_id: str
    rect: Rect
    kind: str = "text"


@dataclass(frozen=True)
class PageLayout:
    """Everything printed on one page that the reader needs, in millimetres."""

    width_mm: float
    height_mm: float
    page_index: int  # 0-based page of this sheet
    page_count: int
    markers: tuple[Marker, ...]
    qr: Rect
    bubbles: tuple[Bubble, ...] = field(default=())
    boxes: tuple[WritingBox, ...] = field(default=())
