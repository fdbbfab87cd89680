"""The seeds' decision aids run through the engine (kit.lesson.seeds), and what notebooks 00, 01, 09 and 10
promise about them: seed 000's grid and profiles, the axis weights, seed 001's box, Mistral's tiers, seed 003's
four questions, seed 004's criteria, where the seeds' defaults differ, and the inputs 09 leaves out."""

from __future__ import annotations

import ast

import nbformat

from kit import lesson, notebooks
from kit.catalog import load_catalog, profile_params
from kit.lesson import seeds
from kit.params import AXES, AXIS_LABELS, OPTION_LABELS, PARAMS, SPEC, WEIGHTS, Scenario
from kit.recommend import recommend

NB = notebooks.NOTEBOOKS


def _choice(s: Scenario) -> str:
    return recommend(s, with_flips=False, with_sweep=False)["choice"]


def test_the_grid_has_seed_000s_five_axes_and_the_engines_lean():
    s = Scenario.make()
    grid = lesson.decision_grid(s)
    assert list(grid.index) == [AXIS_LABELS[a] for a in AXES]
    axes = recommend(s, with_flips=False, with_sweep=False)["axes"]
    for a in AXES:
        assert grid.loc[AXIS_LABELS[a], "lean for this scenario"].startswith(f"{axes[a]['lean']:+.2f}")
    # every input named as moving an axis is a scenario input of that spec
    assert all(n in SPEC for names in seeds.AXIS_INPUTS.values() for n in names)


def test_the_five_profiles_get_seed_000s_answer_from_the_engine():
    table = lesson.profiles_table()
    cat = load_catalog()
    assert len(table) == 5 and set(seeds.SEED_000_PROFILES) <= set(cat.profiles)
    for name, (_, agree) in seeds.SEED_000_PROFILES.items():
        row = table.loc[cat.profiles[name]["title"]]
        choice = _choice(Scenario.make(profile_params(name)))
        assert row["the engine says"] == OPTION_LABELS[choice]
        assert row["agree"] == ("yes" if choice in agree else "no")
    assert (table["agree"] == "yes").all(), table[["seed 000 says", "the engine says"]]


def test_weights_decide_only_where_no_checklist_question_does():
    base = Scenario.make()
    t = lesson.weights_effect(base)
    assert len(t) == 1 + 2 * len(WEIGHTS)
    assert t.loc["as set", "the engine says"] == OPTION_LABELS[_choice(base)]
    # notebooks 09 and 10 state these two rows for the default scenario
    assert t.loc["Weight: cost = 0", "the engine says"] == OPTION_LABELS["closed_api"]
    assert t.loc["Weight: cost = 5", "the engine says"] == OPTION_LABELS["hosted_open"]
    assert t.loc["as set", "the engine says"] == OPTION_LABELS["hybrid"]
    regulated = Scenario.make(profile_params("regulated"))
    r = lesson.weights_effect(regulated)
    assert r["the engine says"].nunique() == 1 and r["decided by"].str.startswith("1:").all()
    assert "these weights decide" in lesson.weights_view(base)
    assert "do not decide" in lesson.weights_view(regulated)
    assert "<svg" in lesson.weights_view(base)


def test_seed_001s_box_reads_the_scenario():
    box = lesson.heuristic_box()
    assert len(box) == 8 and set(box.index.get_level_values(0)) == {
        "lean open-weight / self-host",
        "lean closed / hosted API",
    }
    held = box[box["holds here"] == "yes"].index.get_level_values(1).tolist()
    assert held == ["volume is low, spiky or unknown"]  # as notebook 01 says of the default scenario
    # the volume line asks the engine's fleet to be busy (seed 004's 30%), not only the closed bill to be high
    volume = "sustained high volume on a model small enough to serve"
    big = Scenario.make(
        sensitivity="on_prem_only", needs_version_pinning=True, needs_finetuning=True, monthly_requests=2_000_000
    )
    line = lesson.heuristic_box(big).loc[("lean open-weight / self-host", volume), "holds here"]
    assert line.startswith("no:") and "busy 5%" in line  # a 1T-parameter model on 16 GPUs, mostly idle
    s = big.replace(monthly_requests=10_000_000, peak_to_average=1.5, open_model="mistral-small-3.1")
    opened = lesson.heuristic_box(s).loc["lean open-weight / self-host", "holds here"]
    assert opened.str.startswith("yes").all()  # notebook 01's exercise 3
    assert recommend(s, with_flips=False, with_sweep=False)["self_hosted"]["average_utilisation"] >= 0.30
    assert _choice(s) == "self_hosted_open"


def test_mistral_tiers_come_from_the_data():
    cat = load_catalog()
    t = lesson.mistral_tiers()
    apache = cat.open_models[cat.open_models.org == "Mistral AI"]
    permissive = t[t.tier == "open weights, permissive"]
    assert set(apache.name) <= set(permissive.index) and (permissive.licence == "Apache-2.0").all()
    restricted = t[t.licence.isin(["MRL-0.1", "MNPL-0.1"])]
    assert set(restricted.licence) == {"MRL-0.1", "MNPL-0.1"}
    assert restricted["may you self-host it for a business?"].str.startswith("no").all()
    assert (t.tier == "API only (closed)").any()
    # seed 000 lists Mistral Large 3 as an open-weight release: the tier goes with the version, not the size
    assert t.loc["Mistral Large 3", "licence"] == "Apache-2.0" and t.loc["Pixtral 12B", "licence"] == "Apache-2.0"
    assert t.loc["Codestral 22B (v0.1)", "licence"] == "MNPL-0.1"
    assert t.loc["Mistral Large 2.1 (24.11)", "licence"] == "MRL-0.1"
    assert t.loc["Codestral (latest)", "tier"] == "API only (closed)"
    assert set(seeds.MISTRAL_APACHE_API) <= set(cat.prices.model_id)


def test_seed_003s_four_questions_are_answered_from_the_engine():
    logistics = lesson.four_questions(Scenario.make(profile_params("logistics")))
    answers = logistics["answer for this scenario"].tolist()
    assert len(answers) == 5 and "$79,200" in answers[1] and "at or above" in answers[1]
    assert "kit assumption" in answers[1]  # the $10,000 proxy for 'breaks the unit economics' is labelled
    assert answers[2].startswith("yes") and answers[3].startswith("yes")
    assert "model the open alternatives" in answers[4]
    regulated = lesson.four_questions(Scenario.make(sensitivity="regulated", monthly_requests=30_000_000))
    assert regulated["answer for this scenario"].iloc[2].startswith("no")
    assert "seed 003's procedure: self-host" in regulated["answer for this scenario"].iloc[4]
    # the default scenario: seed 003's procedure stops at a closed API, the engine prices a router (notebook 10)
    last = lesson.four_questions()["answer for this scenario"].iloc[4]
    assert "procedure: the closed API" in last and f"the engine: {OPTION_LABELS['hybrid']}" in last
    assert len(lesson.exceptions_table()) == 4 and len(lesson.calculus_table()) == 4


def test_seed_004s_criteria_map_to_axes():
    t = lesson.criteria_table()
    assert len(t) == 8
    assert all(any(t_.startswith(AXIS_LABELS[a]) for a in AXES) for t_ in t["kit axis (inputs)"])
    for *_, inputs in seeds.CRITERIA:
        assert all(n.strip() in SPEC for n in inputs.split(","))


def test_the_kits_default_is_a_distribution():
    assert len(seeds.default_scenarios()) == 225  # notebook 10 says so
    t = lesson.default_shares("sensitivity")
    for level in ("confidential", "regulated", "on_prem_only"):  # standard vendor terms: nothing may leave
        assert t.loc[level, OPTION_LABELS["self_hosted_open"]] == "100%"
    by_volume = lesson.default_shares("monthly_requests", ["public", "internal"])
    row = {k: int(v[:-1]) for k, v in by_volume.loc["20,000"].items()}
    assert max(row, key=row.get) == OPTION_LABELS["closed_api"]  # seed 003's default holds at low volume
    mid = {k: int(v[:-1]) for k, v in by_volume.loc["1,000,000"].items()}
    assert max(mid, key=mid.get) == OPTION_LABELS["hybrid"]  # seed 000's in the middle
    assert len(lesson.defaults_table()) == 5
    # signed terms reopen the outside options to confidential and regulated data (notebook 10)
    signed = lesson.default_shares("sensitivity", vendor_terms="enterprise_region")
    for level in ("confidential", "regulated"):
        assert signed.loc[level, OPTION_LABELS["self_hosted_open"]] != "100%"
    assert signed.loc["on_prem_only", OPTION_LABELS["self_hosted_open"]] == "100%"
    low = Scenario.make(monthly_requests=20_000, sensitivity="confidential", team_fte=0, vendor_terms="zero_retention")
    r = recommend(low, with_flips=False, with_sweep=False)
    assert r["choice"] == "closed_api" and r["costs"]["closed_api"] == 150


def _explored(path, title: str) -> list[str]:
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code" and title in cell.source and "lesson.explore(" in cell.source:
            call = next(n for n in ast.walk(ast.parse(cell.source)) if isinstance(n, ast.Call))
            return ast.literal_eval(call.args[1])
    raise AssertionError(f"no explorer titled {title!r} in {path.name}")


def test_09_lists_exactly_the_inputs_it_leaves_out_and_explores_the_rest():
    path = NB / "09_decision.ipynb"
    own = [n for n in notebooks.parameters(path) if n in SPEC]
    left = lesson.inputs_not_set(own)
    assert set(left.index) | set(own) == {p.name for p in PARAMS} and not set(left.index) & set(own)
    assert sorted(_explored(path, "Decision explorer")) == sorted(own)
    cells = nbformat.read(path, as_version=4).cells
    listed = next(c.source for c in cells if "inputs_not_set(" in c.source)
    assert sorted(ast.literal_eval(listed[listed.index("([") + 1 : listed.rindex("])") + 1])) == sorted(own)


def test_10_weights_are_parameters_and_sliders():
    path = NB / "10_seeds_grid.ipynb"
    params = notebooks.parameters(path)
    assert set(WEIGHTS) <= set(params)
    assert set(WEIGHTS) | {"monthly_requests", "sensitivity", "team_fte"} <= set(_explored(path, "Axis weights"))


def test_the_hybrid_offering_entry_cites_seed_002_with_managed_fine_tuning():
    (entry,) = [x for x in load_catalog().glossary if x["term"] == "Hybrid offering"]
    assert entry["source"].startswith("seed 002") and "fine-tuning" in entry["meaning"]


def test_quick_check_answers_spread_within_these_notebooks():
    """Within notebooks 00, 01, 09 and 10 together every position is used and none holds over 40%."""
    answers = []
    for stem in ("00_start_here", "01_terminology", "09_decision", "10_seeds_grid"):
        for cell in nbformat.read(NB / f"{stem}.ipynb", as_version=4).cells:
            if cell.cell_type == "code" and "lesson.quick_check(" in cell.source:
                call = next(n for n in ast.walk(ast.parse(cell.source)) if isinstance(n, ast.Call) and n.args)
                answers += [q["answer"] for q in ast.literal_eval(call.args[0])]
    assert set(answers) == {0, 1, 2, 3}
    assert max(answers.count(i) for i in set(answers)) / len(answers) <= 0.4
