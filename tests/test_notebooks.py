"""The teaching notebooks: house style, one parameters cell generated from the spec, stored outputs,
and headless runs with papermill (other scenarios, and bad input refused with the engine's message).

The stored outputs themselves are checked by nbval (`--nbval` in pytest's addopts), which re-executes
every notebook and compares each output with the committed one.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import nbformat
import pytest
from conftest import guard_env

from kit import lesson, notebooks, runs
from kit.catalog import profile_params
from kit.errors import ParamError
from kit.params import NOTEBOOK_SPEC, Scenario
from kit.recommend import recommend

SEQUENCE = notebooks.sequence()
NAMES = [p.name for p in SEQUENCE]
WIDGET_STATE_LIMIT = 200_000


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def markdown(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def test_the_sequence_is_numbered_and_complete():
    assert NAMES[0] == "00_start_here.ipynb" and NAMES[-1] == "10_seeds_grid.ipynb"
    assert [n[:2] for n in NAMES] == [f"{i:02d}" for i in range(len(NAMES))], "numbered 00, 01, ... without gaps"
    for needed in (
        "terminology",
        "cost",
        "control",
        "security",
        "ecosystem",
        "parity",
        "local_inference",
        "hybrid_router",
        "decision",
        "seeds_grid",
    ):
        assert any(needed in n for n in NAMES), needed
    contents = markdown(read(SEQUENCE[0]))
    for name in NAMES[1:]:
        assert f"]({name})" in contents, f"00_start_here does not link {name}"
    # the places of the local-inference and router notebooks are kept in the contents
    assert re.search(r"\| 07 \| \[?Local inference", contents) and re.search(r"\| 08 \| \[?Hybrid router", contents)
    # every notebook has its row in the contents table, in order
    rows = re.findall(r"^\| (\d\d) \|", contents, re.M)
    assert rows == [n[:2] for n in NAMES], f"contents rows {rows} != notebooks {[n[:2] for n in NAMES]}"


@pytest.mark.parametrize("path", SEQUENCE, ids=NAMES)
def test_house_style(path):
    nb = read(path)
    text = markdown(nb)
    assert len(re.findall(r"^# ", text, flags=re.M)) == 1, "exactly one H1"
    headings = re.findall(r"^## (.+)$", text, flags=re.M)
    for h in ("Overview", "Prerequisites", "Imports", "Parameters", "Quick check", "Summary", "What's next"):
        assert h in headings, f"missing section {h!r}"
    order = [headings.index(h) for h in ("Overview", "Prerequisites", "Imports", "Parameters")]
    assert order == sorted(order)
    assert headings.index("Summary") > headings.index("Quick check")
    # imports come first among the code cells, and only imports
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert all(line.startswith(("from ", "import ")) for line in first_code.source.splitlines() if line.strip())
    # previous / contents / next links, and every link to a notebook resolves
    i = NAMES.index(path.name)
    if i > 0:
        assert "Previous: [" in text and f"]({NAMES[i - 1]})" in text
    if i < len(NAMES) - 1:
        assert f"]({NAMES[i + 1]}) →" in text
    for target in re.findall(r"\]\(([^)#]+\.ipynb)\)", text):
        assert (path.parent / target).exists(), f"broken link to {target}"
    # sources are cited
    assert re.search(r"seed 00\d|data/", text)


@pytest.mark.parametrize("path", SEQUENCE, ids=NAMES)
def test_one_parameters_cell_from_the_spec(path):
    nb = read(path)
    assert len(notebooks.parameters_cells(nb)) == 1
    params = notebooks.parameters(path)  # plain literals only: no widgets, no calls
    assert params
    for name, value in params.items():
        assert name in NOTEBOOK_SPEC, f"{name} is not in the parameter spec"
        assert value == NOTEBOOK_SPEC[name].default, f"{name}: notebook default {value!r} != spec default"
    # the cell after it validates every parameter through the engine
    after = nb.cells[notebooks.parameters_cells(nb)[0] + 1].source
    assert "lesson.scenario(" in after or "lesson.inputs(" in after
    for name in params:
        assert f"{name}={name}" in after, f"{name} is not passed to lesson.scenario"


@pytest.mark.parametrize("path", SEQUENCE, ids=NAMES)
def test_outputs_are_stored_and_small(path):
    nb = read(path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "run `make notebooks` to store outputs"
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), "executed top to bottom once"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    assert sum(1 for c in code if c.outputs) >= len(code) // 2
    assert notebooks.widget_state_bytes(nb) <= WIDGET_STATE_LIMIT
    assert "papermill" not in nb.metadata
    # a static rendering of every interactive output, for readers without a kernel
    for c in code:
        for o in c.outputs:
            if "application/vnd.jupyter.widget-view+json" in o.get("data", {}):
                assert "text/html" in o.data, f"widget without a static fallback in {path.name}"
    # and at least one chart drawn as SVG
    blob = json.dumps([c.outputs for c in code])
    assert "<svg" in blob


def test_parameters_are_checked_before_running():
    path = SEQUENCE[2]
    assert notebooks.check_parameters(path, {"monthly_requests": "30000000"}) == {"monthly_requests": 30_000_000}
    with pytest.raises(ParamError, match="'sensitivity'.*a parameter of this notebook"):
        notebooks.check_parameters(path, {"sensitivity": "public"})
    with pytest.raises(ParamError, match=r"'output_tokens': got 0; allowed: a whole number from 1 to 32,000"):
        notebooks.check_parameters(path, {"output_tokens": 0})


# ------------------------------------------------------------------ headless runs (papermill)

# A different scenario per notebook, and how its output must show it was used.
OTHER = {
    "00_start_here.ipynb": {"sensitivity": "on_prem_only", "team_fte": 2.0},
    "01_terminology.ipynb": {"open_model": "llama-4-scout"},
    "02_cost.ipynb": {"monthly_requests": 30_000_000, "output_tokens": 30, "quality_need": "everyday"},
    "03_control_residency.ipynb": {"sensitivity": "regulated", "needs_version_pinning": True},
    "04_security_governance.ipynb": {"team_fte": 3.0, "sensitivity": "confidential"},
    "05_ecosystem_support.ipynb": {"team_fte": 0.0, "weeks_to_launch": 4},
    "06_performance_parity.ipynb": {"quality_need": "frontier", "latency_ms": 200},
    "07_local_inference.ipynb": {"model": "gemma-3-270m", "max_tokens": 16, "eval_items": 6},
    "08_hybrid_router.ipynb": {"sensitive_share": 0.3, "hard_share": 0.4, "route_threshold": 0.6},
    "10_seeds_grid.ipynb": {"weight_cost": 5.0, "sensitivity": "public"},
    "09_decision.ipynb": {
        k: v
        for k, v in profile_params("regulated").items()
        if k in notebooks.parameters(notebooks.NOTEBOOKS / "09_decision.ipynb")
    },
}


def _bad_value(name: str):
    p = NOTEBOOK_SPEC[name]
    if p.kind in ("int", "float"):
        return p.high * 10
    if p.kind == "bool":
        return "maybe"
    if p.kind == "model":
        return "no-such-model"
    return "not-a-choice"


@pytest.fixture(scope="module")
def headless(tmp_path_factory):
    """Every notebook run by papermill three times: another scenario, a bad value, an unknown parameter.

    The runs go through ``kit.runs.run`` as ``kit run`` makes them: worker processes that import papermill
    once, each notebook in a fresh kernel of its own, under the egress guard.
    """
    out = tmp_path_factory.mktemp("papermill")
    log = out / "egress.log"
    jobs = []
    for path in SEQUENCE:
        first = next(iter(notebooks.parameters(path)))
        unknown = {first: OTHER[path.name].get(first, NOTEBOOK_SPEC[first].default), "bogus": 1}
        kinds = [("other", OTHER[path.name]), ("bad", {first: _bad_value(first)})]
        if path.name in UNKNOWN_NAMES:
            kinds.append(("unknown", unknown))
        for kind, params in kinds:
            jobs.append(runs.Job(kind, path, params, out / f"{kind}-{path.name}"))
    guard = guard_env(log)
    saved = {k: os.environ.get(k) for k in guard}
    os.environ.update(guard)  # the worker processes and their kernels start under this fixture's own log
    try:
        outcomes = runs.run(jobs, workers=os.cpu_count() or 2)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    results = {(o.job.notebook.name, o.job.profile): (o, o.job.out, o.job.parameters) for o in outcomes}
    return results, log


def _outputs_text(nb) -> str:
    return json.dumps([c.get("outputs", []) for c in nb.cells])


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_runs_headless_with_another_scenario(headless, name):
    results, _ = headless
    outcome, out, params = results[(name, "other")]
    assert outcome.ok, outcome.error
    nb = read(out)
    text = _outputs_text(nb)
    committed = _outputs_text(read(notebooks.NOTEBOOKS / name))
    assert text != committed, "the parameters changed nothing"
    # the explorers' static views name the inputs they were given
    for key, value in params.items():
        if (
            key in ("sensitivity", "quality_need", "open_model")
            and "lesson.explore" in json.dumps([c.source for c in nb.cells])
        ) or key == "model":
            assert str(value) in text, f"{key}={value} does not appear in the outputs"
    if name in ("00_start_here.ipynb", "09_decision.ipynb"):
        expected = recommend(Scenario.make(params), with_flips=False, with_sweep=False)["choice"]
        assert f'data-choice=\\"{expected}\\"' in text


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_refuses_an_out_of_range_parameter(headless, name):
    results, _ = headless
    outcome, out, params = results[(name, "bad")]
    ((param, value),) = params.items()
    assert not outcome.ok
    assert "raised ParamError: " in outcome.error
    assert f"notebook {name[:-6]}: parameter '{param}': got {value!r}; allowed: " in outcome.error
    # the partial notebook is kept, with the error in the validation cell
    nb = read(out)
    errors = [c for c in nb.cells if any(o.output_type == "error" for o in c.get("outputs", []))]
    assert len(errors) == 1 and ("lesson.scenario(" in errors[0].source or "lesson.inputs(" in errors[0].source)


# An unknown parameter is refused by the same call in every notebook (lesson.scenario or lesson.inputs, which
# test_one_parameters_cell_from_the_spec checks each notebook's validation cell makes, and which
# test_check_injected_reads_papermill_cells checks directly): one notebook of each kind runs it under papermill.
UNKNOWN_NAMES = ("00_start_here.ipynb", "07_local_inference.ipynb")


@pytest.mark.slow
@pytest.mark.parametrize("name", UNKNOWN_NAMES)
def test_refuses_an_unknown_parameter(headless, name):
    results, _ = headless
    outcome, out, _ = results[(name, "unknown")]
    assert not outcome.ok
    assert f"notebook {name[:-6]}: parameter 'bogus': got 1; allowed: a parameter of this notebook: " in outcome.error
    nb = read(out)
    errors = [c for c in nb.cells if any(o.output_type == "error" for o in c.get("outputs", []))]
    assert len(errors) == 1 and ("lesson.scenario(" in errors[0].source or "lesson.inputs(" in errors[0].source)


def test_check_injected_reads_papermill_cells():
    own = "monthly_requests = 1000000  # calls\nteam_fte = 1.0"
    lesson.check_injected("t", ["", "import kit", own, "# Parameters\nmonthly_requests = 5000\n"])  # known: fine
    lesson.check_injected("t", ["", own])  # not run by papermill: nothing to check
    with pytest.raises(
        ParamError,
        match=r"notebook t: parameter 'sensitivity': got 'regulated'; allowed: a "
        r"parameter of this notebook: monthly_requests, team_fte",
    ):
        lesson.check_injected("t", ["", own, '# Parameters\nsensitivity = "regulated"\n'])


@pytest.mark.slow
def test_headless_runs_reach_nothing_outside(headless):
    _, log = headless
    assert not log.exists() or log.read_text() == ""
