"""Where catalogues live: the bundled files, the user's data folder, and the default catalogue.

A catalogue is reference data, read-only while in use: nothing indicode does writes into the bundled
file or copies it. What reviewers decide goes to the workspace (`indicode.workspace`), which records
which catalogue it is pointed at.
"""
from __future__ import annotations

import os
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
BUNDLED_DB = DATA_DIR / "catalogue.sqlite"
BUNDLED_SEEDS = DATA_DIR / "seeds"


def user_data_dir() -> Path:
    """The user's indicode data folder: $INDICODE_DATA_DIR, else $XDG_DATA_HOME/indicode, else
    ~/.local/share/indicode (the default workspace lives there)."""
    base = os.environ.get("INDICODE_DATA_DIR") or Path(
        os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "indicode"
    return Path(base)


def user_catalogue_path() -> Path:
    """Where releases up to 0.2 kept a copy of the bundled catalogue holding the learned links; the
    workspace moves its decisions in on first use (`indicode.workspace.migrate`)."""
    return user_data_dir() / "catalogue.sqlite"


def default_path() -> Path:
    """The catalogue when none is named: $INDICODE_CATALOGUE, else the bundled one."""
    if os.environ.get("INDICODE_CATALOGUE"):
        return Path(os.environ["INDICODE_CATALOGUE"])
    return BUNDLED_DB
