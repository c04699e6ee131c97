"""The command line's help in the user's language, without types a clerk cannot read.

typer builds a fresh click command tree for every run from what the code declares: English help texts
(`help=N_(...)`, a command's docstring). `translate` puts that tree into the current language just before
the run parses its arguments, so one process can answer in either language (the tests do), and hides the
option types typer shows (`<bool>`, `<str>`): a flag shows nothing, an option a word for what it takes.
`python scripts/messages.py` extracts the N_ texts and the command docstrings.
"""
from __future__ import annotations

import re
from typing import Any

from .i18n import N_, _

# What an option takes, by the type typer shows (`<path>`), when the option names no metavar of its own.
VALUE_WORDS = {"path": N_("FILE"), "int": N_("NUMBER"), "float": N_("NUMBER")}
TEXT_WORD = N_("TEXT")


def translate(cmd: Any) -> None:
    """Translate, in place, a click command (and its subcommands): its help, its parameters' help and
    metavars, the help option's text; hide the parameters' types."""
    if cmd.help:
        cmd.help = _(cmd.help)
    if cmd.short_help:
        cmd.short_help = _(cmd.short_help)
    for param in cmd.params:
        _translate_param(param)
    cmd.format_usage = _usage_writer(cmd)
    help_option = cmd.get_help_option(cmd.context_class(cmd))  # made once per command, then cached
    if help_option is not None:
        help_option.help = _("Show this message and exit.")
        _translate_param(help_option, help_done=True)
    for sub in getattr(cmd, "commands", {}).values():
        translate(sub)
    _framework_words()


def _translate_param(param: Any, help_done: bool = False) -> None:
    if not help_done and getattr(param, "help", None):
        param.help = _(param.help)
    if param.param_type_name == "argument":
        param.display_type_rich = _no_type
        return
    if getattr(param, "is_flag", False):
        param.metavar = ""  # typer's rich help shows the metavar in place of the type: a flag shows none
        param.display_type_rich = _no_type
        return
    shown = (param.display_type(None) or "").strip("<>").removeprefix("list[").removesuffix("]")
    param.metavar = _(param.metavar or VALUE_WORDS.get(shown, TEXT_WORD))


def _usage_writer(cmd: Any) -> Any:
    """click's usage line with its `Usage:` in the current language."""
    def format_usage(ctx: Any, formatter: Any) -> None:
        formatter.write_usage(ctx.command_path, " ".join(cmd.collect_usage_pieces(ctx)), _("Usage: "))
    return format_usage


def usage_problem(exc: Any) -> str:
    """A usage error (click's exception) as one line in the current language: the common kinds are
    said in our words, any other in click's."""
    kind = type(exc).__name__
    param: Any = getattr(exc, "param", None)
    if kind == "NoSuchOption":
        return _("no such option: {option}").format(option=exc.option_name)
    if param is None:
        hint = ""
    else:
        hint = param.get_error_hint()
        if kind == "MissingParameter" and not exc.message:
            return _("missing {what} {hint}").format(
                what=_("argument") if param.param_type_name == "argument" else _("option"), hint=hint)
    if kind == "BadParameter" and hint:
        if exc.message.startswith("Input should be a valid integer"):  # typer's number conversion
            return _("{hint}: give a whole number").format(hint=hint)
        if exc.message.startswith("Input should be a valid number"):
            return _("{hint}: give a number").format(hint=hint)
        return _("{hint}: {problem}").format(hint=hint, problem=" ".join(exc.message.split()))
    if kind == "BadOptionUsage" and exc.message.endswith("requires an argument."):
        return _("option {option} needs a value").format(option=exc.option_name)
    unknown = re.match(r"No such command '(.+?)'\.\s*(?:Did you mean '(.+?)'\?)?", exc.message)
    if kind == "UsageError" and unknown:
        line = _("no such command: {name}").format(name=unknown.group(1))
        return line + (_("; did you mean {name}?").format(name=unknown.group(2)) if unknown.group(2) else "")
    return " ".join(exc.format_message().split())


def _no_type(ctx: Any = None) -> None:
    return None


def _framework_words() -> None:
    """The words typer's help prints around ours (panel titles, `[default: …]`), in the current language.
    They are module constants of typer's rich formatting, read when help is printed."""
    try:
        from typer import rich_utils
    except ImportError:  # pragma: no cover - typer without rich prints click's plain help
        return
    words = {"ARGUMENTS_PANEL_TITLE": _("Arguments"), "OPTIONS_PANEL_TITLE": _("Options"),
             "COMMANDS_PANEL_TITLE": _("Commands"), "DEFAULT_STRING": _("[default: {}]"),
             "ENVVAR_STRING": _("[env var: {}]"), "REQUIRED_LONG_STRING": _("[required]")}
    for name, word in words.items():
        if hasattr(rich_utils, name):
            setattr(rich_utils, name, word)
