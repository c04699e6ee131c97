"""indicode installs as one import package and leaves other PyPI packages alone.

PyPI's `catalogue` (a dependency of spaCy and thinc) was once overwritten by indicode's own top-level
`catalogue` folder. Here a real, non-editable `pip install .` goes into a fresh virtual environment that
already holds PyPI's `catalogue`; both must work afterwards, and the installed distribution must own
nothing but `indicode` and carry its data.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from conftest import ROOT
from test_layout import package_modules

pytestmark = pytest.mark.slow

# what the installed package reads at run time, besides its modules
DATA = ["indicode/py.typed", "indicode/matcher/data/model.json", "indicode/catalogue/data/catalogue.sqlite",
        *(f"indicode/catalogue/data/seeds/{p.name}" for p in (ROOT / "catalogue/data/seeds").glob("*.txt")),
        *(f"indicode/indexes/{p.name}" for p in (ROOT / "indexes").iterdir()
          if p.suffix in (".faiss", ".json") and ".names." not in p.name),  # not the caches beside it
        *(f"indicode/static/{p.name}" for p in (ROOT / "indicode/static").iterdir())]

PROBE = """
import json, importlib.metadata as md, catalogue, indicode, indicode.catalogue.records as records
dist = md.distribution("indicode")
print(json.dumps({"create": callable(catalogue.create), "catalogue": catalogue.__file__,
                  "indicode": indicode.__file__, "records": records.__file__,
                  "dist": str(dist.locate_file("")), "files": [str(f) for f in dist.files]}))
"""


def _run(cmd: list[str], cwd: Path, **kw) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_REQUIRE_VIRTUALENV")}
    env.update(kw.pop("env", {}))
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=900, **kw)


def _fresh_env_seeing_ours(env_dir: Path) -> Path:
    """A new virtual environment whose own site-packages comes first and which also sees the packages
    of the environment running the tests (through a .pth of plain paths, so that environment's own .pth
    files, indicode's editable-install hook among them, are not run): the dependencies need not be
    installed twice, and whatever is installed into the new one shadows them."""
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    r = _run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], env_dir)
    assert r.returncode == 0, r.stderr
    ours = [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages") and Path(p).is_dir()]
    (Path(r.stdout.strip()) / "_test_env.pth").write_text("\n".join(ours) + "\n", encoding="utf-8")
    return py


def test_pip_install_coexists_with_pypi_catalogue(tmp_path):
    env_dir = tmp_path / "venv"
    py = _fresh_env_seeing_ours(env_dir)
    # --ignore-installed: install into the new environment even where the test environment has one
    pip = [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
           "--ignore-installed"]
    r = _run(pip + ["catalogue==2.0.10"], tmp_path)
    assert r.returncode == 0, r.stderr
    # from a copy of what the build reads: a build in the work tree would reuse its stale build/lib and
    # egg-info, and so install modules that were since moved or deleted, or data no longer declared
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for folder in ("indicode", "catalogue", "matcher", "indexes"):
        shutil.copytree(ROOT / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__"))
    r = _run(pip + ["--no-build-isolation", str(src)], tmp_path)
    assert r.returncode == 0, r.stderr

    # run from a folder outside the repository, so nothing is imported from the work tree
    r = _run([str(py), "-c", PROBE], tmp_path)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got["create"] is True
    assert got["catalogue"].startswith(str(env_dir)) and "indicode" not in got["catalogue"]
    assert got["indicode"].startswith(str(env_dir)), "indicode must come from the new environment"
    assert got["records"].startswith(str(env_dir)) and got["dist"].startswith(str(env_dir))

    # the distribution owns `indicode` alone (nothing top-level that another package could own) and
    # carries every module and data file
    files = set(got["files"])
    others = sorted(f for f in files if f.split("/")[0] != "indicode" and ".dist-info/" not in f
                    and not f.endswith("/bin/indicode"))
    assert not others, f"indicode installs files outside its package: {others}"
    modules = {name.replace(".", "/") + ("/__init__.py" if is_pkg else ".py")
               for name, (_, is_pkg) in package_modules().items()}
    missing = sorted((modules | set(DATA)) - files)
    assert not missing, f"missing from the installed package: {missing}"

    r = _run([str(env_dir / "bin" / "indicode"), "lookup", "112000272"], tmp_path,
             env={"INDICODE_DATA_DIR": str(tmp_path / "data"), "INDICODE_INDEX_DIR": str(tmp_path / "idx"),
                  "INDICODE_CACHE_DIR": str(tmp_path / "cache")})
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("112000272-任务达标完成率")
