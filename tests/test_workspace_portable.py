"""The package runs where there is no fcntl (Windows): imported and writing with `import fcntl` failing,
in a real process."""
import subprocess
import sys

from conftest import ROOT, SEED

HIDE_FCNTL = '''
import sys
class _NoFcntl:
    def find_spec(self, name, path=None, target=None):
        if name == "fcntl":
            raise ImportError("No module named 'fcntl' (hidden, as on Windows)")
sys.meta_path.insert(0, _NoFcntl())
sys.modules.pop("fcntl", None)
'''

WRITE = '''
import pathlib, sys
from indicode.catalogue.build import build
from indicode.catalogue.lookup import Catalogue
from indicode.cli import app
from indicode.workspace import NewDecision, Workspace
folder = pathlib.Path(sys.argv[1])
build([pathlib.Path(sys.argv[2])], folder / "c.sqlite")      # the catalogue's write lock
ws = Workspace.open(folder / "ws.sqlite")
out = ws.record([NewDecision("验收合格率", "12", "112000287", "王")], Catalogue.load(folder / "c.sqlite"))
assert "fcntl" not in sys.modules
print(len(Catalogue.load(folder / "c.sqlite")), len(out.recorded), ws.decision_for("验收合格率", "12").code)
'''


def test_imports_and_writes_without_fcntl(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(HIDE_FCNTL, encoding="utf-8")
    probe = subprocess.run([sys.executable, "-c", "import fcntl"], capture_output=True, text=True,
                           env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert probe.returncode != 0 and "hidden, as on Windows" in probe.stderr  # the hook works
    p = subprocess.run([sys.executable, "-c", WRITE, str(tmp_path), str(SEED["000"])], capture_output=True, text=True,
                       env={"PYTHONPATH": f"{tmp_path}:{ROOT / 'tests'}", "PATH": "/usr/bin:/bin",
                            "INDICODE_DATA_DIR": str(tmp_path / "data"), "HOME": str(tmp_path)}, timeout=300)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["118", "1", "112000287"]
