"""The front door (indicode.inputs): what a class, `k`, a text, a lookup query and a table may be,
the bad inputs of issue 18 each refused (or read) on purpose by the Python API, and the same bad
input giving the same message in the CLI, the Python API and over HTTP."""
import ast
import json
import re
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

import indicode
from conftest import ROOT
from indicode import inputs
from indicode.api import Matcher
from indicode.catalogue.textio import fold
from indicode.cli import app
from indicode.matcher.text import MAX_TEXT
from server_proc import call, server_on_copy

pytestmark = pytest.mark.usefixtures("shared_vector_cache")  # its commands build Linkers of their own

runner = CliRunner()
LIGATURE = "\ufdfa"  # one character that NFKC folds to 18


@pytest.fixture(scope="module")
def matcher(linker):
    m = Matcher.__new__(Matcher)  # the session's linker: same catalogue, encoder and model as Matcher()
    m.linker = linker
    return m


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with server_on_copy(tmp_path_factory.mktemp("inputs")) as served:
        yield served


# ------------------------------------------------------------------ the readers alone


@pytest.mark.parametrize("given,digits", [
    ("31", "31"), ("3", "3"), (31, "31"), (3, "3"), (12.0, "12"), (" 22 ", "22"), ("１１", "11"),
    ("3-满意度指标", "3"), ("31-服务对象满意度", "31"), ("4-成本指标", "4"), ("41-经济成本指标", "41"), ("24-", "24"),
    ("服务对象满意度", "31"), ("数量指标", "11"), ("*数量指标", "11"), ("社会效益指标", "22"), ("产出指标", "1"),
    # 成本指标 is the name of level-1 class 4 and of level-2 class 14: read as a level-2 cell is, 14
    # (the older forms' cost class under 产出), as catalogue.classes documents
    ("成本指标", "14"),
    (None, ""), (float("nan"), ""), (pd.NA, ""), ("", ""), ("  ", ""),
])
def test_a_class_is_read_as_its_digits(given, digits):
    assert inputs.read_class(given) == digits


@pytest.mark.parametrize("given", ["99", 99, "abc", 3.5, ["31"], True, "3a", "99-数量指标", "31 OR 1", {"id": "31"}])
def test_anything_else_is_no_class_and_the_message_names_it(given):
    with pytest.raises(inputs.BadValue) as exc:
        inputs.read_class(given)
    assert str(exc.value) == f"class {inputs.shown(given)}: not a class; {inputs.CLASS_HELP}"
    assert exc.value.field == "class"


def test_lookup_narrows_by_class_words_digits_or_a_code_prefix():
    assert [inputs.read_lookup_class(v) for v in ("", None, "3", 31, "数量指标", "113", 1130002, "1114010894")] == [
        "", "", "3", "31", "11", "113", "1130002", "1114010894"]
    for bad in ("99", "x1", "12345678901", "1.5"):
        with pytest.raises(inputs.BadValue, match=r"neither a class nor a code prefix.*first 3 to 10 digits"):
            inputs.read_lookup_class(bad)


def test_k_and_limit_are_whole_numbers_in_range():
    assert [inputs.read_k(v) for v in (1, "5", " 7 ", 50)] == [1, 5, 7, 50]
    for bad, shown in [(0, "0"), ("0", "0"), (51, "51"), (True, "True"), (5.0, "5.0"), ("5.0", "5.0"),
                       ("abc", "'abc'"), ("5_0", "'5_0'"), (None, "None"), ("٥", "٥")]:
        with pytest.raises(inputs.BadValue) as exc:
            inputs.read_k(bad)
        assert str(exc.value) == f"k {shown}: give a whole number from 1 to 50"
    assert inputs.read_limit(1000) == 1000
    with pytest.raises(inputs.BadValue, match="limit 1001: give a whole number from 1 to 1000"):
        inputs.read_limit(1001)


@pytest.mark.parametrize("given,problem", [
    (None, "text None: missing"), (float("nan"), "text nan: missing"),
    (123, "text 123: not text (int)"), (["办事群众满意度"], "text ['办事群众满意度']: not text (list)"),
    ("", "text '': empty"), ("  \t", "text '  \\t': empty"),
    ("\u200b", "nothing visible"), ("\ufeff", "nothing visible"), ("\u3000\u200b ", "nothing visible"),
    ("满意\ud800度", "holds U+D800, half of a UTF-16 surrogate pair"), ("a\x00b", "control character U+0000"),
])
def test_a_text_that_is_none_is_refused(given, problem):
    with pytest.raises(inputs.BadValue) as exc:
        inputs.read_text(given)
    assert str(exc.value).startswith("text ") and problem in str(exc.value) and exc.value.field == "text"


def test_a_text_is_bounded_once_folded_and_says_it_was_cut():
    assert inputs.read_text("  办事群众满意度 ") == inputs.Text("办事群众满意度", False)
    assert inputs.read_text("任务\n完成率") == inputs.Text("任务\n完成率", False)  # a line break is whitespace
    long = inputs.read_text("长" * 250)
    assert long == inputs.Text("长" * MAX_TEXT, True)
    # 199 characters as written, about 3,600 once folded: cut, to the longest beginning that fits
    t = inputs.read_text(LIGATURE * 197 + "xy")
    assert t.cut and len(fold(t.text)) <= MAX_TEXT < len(fold(t.text + LIGATURE)) and t.text == LIGATURE * len(t.text)
    exact = "长" * MAX_TEXT
    assert inputs.read_text(exact) == inputs.Text(exact, False)


def test_a_lookup_query():
    assert inputs.read_query(123) == "123" and inputs.read_query(" 满意度 ") == "满意度"
    for bad, problem in [("", "query '': empty"), ("\u200b", "nothing visible"), (None, "query None: missing"),
                         (1.5, "not text (float)"), ("长" * 201, "longer than 200 characters")]:
        with pytest.raises(inputs.BadValue) as exc:
            inputs.read_query(bad)
        assert str(exc.value).startswith("query ") and problem in str(exc.value), str(exc.value)


# ------------------------------------------------------------------ the Python API: issue 18's list


def test_suggest_refuses_none_and_nan_instead_of_searching_their_names(matcher):
    with pytest.raises(indicode.InputError, match=r"^text None: missing; give the indicator as written"):
        matcher.suggest(None)
    with pytest.raises(indicode.InputError, match=r"^text nan: missing"):
        matcher.suggest(float("nan"))


def test_suggest_reads_an_int_class_and_a_class_name(matcher):
    by_digits = matcher.suggest("任务完成率", level2="11")
    for same in (11, "数量指标", "11-数量指标"):
        s = matcher.suggest("任务完成率", level2=same)
        assert s.level2 == "11" and [c.code for c in s.candidates] == [c.code for c in by_digits.candidates]
        assert s.decision == by_digits.decision


def test_normalize_reads_a_class_as_suggest_does(matcher):
    df = pd.DataFrame({"name": ["任务完成率"] * 3, "cls": ["数量指标", 11, "11"]})
    out = matcher.normalize(df, name="name", level2="cls")
    s = matcher.suggest("任务完成率", level2="数量指标")
    assert list(out["code"]) == [s.code] * 3 and list(out["decision"]) == [s.decision] * 3


def test_an_unknown_class_is_refused_by_suggest_and_normalize_alike(matcher):
    with pytest.raises(indicode.InputError) as by_suggest:
        matcher.suggest("任务完成率", level2="99")
    df = pd.DataFrame({"name": ["任务完成率", "验收合格率"], "cls": ["12", 99]}, index=["a", "b"])
    with pytest.raises(indicode.InputError) as by_normalize:
        matcher.normalize(df, name="name", level2="cls")
    assert str(by_normalize.value) == f"DataFrame row 2 (index 'b'): {by_suggest.value}"


def test_normalize_takes_a_series_or_a_list_as_one_column(matcher):
    texts = ["任务达标完成率", "办事群众满意度"]
    by_frame = matcher.normalize(pd.DataFrame({"name": texts}, index=[7, 9]), name="name")
    assert by_frame.loc[9, "code"].startswith("331")
    pd.testing.assert_frame_equal(matcher.normalize(pd.Series(texts, index=[7, 9], name="指标")), by_frame)
    pd.testing.assert_frame_equal(matcher.normalize(pd.Series(texts, index=[7, 9], name="指标"), name="指标"), by_frame)
    assert matcher.normalize(texts).reset_index(drop=True).equals(by_frame.reset_index(drop=True))
    with pytest.raises(indicode.InputError, match="a Series is one column of texts; level2= name columns"):
        matcher.normalize(pd.Series(texts), level2="cls")
    with pytest.raises(indicode.InputError, match="not str"):
        matcher.normalize("任务达标完成率")


def test_suggest_refuses_a_list_rather_than_matching_its_repr(matcher):
    with pytest.raises(indicode.InputError, match=r"^text \['办事群众满意度'\]: not text \(list\)"):
        matcher.suggest(["办事群众满意度"])


def test_a_lone_surrogate_is_refused_clearly_not_by_the_vector_cache(matcher):
    surrogate = r"^text '满意\\ud800度': holds U\+D800, half of a UTF-16 surrogate pair"
    with pytest.raises(indicode.InputError, match=surrogate):
        matcher.suggest("满意\ud800度")
    with pytest.raises(indicode.InputError, match=r"DataFrame row 1 \(index 0\), column 'n': .*surrogate"):
        matcher.normalize(pd.DataFrame({"n": ["满意\udcff度"]}), name="n")


def test_lookup_reads_an_int_as_a_code_and_refuses_an_empty_query(matcher):
    assert [e.code for e in matcher.lookup(113)] == [e.code for e in matcher.lookup("113")]
    assert matcher.lookup(113) and all(e.code.startswith("113") for e in matcher.lookup(113))
    with pytest.raises(indicode.InputError, match=r"^query '': empty; give a code, a code prefix or part of a name"):
        matcher.lookup("")
    assert all(e.level2 == "31" for e in matcher.lookup("满意度", klass="服务对象满意度"))
    with pytest.raises(indicode.InputError, match="limit 0"):
        matcher.lookup("满意度", limit=0)


def test_normalize_without_a_name_column_or_with_two_of_it(matcher):
    df = pd.DataFrame({"name": ["任务达标完成率"]})
    with pytest.raises(indicode.InputError, match=r"^DataFrame: name= is missing: give the column holding the "
                                                  r"indicator texts \(columns: name\)"):
        matcher.normalize(df, name=None)
    twice = pd.DataFrame([["任务达标完成率", "x"]], columns=["name", "name"])
    with pytest.raises(indicode.InputError, match=r"^DataFrame: 2 columns are named 'name' \(for name\); rename"):
        matcher.normalize(twice, name="name")


def test_normalize_keeps_empty_cells_and_reads_numbers_as_text(matcher):
    df = pd.DataFrame({"name": ["任务达标完成率", None, float("nan"), "办事群众满意度"],
                       "cls": [12.0, None, "", 31.0], "value": [None, 5, 0.95, "≥95%"]})
    out = matcher.normalize(df, name="name", level2="cls", value="value")
    assert len(out) == 4 and list(out.index) == [0, 1, 2, 3]
    assert list(out["decision"][1:3]) == ["no-match"] * 2 and list(out["reason"][1:3]) == ["empty"] * 2
    assert out.loc[3, "code"].startswith("331")
    with pytest.raises(indicode.InputError, match=r"^DataFrame row 1 \(index 0\), column 'name': \['a'\] is not text"):
        matcher.normalize(pd.DataFrame({"name": [["a"]]}), name="name")


def test_k_refuses_bools_and_floats(matcher):
    for bad in (True, 5.0, 0, 51):
        with pytest.raises(indicode.InputError, match=r"give a whole number from 1 to 50"):
            matcher.suggest("任务达标完成率", k=bad)
    assert len(matcher.suggest("任务达标完成率", k=2).candidates) == 2


def test_cut_is_true_when_folding_made_the_text_long(matcher):
    s = matcher.suggest(LIGATURE * 197 + "xy")
    assert s.cut and len(fold(s.text)) <= MAX_TEXT
    assert matcher.suggest("长" * 201).cut and not matcher.suggest("办事群众满意度").cut


def test_input_error_is_exported_and_import_indicode_stays_light():
    from indicode.catalogue.records import InputError

    assert indicode.InputError is InputError and "InputError" in indicode.__all__
    code = ("import sys, indicode; indicode.InputError; "
            "print(sorted(m for m in ('pandas', 'numpy', 'fastapi', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ------------------------------------------------------------------ the same bad input everywhere

# (command, arguments as typed, the one at fault): the surfaces spell them the same way, and each
# is refused before any catalogue or model is loaded
WRONG = {"suggest": {"text": ["", "   ", "\u200b", "\ufeff", "任务\x01完成率"], "class": ["99", "abc", "99-数量指标"],
                     "k": ["0", "51", "abc", "2.5"]},
         "lookup": {"query": ["", "  "], "class": ["x1", "99"], "limit": ["0", "1001"]}}
GOOD = {"suggest": {"text": "任务完成率"}, "lookup": {"query": "满意度"}}
BAD = {f"{command} {key}={v!r}": (command, {**GOOD[command], key: v}, key)
       for command, keys in WRONG.items() for key, values in keys.items() for v in values}
CLI = {"suggest": {"text": None, "class": "--class", "k": "-k"},
       "lookup": {"query": None, "class": "--class", "limit": "-n"}}
HTTP = {"suggest": ("/api/suggest", {"text": "text", "class": "class", "k": "k"}),
        "lookup": ("/api/lookup", {"query": "q", "class": "class", "limit": "limit"})}


def api_error(matcher, command, args) -> str:
    with pytest.raises(indicode.InputError) as exc:
        if command == "suggest":
            matcher.suggest(args["text"], level2=args.get("class"), k=args.get("k", 5))
        else:
            matcher.lookup(args["query"], klass=args.get("class", ""), limit=args.get("limit", 50))
    return str(exc.value)


def cli_error(command, args) -> str:
    argv = [command]
    for key, flag in CLI[command].items():
        if key in args:
            argv += [args[key]] if flag is None else [flag, args[key]]
    r = runner.invoke(app, argv)
    assert r.exit_code == 2 and "Traceback" not in r.output, r.output
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    return lines[0].removeprefix("error: ")


@pytest.mark.parametrize("case", BAD)
def test_the_same_bad_input_gets_the_same_message_in_the_cli_the_api_and_http(matcher, server, case):
    command, args, wrong = BAD[case]
    message = api_error(matcher, command, args)
    assert cli_error(command, args) == message
    path, names = HTTP[command]
    st, body = call(server[0], path, {names[k]: v for k, v in args.items()})
    assert st == 422 and body["error"] == message and body["field"] == names[wrong]


def test_python_values_get_the_message_their_text_gets(matcher):
    """A number from Python and the same number typed on a command line are one input."""
    for key, number in (("k", 0), ("class", 99)):
        as_text = api_error(matcher, "suggest", {"text": "x", key: str(number)})
        assert api_error(matcher, "suggest", {"text": "x", key: number}) == as_text


def test_json_bodies_get_the_front_doors_words(matcher, server):
    url, cat = server
    st, body = call(url, "/api/feedback", body={"text": ["办事群众满意度"], "code": "NIL"})
    assert st == 422 and body["field"] == "text"
    assert body["error"] == api_error(matcher, "suggest", {"text": ["办事群众满意度"]})
    st, body = call(url, "/api/feedback", body={"text": "x", "class": "99", "code": "NIL"})
    assert st == 422 and body["field"] == "class"
    assert body["error"] == api_error(matcher, "suggest", {"text": "x", "class": "99"})
    st, body = call(url, "/reconcile", raw=json.dumps({"q1": {"query": "x", "limit": 0}}).encode())
    assert st == 422 and body["error"] == "queries.q1: limit 0: give a whole number from 1 to 50"


def test_a_class_name_and_a_long_text_over_http(server):
    url, cat = server
    st, d = call(url, "/api/suggest", {"text": "任务完成率", "class": "数量指标", "k": 3})
    st2, d2 = call(url, "/api/suggest", {"text": "任务完成率", "class": "11", "k": 3})
    assert st == st2 == 200 and d["class"] == "11" and d["candidates"] == d2["candidates"] and d["cut"] is False
    st, d = call(url, "/api/suggest", {"text": LIGATURE * 197 + "xy"})
    assert st == 200 and d["cut"] is True and len(fold(d["text"])) <= MAX_TEXT
    st, found = call(url, "/api/lookup", {"q": "满意度", "class": "服务对象满意度"})
    assert st == 200 and found["results"] and all(r["level2"] == "31" for r in found["results"])


def test_cli_suggest_reads_a_class_name_and_reports_a_cut(tmp_path):
    r = runner.invoke(app, ["suggest", "长" * 201, "--class", "数量指标", "-k", "1", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["cut"] is True and d["class"] == "11" and d["text"] == "长" * MAX_TEXT
    assert "matched by its beginning" in r.stderr


# ------------------------------------------------------------------ the server's modules


def test_the_server_modules_import_no_cycle_not_even_inside_functions():
    folder = ROOT / "indicode" / "server"
    graph = {}
    for path in folder.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph[path.stem] = {a.name if n.module is None else n.module
                            for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 1
                            for a in n.names}
    graph = {m: {d for d in deps if d in graph} for m, deps in graph.items()}
    assert "app" not in graph["reconcile"] and "reconcile" in graph["app"]

    def reaches(start, goal, seen=()):
        return any(d == goal or (d not in seen and reaches(d, goal, (*seen, d))) for d in graph[start])

    assert [m for m in graph if reaches(m, m)] == []


def test_one_definition_of_the_checks():
    """MAX_TEXT lives in matcher/text.py; the class and count checks in indicode/inputs.py only."""
    sources = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "indicode").rglob("*.py")}
    assert [n for n, s in sources.items() if re.search(r"^MAX_TEXT =", s, re.M)] == []
    checks = r"\bis_class\(|CLASS_PATTERN|^MAX_K =|^MAX_LIMIT ="
    assert [n for n, s in sources.items() if re.search(checks, s, re.M)] == ["inputs.py"]
