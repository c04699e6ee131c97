"""Writes the generated reference pages of the documentation from the code itself, so they cannot drift:

- `docs/cli.md`, the command-line reference, from the typer app's command tree (every command, argument
  and option, with its help text, default and environment variable);
- `docs/openapi.json`, the HTTP API's OpenAPI document, from the FastAPI app.

    python scripts/docs_reference.py            # rewrite both
    python scripts/docs_reference.py --check    # exit 1, naming the stale file, when either differs

The texts are the English source strings (`INDICODE_LANG=en`); `indicode --help` under a Chinese locale
shows the same help in Chinese. tests/test_docs.py runs `--check` and checks that every command and
option has an entry.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ["INDICODE_LANG"] = "en"  # before indicode is imported: the help texts are read at import

ROOT = Path(__file__).resolve().parent.parent
CLI_MD = ROOT / "docs" / "cli.md"
OPENAPI_JSON = ROOT / "docs" / "openapi.json"

HEADER = """\
# Command-line reference

Generated from the program by `python scripts/docs_reference.py`; do not edit by hand. Every
command takes `--help`, which prints the same text in the language of the environment
(`LANG=zh_CN.UTF-8` or `INDICODE_LANG=zh` for Chinese). Exit codes are the same for every command:
see [Operations](operations.md#exit-codes).
"""


def command_tree() -> Any:
    """The click command behind the typer app (typer may bundle its own click: duck-typed below)."""
    import typer.main

    from indicode.cli import app

    return typer.main.get_command(app)


def walk(command: Any, path: tuple[str, ...] = ("indicode",)) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command and group under `command`, depth first, in the order `--help` lists them."""
    yield path, command
    subcommands = getattr(command, "commands", None)
    if subcommands is None:
        return
    for name in sorted(subcommands):
        sub = subcommands[name]
        if not getattr(sub, "hidden", False):
            yield from walk(sub, (*path, name))


def visible_params(command: Any) -> list[Any]:
    return [p for p in command.params if not getattr(p, "hidden", False)]


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def _param_row(param: Any) -> str:
    if param.param_type_name == "argument":
        name = f"`{(param.metavar or param.name).upper()}`"
        kind = "argument" + (", several" if param.nargs == -1 else "")
    else:
        name = ", ".join(f"`{o}`" for o in [*param.opts, *param.secondary_opts])
        kind = "flag" if getattr(param, "is_flag", False) else "option"
    notes = []
    if param.required:
        notes.append("required")
    default = param.default
    if param.param_type_name == "option" and default not in (None, False, "", (), []) and not callable(default):
        notes.append(f"default `{default}`")
    if getattr(param, "envvar", None):
        notes.append(f"env `${param.envvar}`")
    help_text = _one_line(getattr(param, "help", None))
    extra = f" ({'; '.join(notes)})" if notes else ""
    return f"| {name} | {kind} | {help_text}{extra} |"


def render_cli() -> str:
    out = [HEADER]
    for path, command in walk(command_tree()):
        depth = len(path)
        title = " ".join(path)
        out.append(f"\n{'#' * min(depth + 1, 4)} `{title}`\n")
        doc = (command.help or "").strip()
        if doc:
            out.append(doc.split("\n\n")[0].strip() + "\n")
        subcommands = getattr(command, "commands", None)
        if subcommands is not None:
            names = [n for n in sorted(subcommands) if not getattr(subcommands[n], "hidden", False)]
            out.append("Commands: " + ", ".join(f"`{n}`" for n in names) + ".\n")
        params = visible_params(command)
        if params:
            out.append("| name | kind | meaning |\n| --- | --- | --- |")
            out.extend(_param_row(p) for p in params)
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def render_openapi() -> str:
    from indicode.server import create_app

    spec = create_app(None).openapi()  # type: ignore[arg-type]  # the schema never touches the service
    return json.dumps(spec, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when a file is stale")
    args = parser.parse_args(argv)
    stale = []
    for path, text in ((CLI_MD, render_cli()), (OPENAPI_JSON, render_openapi())):
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(path)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    for path in stale:
        print(f"{path.relative_to(ROOT)} is stale: run python scripts/docs_reference.py", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
