"""Errors raised by :mod:`scanning`.

``scanning`` is a leaf package (it never imports ``homework``), so it has a root of its own;
``homework`` lets these through unchanged and the HTTP API maps each to a status code::

    ScanningError
     ├── SpecError                 the sheet spec is invalid (names the field)
     ├── BadImageError             not an image, truncated, empty, or too large to decode safely
     ├── PageNotRegisteredError    the registration markers were not found: keep the page for a human
     │    └── BlankPageError       ... because the page is blank (a duplex scan's back side)
     ├── SheetNotIdentifiedError   the QR code is missing, unreadable or does not match the layout
     └── OCRBackendError           an OCR backend could not be loaded or run

A blank or doubly marked bubble is *data* (a reading whose status is ``needs_review``), never an error.
"""

from __future__ import annotations


class ScanningError(Exception):
    """Root of every error raised by :mod:`scanning`."""


class SpecError(ScanningError, ValueError):
    """A sheet spec is invalid."""


class BadImageError(ScanningError, ValueError):
    """The input could not be decoded into a page image."""


class PageNotRegisteredError(ScanningError):
    """The page's registration markers could not be found."""


class BlankPageError(PageNotRegisteredError):
    """The page has no markers because it has no ink at all (a blank sheet, a duplex back side)."""


class SheetNotIdentifiedError(ScanningError):
    """The page's QR code could not be read, or names a layout other than the one read."""


class OCRBackendError(ScanningError, RuntimeError):
    """An OCR backend could not be loaded or failed to run."""
