"""Bad-input battery: every command that takes input, every parameter, malformed files and data folders.

Each case calls ``kit.cli.main(argv)`` in-process and must either exit 2 with exactly one line on stderr
that starts 'kit: error:', names the parameter, option or file, carries no traceback and stays under
MAX_LINE characters — or, where the value is actually valid (decided per case below), exit 0. Nothing
runs a notebook, a model or a server: the last steps of `kit run`, `kit local bench` and `kit app` are
stubbed, so only the checks in front of them are exercised.
"""

from __future__ import annotations

import functools
import json
import math
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from kit import catalog, cli, local, notebooks, runs, serve
from kit.errors import ParamError
from kit.params import NOTEBOOK_SPEC, PARAMS, Param, Scenario
from kit.scenario_io import MAX_FILE_BYTES, to_json

MAX_LINE = 400
# Messages that list choices (open-model ids, parameter names) are held to the one-line cap of kit.errors.
LISTINGS = ("allowed: 'auto' or one of", "allowed: a known parameter: ")
MAX_LISTING_LINE = 600
DATA = catalog.data_dir()
_cached_parameters = functools.cache(notebooks.parameters)  # each notebook's parameters cell, read once
_cached_parser = functools.cache(cli.build_parser)  # argparse's set-up costs ~25 ms a call (gettext lookups)

# ---------------------------------------------------------------- the values every input is tried with

VALUES: dict[str, str] = {
    "empty": "",
    "nan": "nan",
    "NaN": "NaN",
    "inf": "inf",
    "-inf": "-inf",
    "negative": "-1",
    "1e309": "1e309",
    "10k-chars": "x" * 10_000,
    "10k-digits": "1" * 10_000,
    "umlaut": "ümlaut",
    "cjk": "数字",
    "emoji": "🙂",
    "rtl": "\u05e9\u05dc\u05d5\u05dd",
    "abc": "abc",
    "3.5": "3.5",
    "7": "7",
    "nul": "1\x002",  # a real argv cannot hold NUL; in-process it can, so it is tried
}

# YAML values of other types, for params files (a command line only carries text).
TYPED: dict[str, object] = {
    "yaml-nan": math.nan,
    "yaml-inf": math.inf,
    "yaml-minus-inf": -math.inf,
    "yaml-null": None,
    "yaml-true": True,
    "yaml-list": [1],
    "yaml-mapping": {"a": [1]},
    "yaml-3000-digit-int": int("9" * 3000),
}

# The only (parameter, value) pairs of the battery the spec accepts; every other --set case must exit 2.
VALID_SET = {
    ("input_tokens", "7"),
    ("output_tokens", "7"),
    ("weeks_to_launch", "7"),
    ("tpot_ms", "7"),
    ("reasoning_tokens", "7"),
    ("peak_to_average", "3.5"),
    ("peak_to_average", "7"),
    ("team_fte", "3.5"),
    ("team_fte", "7"),
    *((f"weight_{a}", "3.5") for a in ("cost", "control", "security", "ecosystem", "parity")),
}


def accepts(param: Param, value: object) -> bool:
    """Return whether the spec accepts ``value`` (no battery value names a catalog model)."""
    try:
        got = param.coerce(value)
    except ParamError:
        return False
    return param.kind != "model" or got == "auto"


# ---------------------------------------------------------------- fixtures and the one assertion


@pytest.fixture(scope="module")
def battery_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("battery")


@pytest.fixture
def tmp_path(battery_dir) -> Path:
    """A fresh folder per case: pytest's own tmp_path slows down over thousands of cases (numbered names)."""
    return Path(tempfile.mkdtemp(dir=battery_dir))


@pytest.fixture(autouse=True)
def stubbed(monkeypatch, tmp_path):
    """Work in a fresh folder; run no notebook, model or server; read each notebook's parameters once."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "build_parser", _cached_parser)
    monkeypatch.setattr(notebooks, "parameters", _cached_parameters)
    monkeypatch.setattr(
        runs, "run", lambda jobs, workers, html=False, progress=None: [runs.Outcome(job, True, 0.0) for job in jobs]
    )
    monkeypatch.setattr(runs, "summary_rows", _fake_summary_rows)
    monkeypatch.setattr(serve, "serve", lambda port, max_kernels=None, seats=0: 0)
    monkeypatch.setattr(local, "bench", lambda name: pytest.fail("local bench must not run in the battery"))


def _fake_summary_rows(plan_runs: dict, outcomes: list) -> list[dict]:
    empty = {f"{o}_usd_month": "" for o in ("closed_api", "hosted_open", "self_hosted_open", "hybrid")}
    return [
        {
            "profile": n,
            "recommendation": "closed_api",
            "holds_in": "0.5000",
            **empty,
            "flip": "",
            "notebooks_failed": "",
        }
        for n in plan_runs
    ]


def check(capsys, argv: list[str], expect: int, needles: tuple[str, ...]) -> str:
    """Run the CLI; assert the exit code and, for a refusal, one short error line naming the input."""
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    if expect == 0:
        assert code == 0, err[-500:]
        return err
    lines = err.splitlines()
    assert code == 2, (code, err[-500:])
    assert out == "" and len(lines) == 1 and lines[0].startswith("kit: error:"), err[-1000:]
    assert any(n in lines[0] for n in needles), (needles, lines[0])
    limit = MAX_LISTING_LINE if any(s in lines[0] for s in LISTINGS) else MAX_LINE
    assert len(lines[0]) <= limit, lines[0]
    assert "x" * 100 not in lines[0] and "1" * 100 not in lines[0], lines[0]  # long values are shortened
    return lines[0]


# ---------------------------------------------------------------- every scenario parameter via --set


def test_the_valid_set_values_are_the_ones_decided():
    got = {(p.name, v) for p in PARAMS for label, v in VALUES.items() if accepts(p, v)}
    assert got == VALID_SET


@pytest.mark.parametrize("label", VALUES)
@pytest.mark.parametrize("param", PARAMS, ids=lambda p: p.name)
@pytest.mark.parametrize("command", ["recommend", "route-sim"])
def test_set_every_parameter(capsys, command, param, label):
    value = VALUES[label]
    expect = 0 if (param.name, value) in VALID_SET else 2
    check(capsys, [command, "--set", f"{param.name}={value}"], expect, (param.name,))


@pytest.mark.parametrize("param", PARAMS, ids=lambda p: p.name)
@pytest.mark.parametrize("command", ["recommend", "route-sim"])
def test_set_without_equals(capsys, command, param):
    check(capsys, [command, "--set", param.name], 2, (param.name,))


@pytest.mark.parametrize("label", VALUES)
def test_set_unknown_name(capsys, label):
    check(capsys, ["recommend", "--set", f"{VALUES[label]}=1"], 2, ("--set",))


# ---------------------------------------------------------------- every option that takes a value


def _size_ok(kind: type, low: float, high: float) -> Callable[[str], bool]:
    def ok(value: str) -> bool:
        try:
            x = kind(value)
        except ValueError:
            return False
        return low <= x <= high

    return ok


SIZE = ["size", "--params-b", "8", "--bits", "4", "--gpu", "H100"]
RUN = ["run", "--notebooks", "00_start_here.ipynb", "--out", "out"]


def _with(base: list[str], option: str, value: str) -> list[str]:
    """Return ``base`` with ``option`` set to ``value`` (replacing it, or added)."""
    argv = list(base)
    if option in argv:
        argv[argv.index(option) + 1] = value
    else:
        argv += [option, value]
    return argv


def _never(value: str) -> bool:
    return False


def _folder_name(value: str) -> bool:
    """A folder kit run can create in the working directory ('-inf' reads as an option to argparse)."""
    return value not in ("", "-inf") and "\x00" not in value and len(value.encode()) < 256


def _port(value: str) -> bool:
    return value.isdigit() and len(value) < 6 and 1 <= int(value) <= 65535


# option -> (base argv, needles the message must hold one of, which values are valid)
OPTIONS: dict[str, tuple[list[str], tuple[str, ...], Callable[[str], bool]]] = {
    "recommend --profile": (["recommend"], ("profile",), _never),
    "recommend --scenario": (["recommend"], ("--scenario",), _never),
    "route-sim --profile": (["route-sim"], ("profile",), _never),
    "route-sim --scenario": (["route-sim"], ("--scenario",), _never),
    "size --params-b": (SIZE, ("params_b", "--params-b"), _size_ok(float, 0.01, 10_000)),
    "size --bits": (SIZE, ("bits", "--bits"), _size_ok(float, 1, 32)),
    "size --gpu": (SIZE, ("gpu",), _never),
    "size --context": (SIZE, ("context", "--context"), _size_ok(int, 1, 100_000_000)),
    "size --concurrency": (SIZE, ("concurrency", "--concurrency"), _size_ok(int, 1, 100_000)),
    "local bench --model": (["local", "bench"], ("model",), _never),
    "app --port": (["app"], ("--port",), _port),
    "app --max-kernels": (["app"], ("--max-kernels",), lambda v: v.isdigit() and len(v) < 5 and int(v) <= 1000),
    "app --seats": (["app"], ("--seats",), lambda v: v.isdigit() and len(v) < 5 and int(v) <= 1000),
    "run --profile": (RUN, ("profile",), _never),
    "run --params": (RUN, ("--params",), _never),
    "run --notebooks": (RUN, ("--notebooks",), _never),
    "run --out": (RUN, ("--out",), _folder_name),
    "run --jobs": (RUN, ("--jobs",), lambda v: v == "7"),
}


@pytest.mark.parametrize("label", VALUES)
@pytest.mark.parametrize("option", OPTIONS)
def test_option_values(capsys, option, label):
    base, needles, valid = OPTIONS[option]
    value = VALUES[label]
    argv = _with(base, option.split()[-1], value)
    check(capsys, argv, 0 if valid(value) else 2, needles + (option.split()[-1],))


# Commands without values: any extra argument, and a value given to a flag, is refused.
FLAGS = {"notebooks": "--refresh", "prices": "--refresh", "profiles": "--json", "params": "--json"}


@pytest.mark.parametrize("label", VALUES)
@pytest.mark.parametrize("command", FLAGS)
def test_extra_argument_and_flag_value(capsys, command, label):
    value = VALUES[label]
    check(capsys, [command, value], 2, ("unrecognized argument",))
    check(capsys, [command, f"{FLAGS[command]}={value}"], 2, (FLAGS[command],))


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["recommend", "--set"], "--set"),
        (["size", "--bits", "4", "--gpu", "H100"], "--params-b"),
        (["run", "--jobs"], "--jobs"),
        (["app", "--port"], "--port"),
        (["local"], "local_command"),
        ([], "command"),
        (["--nonsense"], "command"),
        (["recommend", "--nonsense", "1"], "--nonsense"),
    ],
)
def test_missing_and_unknown_arguments(capsys, argv, needle):
    check(capsys, argv, 2, (needle,))


# ---------------------------------------------------------------- kit run --params files


def _notebook_for(name: str) -> str:
    """Return the first notebook taking ``name`` (09 when none does: then only the spec checks it)."""
    for path in notebooks.sequence():
        if name in notebooks.parameters(path):
            return path.name
    return "09_decision.ipynb"


NOTEBOOK_FOR = {name: _notebook_for(name) for name in NOTEBOOK_SPEC}
RUN_VALUES = {**VALUES, **TYPED}


@pytest.fixture
def earlier_run(tmp_path):
    """An output folder holding an earlier run, which a refused run must leave byte for byte."""
    out = tmp_path / "class1"
    (out / "regulated").mkdir(parents=True)
    (out / "summary.md").write_text("# an earlier run\n")
    (out / "regulated" / "00_start_here.ipynb").write_text("{}")
    return out


def _run_params(
    capsys, tmp_path, out: Path, text: str | bytes, notebook: str, expect: int, needles: tuple[str, ...]
) -> None:
    params = tmp_path / "params.yaml"
    params.write_bytes(text if isinstance(text, bytes) else text.encode())
    before = (out / "summary.md").read_bytes()
    check(
        capsys,
        ["run", "--params", str(params), "--notebooks", notebook, "--out", str(out), "--overwrite"],
        expect,
        needles,
    )
    if expect == 2:
        assert (out / "summary.md").read_bytes() == before
        assert (out / "regulated" / "00_start_here.ipynb").exists()
    else:
        assert not (out / "regulated").exists()  # --overwrite cleared the earlier run's folder
        assert (out / "summary.md").read_bytes() != before


@pytest.mark.parametrize("label", RUN_VALUES)
@pytest.mark.parametrize("name", NOTEBOOK_SPEC)
def test_params_file_every_parameter(capsys, tmp_path, earlier_run, name, label):
    value = RUN_VALUES[label]
    text = f"r:\n  {name}: {'9' * 3000}\n" if label == "yaml-3000-digit-int" else yaml.safe_dump({"r": {name: value}})
    expect = 0 if accepts(NOTEBOOK_SPEC[name], value) else 2
    _run_params(capsys, tmp_path, earlier_run, text, NOTEBOOK_FOR[name], expect, (name,))


def _over_limit(path: Path) -> None:
    with path.open("wb") as fh:
        fh.truncate(runs.PARAMS_FILE_LIMIT + 1)  # sparse: no time spent writing it


BAD_PARAMS_FILES: dict[str, str | bytes] = {
    "empty": "",
    "only-a-comment": "# nothing\n",
    "scalar": "5\n",
    "list": "- a\n- b\n",
    "empty-mapping": "{}\n",
    "run-is-list": "a: [1, 2]\n",
    "run-is-scalar": "a: 5\n",
    "run-is-null": "a:\n",
    "run-name-null": "~: {team_fte: 1}\n",
    "run-name-bool": "true: {team_fte: 1}\n",
    "run-name-float": "1.5: {team_fte: 1}\n",
    "run-name-dots": "'..': {team_fte: 1}\n",
    "run-name-slash": "'a/b': {team_fte: 1}\n",
    "run-name-space": "'a b': {team_fte: 1}\n",
    "run-name-10k": ("x" * 10_000) + ": {team_fte: 1}\n",
    "run-name-list": "? [1, 2]\n: {team_fte: 1}\n",
    "profile-list": "a: {profile: [1]}\n",
    "profile-unknown": "a: {profile: nope}\n",
    "profile-null": "a: {profile: null}\n",
    "nested-wrong-type": "a: {team_fte: {x: [1, {y: 2}]}}\n",
    "unknown-parameter": "a: {monthly_request: 5}\n",
    "unknown-model": "a: {open_model: abc}\n",
    "not-yaml": "a: [unclosed\n",
    "tab-indent": "a:\n\t team_fte: 1\n",
    "python-tag": "a: !!python/object/apply:os.system ['echo hi']\n",
    "invalid-utf8": b"a: {team_fte: \xff\xfe}\n",
    "utf16": "a: {team_fte: 1}\n".encode("utf-16"),
    "alias-bomb": "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, c in zip("abcdefgh", "bcdefghi")
    )
    + "r: {team_fte: *i}\n",
    "merge-key": "base: &b {team_fte: 1}\nr: {<<: *b}\n",
    "deep-100k": "a: " + "[" * 100_000 + "]" * 100_000 + "\n",
    "int-5000-digits": "a: {team_fte: " + "1" * 5000 + "}\n",
    "bad-date": "a: {team_fte: 2026-13-45}\n",
    "nul-byte": 'a: {team_fte: "\x00"}\n',
}


@pytest.mark.parametrize("label", [*BAD_PARAMS_FILES, "over-1MB", "a-folder", "missing"])
def test_malformed_params_file(capsys, tmp_path, earlier_run, label):
    params = tmp_path / "params.yaml"
    if label == "over-1MB":
        _over_limit(params)
    elif label == "a-folder":
        params.mkdir()
    elif label != "missing":
        text = BAD_PARAMS_FILES[label]
        params.write_bytes(text if isinstance(text, bytes) else text.encode())
    before = (earlier_run / "summary.md").read_bytes()
    line = check(
        capsys, ["run", "--params", str(params), "--out", str(earlier_run), "--overwrite"], 2, ("params.yaml",)
    )
    assert (earlier_run / "summary.md").read_bytes() == before, line
    if label == "over-1MB":
        assert f"{runs.PARAMS_FILE_LIMIT + 1:,} bytes" in line


@pytest.mark.parametrize("overwrite", [False, True])
def test_run_out_in_use(capsys, tmp_path, earlier_run, overwrite):
    """Without --overwrite a folder holding anything is refused; with it, a file kit run did not write is."""
    (earlier_run / "notes.txt").write_text("mine")
    argv = ["run", "--notebooks", "00_start_here.ipynb", "--out", str(earlier_run)] + ["--overwrite"] * overwrite
    before = (earlier_run / "summary.md").read_bytes()
    check(capsys, argv, 2, ("--out",))
    assert (earlier_run / "summary.md").read_bytes() == before and (earlier_run / "notes.txt").exists()


@pytest.mark.parametrize("target", ["a-file", "under-a-file"])
def test_run_out_is_a_file(capsys, tmp_path, target):
    (tmp_path / "taken").write_text("x")
    out = tmp_path / "taken" if target == "a-file" else tmp_path / "taken" / "sub"
    check(capsys, ["run", "--notebooks", "00_start_here.ipynb", "--out", str(out)], 2, ("--out",))


# ---------------------------------------------------------------- recommend --scenario FILE.json

GOOD = json.loads(to_json(Scenario.make()))


def _doc(**top: object) -> bytes:
    return json.dumps({**GOOD, **top}).encode()


def _params(**values: object) -> bytes:
    return _doc(params={**GOOD["params"], **values})


SCENARIO_FILES: dict[str, tuple[bytes, int]] = {
    "valid": (_doc(), 0),
    "truncated": (_doc()[:60], 2),
    "empty": (b"", 2),
    "not-json": (b"hello", 2),
    "top-level-list": (b"[1, 2]", 2),
    "wrong-format": (_doc(format="other"), 2),
    "version-2": (_doc(version=2), 2),
    "no-params": (json.dumps({k: v for k, v in GOOD.items() if k != "params"}).encode(), 2),
    "params-list": (_doc(params=[1]), 2),
    "params-null": (_doc(params=None), 2),
    "unknown-top-level-key": (_doc(extra=1), 2),
    "unknown-parameter": (_params(nonsense=1), 2),
    "unknown-profile": (_doc(profile="nope"), 2),
    "profile-list": (_doc(profile=[1]), 2),
    "string-for-int": (_params(monthly_requests="many"), 2),
    "bool-for-number": (_params(team_fte=True), 2),
    "number-for-choice": (_params(sensitivity=5), 2),
    "list-for-bool": (_params(needs_offline=[1]), 2),
    "nan-literal": (_params(team_fte=math.nan), 2),
    "infinity": (_params(monthly_requests=math.inf), 2),
    "negative": (_params(team_fte=-1), 2),
    "unknown-model": (_params(open_model="abc"), 2),
    "10k-string-value": (_params(closed_model="x" * 10_000), 2),
    "nested-100k-deep": (b"[" * 100_000 + b"]" * 100_000, 2),
    "nested-100k-deep-value": (
        _params(team_fte=0).replace(b'"team_fte": 0', b'"team_fte": ' + b"[" * 100_000 + b"]" * 100_000),
        2,
    ),
    "int-5000-digits": (
        _params(monthly_requests=0).replace(b'"monthly_requests": 0', b'"monthly_requests": ' + b"1" * 5000),
        2,
    ),
    "invalid-utf8": (b'{"format": "\xff"}', 2),
    "utf16": (_doc().decode().encode("utf-16"), 2),
    "nul-bytes": (b"\x00" * 100, 2),
}


@pytest.mark.parametrize("label", [*SCENARIO_FILES, "50MB", "just-over-the-cap"])
@pytest.mark.parametrize("command", ["recommend", "route-sim"])
def test_scenario_file(capsys, tmp_path, command, label):
    path = tmp_path / "scenario.json"
    if label in SCENARIO_FILES:
        data, expect = SCENARIO_FILES[label]
        path.write_bytes(data)
    else:
        with path.open("wb") as fh:  # sparse: refused on its size, before it is read
            fh.truncate(50 * 2**20 if label == "50MB" else MAX_FILE_BYTES + 1)
        expect = 2
    check(capsys, [command, "--scenario", str(path), "--json"], expect, ("scenario.json",))


# ---------------------------------------------------------------- data folders


@pytest.fixture
def data_folder(tmp_path, monkeypatch):
    """Return a function that makes a data folder with one file replaced and points the kit at it."""

    def make(name: str, content: bytes) -> Path:
        folder = tmp_path / "data"
        folder.mkdir()
        for entry in DATA.iterdir():
            if entry.name != name:
                (folder / entry.name).symlink_to(entry)
        (folder / name).write_bytes(content)
        monkeypatch.setenv("KIT_DATA_DIR", str(folder))
        catalog.reload()
        return folder

    yield make
    monkeypatch.delenv("KIT_DATA_DIR", raising=False)
    catalog.reload()


def _raw(name: str) -> bytes:
    return (DATA / name).read_bytes()


def _header_renamed(name: str) -> bytes:
    head, rest = _raw(name).split(b"\n", 1)
    cols = head.split(b",")
    cols[-2] = cols[-2] + b"_renamed"
    return b",".join(cols) + b"\n" + rest


def _cell(name: str, column: str, value: str) -> bytes:
    lines = _raw(name).decode().split("\n")
    cols = lines[0].split(",")
    row = lines[1].split(",")
    row[cols.index(column)] = value
    lines[1] = ",".join(row)
    return "\n".join(lines).encode()


def _duplicate_first_row(name: str) -> bytes:
    return _raw(name) + _raw(name).split(b"\n")[1] + b"\n"


def _deep(prefix: bytes) -> bytes:
    return prefix + b"[" * 100_000 + b"]" * 100_000 + b"\n"


CSV_FILES = ("prices.csv", "gpus.csv", "open_models.csv", "throughput.csv")
YAML_FILES = (
    "assumptions.yaml",
    "tiers.yaml",
    "profiles.yaml",
    "licences.yaml",
    "glossary.yaml",
    "local_models.yaml",
    "residency.yaml",
    "uncertainty.yaml",
)
NUMERIC = {
    "prices.csv": "input_usd_per_mtok",
    "gpus.csv": "memory_gb",
    "open_models.csv": "total_params_b",
    "throughput.csv": "output_tok_s",
}

DATA_CASES: dict[str, tuple[str, Callable[[], bytes]]] = {}
for _f in CSV_FILES:
    DATA_CASES |= {
        f"{_f}:missing-column": (_f, functools.partial(_header_renamed, _f)),
        f"{_f}:bad-cell": (_f, functools.partial(_cell, _f, NUMERIC[_f], "abc")),
        f"{_f}:nan-cell": (_f, functools.partial(_cell, _f, NUMERIC[_f], "nan")),
        f"{_f}:negative-cell": (_f, functools.partial(_cell, _f, NUMERIC[_f], "-1")),
        f"{_f}:ragged-row": (_f, lambda f=_f: _raw(f) + b"x,y\n"),
        f"{_f}:unclosed-quote": (_f, lambda f=_f: _raw(f) + b'"never closed,1\n'),
        f"{_f}:field-over-csv-limit": (_f, lambda f=_f: _raw(f) + b"x" * 200_000 + b"\n"),
        f"{_f}:invalid-utf8": (_f, lambda f=_f: _raw(f)[:300] + b"\xff\xfe" + _raw(f)[300:]),
        f"{_f}:empty": (_f, lambda: b""),
        f"{_f}:header-only": (_f, lambda f=_f: _raw(f).split(b"\n")[0] + b"\n"),
    }
for _f in ("prices.csv", "gpus.csv", "open_models.csv"):
    DATA_CASES[f"{_f}:duplicated-row"] = (_f, functools.partial(_duplicate_first_row, _f))
DATA_CASES["gpu_prices.csv:low-above-likely"] = (
    "gpu_prices.csv",
    functools.partial(_cell, "gpu_prices.csv", "usd_low", "999"),
)
for _f in YAML_FILES:
    DATA_CASES |= {
        f"{_f}:invalid-utf8": (_f, lambda f=_f: _raw(f)[:120] + b"\xff" + _raw(f)[120:]),
        f"{_f}:empty": (_f, lambda: b""),
        f"{_f}:wrong-shape": (_f, lambda f=_f: b"a: 1\n" if f == "glossary.yaml" else b"- a\n- b\n"),
        f"{_f}:not-yaml": (_f, lambda: b"a: [unclosed\n"),
        f"{_f}:alias-bomb": (_f, lambda f=_f: _raw(f) + b"zz_a: &x [1, 1, 1]\nzz_b: [*x, *x, *x]\n"),
        f"{_f}:deep-100k": (_f, lambda: _deep(b"a: ")),
        f"{_f}:int-5000-digits": (_f, lambda f=_f: _raw(f) + b"zz_big: " + b"1" * 5000 + b"\n"),
    }
_A = "assumptions.yaml"


def _assumption(key: str, value: str) -> bytes:
    text = _raw(_A).decode()
    start = text.index(f"\n{key}:\n") + 1
    at = text.index("  value: ", start)
    end = text.index("\n", at)
    return (text[:at] + f"  value: {value}" + text[end:]).encode()


DATA_CASES |= {
    "assumptions.yaml:missing-entry": (_A, lambda: _raw(_A).replace(b"\nhours_per_month:", b"\nhours_per_month_x:")),
    "assumptions.yaml:tight-above-relaxed": (_A, lambda: _assumption("latency_tight_ms", "3000")),
    "assumptions.yaml:sweep-low-above-high": (_A, lambda: _assumption("sweep_low_requests", "100000000000")),
    "uncertainty.yaml:low-above-high": (
        "uncertainty.yaml",
        lambda: _raw("uncertainty.yaml").replace(b"  low: 0.56\n", b"  low: 1.56\n", 1),
    ),
    "uncertainty.yaml:missing-entry": (
        "uncertainty.yaml",
        lambda: _raw("uncertainty.yaml").replace(b"\nthroughput:\n", b"\nthroughputs:\n", 1),
    ),
    "uncertainty.yaml:no-source": (
        "uncertainty.yaml",
        lambda: _raw("uncertainty.yaml").replace(b"\n  source: low and likely", b"\n  sourc: low and likely", 1),
    ),
    "uncertainty.yaml:likely-beside-an-assumption": (
        "uncertainty.yaml",
        lambda: _raw("uncertainty.yaml").replace(b"  low: 0.05\n", b"  low: 0.05\n  likely: 0.2\n", 1),
    ),
    "uncertainty.yaml:text-for-a-number": (
        "uncertainty.yaml",
        lambda: _raw("uncertainty.yaml").replace(b"  high: 1.95\n", b"  high: lots\n", 1),
    ),
    "assumptions.yaml:overhead-fills-a-gpu": (_A, lambda: _assumption("runtime_overhead_gb", "30")),
    "residency.yaml:level-missing": (
        "residency.yaml",
        lambda: _raw("residency.yaml").replace(b"\n  regulated:\n", b"\n  regulatd:\n"),
    ),
    "residency.yaml:unknown-terms": (
        "residency.yaml",
        lambda: _raw("residency.yaml").replace(b"third_parties: enterprise_region", b"third_parties: a_handshake"),
    ),
    "residency.yaml:weaker-for-more-sensitive": (
        "residency.yaml",
        lambda: _raw("residency.yaml").replace(b"third_parties: enterprise_region", b"third_parties: standard"),
    ),
    "residency.yaml:no-source": (
        "residency.yaml",
        lambda: _raw("residency.yaml").replace(b"    source: seed 004 (", b"    sourc: seed 004 (", 1),
    ),
    "profiles.yaml:out-of-range": (
        "profiles.yaml",
        lambda: _raw("profiles.yaml").replace(b"monthly_requests: 2000000", b"monthly_requests: 5", 1),
    ),
}

# Commands that read the data folder; local_models.yaml is read by `kit local bench` only.
READERS = {
    "recommend": ["recommend"],
    "route-sim": ["route-sim"],
    "size": SIZE,
    "profiles": ["profiles"],
    "prices": ["prices"],
    "run": ["run", "--notebooks", "00_start_here.ipynb", "--out", "out"],
    "local bench": ["local", "bench", "--model", "smollm2-135m"],
}
EVERY_READER = (
    "assumptions.yaml:missing-entry",
    "prices.csv:invalid-utf8",
    "prices.csv:duplicated-row",
    "gpus.csv:low-above-high",
)


def _data_cases() -> list:
    cases = []
    for label, (name, _) in DATA_CASES.items():
        readers = (
            ["local bench"]
            if name == "local_models.yaml"
            else list(READERS)
            if label in EVERY_READER
            else ["recommend"]
        )
        cases += [pytest.param(label, r, id=f"{label}-{r}") for r in readers]
    return cases


@pytest.mark.parametrize("label,reader", _data_cases())
def test_data_folder(capsys, data_folder, label, reader):
    name, content = DATA_CASES[label]
    data_folder(name, content())
    line = check(capsys, READERS[reader], 2, (name,))
    if "invalid-utf8" in label:
        assert "byte" in line


# Every assumption, with values no range allows and with 0 and -1, which some do (decided here, per key);
# values of the wrong type take the same path for every key, so they are tried on the first one.
ALWAYS_BAD = {"nan": ".nan", "inf": ".inf", "minus-1e9": "-1.0e+9", "1e13": "1.0e+13", "text": "abc"}
WRONG_TYPES = {
    "minus-inf": "-.inf",
    "bool": "true",
    "null": "null",
    "list": "[1]",
    "mapping": "{a: 1}",
    "empty": "''",
    "date": "2026-01-01",
}
LEANS = {k for k in catalog.ASSUMPTION_KEYS if k.startswith("lean_") and not k.endswith("_max_fte")}
ZERO_OK = LEANS | {  # decided here, key by key (alphabetical), not copied from catalog.ASSUMPTION_RANGES
    "closed_latency_floor_ms",
    "colo_usd_per_kw_month",
    "cost_tie_tolerance",
    "electricity_usd_per_kwh",
    "owned_server_share_usd",
    "redundancy_from_requests",
    "seq_overhead_ms",
    "step_overhead_ms",
    "tp_sync_ms",
    "inside_premium",
    "cpu_server_usd_per_hour",
    "finetune_setup_weeks",
    "lean_cut",
    "no_team_below_fte",
    "non_gpu_overhead",
    "open_quality_easy",
    "open_quality_hard",
    "misroute_rate",
    "ops_fte_base",
    "ops_fte_per_gpu",
    "router_setup_weeks",
    "runtime_overhead_gb",
    "setup_weeks",
    "ship_fast_weeks",
}
MINUS_ONE_OK = LEANS - {"lean_cut"}


ASSUMPTION_CASES = [(key, label) for key in catalog.ASSUMPTION_KEYS for label in [*ALWAYS_BAD, "zero", "minus-1"]]
ASSUMPTION_CASES += [(catalog.ASSUMPTION_KEYS[0], label) for label in WRONG_TYPES]


@pytest.mark.parametrize("key,label", ASSUMPTION_CASES)
def test_every_assumption(capsys, data_folder, key, label):
    value = {"zero": "0", "minus-1": "-1"}.get(label) or ALWAYS_BAD.get(label) or WRONG_TYPES[label]
    valid = (label == "zero" and key in ZERO_OK) or (label == "minus-1" and key in MINUS_ONE_OK)
    data_folder(_A, _assumption(key, value))
    line = check(capsys, ["profiles"], 0 if valid else 2, ("assumptions.yaml",))
    if not valid:
        assert "allowed:" in line and (f"'{key}'" in line or key in line)
