"""Which queue a scanned file belongs on, from its first page's QR code alone (nothing else is read)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

log = logging.getLogger(__name__)


def first_page_assignment(data: bytes) -> str | None:
    """The assignment id the first page's QR code names, or ``None`` (not an image, no code of ours).

    A JPEG or PNG page is decoded at a quarter of its size (then half, if no code was found there)
    and searched for a QR code: about 10 ms of CPU for an A4 200 dpi JPEG on the shared 2-core machine,
    mostly decoding, against 20-180 ms to read the page. A station that knows what it scans says so
    (``kind``) and skips even this.
    """
    import cv2
    import numpy as np
    import zxingcpp

    from scanning import ScanningError, decode_payload, iter_pages

    images: list[Callable[[], Any]] = []
    if data[:3] == b"\xff\xd8\xff" or data[:8] == b"\x89PNG\r\n\x1a\n":
        for flag in (cv2.IMREAD_REDUCED_GRAYSCALE_4, cv2.IMREAD_REDUCED_GRAYSCALE_2):
            images.append(partial(cv2.imdecode, np.frombuffer(data, np.uint8), flag))
    else:
        images.append(lambda: next(iter(iter_pages(data))).image)
    for decode in images:
        try:
            gray = decode()
        except (ScanningError, StopIteration):
            return None
        if gray is None:
            return None
        for found in zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)):
            try:
                return str(decode_payload(str(found.text)).assignment_id)
            except ScanningError:
                continue
    return None
