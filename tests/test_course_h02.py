"""Notebook 02's derivations checked against the engine: the break-even and utilisation formulas, the memory
behind GPUs per replica, the break-even pairs, the seed 003 reconciliation's labels and the cost explorer's view.
"""

from __future__ import annotations

import pytest

from kit import capacity, lesson
from kit.catalog import load_catalog, profile_params
from kit.cost import break_even, costs, utilisation_needed
from kit.lesson.cost_lesson import FORMULA_TOLERANCE, fleet_inputs
from kit.params import OPTION_LABELS, Scenario

# the notebook's scenario and changes that move the price ratio, model size, staff, load shape and pricing mode
CASES = {
    "default": {},
    "everyday": {"quality_need": "everyday"},
    "frontier": {"quality_need": "frontier"},
    "reserved": {"gpu_pricing": "reserved_1y"},
    "owned everyday": {"quality_need": "everyday", "gpu_pricing": "owned"},
    "steady": {"peak_to_average": 1.0},
    "llama 70b": {"open_model": "llama-3.3-70b"},
    "dear staff": {"quality_need": "everyday", "fte_annual_cost_usd": 400_000.0},
}


@pytest.mark.parametrize("change", CASES.values(), ids=CASES.keys())
def test_the_break_even_formula_lands_within_its_tolerance_of_the_engine(change):
    """max(F_floor / p, F0 / (p - m)) leaves out whole replicas and the busy hours' extra replicas: it lands
    within FORMULA_TOLERANCE (25%) of the engine's break-even; in practice within about 10%."""
    h = lesson.break_even_formula(Scenario.make(change))
    assert h["break_even_engine"] is not None and h["break_even_formula"] is not None
    assert h["break_even_formula"] == pytest.approx(h["break_even_engine"], rel=FORMULA_TOLERANCE)


def test_the_break_even_formula_is_the_later_of_its_two_crossings():
    h = lesson.break_even_formula(Scenario.make())
    p, m = h["api_per_request"], h["marginal_per_request"]
    assert h["break_even_floor"] == pytest.approx(h["floor_usd"] / p)
    assert h["break_even_growing"] == pytest.approx(h["fixed_base_usd"] / (p - m))
    assert h["break_even_formula"] == max(h["break_even_floor"], h["break_even_growing"])
    # a rival cheaper per request than a busy GPU is never caught up with
    cheap = lesson.break_even_formula(Scenario.make(), rival="hosted_open")
    assert cheap["api_per_request"] > 0


def test_the_formulas_read_the_engines_inputs_not_copies():
    cat = load_catalog()
    s = Scenario.make()
    x = fleet_inputs(s, cat=cat)
    row = costs([s], cat).iloc[0]
    for key, name in (("hours", "hours_per_month"), ("overhead", "non_gpu_overhead"),
                      ("ops_fte_base", "ops_fte_base"), ("ops_fte_per_gpu", "ops_fte_per_gpu")):  # fmt: skip
        assert x[key] == cat.a(name)
    assert x["usd_per_gpu_hour"] == row.self_gpu_rate and x["rps_per_replica"] == row.self_rps_per_replica
    assert x["gpus_per_replica"] == row.self_gpus_per_replica and x["setup_usd"] == row.self_setup_amortised
    assert x["price_per_request"]["closed_api"] == pytest.approx(row.closed_api / s["monthly_requests"])
    # and they follow the scenario: engineers twice as dear, base staff twice as dear
    dear = lesson.break_even_formula(s.replace(fte_annual_cost_usd=400_000.0), volume=5_000_000)
    base = lesson.break_even_formula(s, volume=5_000_000)
    assert dear["fixed_base_usd"] - dear["setup_usd"] == pytest.approx(2 * (base["fixed_base_usd"] - base["setup_usd"]))


@pytest.mark.parametrize("change", CASES.values(), ids=CASES.keys())
@pytest.mark.parametrize("volume", [50_000, 1_000_000, 30_000_000, 400_000_000])
def test_the_utilisation_formula_equals_the_engines(change, volume):
    """U = requests / (replica-hours x goodput x 3600) is the engine's utilisation, and the bill it implies,
    GPU cost per request at full speed x (1 + overhead) x requests / U + staff + setup, is the engine's bill."""
    u = lesson.utilisation_formula(Scenario.make(change), volume)
    assert u["utilisation_formula"] == pytest.approx(u["utilisation_engine"], rel=1e-9)
    assert u["self_cost_formula"] == pytest.approx(u["self_cost_engine"], rel=1e-9)
    # so self-hosting is cheaper than the closed API exactly when U is above the U it needs
    assert (u["self_cost_engine"] < u["closed_cost"]) == (u["utilisation_engine"] > u["needed_with_staff"])
    # staff and setup only raise the utilisation needed above the price ratio
    assert u["needed_with_staff"] > u["price_ratio"]


def test_where_self_hosting_first_wins_its_utilisation_is_what_the_formula_needs():
    s = Scenario.make()
    won = utilisation_needed(s)["closed_api"]
    u = lesson.utilisation_formula(s, won["monthly_requests"])
    assert u["utilisation_engine"] == pytest.approx(won["utilisation"], abs=5e-4)
    assert u["utilisation_engine"] > u["needed_with_staff"]


def test_the_rule_of_thumb_table_shows_seed_004s_line_failing_and_holding():
    t = lesson.rule_of_thumb_table(Scenario.make())
    verdicts = set(t["seed 004's 30% line"])
    assert any(v.startswith("fails") for v in verdicts) and "holds" in verdicts
    ceiling = lesson.utilisation_ceiling(Scenario.make())
    assert ceiling["sized_for_peak"] == pytest.approx(ceiling["planned_peak"] / 3.0)


def test_break_even_pairs_show_the_engines_crossings_and_say_why_the_others_have_none():
    s = Scenario.make()
    t = lesson.break_even_pairs(s)
    assert len(t) == 6
    engine = {f"{OPTION_LABELS[b['a']]} vs {OPTION_LABELS[b['b']]}": b["monthly_requests"] for b in break_even(s)}
    with_volume = t[t["break-even requests/month"] != "none"]
    assert {k: float(v.replace(",", "")) for k, v in with_volume["break-even requests/month"].items()} == engine
    per_token = t.loc[f"{OPTION_LABELS['closed_api']} vs {OPTION_LABELS['hosted_open']}"]
    assert per_token["break-even requests/month"] == "none" and "never cross" in per_token["why"]
    inside = lesson.break_even_pairs(s.replace(sensitivity="on_prem_only"))
    assert (inside["break-even requests/month"] == "none").all() and inside.why.str.contains("not allowed").all()


@pytest.mark.parametrize(
    "model, bits, gpus",
    [("llama-3.3-70b", 4, 1), ("llama-3.3-70b", 8, 2), ("gpt-oss-120b", 4, 1), ("kimi-k2.6", 4, 8)],
)
def test_gpus_per_replica_come_from_the_engines_memory_function(model, bits, gpus):
    """On an 80 GB GPU: a 70B model at 4-bit (35 GB) fits one; at 8-bit (70.6 GB > 70 GB usable) it needs two;
    gpt-oss-120b at 4-bit fits one; Kimi K2.6 (1T parameters) needs eight. The table marks the engine's shape."""
    s = Scenario.make(quant_bits=bits)
    t = lesson.replica_memory(s, model=model, gpu="h100_80gb")
    sized = capacity.size(model=model, bits=bits, gpu="h100_80gb", context=1300)
    assert sized["gpus"] == gpus
    first = t[t["requests that fit at once"].map(lambda v: isinstance(v, int) and v > 0)].index[0]
    assert first == gpus
    billed = t[t["engine bills"] != ""].index
    row = costs([s.replace(open_model=model, gpu="h100_80gb")]).iloc[0]
    assert list(billed) == [row.self_gpus_per_replica]
    assert f"bills {row.self_gpus_per_replica} GPU(s) per replica" in lesson.gpus_per_replica_note(
        s.replace(open_model=model, gpu="h100_80gb")
    )


def test_seed_003_rows_say_what_they_test():
    t = lesson.seed003_reconciliation()
    kinds = t["what the row tests"]
    assert kinds.iloc[0].startswith("calibration")
    assert kinds.str.startswith("check").sum() >= 3
    assert kinds.str.startswith("sensitivity").sum() == 2
    assert not t.how.str.contains("reproduc").any()


def test_hidden_costs_name_both_sides_and_price_the_self_hosted_lines():
    t = lesson.hidden_costs(Scenario.make()).reset_index()
    assert set(t.side) == {OPTION_LABELS["closed_api"], OPTION_LABELS["self_hosted_open"]}
    priced = t[t["in the kit"].str.startswith("priced")]
    assert len(priced) >= 5 and priced["in the kit"].str.contains(r"\$").all()
    assert t["in the kit"].str.startswith("not priced").sum() >= 3


def test_the_cost_view_follows_volume_sensitivity_and_team():
    s = Scenario.make()
    open_view = lesson.cost_view(s)
    assert "not allowed" not in open_view and "enough to run it" in open_view
    inside = lesson.cost_view(s.replace(sensitivity="on_prem_only", team_fte=0.0))
    assert inside.count("not allowed (") == 3 and "FTE short" in inside
    assert lesson.cost_view(s.replace(monthly_requests=30_000_000)) != open_view


def test_the_logistics_profile_bills_two_gpus_a_replica_because_it_runs_8_bit():
    lg = Scenario.make(profile_params("logistics"))
    assert lg["quant_bits"] == 8
    t = lesson.replica_memory(lg)
    assert t[t["engine bills"] != ""].index.tolist() == [2]
    assert t.loc[1, "requests that fit at once"] == "0: the weights do not fit"


@pytest.mark.parametrize("change", CASES.values(), ids=CASES.keys())
def test_at_the_exact_crossing_the_fleets_utilisation_is_what_the_formula_needs(change):
    """Seed 004's table: the crossing is found by bisection on the engine's cost curves, not read off the sweep,
    so U there equals U needed with staff (the bills are equal) to the 0.1% the table shows."""
    s = Scenario.make(**change)
    vol = lesson.exact_crossing(s)
    assert vol is not None
    row, before = costs([s.replace(monthly_requests=vol), s.replace(monthly_requests=vol - 1)]).itertuples()
    assert row.self_hosted_open < row.closed_api and before.self_hosted_open >= before.closed_api
    u = lesson.utilisation_formula(s, vol)
    assert u["utilisation_engine"] == pytest.approx(u["needed_with_staff"], abs=5e-4)
    # the engine's break-even is the same crossing, interpolated on the sweep and rounded to two figures
    engine = next(
        b["monthly_requests"] for b in break_even(s) if {b["a"], b["b"]} == {"closed_api", "self_hosted_open"}
    )
    assert engine == pytest.approx(vol, rel=0.06)


def test_the_rule_of_thumb_table_shows_equal_utilisations_at_each_crossing():
    t = lesson.rule_of_thumb_table(Scenario.make())
    won = t[t["average U there"] != "-"]
    assert len(won) == len(t) and (won["average U there"] == won["U needed with staff there"]).all()


def test_the_kits_reading_of_gpu_memory_is_conservative_and_the_real_card_changes_two_answers():
    """An "80 GB" H100 holds 80 GiB (85.9 x 10^9 bytes); the kit reads 80 x 10^9. With the real figure 8-bit
    Llama 3.3 70B fits one GPU (about 11 requests) and 16-bit fits two; the kit bills two and four."""
    t = lesson.memory_reading_table(Scenario.make())
    kit, real = "GPUs per replica, the kit (x 10^9 bytes)", "GPUs per replica, the hardware (GiB)"
    assert [v.split()[0] for v in t[kit]] == ["1", "2", "4"]
    assert [v.split()[0] for v in t[real]] == ["1", "1", "2"]
    assert t.loc[8, real] == "1 (11 requests fit)"


def test_the_long_context_exercise_shows_prefill_not_memory_as_the_constraint():
    long = Scenario.make(input_tokens=100_000, open_model="llama-3.3-70b", gpu="h100_80gb")
    t = lesson.serving_summary(long)
    assert t.loc["requests each replica runs at once", "value"] == "1"
    assert t.loc["meets the targets", "value"].startswith("no")


def test_seed_003_self_hosted_check_is_shown_under_other_serving_choices():
    t = lesson.seed003_reconciliation()
    sens = t[t["what the row tests"].str.startswith("sensitivity")]
    assert len(sens) == 2 and (~sens["within ±25%"]).all()
