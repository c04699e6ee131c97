"""The `indicode` command: a thin typer layer over the catalogue and matcher APIs.

Every command turns an InputError into one line on stderr and a non-zero exit.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

from catalogue.records import InputError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Code Guangdong budget performance indicators: catalogue, lookup, suggest, normalize.")
catalogue_app = typer.Typer(no_args_is_help=True, help="Build and inspect the code catalogue.")
app.add_typer(catalogue_app, name="catalogue")

CatalogueOpt = typer.Option(None, "--catalogue", "-c", envvar="INDICODE_CATALOGUE",
                            help="Catalogue .sqlite file (default: the bundled one).")
JsonOpt = typer.Option(False, "--json", help="Print JSON.")


def fail(msg: str, code: int = 2) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(code)


def echo_json(obj) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def _load_catalogue(path: Optional[Path]):
    from catalogue.store import Catalogue

    return Catalogue.load(path)


def _guard(fn):
    """Run a command body, turning bad input into a one-line error."""
    import functools

    @functools.wraps(fn)
    def wrapper(*a, **kw):
        try:
            return fn(*a, **kw)
        except InputError as exc:
            fail(str(exc))
    return wrapper


# ---------------------------------------------------------------- documents and catalogue

@app.command()
@_guard
def extract(docs: List[Path] = typer.Argument(..., help="Documents to read."),
            output: Path = typer.Option(..., "-o", "--output", help="rows.csv | rows.xlsx | rows.jsonl"),
            name_col: Optional[str] = typer.Option(None, help="Name column header (or 1-based number)."),
            class_col: Optional[str] = typer.Option(None, help="Level-2 class column."),
            value_col: Optional[str] = typer.Option(None, help="Target value column."),
            code_col: Optional[str] = typer.Option(None, help="Code column.")):
    """Read documents to one flat table of indicator rows; unreadable lines are reported."""
    from catalogue.export import check_writable, rows_frame, write_frames
    from catalogue.readers.detect import read_document
    from catalogue.readers.table import Columns

    check_writable(output)
    cols = Columns(name_col, code_col, class_col, value_col) if any((name_col, class_col, value_col, code_col)) else None
    rows, bad = [], 0
    for d in docs:
        try:
            res = read_document(d, cols)
        except InputError as exc:
            typer.echo(f"error: {exc}", err=True)
            bad += 1
            continue
        for p in res.problems:
            typer.echo(f"warning: {p}", err=True)
        typer.echo(f"{d}: {res.format}, {len(res.rows)} rows, {len(res.problems)} problems", err=True)
        rows += res.rows
    write_frames(output, {"rows": rows_frame(rows)})
    typer.echo(f"wrote {len(rows)} rows to {output}", err=True)
    if bad:
        raise typer.Exit(1)


@catalogue_app.command("build")
@_guard
def catalogue_build(sources: List[Path] = typer.Argument(..., help="Coded documents and/or catalogue .sqlite files."),
                    output: Path = typer.Option(..., "-o", "--output", help="Catalogue .sqlite to write.")):
    """Build (or rebuild, merging) a catalogue from coded documents; learned links in OUTPUT are kept."""
    from catalogue.store import Catalogue, build

    n, problems = build(sources, output)
    for p in problems:
        typer.echo(f"warning: {p}", err=True)
    cat = Catalogue.load(output)
    typer.echo(f"{output}: {len(cat)} codes from {n} coded rows, {len(cat.anomalies)} anomalies")


@catalogue_app.command("stats")
@_guard
def catalogue_stats(catalogue: Optional[Path] = CatalogueOpt, as_json: bool = JsonOpt):
    """Counts: codes, spellings, classes, anomalies, learned links."""
    s = _load_catalogue(catalogue).stats()
    if as_json:
        return echo_json(s)
    for k, v in s.items():
        typer.echo(f"{k:12} {v}")


@catalogue_app.command("anomalies")
@_guard
def catalogue_anomalies(catalogue: Optional[Path] = CatalogueOpt, kind: Optional[str] = typer.Option(None),
                        as_json: bool = JsonOpt):
    """Malformed codes, class disagreements, one code with many names, one name with many codes."""
    items = [a for a in _load_catalogue(catalogue).anomalies if not kind or a.kind == kind]
    if as_json:
        return echo_json([a.__dict__ for a in items])
    for a in items:
        typer.echo(f"{a.kind:22} {a.code:11} {a.name}  — {a.detail}")


@catalogue_app.command("export")
@_guard
def catalogue_export(output: Path = typer.Option(..., "-o", "--output", help="codes.csv | codes.xlsx | codes.jsonl"),
                     catalogue: Optional[Path] = CatalogueOpt):
    """Export the catalogue (XLSX: a codes sheet and an anomalies sheet)."""
    from catalogue.export import catalogue_frames, write_frames

    cat = _load_catalogue(catalogue)
    write_frames(output, catalogue_frames(cat))
    typer.echo(f"wrote {len(cat)} codes to {output}", err=True)


@app.command()
@_guard
def lookup(query: str = typer.Argument(..., help="Code, code prefix, or (part of) a name."),
           klass: Optional[str] = typer.Option(None, "--class", help="Only codes of this class (3, 31, 113…)."),
           limit: int = typer.Option(20, "-n", "--limit"),
           catalogue: Optional[Path] = CatalogueOpt, as_json: bool = JsonOpt):
    """Find catalogue codes by code, code prefix, class, or name (aliases included)."""
    from catalogue.classes import LEVEL1, LEVEL2
    from catalogue.export import entry_dict

    found = _load_catalogue(catalogue).lookup(query, klass or "", limit)
    if as_json:
        return echo_json([entry_dict(e) for e in found])
    if not found:
        typer.echo(f"no code matches '{query}'", err=True)
        raise typer.Exit(1)
    for e in found:
        cls = f"{e.level1}-{LEVEL1.get(e.level1, '?')} / {e.level2}-{LEVEL2.get(e.level2, '?')}"
        typer.echo(f"{e.code}-{e.name}    [{cls}]  seen {e.count}x" + ("" if e.valid else "  (malformed code)"))
        if e.aliases:
            typer.echo(f"    aliases: {' | '.join(e.aliases)}")
        if len(found) == 1:
            typer.echo(f"    sources: {' | '.join(e.projects or e.sources)}")
            typer.echo(f"    values:  {' | '.join(e.values)}")
            if len(e.filed) > 1 or any(k != f"{e.level1}/{e.level2}" for k in e.filed):
                typer.echo(f"    filed under: {' | '.join(f'{k} ({v}x)' for k, v in e.filed.items())}")


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
