"""Where catalogues live: the bundled files, the user's data folder, and the catalogue in use.

The package's own catalogue is never written; learned links go to a user copy of it.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from .files import atomic_path, check_can_replace, write_failed
from .locking import write_lock

DATA_DIR = Path(__file__).parent / "data"
BUNDLED_DB = DATA_DIR / "catalogue.sqlite"
BUNDLED_SEEDS = DATA_DIR / "seeds"


def user_catalogue_path() -> Path:
    """Where learned links go when the catalogue in use is the read-only bundled one."""
    xdg = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    base = os.environ.get("INDICODE_DATA_DIR") or xdg / "indicode"
    return Path(base) / "catalogue.sqlite"


def default_path() -> Path:
    """The catalogue in use: $INDICODE_CATALOGUE, else the user's copy holding learned links, else
    the bundled one."""
    if os.environ.get("INDICODE_CATALOGUE"):
        return Path(os.environ["INDICODE_CATALOGUE"])
    user = user_catalogue_path()
    return user if user.exists() else BUNDLED_DB


def writable_path(path: Path | None, timeout: float | None = None) -> Path:
    """The catalogue file to record learned links in: the given one, or a user copy of the bundled
    catalogue (the package's own file is never written). `timeout`: as for `write_lock`, while
    making the copy."""
    path = Path(path) if path else default_path()
    if path.resolve() == BUNDLED_DB.resolve():
        user = user_catalogue_path()
        if not user.exists():
            try:
                user.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise write_failed(user, exc) from None
            check_can_replace(user)
            with write_lock(user, timeout):
                if not user.exists():
                    with atomic_path(user) as tmp:
                        shutil.copyfile(BUNDLED_DB, tmp)
        return user
    return path
