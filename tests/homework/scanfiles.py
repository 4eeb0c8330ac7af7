"""The committed fixture scans (fixtures/scans): a class's sheet spec, its pages and their truth."""

from __future__ import annotations

import json
from pathlib import Path

SCANS = Path(__file__).resolve().parents[2] / "fixtures" / "scans"
TRUTH = json.loads((SCANS / "truth.json").read_text(encoding="utf-8"))


def scan_file(student: str, page: int) -> Path:
    """The scan of one student's sheet page (0-based)."""
    (entry,) = [p for p in TRUTH["pages"] if p["student_id"] == student and p["page_index"] == page]
    return SCANS / entry["file"]
