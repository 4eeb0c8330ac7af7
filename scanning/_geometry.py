"""Page geometry shared by the renderer and the reader: where everything sits, in millimetres.

A :class:`PageLayout` is the single source of truth for one printed page. The renderer draws it,
the reader warps a scan into its coordinate frame and samples it, and ``--png`` renders export it in
pixels. Coordinates are millimetres from the page's top-left corner, x to the right, y downwards.

This module is the contract between rendering and reading; it holds plain frozen dataclasses and the
fixed placement of the registration markers and the QR code, which do not depend on the sheet's
fields (a reader can find them before it knows which sheet it holds).

Fixed placement (A4 shown; Letter is the same relative to its own corners)::

    +--------------------------------------------------------------+
    | [M0]  title, name, class            [QR 22 mm]  [M1]         |   markers: 14 mm squares,
    |                                                              |   8 mm from the edges,
    |   fields ...                                                 |   ArUco DICT_4X4_50,
    |                                                              |   ids 0 1 2 3 clockwise
    | [M3]          page n/m                          [M2]         |   from top-left
    +--------------------------------------------------------------+

>>> [m.marker_id for m in marker_layout(210.0, 297.0)]
[0, 1, 2, 3]
>>> qr_rect(210.0)
Rect(x=161.0, y=8.0, w=22.0, h=22.0)
"""

from __future__ import annotations

from dataclasses import dataclass, field

ARUCO_DICTIONARY = "DICT_4X4_50"
"""Name of the ``cv2.aruco`` predefined dictionary the markers come from."""
MARKER_IDS = (0, 1, 2, 3)
"""Marker ids at the top-left, top-right, bottom-right and bottom-left corners: orientation from ids."""
MARKER_SIZE_MM = 14.0
"""Side of each marker's outer black square (found on a 4x-reduced 200 dpi scan: ~28 px)."""
MARKER_INSET_MM = 8.0
"""Distance from each page edge to the nearest marker edge (outside most printers' dead zone)."""
QUIET_ZONE_MM = 4.0
"""White space kept around every marker and around the QR code."""
QR_SIZE_MM = 22.0
"""Side of the QR symbol (without its quiet zone); the symbol is scaled to fill it."""
PAPER_SIZES_MM = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}
"""Paper names the sheet spec accepts, and their (width, height) in millimetres."""


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
    """A box the student writes in, and what kind of answer it holds ("number", "text", or "time": two
    halves, hours and minutes, see :func:`time_halves`)."""

    field_id: str
    rect: Rect
    kind: str = "text"


TIME_HALF_MM, TIME_GAP_MM = 15.0, 6.0
"""A start-time box: an hours half and a minutes half, a printed colon in the gap between them."""


def time_halves(rect: Rect) -> tuple[Rect, Rect]:
    """The hours and minutes halves of a start-time writing box (``kind == "time"``).

    >>> time_halves(Rect(10, 0, 2 * TIME_HALF_MM + TIME_GAP_MM, 12))
    (Rect(x=10, y=0, w=15.0, h=12), Rect(x=31.0, y=0, w=15.0, h=12))
    """
    half = (rect.w - TIME_GAP_MM) / 2
    return Rect(rect.x, rect.y, half, rect.h), Rect(rect.x + half + TIME_GAP_MM, rect.y, half, rect.h)


@dataclass(frozen=True)
class Text:
    """A printed string: baseline start ``(x, y)`` in mm, size in points, grey 0 (black) .. 1 (white).

    ``anchor`` is "start", "middle" or "end": where ``x`` sits on the string's baseline. Text is for
    people; the reader never samples it and the layout checksum ignores it.
    """

    x: float
    y: float
    text: str
    size: float = 9.0
    grey: float = 0.0
    anchor: str = "start"


@dataclass(frozen=True)
class PageLayout:
    """Everything printed on one page that the reader needs, in millimetres.

    ``assignment_id`` and ``student_id`` say whose page it is (they are in its QR code too);
    ``texts`` are the printed strings (title, name, question numbers), for rendering only.
    """

    width_mm: float
    height_mm: float
    page_index: int  # 0-based page of this sheet
    page_count: int
    markers: tuple[Marker, ...]
    qr: Rect
    bubbles: tuple[Bubble, ...] = field(default=())
    boxes: tuple[WritingBox, ...] = field(default=())
    assignment_id: str = ""
    student_id: str = ""
    texts: tuple[Text, ...] = field(default=())


def marker_layout(width_mm: float, height_mm: float) -> tuple[Marker, ...]:
    """The four markers of a page of this size, clockwise from the top-left (ids ``MARKER_IDS``)."""
    far_x = width_mm - MARKER_INSET_MM - MARKER_SIZE_MM
    far_y = height_mm - MARKER_INSET_MM - MARKER_SIZE_MM
    near = MARKER_INSET_MM
    corners = ((near, near), (far_x, near), (far_x, far_y), (near, far_y))
    return tuple(
        Marker(marker_id, Rect(x, y, MARKER_SIZE_MM, MARKER_SIZE_MM))
        for marker_id, (x, y) in zip(MARKER_IDS, corners, strict=True)
    )


def qr_rect(width_mm: float) -> Rect:
    """Where the QR symbol sits: top-aligned with the top-right marker, a quiet zone to its left.

    It depends on the page width only, so relative to the top-right marker it is the same on
    every sheet: 5 mm + 22 mm to the marker's left, level with its top edge.
    """
    x = width_mm - MARKER_INSET_MM - MARKER_SIZE_MM - QUIET_ZONE_MM - 1.0 - QR_SIZE_MM
    return Rect(x, MARKER_INSET_MM, QR_SIZE_MM, QR_SIZE_MM)
