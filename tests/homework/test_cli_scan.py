"""``homework scan``: a table or JSON lines per page, failed pages listed, exit code 1 on failure."""

from __future__ import annotations

import json

import cv2
import numpy as np
from typer.testing import CliRunner

from homework.cli import _commands  # noqa: F401  (registers the commands)
from homework.cli._app import app
from scanning import load_spec, render_page_images

SPEC = {
    "assignment_id": "hw-cli",
    "title": "CLI 测试",
    "students": [{"id": "s1", "name": "李雷"}],
    "fields": [{"id": "q1", "type": "single_choice"}, {"id": "t", "type": "minutes"}],
}


def _scan(tmp_path):  # noqa: ANN001, ANN202
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(SPEC, ensure_ascii=False), encoding="utf-8")
    image, geometry = next(render_page_images(load_spec(SPEC), dpi=150))
    bubble = next(b for b in geometry.page.bubbles if b.field_id == "q1" and b.option == "C")
    cx, cy = geometry.point(bubble.cx, bubble.cy)
    cv2.circle(image, (round(cx), round(cy)), round(bubble.r * geometry.scale * 0.9), 60, -1)
    page = tmp_path / "page.jpg"
    cv2.imwrite(str(page), np.rot90(image).copy())
    return spec_path, page


def test_scan_prints_json_lines_and_exits_zero(tmp_path) -> None:
    spec_path, page = _scan(tmp_path)
    result = CliRunner().invoke(app, ["scan", str(page), "--spec", str(spec_path), "--json", "--ocr", "none"])
    assert result.exit_code == 0, result.output
    (line,) = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    assert (line["assignment_id"], line["student_id"], line["page_index"]) == ("hw-cli", "s1", 0)
    assert {f["field_id"]: (f["value"], f["status"]) for f in line["fields"]} == {"q1": ("C", "ok"), "t": (None, "blank")}


def test_scan_lists_failed_pages_and_exits_one(tmp_path) -> None:
    spec_path, page = _scan(tmp_path)
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not a png at all")
    result = CliRunner().invoke(app, ["scan", str(page), str(junk), "--spec", str(spec_path), "--ocr", "none"])
    assert result.exit_code == 1
    assert "student s1, page 1 of 1" in result.stdout
    assert "junk.png page 1: FAILED BadImageError" in result.stdout
    assert "1 pages read, 1 failed" in result.stdout


def test_scan_with_an_invalid_spec_exits_two(tmp_path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    result = CliRunner().invoke(app, ["scan", str(bad), "--spec", str(bad)])
    assert result.exit_code == 2 and "invalid sheet spec" in result.output
