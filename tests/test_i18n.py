"""The message catalogue: which language, from where, and that the compiled catalogue is current."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import ROOT
from indicode.i18n import CHINESE, ENGLISH, _, language_from_env, language_from_header, use_language


@pytest.mark.parametrize("env, want", [
    ({}, ENGLISH),
    ({"LANG": "zh_CN.UTF-8"}, CHINESE),
    ({"LANG": "C.UTF-8"}, ENGLISH),
    ({"LANG": "POSIX"}, ENGLISH),
    ({"LANG": "en_GB.UTF-8"}, ENGLISH),
    ({"LANG": "zh_TW.UTF-8"}, CHINESE),
    ({"LANG": "fr_FR.UTF-8"}, ENGLISH),  # a language we lack: English
    ({"LANG": "zh_CN.UTF-8", "LC_ALL": "C"}, ENGLISH),  # LC_ALL comes before LANG
    ({"LANG": "C", "LC_MESSAGES": "zh_CN.UTF-8"}, CHINESE),
    ({"LANG": "C", "LANGUAGE": "fr:zh_CN"}, CHINESE),  # LANGUAGE lists several: the first we speak
    ({"LANGUAGE": "", "LANG": "zh_CN.UTF-8"}, CHINESE),  # set but empty counts as unset
    ({"LANG": "zh_CN.UTF-8", "INDICODE_LANG": "en"}, ENGLISH),  # the override wins
    ({"LANG": "C", "INDICODE_LANG": "zh"}, CHINESE),
])
def test_language_from_the_environment(env, want):
    assert language_from_env(env) == want


@pytest.mark.parametrize("header, want", [
    ("", CHINESE),
    ("en-US,en;q=0.9", ENGLISH),
    ("zh-CN,zh;q=0.9,en;q=0.8", CHINESE),
    ("fr-FR, en;q=0.5, zh;q=0.9", CHINESE),  # by q-value, not order
    ("de", CHINESE),  # none we speak: the default
    ("en;q=0", CHINESE),  # q=0 means "not this one"
    ("en;q=abc", CHINESE),
])
def test_language_from_accept_language(header, want):
    assert language_from_header(header) == want


def test_use_language_switches_the_messages_and_restores_them():
    msg = "Print the version and exit."
    with use_language(CHINESE):
        assert _(msg) == "显示版本并退出。"
        with use_language(ENGLISH):
            assert _(msg) == msg
        assert _(msg) == "显示版本并退出。"


def test_the_compiled_catalogue_is_current_and_complete():
    """The .pot holds every marked string, the Chinese .po translates each, and the .mo is compiled
    from it (`python scripts/messages.py` mends all three; `--check` says what is stale)."""
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "messages.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("lang, want", [("zh_CN.UTF-8", "显示版本并退出"), ("C.UTF-8", "Print the version and exit")])
def test_the_command_line_speaks_the_environments_language(lang, want):
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "INDICODE_LANG")}
    r = subprocess.run([sys.executable, "-m", "indicode.cli", "--help"], capture_output=True, text=True,
                       env={**env, "LANG": lang, "COLUMNS": "200"})
    assert r.returncode == 0, r.stderr
    assert want in r.stdout


def test_a_failed_write_is_said_in_the_language_in_use():
    """catalogue/files.py's one-line WriteError goes through the catalogue (issue 19)."""
    import errno

    from indicode.catalogue.files import write_failed

    full = OSError(errno.ENOSPC, "No space left on device")
    assert str(write_failed("c.sqlite", full)).endswith("nothing was written; free some space and run again")
    with use_language(CHINESE):
        said = str(write_failed("c.sqlite", full))
    assert said == "c.sqlite：无法写入（No space left on device），未写入任何内容；请腾出磁盘空间后再运行"
