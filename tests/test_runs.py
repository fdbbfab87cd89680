"""Headless runs for instructors: `python -m kit run` end to end."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys

import nbformat
import pytest
from conftest import ROOT

from kit import cli, runs
from kit.errors import DataError, ParamError, UsageError


def kit(*args, timeout=900):
    return subprocess.run(
        [sys.executable, "-m", "kit", *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout
    )


@pytest.mark.slow
def test_two_profiles_run_and_summarise(tmp_path):
    out = tmp_path / "run1"
    two_profiles = ["run", "--profile", "regulated", "--profile", "ship_fast", "--notebooks", "0[09]_*.ipynb"]
    proc = kit(*two_profiles, "--out", str(out), "--jobs", "2", "--html")
    assert proc.returncode == 0, proc.stderr[-3000:]
    for profile in ("regulated", "ship_fast"):
        for name in ("00_start_here", "09_decision"):
            nb = nbformat.read(out / profile / f"{name}.ipynb", as_version=4)
            assert all(c.execution_count for c in nb.cells if c.cell_type == "code")
            assert any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
            page = (out / profile / f"{name}.html").read_text()
            assert "<svg" in page or "image/svg+xml" in page
            assert not re.findall(r"<(?:script|link)[^>]*(?:src|href)=[\"']https?://", page)  # opens offline
            assert "lesson.scenario(" not in page  # no input cells
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert [r["profile"] for r in rows] == ["regulated", "ship_fast"]
    for r in rows:
        expected = json.loads(kit("recommend", "--profile", r["profile"], "--json").stdout)
        assert r["recommendation"] == expected["choice"]
        assert float(r["holds_in"]) == pytest.approx(expected["confidence"], abs=1e-4)  # same seed, same worlds
        for o, cost in expected["costs"].items():
            if o in expected["not_allowed"]:
                assert r[f"{o}_usd_month"] == "not allowed"  # regulated (on_prem_only): the data may not leave
            else:
                assert float(r[f"{o}_usd_month"]) == pytest.approx(cost)
        assert r["notebooks_failed"] == ""
    summary = (out / "summary.md").read_text()
    assert "| regulated | self_hosted_open |" in summary and "not allowed" in summary
    # run again, a new process: a byte-identical summary (it comes from the engine, not from the notebooks'
    # outputs, so one notebook per profile is enough to make the run write it)
    again = kit(*two_profiles[:-1], "00_start_here.ipynb", "--out", str(tmp_path / "run2"), "--jobs", "2")
    assert again.returncode == 0, again.stderr[-3000:]
    assert sorted(p.name for p in (tmp_path / "run2").rglob("*.ipynb")) == ["00_start_here.ipynb"] * 2
    assert (tmp_path / "run2" / "summary.csv").read_bytes() == (out / "summary.csv").read_bytes()


@pytest.mark.slow
def test_a_bad_parameter_is_refused_before_anything_runs(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("big_team:\n  profile: regulated\n  team_fte: 99\n")
    out = tmp_path / "out"
    proc = kit("run", "--params", str(params), "--out", str(out))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert re.search(
        r"notebook \d\d_\w+: parameter 'team_fte': got 99; allowed: a number from 0 to 50 FTE", proc.stderr
    ), proc.stderr
    assert not out.exists() or not list(out.rglob("*.ipynb"))
    params.write_text("typo:\n  monthly_request: 5\n")
    proc = kit("run", "--params", str(params), "--out", str(out))
    assert proc.returncode == 2 and "run 'typo': parameter 'monthly_request'" in proc.stderr


@pytest.mark.slow
def test_a_failing_cell_keeps_the_partial_notebook_and_fails_the_run(tmp_path):
    folder = tmp_path / "nbs"
    folder.mkdir()
    shutil.copy(ROOT / "notebooks" / "04_security_governance.ipynb", folder / "04_security_governance.ipynb")
    broken = nbformat.read(ROOT / "notebooks" / "05_ecosystem_support.ipynb", as_version=4)
    at = next(i for i, c in enumerate(broken.cells) if "lesson.scenario(" in c.source) + 1
    broken.cells.insert(at, nbformat.v4.new_code_cell("raise RuntimeError('forced failure for the test')"))
    for i, c in enumerate(broken.cells):
        c["id"] = f"cell-{i}"
    nbformat.write(broken, folder / "05_ecosystem_support.ipynb")
    out = tmp_path / "out"
    proc = kit(
        "run",
        "--profile",
        "regulated",
        "--profile",
        "hybrid",
        "--notebooks",
        str(folder / "*.ipynb"),
        "--out",
        str(out),
        "--jobs",
        "2",
    )
    assert proc.returncode == 1
    assert re.search(
        r"regulated/05_ecosystem_support.ipynb: code cell \d+ \(\"raise RuntimeError\('forced failure "
        r"for the test'\)\"\) raised RuntimeError: forced failure for the test",
        proc.stderr,
    ), proc.stderr
    for profile in ("regulated", "hybrid"):
        partial = nbformat.read(out / profile / "05_ecosystem_support.ipynb", as_version=4)
        assert any(o.output_type == "error" for c in partial.cells for o in c.get("outputs", []))
        ok = nbformat.read(out / profile / "04_security_governance.ipynb", as_version=4)  # the others still ran
        assert not any(o.output_type == "error" for c in ok.cells for o in c.get("outputs", []))
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert {r["notebooks_failed"] for r in rows} == {"05_ecosystem_support.ipynb"}


# ---------------------------------------------------------------- in-process: the output folder and params files


@pytest.fixture
def no_notebooks(monkeypatch):
    """Run nothing: every job 'succeeds' at once; the summary still comes from the engine."""
    monkeypatch.setattr(
        runs, "run", lambda jobs, workers, html=False, progress=None: [runs.Outcome(job, True, 0.0) for job in jobs]
    )


def _run(capsys, *argv):
    code = cli.main(["run", "--notebooks", "00_start_here.ipynb", *argv])
    return code, capsys.readouterr().err


def test_a_second_run_into_the_same_folder_is_refused_and_overwrites_nothing(capsys, tmp_path, no_notebooks):
    out = tmp_path / "class1"
    assert _run(capsys, "--profile", "regulated", "--out", str(out))[0] == 0
    (out / "regulated").mkdir(exist_ok=True)
    (out / "regulated" / "00_start_here.ipynb").write_text("{}")
    saved = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    code, err = _run(capsys, "--profile", "ship_fast", "--out", str(out))
    assert code == 2 and err.count("\n") == 1
    assert "--out" in err and "not empty" in err and "--overwrite" in err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == saved


def test_overwrite_replaces_the_earlier_run_so_the_summary_lists_every_folder(capsys, tmp_path, no_notebooks):
    out = tmp_path / "class1"
    (out / "old_profile").mkdir(parents=True)
    (out / "old_profile" / "00_start_here.ipynb").write_text("{}")
    (out / "old_profile" / "00_start_here.html").write_text("<html/>")
    (out / "summary.md").write_text("# old\n")
    code, err = _run(capsys, "--profile", "regulated", "--out", str(out), "--overwrite")
    assert code == 0, err
    assert not (out / "old_profile").exists()
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert [r["profile"] for r in rows] == ["regulated"]


def test_overwrite_never_deletes_what_kit_run_did_not_write(capsys, tmp_path, no_notebooks):
    out = tmp_path / "mine"
    (out / "notes").mkdir(parents=True)
    (out / "notes" / "todo.txt").write_text("keep")
    (out / "summary.md").write_text("# old\n")
    code, err = _run(capsys, "--out", str(out), "--overwrite")
    assert code == 2 and "'notes'" in err and "did not write" in err
    assert (out / "notes" / "todo.txt").read_text() == "keep" and (out / "summary.md").read_text() == "# old\n"


def test_out_must_be_a_folder(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(UsageError, match=r"--out '.*f': is a file"):
        runs.prepare_out(tmp_path / "f")
    with pytest.raises(UsageError, match=r"--out '.*sub': cannot use this folder \(Not a directory\)"):
        runs.prepare_out(tmp_path / "f" / "sub")
    runs.prepare_out(tmp_path / "new" / "deeper")
    assert (tmp_path / "new" / "deeper").is_dir()


@pytest.mark.parametrize(
    "text,error,message",
    [
        ("a: {profile: [1]}\n", ParamError, r"run 'a': parameter 'profile': got \[1\]; allowed: one of cost_at_scale"),
        ("a: [1]\n", DataError, r"run 'a': got \[1\]; allowed: a mapping of parameter values"),
        ("- a\n", DataError, r"got \['a'\]; allowed: a mapping of run names"),
        ("'../x': {team_fte: 1}\n", DataError, r"run name '../x'; allowed: 1 to 100 letters"),
        ("a: &x {team_fte: 1}\nb: *x\n", DataError, r"line 2, column 4: not valid YAML \(aliases"),
        ("a: {team_fte: " + "9" * 3000 + "}\n", ParamError, r"parameter 'team_fte': got 9999.*allowed: a number"),
    ],
)
def test_params_file_problems_name_the_file(tmp_path, text, error, message):
    path = tmp_path / "groups.yaml"
    path.write_text(text)
    with pytest.raises(error, match=message) as exc:
        runs.load_runs([], path)
    assert "groups.yaml" in str(exc.value)


def test_params_file_limits(tmp_path):
    big = tmp_path / "big.yaml"
    with big.open("wb") as fh:
        fh.truncate(runs.PARAMS_FILE_LIMIT + 1)
    with pytest.raises(DataError, match=r"big\.yaml: file is 1,000,001 bytes; allowed: at most 1,000,000 bytes"):
        runs.load_runs([], big)
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"a: {team_fte: \xff}\n")
    with pytest.raises(DataError, match=r"bad\.yaml: not valid UTF-8 at byte 14"):
        runs.load_runs([], bad)
    with pytest.raises(DataError, match=r"--params '.*missing\.yaml': not a file"):
        runs.load_runs([], tmp_path / "missing.yaml")


def test_a_params_file_error_names_file_run_and_notebook(tmp_path):
    path = tmp_path / "groups.yaml"
    path.write_text("big: {team_fte: 99}\n")
    loaded = runs.load_runs([], path)
    with pytest.raises(ParamError) as exc:
        runs.plan(loaded, [ROOT / "notebooks" / "00_start_here.ipynb"], tmp_path / "out")
    assert str(exc.value) == (
        f"{path}: run 'big': notebook 00_start_here: parameter 'team_fte': got 99; allowed: a number from 0 to 50 FTE"
    )
