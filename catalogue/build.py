"""Building a catalogue file from documents and other catalogue files (`indicode catalogue build`).

A rebuild keeps what reviewers added to the file it replaces (learned links, proposed codes), and
never replaces a file that is not an indicode catalogue.
"""
from __future__ import annotations

from pathlib import Path

from .database import open_checked, read_learned, read_occurrences, read_proposed, write_catalogue
from .entries import Occurrence, occurrences_from_rows
from .files import check_can_replace
from .locking import write_lock
from .readers.detect import read_document
from .records import InputError


def check_catalogue_output(out: Path) -> None:
    """`catalogue build -o`: a .sqlite name, a writable place, and never over a file that is not an
    indicode catalogue (a user's other database, a workbook)."""
    out = Path(out)
    if out.suffix.lower() != ".sqlite":
        raise InputError(f"{out}: a catalogue file name must end in .sqlite")
    if out.is_dir():
        raise InputError(f"{out}: is a folder; give a catalogue file name ending in .sqlite")
    check_can_replace(out)
    if out.exists():
        open_checked(out).close()  # refuses what is not a whole indicode catalogue


def _no_rows(sources: list[Path]) -> InputError:
    return InputError(f"{', '.join(map(str, sources))}: no coded indicator rows to build a catalogue from")


def build(sources: list[Path], out: Path, failed: list[str] | None = None) -> tuple[int, list[str]]:
    """Build (or rebuild) `out` from documents and/or other catalogue files; learned links and
    proposed codes in an existing `out` are kept. Documents are read first; then, under `out`'s
    write lock, catalogue sources and the learned links are read and the new file replaces the old.
    A document that cannot be read stops the build, unless a `failed` list is given: then its
    one-line error goes there and the others are built from (when every source fails, the last
    one's error is raised, the others' being in `failed`). Returns (number of coded rows, problems
    reported by the readers)."""
    out = Path(out)
    check_catalogue_output(out)
    occs: list[Occurrence] = []
    problems: list[str] = []
    catalogues = []
    for src in sources:
        src = Path(src)
        if src.suffix == ".sqlite":
            catalogues.append(src)
            open_checked(src).close()
            continue
        try:
            res = read_document(src)
        except InputError as exc:
            if failed is None or len(failed) == len(sources) - 1:
                raise
            failed.append(str(exc))
            continue
        occs += occurrences_from_rows(res.rows)
        problems += [str(p) for p in res.problems]
    if not occs and not catalogues:
        raise _no_rows(sources)
    with write_lock(out):
        for src in catalogues:
            occs += read_occurrences(src)
        if not occs:
            raise _no_rows(sources)
        # the same row read twice (a document given twice, or merged from two catalogues) counts once
        occs = list({(o.source, o.line, o.code, o.name): o for o in occs}.values())
        learned = read_learned(out) if out.exists() else []
        proposed = read_proposed(out) if out.exists() else []
        write_catalogue(out, occs, learned, proposed)
    return len(occs), problems
