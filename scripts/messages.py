"""The message catalogue: extract the strings marked for translation, update the .po files, compile them.

    python scripts/messages.py            # extract → indicode/locale/indicode.pot, update zh_CN .po, compile .mo
    python scripts/messages.py --check    # exit 1 when a file is out of date or a string untranslated

Run it after adding or changing a message, fill in the new `msgstr` entries of
indicode/locale/zh_CN/LC_MESSAGES/indicode.po, and run it again to compile. The .mo files are committed,
so an editable install and the wheel both carry them.
"""
from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "indicode" / "locale"
POT = LOCALE / "indicode.pot"
SOURCES = ("indicode", "catalogue", "matcher")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
COMMAND_DECORATORS = ("command", "callback")  # typer takes a command's help from its docstring
LANGUAGES = ("zh_CN",)


def extract() -> Catalog:
    """Every string marked in the package's sources, with where it is used."""
    cat = Catalog(project="indicode", charset="utf-8")
    for folder in SOURCES:
        for filename, lineno, message, comments, context in extract_from_dir(
                ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS, comment_tags=("i18n:",)):
            cat.add(message, locations=[(f"{folder}/{filename}", lineno)], auto_comments=comments, context=context)
        for path in sorted((ROOT / folder).rglob("*.py")):
            for lineno, doc in command_docstrings(path.read_text(encoding="utf-8")):
                cat.add(doc, locations=[(str(path.relative_to(ROOT)), lineno)])
    return cat


def command_docstrings(source: str) -> list[tuple[int, str]]:
    """The docstrings of typer commands and callbacks (`@app.command()`, `@app.callback()`): their help
    texts, which the command line translates when it builds the app (indicode/cli_help.py)."""
    import ast

    out = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for dec in node.decorator_list:
            func = dec.func if isinstance(dec, ast.Call) else dec
            if isinstance(func, ast.Attribute) and func.attr in COMMAND_DECORATORS:
                doc = ast.get_docstring(node, clean=True)
                if doc:
                    out.append((node.lineno, doc))
                break
    return out


def po_path(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / "indicode.po"


def _po_bytes(cat: Catalog) -> bytes:
    buf = io.BytesIO()
    write_po(buf, cat, width=120, omit_header=False, sort_output=True, no_location=False)
    # the Babel version in the header would make the file differ between machines
    return b"".join(line for line in buf.getvalue().splitlines(keepends=True) if not line.startswith(b'"Generated-By:'))


def _mo_bytes(cat: Catalog) -> bytes:
    buf = io.BytesIO()
    write_mo(buf, cat)
    return buf.getvalue()


def _mo_messages(data: bytes) -> dict:
    """What a compiled catalogue says (its header aside, which names the Babel that wrote it)."""
    import gettext

    messages = dict(gettext.GNUTranslations(io.BytesIO(data))._catalog)  # type: ignore[attr-defined]
    messages.pop("", None)
    return messages


def _without_locations(data: bytes) -> bytes:
    """A .po/.pot without its `#:` source locations: moving a line must not make the catalogue stale."""
    return b"".join(line for line in data.splitlines(keepends=True) if not line.startswith(b"#:"))


def _same(path: Path, data: bytes) -> bool:
    if not path.exists():
        return False
    if path.suffix == ".mo":
        return _mo_messages(path.read_bytes()) == _mo_messages(data)
    return _without_locations(path.read_bytes()) == _without_locations(data)


def updated(template: Catalog, language: str) -> Catalog:
    """The language's catalogue brought up to the template: new strings added, gone ones dropped."""
    path = po_path(language)
    if path.exists():
        with open(path, "rb") as fh:
            cat = read_po(fh, locale=language)
    else:
        cat = Catalog(locale=language, project="indicode", charset="utf-8")
    cat.update(template, no_fuzzy_matching=True)
    cat.obsolete.clear()
    for key in [m.id for m in cat if m.id]:
        m = cat[key]
        m.flags.discard("fuzzy")
    cat.revision_date = cat.creation_date = template.creation_date  # stable bytes: no clock in the files
    return cat


def untranslated(cat: Catalog) -> list[str]:
    out = []
    for m in cat:
        if not m.id:
            continue
        strings = m.string if isinstance(m.string, (list, tuple)) else [m.string]
        if not all(strings):
            out.append(m.id if isinstance(m.id, str) else m.id[0])
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="change nothing; exit 1 when anything is out of date")
    args = ap.parse_args()
    template = extract()
    template.creation_date = template.revision_date = __import__("datetime").datetime(2026, 1, 1)
    stale = []
    outputs = {POT: _po_bytes(template)}
    for language in LANGUAGES:
        cat = updated(template, language)
        missing = untranslated(cat)
        if missing:
            stale.append(f"{po_path(language)}: {len(missing)} untranslated, e.g. {missing[0]!r}")
        outputs[po_path(language)] = _po_bytes(cat)
        outputs[po_path(language).with_suffix(".mo")] = _mo_bytes(cat)
    for path, data in outputs.items():
        if not _same(path, data):
            if args.check:
                stale.append(f"{path.relative_to(ROOT)}: out of date; run python scripts/messages.py")
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                print(f"wrote {path.relative_to(ROOT)}")
    for line in stale:
        print(line, file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
