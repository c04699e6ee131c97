"""Building a catalogue file from documents and other catalogue files (`indicode catalogue build`),
and importing the provincial library into one (`indicode catalogue import`).

A rebuild keeps what reviewers added to the file it replaces (learned links, proposed codes), and
never replaces a file that is not an indicode catalogue. An import also keeps the codes the file
already holds (from documents, other libraries): a library is one more source of its codes, and
importing a library again replaces its earlier rows (the rows of a source of the same file name).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..i18n import _
from .database import open_checked, read_learned, read_occurrences, read_proposed
from .entries import Occurrence, occurrences_from_rows
from .files import check_can_replace
from .library import LibraryRead, read_library
from .locking import write_lock
from .readers.detect import read_document
from .records import InputError
from .writing import write_catalogue


def check_catalogue_output(out: Path) -> None:
    """`catalogue build -o`: a .sqlite name, a writable place, and never over a file that is not an
    indicode catalogue (a user's other database, a workbook)."""
    out = Path(out)
    if out.suffix.lower() != ".sqlite":
        raise InputError(_("{path}: a catalogue file name must end in .sqlite").format(path=out))
    if out.is_dir():
        raise InputError(_("{path}: is a folder; give a catalogue file name ending in .sqlite").format(path=out))
    check_can_replace(out)
    if out.exists():
        open_checked(out).close()  # refuses what is not a whole indicode catalogue


def _no_rows(sources: list[Path]) -> InputError:
    return InputError(_("{sources}: no coded indicator rows to build a catalogue from").format(
        sources=", ".join(map(str, sources))))


def build(sources: list[Path], out: Path, failed: list[str] | None = None, label: str = "") -> tuple[int, list[str]]:
    """Build (or rebuild) `out` from documents and/or other catalogue files; learned links and
    proposed codes in an existing `out` are kept. Documents are read first; then, under `out`'s
    write lock, catalogue sources and the learned links are read and the new file replaces the old.
    A document that cannot be read stops the build, unless a `failed` list is given: then its
    one-line error goes there and the others are built from (when every source fails, the last
    one's error is raised, the others' being in `failed`). `label` names the new version. Returns
    (number of coded rows, problems reported by the readers)."""
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
    n = _write_merged(out, occs, catalogues, label, none_left=lambda: _no_rows(sources))
    return n, problems


def _write_merged(out: Path, occs: list[Occurrence], catalogues: list[Path], label: str,
                  none_left: Callable[[], InputError], keep: Callable[[Occurrence], bool] | None = None) -> int:
    """Under `out`'s write lock: add the rows of the catalogue files and write `out` with its learned
    links and proposed codes. `keep`, when given, is an import's: `out`'s own rows are merged too, and
    only the rows (of the catalogue files and of `out`) it keeps. Returns the number of rows written."""
    with write_lock(out):
        merged = catalogues + ([out] if keep is not None and out.exists() else [])
        for src in merged:
            occs = occs + [o for o in read_occurrences(src) if keep is None or keep(o)]
        if not occs:
            raise none_left()
        # the same row read twice (a document given twice, or merged from two catalogues) counts once
        occs = list({(o.source, o.line, o.code, o.name): o for o in occs}.values())
        learned = read_learned(out) if out.exists() else []
        proposed = read_proposed(out) if out.exists() else []
        write_catalogue(out, occs, learned, proposed, label)
    return len(occs)


@dataclass
class Imported:
    """What `import_library` did: rows imported and refused, per library, and the libraries that could
    not be read at all (their one-line errors)."""

    libraries: list[LibraryRead] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    rows: int = 0  # rows in the catalogue written (all its sources)

    @property
    def imported(self) -> int:
        return sum(len(lib.occurrences) for lib in self.libraries)

    @property
    def refused(self) -> int:
        return sum(len(lib.refused) for lib in self.libraries)


class NothingImported(InputError):
    """No row of any library table could be imported: nothing was written. `result` holds the rows
    refused and the tables that failed, for the one line each."""

    def __init__(self, message: str, result: Imported):
        super().__init__(message)
        self.result = result


def import_library(sources: list[Path], out: Path, columns: dict[str, str] | None = None,
                   label: str = "") -> Imported:
    """Import library tables into `out`, merged with the catalogue files among `sources` and with what
    `out` already holds (its rows from sources of another name; learned links, proposed codes). A
    table that cannot be read is listed in `failed` and the others imported; NothingImported (nothing
    written) when no row of any table can be imported."""
    out = Path(out)
    check_catalogue_output(out)
    res = Imported()
    catalogues: list[Path] = []
    for src in map(Path, sources):
        if src.suffix.lower() == ".sqlite":
            open_checked(src).close()
            catalogues.append(src)
            continue
        try:
            res.libraries.append(read_library(src, columns))
        except InputError as exc:
            res.failed.append(str(exc))
    occs = [o for lib in res.libraries for o in lib.occurrences]
    if not occs:
        tables = [str(s) for s in sources if Path(s).suffix.lower() != ".sqlite"]
        if not tables:
            raise NothingImported(_("catalogue import: no library table given (only catalogue files); give the "
                                    "library's .xlsx, .xls or .csv"), res)
        if not res.libraries:  # no table could be read: the last one's line is the error, as `build` does
            raise NothingImported(res.failed.pop(), res)
        raise NothingImported(_("{sources}: no indicator code could be imported; nothing was written").format(
            sources=", ".join(tables)), res)
    replaced = {lib.source for lib in res.libraries}  # a library imported again: its earlier rows go
    res.rows = _write_merged(out, occs, catalogues, label, none_left=lambda: _no_rows(sources),
                             keep=lambda o: o.source not in replaced)
    return res
