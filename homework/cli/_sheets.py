"""``homework sheets render``: print answer sheets (PDF, optionally PNG + pixel geometry JSON)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from homework.cli._app import app

sheets = typer.Typer(help="Answer sheets: render printable PDFs (and PNGs) from a sheet spec.", no_args_is_help=True)
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
