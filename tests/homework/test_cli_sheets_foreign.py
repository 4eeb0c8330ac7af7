"""``homework sheets import-template`` and ``homework sheets read`` on OMRChecker's real samples."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from homework.cli import _commands, app  # noqa: F401  (registers the commands)

FOREIGN = Path(__file__).resolve().parents[2] / "fixtures" / "omr_foreign"


def test_import_template_writes_the_sheet_and_read_uses_it(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "s5.json"
    result = runner.invoke(app, ["sheets", "import-template", str(FOREIGN / "sample5"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "23 questions" in result.output and "student number: Roll" in result.output
    assert json.loads(out.read_text())["identity"] == "Roll"
    result = runner.invoke(app, ["sheets", "read", str(out), str(FOREIGN / "sample5" / "camscanner-2.jpg"),
                                 str(FOREIGN / "omrchecker_sample2_adrian_omr_2.png")])
    assert result.exit_code == 1, result.output  # the second image is another sheet: not read, said why
    assert "Roll=E204420109" in result.output and "score 55 of 55" in result.output
    assert "adrian_omr_2.png: not read:" in result.output


def test_import_template_names_an_unsupported_feature(tmp_path: Path) -> None:
    folder = tmp_path / "t"
    shutil.copytree(FOREIGN / "weighted", folder)
    template = json.loads((folder / "template.json").read_text())
    template["preProcessors"] = [{"name": "AutoRotate", "options": {}}]
    (folder / "template.json").write_text(json.dumps(template))
    result = CliRunner().invoke(app, ["sheets", "import-template", str(folder)])
    assert result.exit_code == 2 and "'AutoRotate' is not supported" in result.output
