"""The documentation: the README fits a screen and its commands run, every link of the README and the
docs pages resolves (files and anchors), the generated references are current and complete (every CLI
command and option, every HTTP endpoint), the site builds with `mkdocs build --strict`, the user guide's
steps code a declaration, review it and learn the decisions, and the offline wheelhouse installs with
`pip install --no-index`."""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from conftest import ROOT, SEED

DOCS = ROOT / "docs"
README = ROOT / "README.md"
PAGES = sorted(DOCS.glob("*.md"))
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"```.*?```", re.S)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INDICODE_")}
    env.update({"INDICODE_DATA_DIR": str(tmp_path / "data"), "INDICODE_CACHE_DIR": str(tmp_path / "cache"),
                "INDICODE_LANG": "en", **extra})
    return env


def _run(cmd: str | list[str], cwd: Path, env: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess:
    shell = isinstance(cmd, str)
    return subprocess.run(cmd, cwd=cwd, env=env, shell=shell, executable="/bin/bash" if shell else None,
                          capture_output=True, text=True, timeout=timeout)


def _code_blocks(text: str, lang: str = "") -> list[str]:
    """The bodies of the text's fenced code blocks in that language (`""`: blocks without one)."""
    blocks, body, current = [], [], None
    for line in text.splitlines():
        if current is None and line.startswith("```"):
            current, body = line[3:].strip(), []
        elif current is not None and line.strip() == "```":
            if current == lang:
                blocks.append("\n".join(body) + "\n")
            current = None
        elif current is not None:
            body.append(line)
    return blocks


# ---------------------------------------------------------------- README


def test_readme_fits_a_screen_and_starts_with_the_fresh_machine_commands():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    first = _code_blocks(text, "bash")[0].splitlines()
    assert text.startswith("# indicode\n\n```bash\n"), "the README opens with the commands"
    commands = [line.split("#")[0].strip() for line in first]
    assert commands[0] == "bash scripts/setup.sh"
    assert commands[1].startswith("indicode normalize ") and commands[2] == "python -m pytest -q"


@pytest.mark.slow
def test_readme_main_job_runs(tmp_path):
    """The README's second command, as written, from a folder where the bundled samples sit at the same
    relative path: every indicator row of the four sample declarations comes out coded."""
    line = _code_blocks(README.read_text(encoding="utf-8"), "bash")[0].splitlines()[1].split("#")[0].strip()
    (tmp_path / "catalogue").mkdir()
    (tmp_path / "catalogue" / "data").symlink_to(ROOT / "catalogue" / "data")
    r = _run(line, tmp_path, _env(tmp_path))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "normalized.xlsx").stat().st_size > 10_000
    assert re.search(r"^416 rows in .*: \d+ accept, \d+ review, \d+ no-match", r.stderr + r.stdout, re.M)


def _transcripts(text: str) -> list[tuple[str, str]]:
    """(command, first line it printed) for every `$ indicode …` line of the text's plain code blocks."""
    found = []
    for block in _code_blocks(text):
        lines = block.splitlines()
        for i, line in enumerate(lines[:-1]):
            if line.startswith("$ indicode "):
                found.append((line[2:], lines[i + 1]))
    return found


@pytest.mark.slow
def test_readme_transcripts_print_what_the_readme_shows(tmp_path):
    shown = _transcripts(README.read_text(encoding="utf-8"))
    assert len(shown) >= 4
    for command, first_line in shown:
        r = _run(command, ROOT, _env(tmp_path, INDICODE_WORKSPACE=str(tmp_path / "ws.sqlite")))
        assert r.returncode == 0, (command, r.stderr)
        printed = (r.stdout + r.stderr).splitlines()[0]
        # a run's time and what the vector cache held differ from run to run
        def same(s: str) -> str:
            return re.sub(r"\d+(\.\d+)?s \(\d+ distinct, \d+ encoded\)", "…", s.replace(str(tmp_path) + "/", ""))
        assert same(printed).startswith(same(first_line).split(" -> ")[0]), (command, printed)


def test_readme_python_example_is_the_api_pages():
    readme, api = README.read_text(encoding="utf-8"), (DOCS / "api.md").read_text(encoding="utf-8")
    assert _code_blocks(readme, "python")[0] == _code_blocks(api, "python")[0]


# ---------------------------------------------------------------- links


def _anchors(page: Path) -> set[str]:
    from markdown.extensions.toc import slugify  # what MkDocs' toc extension names headings by

    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return {slugify(re.sub(r"[`*]", "", m.group(1)).strip(), "-") for m in re.finditer(r"^#+ (.+)$", text, re.M)}


@pytest.mark.parametrize("page", [README, *PAGES], ids=lambda p: p.name)
def test_every_link_resolves(page):
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    text = re.sub(r"`[^`\n]*`", "", text)  # links shown as code are examples, not links
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue  # http(s), mailto: outside the repository
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(target)
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(target)
    assert not broken, f"{page.name}: links to nothing: {broken}"


def test_the_link_check_catches_a_broken_link(tmp_path):
    page = tmp_path / "p.md"
    (tmp_path / "q.md").write_text("# Q\n\n## Exit codes\n", encoding="utf-8")
    page.write_text("[ok](q.md#exit-codes) [bad](q.md#no-such) [gone](r.md)\n", encoding="utf-8")
    with pytest.raises(AssertionError, match=r"q.md#no-such.*r.md"):
        test_every_link_resolves(page)


def test_nav_lists_every_page_and_only_pages_that_exist():
    import yaml  # PyYAML comes with MkDocs

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda *a: None)  # Material's !!python/name tags
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=Loader)

    def files(nav) -> list[str]:
        out = []
        for item in nav:
            value = next(iter(item.values())) if isinstance(item, dict) else item
            out.extend(files(value) if isinstance(value, list) else [value])
        return out

    listed = files(config["nav"])
    assert sorted(listed) == sorted(p.name for p in PAGES)


# ---------------------------------------------------------------- generated references


def test_generated_references_are_current():
    r = subprocess.run([sys.executable, "scripts/docs_reference.py", "--check"], cwd=ROOT, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr


def _walk(command, path=("indicode",)):
    """Every (command path, command) of the click tree: its own walk, not the generator's."""
    yield path, command
    for name, sub in (getattr(command, "commands", None) or {}).items():
        yield from _walk(sub, (*path, name))


def _sections(md: str) -> dict[str, str]:
    parts = re.split(r"^#+ `([^`]+)`\n", md, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_every_cli_command_and_option_is_in_the_reference():
    import typer.main

    from indicode.cli import app

    sections = _sections((DOCS / "cli.md").read_text(encoding="utf-8"))
    missing = []
    for path, command in _walk(typer.main.get_command(app)):
        title = " ".join(path)
        if title not in sections:
            missing.append(title)
            continue
        for param in command.params:
            names = param.opts if param.param_type_name == "option" else [(param.metavar or param.name).upper()]
            if not any(f"`{n}`" in sections[title] for n in names):
                missing.append(f"{title} {names[0]}")
    assert not missing, f"not in docs/cli.md (run python scripts/docs_reference.py): {missing}"
    assert len(sections) >= 25


def test_every_http_endpoint_is_in_the_api_page():
    import json

    spec = json.loads((DOCS / "openapi.json").read_text(encoding="utf-8"))
    page = (DOCS / "openapi.md").read_text(encoding="utf-8")
    paths = [p for p in spec["paths"] if p.startswith("/api/")]
    assert len(paths) >= 7
    assert not [p for p in paths if f"`{p}" not in page]
    assert any(p.startswith("/reconcile") for p in spec["paths"]) and "`/reconcile` and below" in page


# ---------------------------------------------------------------- the site


@pytest.mark.slow
def test_site_builds_strictly_from_the_installed_package(tmp_path):
    site = tmp_path / "site"
    r = _run(["bash", "scripts/docs.sh", "--site-dir", str(site)], ROOT, dict(os.environ))
    assert r.returncode == 0, r.stderr[-3000:]
    api = (site / "api.html").read_text(encoding="utf-8")
    assert "Matcher.suggest" in api and "Verdict" in api  # mkdocstrings read the installed package
    cli = (site / "cli.html").read_text(encoding="utf-8")
    assert "indicode workspace use-catalogue" in cli and "用户指南" in (site / "guide.html").read_text(encoding="utf-8")


# ---------------------------------------------------------------- the user guide, step by step


def _guide_commands() -> list[str]:
    text = (DOCS / "guide.md").read_text(encoding="utf-8")
    return [line.split("#")[0].strip() for block in _code_blocks(text, "bash") for line in block.splitlines()
            if line.startswith("indicode ")]


def _review_as_the_guide_says(workbook: Path, reviewed: Path) -> list[str]:
    """On 按文本审核: 确认 for every 建议采用 and 需复核 row, 无匹配 for every 无匹配 row; saved as a new file."""
    import openpyxl

    wb = openpyxl.load_workbook(workbook)
    ws = wb["按文本审核"]
    header = [c.value for c in ws[1]]
    name, said, mine = header.index("指标"), header.index("建议"), header.index("审核")
    decided = []
    for row in ws.iter_rows(min_row=2):
        if row[said].value in ("建议采用", "需复核"):
            row[mine].value = "确认"
        elif row[said].value == "无匹配":
            row[mine].value = "无匹配"
        else:
            continue
        decided.append(row[name].value)
    wb.save(reviewed)
    return decided


@pytest.mark.slow
def test_the_user_guide_codes_reviews_and_learns(tmp_path):
    env = _env(tmp_path, INDICODE_LANG="zh")
    steps = _guide_commands()
    normalize = next(s for s in steps if s.startswith("indicode normalize "))
    learn = next(s for s in steps if s.startswith("indicode learn "))
    after = steps[steps.index(learn) + 1]
    assert after.startswith("indicode suggest ")
    inputs, outputs = [a for a in shlex.split(normalize)[2:] if a.endswith(".xlsx")], shlex.split(normalize)
    declaration, workbook = inputs[0], Path(outputs[outputs.index("-o") + 1])
    reviewed = Path(shlex.split(learn)[2])

    # a declaration as a finance office exports it: Chinese headers, two sample documents
    import pandas as pd

    r = _run(["indicode", "extract", str(SEED["001"]), str(SEED["004"]), "-o", "rows.csv"], tmp_path, env)
    assert r.returncode == 0, r.stderr
    rows = pd.read_csv(tmp_path / "rows.csv", dtype=str, keep_default_na=False)
    pd.DataFrame({"项目名称": rows.project, "一级指标": rows.level1_text, "二级指标": rows.level2_text,
                  "三级指标": rows.name, "指标值": rows.value_year}).to_excel(tmp_path / declaration, index=False)

    r = _run(normalize, tmp_path, env)  # step 1, as the guide writes it
    assert r.returncode == 0, r.stderr
    decided = _review_as_the_guide_says(tmp_path / workbook, tmp_path / reviewed)  # step 2, in "WPS"
    assert "办事群众满意度" in decided and len(decided) > 100
    r = _run(learn, tmp_path, env)  # step 3
    assert r.returncode == 0, r.stderr
    listed = _run("indicode learned list --json", tmp_path, env)
    assert listed.returncode == 0, listed.stderr
    import json

    in_force = json.loads(listed.stdout)
    from indicode.matcher.text import clean

    # one decision in force per subject: two spellings that clean to one text (办件率, 办件率（%）) are one
    assert {clean(d["text"]) for d in in_force} == {clean(text) for text in decided}
    assert {d["reviewer"] for d in in_force} == {shlex.split(learn)[-1]}
    r = _run(after + " --json", tmp_path, env)  # the guide's check that the decision is in force
    assert r.returncode == 0, r.stderr
    answer = json.loads(r.stdout)
    assert answer["decision"] == "accept" and answer["reason"] == "learned", answer


# ---------------------------------------------------------------- offline install


@pytest.mark.slow
def test_wheelhouse_installs_offline(tmp_path):
    house = tmp_path / "wheelhouse"
    r = _run(["bash", "scripts/wheelhouse.sh", str(house)], ROOT, dict(os.environ), timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    assert any(p.name.startswith("indicode-") for p in house.glob("*.whl"))
    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("PIP_", "VIRTUAL_ENV", "PYTHONPATH", "INDICODE_"))}
    clean["PIP_CONFIG_FILE"] = os.devnull  # no index, no find-links of this machine: only the wheelhouse
    r = _run([str(env_dir / "bin" / "pip"), "install", "--quiet", "--no-index", "--find-links", str(house),
              "indicode"], tmp_path, clean, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    r = _run([str(env_dir / "bin" / "indicode"), "suggest", "办事群众满意度", "--class", "31", "--json"], tmp_path,
             {**clean, "INDICODE_DATA_DIR": str(tmp_path / "d"), "INDICODE_CACHE_DIR": str(tmp_path / "c"),
              "INDICODE_INDEX_DIR": str(tmp_path / "i")})
    assert r.returncode == 0, r.stderr[-3000:]
    assert '"decision": "accept"' in r.stdout and "331" in r.stdout
