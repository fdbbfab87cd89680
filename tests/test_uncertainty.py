"""How sure the answer is: the Monte Carlo runs through the same engine, its probabilities add up, collapsed
ranges give back the deterministic answer exactly, a wider range never narrows a band, the same seed gives the
same numbers, and the ranges are anchored where data exists."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_decisions import draw

from kit import uncertainty as U
from kit.capacity import predict_cited
from kit.catalog import UNCERTAIN, load_catalog, profile_params
from kit.cost import allowed
from kit.errors import ParamError
from kit.params import OPTIONS, UNCERTAIN_INPUTS, Scenario
from kit.recommend import decide

CAT = load_catalog()
PROFILES = ["hybrid", "cost_at_scale", "regulated", "ship_fast", "prototype", "logistics"]


def scenario(profile: str | None = None, **kw) -> Scenario:
    return Scenario.make({**(profile_params(profile) if profile else {}), **kw})


@pytest.fixture(scope="module")
def random_scenarios() -> list[dict]:
    rng = np.random.default_rng(27)
    return [draw(rng) for _ in range(60)]


def test_likely_draws_reproduce_the_deterministic_engine_exactly(random_scenarios):
    """Every draw at its likely value prices every column of every scenario exactly as no draw does."""
    rs = U.ranges(CAT)
    n = len(random_scenarios)
    likely = U.engine_draws({k: np.full(n, rs[k][1]) for k in UNCERTAIN}, CAT)
    plain = decide(random_scenarios, CAT)
    drawn = decide(random_scenarios, CAT, draws=likely)
    pd.testing.assert_frame_equal(plain, drawn, check_exact=True)


@pytest.mark.parametrize("profile", PROFILES)
def test_collapsed_ranges_give_the_deterministic_costs_and_answer(profile):
    s = scenario(profile)
    mc = U.monte_carlo(s, CAT, n=300, overrides=U.collapsed(CAT))
    row = decide([s], CAT)
    ok = allowed(row).iloc[0]
    assert mc["holds"] == 1.0 and mc["choice"] == row.choice.iloc[0]
    for o, band in mc["monthly"].items():
        assert band["p10"] == band["p50"] == band["p90"] == ok[o]
    assert set(mc["monthly"]) == {o for o in OPTIONS if np.isfinite(ok[o])}


@pytest.mark.parametrize("profile", PROFILES + [None])
def test_probabilities_sum_to_one_over_the_allowed_options(profile):
    mc = U.monte_carlo(scenario(profile), CAT, n=2_000)
    assert sum(mc["p_cheapest"].values()) == pytest.approx(1.0, abs=1e-12)
    assert sum(mc["p_chosen"].values()) == pytest.approx(1.0, abs=1e-12)
    assert set(mc["p_cheapest"]) == set(mc["monthly"])  # only allowed options get a probability
    assert 0 <= mc["holds"] <= 1 and mc["holds"] == mc["p_chosen"].get(mc["choice"], 0.0)


def test_same_seed_same_numbers_and_another_seed_other_draws():
    s = scenario("hybrid")
    a, b = U.monte_carlo(s, CAT, n=1_000, seed=5), U.monte_carlo(s, CAT, n=1_000, seed=5)
    assert a == b
    c = U.monte_carlo(s, CAT, n=1_000, seed=6)
    assert c["monthly"]["self_hosted_open"] != a["monthly"]["self_hosted_open"]
    # a draw does not depend on how many are drawn: the first 500 of 1,000 are the 500
    rs = U.ranges(CAT)
    short, long = U.sample(rs, 500, 5), U.sample(rs, 1_000, 5)
    assert all(np.array_equal(short[k], long[k][:500]) for k in UNCERTAIN)


def _width(band: dict) -> float:
    return band["p90"] - band["p10"]


# each monthly input, and a wider range for it (every end moved out, inside what the input allows)
WIDER = {
    "gpu_price": (-1.0, 0.0, 1.0),  # already the whole listed range: widened below by narrowing the base instead
    "throughput": (0.5, 1.0, 2.0),
    "utilisation": (0.5, 1.0, 1.3),
    "ops_fte": (0.1, 1.0, 5.0),
    "setup_weeks": (2, 5, 26),
    "escalation": (0.1, 1.0, 4.0),
    "misroute_rate": (0.0, 0.12, 0.4),
    "accuracy_open_easy": (0.6, 0.98, 1.0),
    "accuracy_open_hard": (0.2, 0.7, 1.0),
}


@pytest.mark.parametrize("name", sorted(WIDER))
@pytest.mark.parametrize("profile", ["hybrid", "cost_at_scale", "regulated", None])
def test_widening_one_range_never_narrows_a_band(name, profile):
    """One input's range widened, the others held at their likely values: no option's p10-p90 band of monthly cost
    or of cost per correct answer narrows (each draw moves further from the likely value, the same seed)."""
    s = scenario(profile)
    rs = U.ranges(CAT)
    held = {k: v for k, v in U.collapsed(CAT).items() if k != name}
    base = (rs[name][0] / 2, rs[name][1], rs[name][2] / 2) if name == "gpu_price" else rs[name]
    wide = rs[name] if name == "gpu_price" else WIDER[name]
    narrow_mc = U.monte_carlo(s, CAT, n=2_000, overrides={**held, name: base})
    wide_mc = U.monte_carlo(s, CAT, n=2_000, overrides={**held, name: wide})
    for o in narrow_mc["monthly"]:
        for key in ("monthly", "per_correct"):
            before, after = _width(narrow_mc[key][o]), _width(wide_mc[key][o])
            assert after >= before - 1e-9 * max(1.0, before), (o, key)


def test_a_wider_range_does_widen_the_band_it_moves():
    s = scenario("hybrid")
    held = {k: v for k, v in U.collapsed(CAT).items() if k != "throughput"}
    narrow = U.monte_carlo(s, CAT, n=2_000, overrides={**held, "throughput": (0.9, 1.0, 1.1)})
    wide = U.monte_carlo(s, CAT, n=2_000, overrides={**held, "throughput": (0.5, 1.0, 2.0)})
    assert _width(wide["monthly"]["self_hosted_open"]) > _width(narrow["monthly"]["self_hosted_open"]) >= 0
    assert _width(wide["monthly"]["closed_api"]) == _width(narrow["monthly"]["closed_api"]) == 0  # per token: no GPUs


def test_throughput_range_is_the_spread_of_the_cited_measurements():
    """The goodput draws' 10th and 90th percentiles are those of measured / predicted throughput on the
    calibration rows of data/throughput.csv (an anchor, not a guess)."""
    rows = CAT.throughput[CAT.throughput.role == "calibration"]
    ratio = rows.output_tok_s.to_numpy(float) / predict_cited(rows, CAT)
    low, high = np.percentile(ratio, [10, 90])
    r = CAT.uncertainty["throughput"]
    p10, p90 = U.quantile(np.array([0.1, 0.9]), r["low"], r["likely"], r["high"])
    assert p10 == pytest.approx(low, abs=0.01) and p90 == pytest.approx(high, abs=0.01)
    drawn = U.sample(U.ranges(CAT), 20_000)["throughput"]
    assert np.percentile(drawn, 10) == pytest.approx(low, abs=0.015)


def test_the_spec_names_the_uncertain_inputs_the_engine_reads():
    assert tuple(UNCERTAIN) == UNCERTAIN_INPUTS  # kit.params lists them for the ranges parameter, in order


def test_every_range_has_a_source_and_the_likely_value_the_answer_uses():
    for name, entry in CAT.uncertainty.items():
        assert entry["source"] and entry["as_of"] and entry["unit"], name
        if "assumption" in entry:
            assert CAT.a(entry["assumption"]) == entry["likely"], name


def test_tornado_ranks_by_swing_and_moves_the_gap_the_right_way():
    s = scenario("cost_at_scale")
    t = U.tornado(s, CAT)
    row = decide([s], CAT)
    ok = allowed(row).iloc[0]
    assert list(t.swing) == sorted(t.swing, reverse=True)
    assert (t.swing == (t.gap_high - t.gap_low).abs()).all()
    # the recommendation against its challenger, the cheapest other allowed option
    assert t["first"].iloc[0] == row.choice.iloc[0] == "self_hosted_open"
    challenger = ok.drop("self_hosted_open").dropna().idxmin()
    assert t["second"].iloc[0] == challenger and t.gap.iloc[0] == pytest.approx(ok[challenger] - ok.self_hosted_open)
    gpu = t.set_index("input").loc["gpu_price"]
    assert gpu.gap_high < gpu.gap < gpu.gap_low  # dearer GPUs shrink self-hosting's lead
    assert gpu.flips == (min(gpu.gap_low, gpu.gap_high) < 0 < gpu.gap)
    # an input held at one value is not in the tornado
    assert "ops_fte" not in set(U.tornado(s, CAT, overrides={"ops_fte": 1}).input)
    # one allowed option: nothing to rank
    assert U.tornado(scenario("regulated"), CAT).empty


def test_time_view_without_growth_or_price_change_repeats_the_month():
    s = scenario("cost_at_scale")
    still = {"volume_growth": 0, "api_price_decline": 0, "gpu_price_decline": 0}
    view = U.over_time(s, CAT, years=2, overrides=still)
    ok = allowed(decide([s], CAT)).iloc[0]
    assert len(view) == 24
    row = decide([s], CAT).iloc[0]
    setup = row.self_setup_amortised * CAT.a("amortise_months")
    for o in OPTIONS:
        if np.isfinite(ok[o]):
            assert np.allclose(view[o], ok[o], rtol=1e-12)
    running = ok["self_hosted_open"] - row.self_setup_amortised
    assert view.cum_self_hosted_open.iloc[-1] == pytest.approx(setup + 24 * running, rel=1e-9)
    assert view.cum_closed_api.iloc[-1] == pytest.approx(24 * ok["closed_api"], rel=1e-12)


def test_time_view_grows_volume_and_lowers_prices():
    s = scenario("hybrid")
    view = U.over_time(s, CAT, years=3)
    rs = U.ranges(CAT)
    assert view.monthly_requests.iloc[12] == pytest.approx(s["monthly_requests"] * (1 + rs["volume_growth"][1]))
    # the closed bill scales with volume x price: after a year, (1 + growth) x (1 - decline)
    ratio = view.closed_api.iloc[12] / view.closed_api.iloc[0]
    assert ratio == pytest.approx((1 + rs["volume_growth"][1]) * (1 - rs["api_price_decline"][1]))
    with pytest.raises(ParamError, match="'years'"):
        U.over_time(s, CAT, years=5)


@pytest.mark.parametrize("volume", [30_000_000, 100_000_000, 1_000_000_000])
def test_payback_month_is_where_self_hosting_first_catches_up(volume):
    s = scenario("cost_at_scale", sensitivity="internal", monthly_requests=volume, team_fte=5)
    view = U.over_time(s, CAT)
    p = U.payback(view)
    others = np.min([view[f"cum_{o}"] for o in OPTIONS if o != "self_hosted_open"], axis=0)
    own = view.cum_self_hosted_open.to_numpy()
    ahead = np.flatnonzero(own <= others)
    assert p["month"] == (ahead[0] + 1 if len(ahead) else None)
    assert p["ahead_at_end"] == (own[-1] <= others[-1]) and (p["against"] is None) == p["ahead_at_end"]
    if p["month"]:
        m = p["month"] - 1
        assert own[m] <= others[m] and (m == 0 or own[m - 1] > others[m - 1])


def test_a_small_load_never_pays_back_and_a_lone_option_has_nothing_to_beat():
    small = U.payback(U.over_time(scenario(None, monthly_requests=10_000), CAT))
    assert small["month"] is None and small["against"] in OPTIONS and not small["ahead_at_end"]
    alone = U.payback(U.over_time(scenario("regulated"), CAT))
    assert alone["month"] is None and alone["why"] == "no other option is allowed"


def test_cost_per_correct_answer_uses_the_accuracy_entered():
    s = scenario("hybrid")
    acc = {"accuracy_closed_easy": 0.9, "accuracy_closed_hard": 0.9, "accuracy_open_easy": 0.8,
           "accuracy_open_hard": 0.8}  # fmt: skip
    mc = U.monte_carlo(s, CAT, n=500, overrides=acc)
    closed = mc["monthly"]["closed_api"]["p50"]
    assert mc["per_correct"]["closed_api"]["p50"] == pytest.approx(closed / (s["monthly_requests"] * 0.9) * 1000)
    hosted = mc["monthly"]["hosted_open"]["p50"]
    assert mc["per_correct"]["hosted_open"]["p50"] == pytest.approx(hosted / (s["monthly_requests"] * 0.8) * 1000)


def test_hybrid_quality_comes_from_accuracy_and_misrouting():
    s = scenario("hybrid")
    rows = pd.DataFrame([s.to_dict()] * 3)
    d = decide(rows, CAT, draws={"misroute_rate": np.array([0.0, 0.12, 0.3])})
    assert d.hybrid_quality.is_monotonic_decreasing and d.hybrid_quality.iloc[0] > d.hybrid_quality.iloc[2]
    assert d.hybrid.iloc[0] < d.hybrid.iloc[2]  # easy requests misrouted to the closed model cost more
    same = decide(pd.DataFrame([s.to_dict()] * 2), CAT, draws={"accuracy_open_hard": np.array([1.0, 1.0]),
                  "accuracy_open_easy": np.array([1.0, 1.0])})  # fmt: skip
    assert same.hybrid_quality.to_numpy() == pytest.approx(1.0)  # an open model as good as the closed one


def test_confidence_is_the_share_of_worlds_with_the_same_answer():
    s = scenario("cost_at_scale")
    block = U.summary(s, CAT, n=2_000)
    mc = U.monte_carlo(s, CAT, n=2_000)
    assert block["holds"] == mc["holds"] and block["monthly"] == mc["monthly"]  # one engine call, same numbers
    assert len(block["drivers"]) <= 3 and block["tornado"].shape[0] >= len(block["drivers"])
    assert "not a guarantee" in block["note"]
    view = U.over_time(s, CAT, years=3)
    for y in (1, 2, 3):  # the one-, two- and three-year views are the time view's running totals
        for o in OPTIONS:
            got, want = block["cumulative_by_year"][y][o], view[f"cum_{o}"].iloc[12 * y - 1]
            assert (got is None and not np.isfinite(want)) or got == pytest.approx(want, abs=0.01)
    assert block["three_years"] == block["cumulative_by_year"][3]


@pytest.mark.parametrize(
    "overrides,needle",
    [
        ({"gpu_prise": (0, 0, 1)}, "parameter 'ranges['gpu_prise']'"),
        ({"throughput": (1.2, 1.0, 1.5)}, "low <= likely <= high"),
        ({"throughput": "abc"}, "three numbers"),
        ({"throughput": (0.5, "x", 2)}, "a number above 0 and at most 10"),
        ({"utilisation": (0.5, 1, 1.5)}, "max_utilisation_relaxed"),
        ({"misroute_rate": (0, 0.12, 0.9)}, "a number from 0 to 0.5"),
    ],
)
def test_bad_ranges_name_the_input_the_value_and_what_is_allowed(overrides, needle):
    with pytest.raises(ParamError) as err:
        U.ranges(CAT, overrides)
    assert needle in str(err.value) and "allowed" in str(err.value)


def test_a_measured_accuracy_carries_its_interval_into_the_worlds():
    from kit.evaluate import wilson

    lo, hi = wilson(41, 50)
    summary = {"accuracy": 41 / 50, "ci95_low": round(lo, 3), "ci95_high": round(hi, 3)}
    rng = U.measured(summary)
    assert rng[1] == 0.82 and 0 <= rng[0] < lo < 0.82 < hi < rng[2] <= 1
    # the draws' 2.5th and 97.5th percentiles are the interval's ends
    ends = U.quantile(np.array([0.025, 0.975]), *rng)
    assert ends == pytest.approx([round(lo, 3), round(hi, 3)], abs=1e-9)
    s = scenario("hybrid")
    others = U.collapsed(CAT)
    mc = U.monte_carlo(s, CAT, n=2_000, overrides={**others, "accuracy_open_easy": rng, "accuracy_open_hard": rng})
    held = U.monte_carlo(s, CAT, n=2_000, overrides={**others, "accuracy_open_easy": 0.82, "accuracy_open_hard": 0.82})
    band, point = mc["per_correct"]["hosted_open"], held["per_correct"]["hosted_open"]
    assert band["p10"] < point["p50"] < band["p90"] and point["p10"] == point["p90"]
    with pytest.raises(ParamError, match="'accuracy'"):
        U.measured({"accuracy": 0.9, "ci95_low": 0.95, "ci95_high": 0.99})


@pytest.mark.parametrize("profile", ["cost_at_scale", "hybrid", None])
def test_time_worlds_collapse_to_the_likely_view_and_give_shares(profile):
    s = scenario(profile)
    held = U.summary(s, CAT, n=300, overrides=U.collapsed(CAT))["time_worlds"]
    view = U.over_time(s, CAT)
    for o, band in held["cumulative"].items():
        assert band["p10"] == band["p90"] == pytest.approx(view[f"cum_{o}"].iloc[-1], rel=1e-12)
    p = U.payback(view)
    assert held["p_pays_back"] == float(p["month"] is not None)
    assert held["p_ahead_at_end"] == float(p["ahead_at_end"])
    spread = U.summary(s, CAT, n=1_000)["time_worlds"]
    assert 0 <= spread["p_ahead_at_end"] <= spread["p_pays_back"] <= 1
    assert spread["worlds"] == 400 and spread["months"] == 36


def test_time_view_gives_self_hosting_the_same_curve_and_rented_gpus_their_price_fall():
    """Self-hosted goodput grows as per-token prices fall (newer open models and stacks); GPU $/hour falls only
    where GPUs are rented by the hour."""
    still = {"volume_growth": 0, "api_price_decline": 0.5, "gpu_price_decline": 0}
    for pricing in ("on_demand", "owned"):
        s = scenario("cost_at_scale", gpu_pricing=pricing, sensitivity="internal")
        view = U.over_time(s, CAT, overrides=still)
        assert view.self_hosted_open.iloc[-1] < view.self_hosted_open.iloc[0]  # fewer GPUs for the same load
    on_demand = scenario("cost_at_scale", gpu_pricing="on_demand", sensitivity="internal")
    owned = scenario("cost_at_scale", gpu_pricing="owned", sensitivity="internal")
    gpu_only = {"volume_growth": 0, "api_price_decline": 0, "gpu_price_decline": 0.3}
    assert (
        U.over_time(on_demand, CAT, overrides=gpu_only).self_hosted_open.iloc[-1]
        < U.over_time(on_demand, CAT, overrides=gpu_only).self_hosted_open.iloc[0]
    )
    flat = U.over_time(owned, CAT, overrides=gpu_only).self_hosted_open
    assert flat.iloc[-1] == pytest.approx(flat.iloc[0])  # owned hardware is bought: its price does not fall
