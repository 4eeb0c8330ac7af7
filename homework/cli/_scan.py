"""``homework scan``: read scanned answer sheets and print what each page says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from homework.cli._app import app


@app.command("scan")
def scan(
    images: Annotated[list[Path], typer.Argument(metavar="IMAGES...", help="PNG, JPEG, TIFF or PDF files.")],
    spec_paths: Annotated[
        list[Path], typer.Option("--spec", metavar="SPEC.json", help="Sheet spec; repeat for several assignments.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per page instead of a table.")] = False,
    ocr: Annotated[str, typer.Option("--ocr", help="OCR backend for writing boxes: rapidocr, paddleocr or none.")] = "rapidocr",
) -> None:
    """Read scanned pages: per page the sheet (assignment, student, page) and every field's
    value, confidence and status. Pages that cannot be read are listed with their error; the exit
    code is 1 if any page failed, 2 if a spec is invalid.
    """
    from tqdm import tqdm

    import scanning

    try:
        specs = [scanning.load_spec(path) for path in spec_paths]
        reader = scanning.SheetReader(specs, ocr=None if ocr.lower() == "none" else ocr)
    except (scanning.SpecError, scanning.OCRBackendError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    failed = read = 0
    with tqdm(total=_pages(images), desc="scan", unit=" pages") as bar:
        for path in images:
            for result in reader.read_file(path):
                failed += not result.ok
                read += result.ok
                bar.write(json.dumps(result.to_dict(), ensure_ascii=False) if as_json else _table(result))
                bar.update(1)
    if not as_json:
        typer.echo(f"{read} pages read, {failed} failed")
    if failed:
        raise typer.Exit(1)


def _pages(images: list[Path]) -> int | None:
    """Pages in all the files, from their headers (None if one cannot be opened: it fails when read)."""
    import scanning

    try:
        return sum(scanning.count_pages(path) for path in images)
    except scanning.BadImageError:
        return None


def _table(result: Any) -> str:
    """A page as a few lines of text for people."""
    data = result.to_dict()
    where = f"{data['source']} page {data['page'] + 1}"
    if not result.ok:
        sheet = f" (QR: {data['assignment_id']}/{data['student_id']})" if "assignment_id" in data else ""
        return f"{where}: FAILED {data['error']}: {data['message']}{sheet}\n"
    reg = data["registration"]
    lines = [
        f"{where}: assignment {data['assignment_id']}, student {data['student_id']}, "
        f"page {data['page_index'] + 1} of {data['page_count']} "
        f"(registration {reg['confidence']:.2f}, markers {reg['markers']})",
        f"  {'field':<8} {'value':<12} {'conf':>5}  {'status':<13} reason",
    ]
    for f in data["fields"]:
        value = "-" if f["value"] is None else str(f["value"])
        lines.append(f"  {f['field_id']:<8} {value:<12} {f['confidence']:>5.2f}  {f['status']:<13} {f['reason']}".rstrip())
    return "\n".join(lines) + "\n"
