import numpy as np
import pytest

from kit.catalog import profile_params
from kit.cost import break_even, costs, frame, utilisation_needed, volume_sweep
from kit.params import OPTIONS, ParamError, Scenario


def test_closed_cost_is_tokens_times_list_price(cat):
    s = Scenario.make(monthly_requests=2_000_000, input_tokens=700, output_tokens=150, quality_need="strong")
    row = cat.price(cat.tiers["strong"]["closed"])
    expected = 2_000_000 * (700 * row.input_usd_per_mtok + 150 * row.output_usd_per_mtok) / 1e6
    assert costs([s]).closed_api[0] == pytest.approx(expected)


def test_cached_input_is_billed_at_cache_price(cat):
    s = Scenario.make(cached_input_share=0.5, closed_model="openai/gpt-4.1")
    row = cat.price("openai/gpt-4.1")
    per_req = (
        1000 * (0.5 * row.input_usd_per_mtok + 0.5 * row.cache_read_usd_per_mtok) + 300 * row.output_usd_per_mtok
    ) / 1e6
    assert costs([s]).closed_api[0] == pytest.approx(1_000_000 * per_req)


def test_hosted_open_uses_the_models_hosted_price(cat):
    s = Scenario.make(open_model="llama-3.3-70b")
    ref = cat.open_models.set_index("id").loc["llama-3.3-70b"].hosted_price_ref
    row = cat.price(ref)
    expected = 1_000_000 * (1000 * row.input_usd_per_mtok + 300 * row.output_usd_per_mtok) / 1e6
    assert costs([s]).hosted_open[0] == pytest.approx(expected)


def test_per_token_options_are_linear_and_self_hosting_is_a_staircase():
    sweep = volume_sweep(Scenario.make(), n=121)
    v = sweep.monthly_requests.to_numpy(float)
    for option in ("closed_api", "hosted_open"):
        per_request = sweep[option].to_numpy() / v
        assert np.allclose(per_request, per_request[0])
    gpus = sweep.self_gpus.to_numpy()
    assert (np.diff(gpus) >= 0).all() and gpus.dtype.kind == "i"
    assert len(np.unique(gpus)) > 3  # steps, not a line
    for option in OPTIONS:
        known = sweep[option].dropna().to_numpy()  # NaN: not allowed at that volume (a one-tier hybrid)
        assert (np.diff(known) >= -1e-6).all(), option
    # flat between steps: same GPU count -> same GPU bill
    same = np.diff(gpus) == 0
    assert np.allclose(np.diff(sweep.self_gpu_cost.to_numpy())[same], 0)


def test_minimum_fleet_is_redundant(cat):
    c = costs([Scenario.make(monthly_requests=100)])
    assert c.self_replicas[0] == cat.a("min_replicas")


def test_hybrid_limits():
    all_hard = costs([Scenario.make(hard_share=1.0)])
    assert all_hard.hybrid[0] == pytest.approx(all_hard.closed_api[0])
    no_hard = costs([Scenario.make(hard_share=0.0)])
    assert no_hard.hybrid[0] <= min(no_hard.hosted_open[0], no_hard.self_hosted_open[0]) + 1e-6


def test_vectorised_equals_row_by_row(cat):
    scenarios = [Scenario.make(profile_params(p)) for p in cat.profiles]
    together = costs(scenarios)
    for i, s in enumerate(scenarios):
        alone = costs([s])
        for option in OPTIONS:
            assert together[option][i] == pytest.approx(alone[option][0], nan_ok=True)


def test_a_large_sweep_is_one_vectorised_call():
    rng = np.random.default_rng(0)
    n = 20_000
    df = frame([{}] * n)
    df["monthly_requests"] = rng.integers(1_000, 1_000_000_000, n)
    df["team_fte"] = rng.uniform(0, 5, n)
    out = costs(df)
    assert len(out) == n and out[list(OPTIONS)].notna().all().all()


def test_break_even_points_really_swap_the_order():
    s = Scenario.make(quality_need="frontier")
    points = break_even(s)
    assert points
    for p in points:
        below = costs([s.replace(monthly_requests=max(100, int(p["monthly_requests"] / 1.3)))]).iloc[0]
        above = costs([s.replace(monthly_requests=int(p["monthly_requests"] * 1.3))]).iloc[0]
        winner = p["cheaper_above"]
        loser = p["b"] if winner == p["a"] else p["a"]
        assert above[winner] <= above[loser]
        assert below[winner] >= below[loser]


def test_utilisation_needed_is_where_self_hosting_first_wins():
    s = Scenario.make(quality_need="frontier")
    u = utilisation_needed(s)["closed_api"]
    assert u["monthly_requests"] is not None and 0 < u["utilisation"] <= 1
    at = costs([s.replace(monthly_requests=u["monthly_requests"])]).iloc[0]
    assert at.self_hosted_open < at.closed_api


def test_unknown_model_names_the_parameter():
    with pytest.raises(ParamError, match="closed_model"):
        costs([Scenario.make(closed_model="acme/gpt-99")])
    with pytest.raises(ParamError, match="open_model"):
        costs([Scenario.make(open_model="no-such-model")])
