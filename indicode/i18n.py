"""Messages in the user's language, from one gettext message catalogue (extracted and compiled with Babel).

The source strings are English; `locale/zh_CN/LC_MESSAGES/indicode.po` holds their Chinese, compiled to
the `.mo` beside it (`python scripts/messages.py` extracts, updates and compiles). The command line's
language is read from the environment the way gettext reads it (LANGUAGE, LC_ALL, LC_MESSAGES, LANG;
`zh*` is Chinese, anything else English), never from `setlocale` (a machine may lack the zh_CN locale),
and `$INDICODE_LANG` overrides it. What is made for people to keep — workbooks, the page — is written
in Chinese whatever the locale: such code runs inside `use_language("zh_CN")`; the server answers each
request in the language of its `Accept-Language` (Chinese when it names none we have).

    from indicode.i18n import _, ngettext
    raise InputError(_("{path}: no such catalogue file").format(path=quoted(path)))

Texts given before the language is known (the command line's help, built at import) are marked with
`N_` and translated when the app is built for a run (indicode/cli_help.py); see docs/messages.md.
"""
from __future__ import annotations

import functools
import gettext as _gettext
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "indicode"
CHINESE, ENGLISH = "zh_CN", "en"
LANGUAGES = (CHINESE, ENGLISH)
ENV_VARS = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")  # gettext's order: the first one set decides

_chosen: ContextVar[str | None] = ContextVar("indicode_language", default=None)


def language_of(tag: str) -> str | None:
    """One of LANGUAGES for a locale name or language tag (`zh_CN.UTF-8`, `zh-Hans`, `en_US`, `C`), or
    None for a language indicode does not speak."""
    tag = tag.strip().lower()
    if not tag:
        return None
    if tag.startswith("zh"):
        return CHINESE
    if tag.startswith("en") or tag in ("c", "posix") or tag.startswith(("c.", "posix.")):
        return ENGLISH
    return None


def language_from_env(environ: Mapping[str, str] | None = None) -> str:
    """The command line's language: $INDICODE_LANG, else the first of gettext's variables that is set
    (LANGUAGE may list several, `fr:zh_CN`: the first we speak counts); English when none is."""
    env = os.environ if environ is None else environ
    override = language_of(env.get("INDICODE_LANG", ""))
    if override:
        return override
    for var in ENV_VARS:
        value = env.get(var, "")
        if not value:
            continue
        for part in value.split(":") if var == "LANGUAGE" else [value]:
            found = language_of(part)
            if found:
                return found
        if var != "LANGUAGE":  # LC_ALL/LC_MESSAGES/LANG set to a language we lack: English
            return ENGLISH
    return ENGLISH


def language_from_header(accept_language: str, default: str = CHINESE) -> str:
    """The language of an HTTP request's Accept-Language (by its q-values), `default` when it names
    none we speak."""
    best, best_q = default, -1.0
    for i, item in enumerate(accept_language.split(",")[:20]):  # a header of any length costs little
        tag, _sep, params = item.partition(";")
        q = 1.0
        for p in params.split(";"):
            k, _eq, v = p.strip().partition("=")
            if k == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        found = language_of(tag)
        if found and q > 0 and q - i * 1e-6 > best_q:  # ties: the earlier tag wins
            best, best_q = found, q - i * 1e-6
    return best


@functools.cache
def translations(language: str) -> _gettext.NullTranslations:
    """The compiled catalogue of a language (English is the source: no catalogue needed)."""
    if language == ENGLISH:
        return _gettext.NullTranslations()
    return _gettext.translation(DOMAIN, LOCALE_DIR, languages=[language], fallback=True)


def current_language() -> str:
    """The language messages are given in here and now: `use_language`'s, else the environment's."""
    return _chosen.get() or _env_language()


def run_language() -> str:
    """The language of one command-line run: `use_language`'s around it, else the environment's as it is
    now (not as it was when the process started: a test may run the command line with another)."""
    return _chosen.get() or language_from_env()


@functools.lru_cache(maxsize=1)
def _env_language() -> str:
    return language_from_env()


@contextmanager
def use_language(language: str) -> Iterator[None]:
    """Give messages in `language` inside the block (this thread or task only)."""
    token = _chosen.set(language if language in LANGUAGES else ENGLISH)
    try:
        yield
    finally:
        _chosen.reset(token)


def gettext(message: str) -> str:
    """`message` in the current language."""
    return translations(current_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for `n`, in the current language."""
    return translations(current_language()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark `message` for the catalogue without translating it yet: for texts given before the language
    is known (the command line's help, translated when the app is built for one run)."""
    return message


_ = gettext
