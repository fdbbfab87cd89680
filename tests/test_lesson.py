"""The notebooks' helpers and the engine pieces they teach with: checklist, vary, cost steps, licences."""

from __future__ import annotations

import pytest
import yaml

from kit import lesson
from kit.catalog import load_catalog, profile_params
from kit.cost import by_hand, cost_steps, costs
from kit.errors import DataError
from kit.params import OPTION_LABELS, SENSITIVITY_LEVELS, ParamError, Scenario
from kit.recommend import GATES, checklist, decide, vary

PROFILES = [None] + list(load_catalog().profiles)


def _scenario(profile):
    return Scenario.make(profile_params(profile)) if profile else Scenario.make()


@pytest.mark.parametrize("profile", PROFILES)
def test_checklist_stops_where_the_engine_decides(profile):
    s = _scenario(profile)
    rows = checklist(s)
    assert [r["gate"] for r in rows] == list(GATES)
    deciding = [r for r in rows if r["status"] == "decides"]
    assert len(deciding) == 1 and deciding[0]["gate"] == decide([s]).gate[0]
    i = rows.index(deciding[0])
    assert all(r["status"] == "no" and r["answer"] == "no" for r in rows[:i])
    assert all(r["status"] == "not reached" for r in rows[i + 1 :])
    assert all(r["evidence"] for r in rows)


def test_vary_holds_everything_else():
    s = Scenario.make(monthly_requests=5_000_000)
    t = vary(s, "sensitivity")
    assert list(t.sensitivity) == list(SENSITIVITY_LEVELS)
    assert t.lean_control.is_monotonic_increasing and t.lean_control.iloc[-1] == 1.0
    assert t.closed_api.nunique() == 1  # sensitivity does not change a price
    assert t.choice.iloc[-1] == "self_hosted_open"
    numeric = vary(s, "monthly_requests")
    assert len(numeric) == 25 and numeric.closed_api.is_monotonic_increasing
    assert list(vary(s, "needs_offline").needs_offline) == [False, True]
    with pytest.raises(ParamError, match="team_fte"):
        vary(s, "team_fte", [1, 99])


@pytest.mark.parametrize("profile", PROFILES)
def test_cost_steps_add_up_to_the_engine_costs(profile):
    s = _scenario(profile)
    steps = cost_steps(s).set_index(["option", "step"]).value
    c = costs([s]).iloc[0]
    for option in ("closed_api", "hosted_open", "self_hosted_open"):
        if not c[f"allowed_{option}"]:
            # the data may not reach it (or no price is known): one step says so, and no total is priced
            assert (option, "Total") not in steps
            continue
        assert steps[(option, "Total")] == pytest.approx(c[option])
    for option in ("closed_api", "hosted_open"):
        if (option, "Input bill") in steps:
            assert steps[(option, "Input bill")] + steps[(option, "Output bill")] == pytest.approx(c[option])
    parts = ["GPU bill", "Non-GPU overhead", "Operations staff", "Setup, amortised"]
    assert sum(steps[("self_hosted_open", p)] for p in parts) == pytest.approx(c.self_hosted_open)
    assert steps[("self_hosted_open", "GPUs at the peak")] == c.self_gpus
    assert steps[("self_hosted_open", "GPUs at the peak")] % 1 == 0
    assert steps[("self_hosted_open", "GPU bill")] == pytest.approx(c.self_gpu_hours * c.self_gpu_rate)


def test_logistics_worked_example_matches_seed_003_closed_bill():
    steps = cost_steps(Scenario.make(profile_params("logistics"))).set_index(["option", "step"]).value
    # seed 003: ~30M documents a month at "about $80k" on GPT-4.1; the kit's own arithmetic from list prices
    assert steps[("closed_api", "Total")] == pytest.approx(80_000, rel=0.02)


def test_seed_003_reproduced_within_25_percent_with_the_fully_loaded_figures_beside_it():
    """Seed 003: $80k closed, $9k hosted, $4k self-hosted on a cluster the company already owned."""
    t = lesson.seed003_reconciliation()
    within = t[t["within ±25%"]]
    assert set(within.option) == {OPTION_LABELS[o] for o in ("closed_api", "hosted_open", "self_hosted_open")}
    # the hosted match is a named provider; the self-hosted match is the owned-hardware marginal cost
    hosted = within[within.option == OPTION_LABELS["hosted_open"]]
    assert hosted["provider or GPUs"].str.startswith("groq/").all()
    own = within[within.option == OPTION_LABELS["self_hosted_open"]]
    assert len(own) == 1 and own.how.iloc[0].startswith("Owned cluster, marginal")
    # and the fully loaded figures are shown beside it, far above the seed's
    loaded = t[t.how.str.contains("fully loaded")]
    assert len(loaded) == 2 and (loaded["kit / seed"] > 3).all()


@pytest.mark.parametrize("profile", [None, "cost_at_scale", "logistics", "hybrid"])
def test_the_hand_break_even_formula_lands_near_the_engine(profile):
    """README's formula (fixed cost / per-request margin) leaves out the staircase and the utilisation ceiling;
    it still lands within 25% of the volume where the engine's sweep first has self-hosting below the API."""
    h = by_hand(_scenario(profile))
    assert h["break_even_requests"] is not None and h["engine_break_even_requests"] is not None
    assert h["break_even_requests"] == pytest.approx(h["engine_break_even_requests"], rel=0.25)
    assert 0 < h["utilisation_needed"] < 1


def test_scenario_names_the_notebook_on_bad_input():
    with pytest.raises(ParamError, match=r"notebook 02_cost: parameter 'monthly_requests': got 0; allowed"):
        lesson.scenario("02_cost", monthly_requests=0)
    with pytest.raises(ParamError, match=r"notebook 01_terminology: parameter 'open_model': got 'gpt-9'"):
        lesson.scenario("01_terminology", open_model="gpt-9")
    assert lesson.scenario("x", team_fte="3")["team_fte"] == 3.0


def test_explorer_redraws_and_reports_bad_input():
    calls = []

    def view(s):
        calls.append(s)
        if s["team_fte"] > 10:
            raise ParamError("team_fte", s["team_fte"], "a test limit")
        return f"<p>team {s['team_fte']:g}</p>"

    ex = lesson.explore(Scenario.make(), ["team_fte", "monthly_requests"], view, "Test")
    assert ex.output.value == "<p>team 1</p>"
    ex.controls["team_fte"].value = 4
    assert ex.output.value == "<p>team 4</p>" and ex.message.value == ""
    ex.controls["monthly_requests"].value = 1234567.8  # a log slider gives floats; the spec wants whole numbers
    assert calls[-1]["monthly_requests"] == 1234568
    ex.controls["team_fte"].value = 20
    assert "a test limit" in ex.message.value and ex.output.value == "<p>team 4</p>"  # last good view kept
    bundle = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "<p>team 1</p>" in bundle["text/html"] and "ML-ops team = 1 FTE" in bundle["text/html"]


def test_quick_check_grades_and_renders_answers():
    items = [
        {
            "q": "Two plus two?",
            "options": ["3", "4", "5"],
            "feedback": ["One short.", "Arithmetic.", "One over."],
            "answer": 1,
        },
        {
            "q": "Sky?",
            "options": ["blue", "green", "red"],
            "feedback": ["Rayleigh.", "Not by day.", "At dusk."],
            "answer": 0,
        },
    ]
    qc = lesson.quick_check(items)
    q = qc.questions[0]
    assert q.grade(None) == (None, "")
    assert q.grade(1)[0] is True and "Arithmetic." in q.grade(1)[1]
    ok, text = q.grade(0)
    assert ok is False and "One short." in text and "\u201c4\u201d" not in text  # no answer on a wrong try
    qc.pickers[1].value = 2
    assert "At dusk." in qc.feedback[1].value and qc.feedback[0].value == ""
    qc.pickers[1].value = 0
    assert "Right." in qc.feedback[1].value
    static = qc._repr_mimebundle_()["text/html"]
    assert static.count("<summary>Answer</summary>") == 2 and "Rayleigh." in static
    with pytest.raises(ValueError, match="question 1: answer must be an option index from 0 to 2"):
        lesson.quick_check([{"q": "x", "options": ["a", "b", "c"], "feedback": ["1", "2", "3"], "answer": 3}])
    with pytest.raises(ValueError, match="question 1: missing feedback"):
        lesson.quick_check([{"q": "x", "options": ["a", "b", "c"], "answer": 0}])


def test_every_open_model_has_its_licence_terms():
    cat = load_catalog()
    table = lesson.licences()
    assert len(table) == len(cat.open_models)
    assert table["commercial use"].notna().all()
    assert set(table["class"]) == {"permissive", "community_limits", "custom_terms"}
    card = lesson.licence_card("llama-4-scout")
    assert "Llama 4 Community License" in card and "European Union" in card
    with pytest.raises(ParamError, match="open_model"):
        lesson.licence_card("no-such-model")


def _rewrite(path, change):
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data))


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d["MIT"].pop("text_url"), r"licences.yaml: licence 'MIT', field 'text_url' is missing"),
        (lambda d: d["MIT"].update({"class": "free"}), r"licence 'MIT', field 'class': 'free' is not one of"),
        (lambda d: d["MIT"].update({"as_of": "last year"}), r"licence 'MIT', field 'as_of': 'last year' is not a date"),
        (
            lambda d: d.pop("Apache-2.0"),
            r"open_models.csv: row \d+, column 'licence_id': 'Apache-2.0' is not a licence",
        ),
        (lambda d: d["MIT"].update({"class": "custom_terms"}), r"column 'licence_class': 'permissive' differs"),
    ],
)
def test_malformed_licences_file_is_named(data_copy, change, message):
    _rewrite(data_copy / "licences.yaml", change)
    with pytest.raises(DataError, match=message):
        load_catalog(data_copy)


def test_malformed_glossary_is_named(data_copy):
    _rewrite(data_copy / "glossary.yaml", lambda d: d[2].pop("meaning"))
    with pytest.raises(DataError, match=r"glossary.yaml: entry 3, field 'meaning' is missing"):
        load_catalog(data_copy)
    (data_copy / "glossary.yaml").write_text("term: not a list\n")
    with pytest.raises(DataError, match=r"glossary.yaml: must be a list of entries"):
        load_catalog(data_copy)
