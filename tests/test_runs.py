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

pytestmark = pytest.mark.slow


def kit(*args, timeout=900):
    return subprocess.run([sys.executable, "-m", "kit", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout)


def test_two_profiles_run_and_summarise(tmp_path):
    out = tmp_path / "run1"
    proc = kit("run", "--profile", "regulated", "--profile", "ship_fast", "--notebooks", "0[09]_*.ipynb",
               "--out", str(out), "--jobs", "2", "--html")
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
        assert float(r["confidence"]) == pytest.approx(expected["confidence"])
        assert float(r["closed_api_usd_month"]) == pytest.approx(expected["costs"]["closed_api"])
        assert r["notebooks_failed"] == ""
    assert "| regulated | self_hosted_open |" in (out / "summary.md").read_text()
    # the same run again gives a byte-identical summary
    again = kit("run", "--profile", "regulated", "--profile", "ship_fast", "--notebooks", "0[09]_*.ipynb",
                "--out", str(tmp_path / "run2"), "--jobs", "2")
    assert again.returncode == 0
    assert (tmp_path / "run2" / "summary.csv").read_bytes() == (out / "summary.csv").read_bytes()


def test_a_bad_parameter_is_refused_before_anything_runs(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("big_team:\n  profile: regulated\n  team_fte: 99\n")
    out = tmp_path / "out"
    proc = kit("run", "--params", str(params), "--out", str(out))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert re.search(r"notebook \d\d_\w+: parameter 'team_fte': got 99; allowed: a number from 0 to 50 FTE",
                     proc.stderr), proc.stderr
    assert not out.exists() or not list(out.rglob("*.ipynb"))
    params.write_text("typo:\n  monthly_request: 5\n")
    proc = kit("run", "--params", str(params), "--out", str(out))
    assert proc.returncode == 2 and "run 'typo': parameter 'monthly_request'" in proc.stderr


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
    proc = kit("run", "--profile", "regulated", "--profile", "hybrid", "--notebooks", str(folder / "*.ipynb"),
               "--out", str(out), "--jobs", "2")
    assert proc.returncode == 1
    assert re.search(r"regulated/05_ecosystem_support.ipynb: code cell \d+ \(\"raise RuntimeError\('forced failure "
                     r"for the test'\)\"\) raised RuntimeError: forced failure for the test", proc.stderr), proc.stderr
    for profile in ("regulated", "hybrid"):
        partial = nbformat.read(out / profile / "05_ecosystem_support.ipynb", as_version=4)
        assert any(o.output_type == "error" for c in partial.cells for o in c.get("outputs", []))
        ok = nbformat.read(out / profile / "04_security_governance.ipynb", as_version=4)  # the others still ran
        assert not any(o.output_type == "error" for c in ok.cells for o in c.get("outputs", []))
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert {r["notebooks_failed"] for r in rows} == {"05_ecosystem_support.ipynb"}
