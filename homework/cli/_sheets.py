"""``homework sheets``: render our answer sheets (PDF, PNG + geometry); import and read foreign ones."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from homework.cli._app import app

sheets = typer.Typer(help="Answer sheets: render printable PDFs (and PNGs) from a sheet spec; import and read "
                     "sheets this library did not print (OMRChecker templates).", no_args_is_help=True)
app.add_typer(sheets, name="sheets")


@sheets.command("render")
def render(
    spec_path: Annotated[Path, typer.Argument(metavar="SPEC.json", help="Sheet spec (see README).")],
    out: Annotated[Path, typer.Option("--out", help="PDF to write: every student's pages.")] = Path("sheets.pdf"),
    png: Annotated[Path | None, typer.Option("--png", help="Also write one PNG + JSON per page here.")] = None,
    dpi: Annotated[float, typer.Option("--dpi", min=50, max=600, help="Resolution of the PNGs.")] = 200.0,
    paper: Annotated[str | None, typer.Option("--paper", help="a4 or letter (overrides the spec).")] = None,
) -> None:
    """Render SPEC.json into one printable PDF; with --png, page images and their geometry too."""
    from tqdm import tqdm

    import scanning

    try:
        spec = scanning.load_spec(spec_path)
        if paper is not None:
            if paper.lower() not in scanning.PAPER_SIZES_MM:
                raise scanning.SpecError(f"--paper: {paper!r} is not one of {sorted(scanning.PAPER_SIZES_MM)}")
            spec = spec.model_copy(update={"paper": paper.lower()})
        pages = scanning.layout_pages(spec)
    except scanning.SpecError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    count = sum(len(p) for p in pages.values())
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tqdm(total=count, desc="PDF", unit="page") as bar:
            scanning.render_pdf(spec, out, progress=lambda done, total: bar.update(done - bar.n))
        typer.echo(f"{out}: {count} pages for {len(spec.students)} students")
        if png is not None:
            with tqdm(total=count, desc="PNG", unit="page") as bar:
                written = scanning.render_png(spec, png, dpi, progress=lambda done, total: bar.update(done - bar.n))
            typer.echo(f"{png}: {len(written)} PNG + JSON pairs at {dpi:g} dpi")
    except OSError as exc:
        typer.echo(f"error: cannot write: {exc}", err=True)
        raise typer.Exit(1) from exc


@sheets.command("import-template")
def import_template(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="An OMRChecker folder: template.json, and maybe "
                                           "config.json, evaluation.json, answer_key.csv, marker/reference images.")],
    out: Annotated[Path | None, typer.Option("--out", help="Sheet JSON to write (default: DIR/sheet.json).")] = None,
    template: Annotated[str, typer.Option("--template", help="The template file in DIR.")] = "template.json",
    identity: Annotated[str | None, typer.Option("--identity", help="The label holding the student number "
                                                 "(default: one called Roll, student id, 学号...).")] = None,
) -> None:
    """Import a bubble sheet this library did not print (an OMRChecker template) as a sheet spec.

    Unsupported template features are refused with the feature named (exit code 2).
    """
    import scanning

    try:
        sheet = scanning.import_omrchecker(folder, template=template, identity=identity)
    except scanning.SpecError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    target = out or folder / "sheet.json"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(sheet.model_dump_json(indent=1), encoding="utf-8")
    except OSError as exc:
        typer.echo(f"error: cannot write: {exc}", err=True)
        raise typer.Exit(1) from exc
    steps = ", ".join(s.kind for s in sheet.steps) or "none (the whole image is the page)"
    typer.echo(f"{target}: {len(sheet.questions)} questions from {len(sheet.fields)} bubble fields; "
               f"registration: {steps}; answer key: {len(sheet.keys)} questions, max {sheet.max_score:g} points; "
               f"student number: {sheet.identity or 'none'}")


@sheets.command("read")
def read_foreign(
    sheet_path: Annotated[Path, typer.Argument(metavar="SHEET.json", help="A sheet from import-template.")],
    images: Annotated[list[Path], typer.Argument(metavar="IMAGES...", help="Photos or scans of that sheet.")],
) -> None:
    """Read photos or scans of an imported sheet: each question's answer, what needs review, the score.

    A page that cannot be aligned is listed with the reason; the exit code is then 1.
    """
    import scanning

    try:
        sheet = scanning.load_foreign_sheet(sheet_path.read_text(encoding="utf-8"))
    except (OSError, scanning.SpecError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    failed = 0
    for path in images:
        try:
            reading = scanning.read_foreign_page(sheet, scanning.load_foreign_image(sheet, path.read_bytes(), str(path)))
        except (OSError, scanning.ScanningError) as exc:
            failed += 1
            typer.echo(f"{path}: not read: {exc}")
            continue
        values = reading.values()
        review = [f"{a.field_id}={a.value or ''!r} ({a.reason})" for a in reading.answers if a.status == "needs_review"]
        score = sum(k.score(values.get(q, "")) for q, k in sheet.keys.items())
        typer.echo(f"{path}: {', '.join(f'{q}={v}' for q, v in values.items())}")
        typer.echo(f"  aligned by {', '.join(reading.page.methods)}; score {score:g} of {sheet.max_score:g}"
                   if sheet.keys else f"  aligned by {', '.join(reading.page.methods)}")
        if review:
            typer.echo(f"  to review: {'; '.join(review)}")
    if failed:
        raise typer.Exit(1)
