import numpy as np
import pytest

from kit.catalog import profile_params
from kit.cost import break_even, cheapest_open, costs, frame, resolve_models, utilisation_needed, volume_sweep
from kit.params import OPTIONS, ParamError, Scenario
from kit.params import QUALITY_LEVELS as QUALITY


def test_closed_cost_is_tokens_times_list_price(cat):
    s = Scenario.make(monthly_requests=2_000_000, input_tokens=700, output_tokens=150, quality_need="strong")
    row = cat.price(cat.tiers["strong"]["closed"])
    expected = 2_000_000 * (700 * row.input_usd_per_mtok + 150 * row.output_usd_per_mtok) / 1e6
    assert costs([s]).closed_api[0] == pytest.approx(expected)


def test_cached_input_is_billed_at_cache_read_and_write_prices(cat):
    s = Scenario.make(cached_input_share=0.5, closed_model="openai/gpt-4.1")
    row = cat.price("openai/gpt-4.1")
    w = 1 / cat.a("cache_hits_per_write")  # one cached token in this many is written (no write price: input price)
    cached = (1 - w) * row.cache_read_usd_per_mtok + w * row.input_usd_per_mtok
    per_req = (1000 * (0.5 * row.input_usd_per_mtok + 0.5 * cached) + 300 * row.output_usd_per_mtok) / 1e6
    assert costs([s]).closed_api[0] == pytest.approx(1_000_000 * per_req)
    # Anthropic lists a cache-write price above input: writing makes the cached share dearer than reads alone
    a = cat.price("anthropic/claude-sonnet-4-6")
    assert a.cache_write_usd_per_mtok > a.input_usd_per_mtok > a.cache_read_usd_per_mtok
    c = costs(
        [Scenario.make(cached_input_share=0.95, closed_model="anthropic/claude-sonnet-4-6", output_tokens=1)]
    ).iloc[0]
    reads_only = (
        1e6 * (1000 * (0.05 * a.input_usd_per_mtok + 0.95 * a.cache_read_usd_per_mtok) + a.output_usd_per_mtok) / 1e6
    )
    assert c.closed_api > reads_only


def test_batch_share_pays_the_listed_batch_discount_only(cat):
    base = dict(closed_model="openai/gpt-4.1", open_model="llama-3.3-70b", hosted_provider="togetherai")
    full, half = costs([Scenario.make(**base), Scenario.make(**base, batch_share=0.5)]).itertuples()
    discount = cat.price("openai/gpt-4.1").batch_discount
    assert discount == 0.5 and half.closed_api == pytest.approx(full.closed_api * (1 - 0.5 * discount))
    assert np.isnan(cat.price("togetherai/meta-llama/Llama-3.3-70B-Instruct-Turbo").batch_discount)
    assert half.hosted_open == pytest.approx(full.hosted_open)  # no batch price listed: no discount invented


def test_long_context_prompts_pay_the_long_context_tier(cat):
    rows = cat.prices[cat.prices.long_context_above_tokens.notna() & (cat.prices.kind == "closed_api")]
    row = rows.iloc[0]
    ref = f"{row.provider}/{row.model_id}"
    at = int(row.long_context_above_tokens)
    below, above = costs([Scenario.make(closed_model=ref, input_tokens=at, output_tokens=100),
                          Scenario.make(closed_model=ref, input_tokens=at + 1, output_tokens=100)]).closed_api  # fmt: skip
    assert above == pytest.approx(
        1e6 * ((at + 1) * row.long_input_usd_per_mtok + 100 * row.long_output_usd_per_mtok) / 1e6
    )
    assert below == pytest.approx(1e6 * (at * row.input_usd_per_mtok + 100 * row.output_usd_per_mtok) / 1e6)


def test_reasoning_tokens_are_billed_as_output_on_reasoning_models_only(cat):
    reasoning = cat.prices[(cat.prices.reasoning == True) & (cat.prices.kind == "closed_api")].iloc[0]  # noqa: E712
    plain = cat.prices[(cat.prices.reasoning == False) & (cat.prices.kind == "closed_api")].iloc[0]  # noqa: E712
    for row, extra in ((reasoning, 2000), (plain, 0)):
        ref = f"{row.provider}/{row.model_id}"
        a, b = costs(
            [Scenario.make(closed_model=ref), Scenario.make(closed_model=ref, reasoning_tokens=2000)]
        ).closed_api
        assert b - a == pytest.approx(1e6 * extra * row.output_usd_per_mtok / 1e6)


def test_hosted_open_is_a_market_of_providers(cat):
    offers = cat.hosted_offers[cat.hosted_offers.open_model == "llama-3.3-70b"]
    per_req = sorted(
        (1000 * cat.price(f"{o.provider}/{o.model_id}").input_usd_per_mtok
         + 300 * cat.price(f"{o.provider}/{o.model_id}").output_usd_per_mtok) / 1e6
        for o in offers.itertuples()
    )  # fmt: skip
    picks = costs(
        [Scenario.make(open_model="llama-3.3-70b", hosted_provider=r) for r in ("cheapest", "median", "priciest")]
    )
    assert len(per_req) >= 4
    assert list(picks.hosted_open) == pytest.approx(
        [1e6 * per_req[0], 1e6 * per_req[(len(per_req) - 1) // 2], 1e6 * per_req[-1]]
    )
    assert (picks.hosted_min == picks.hosted_open[0]).all() and (picks.hosted_max == picks.hosted_open[2]).all()
    named = costs([Scenario.make(open_model="llama-3.3-70b", hosted_provider="groq")]).iloc[0]
    assert named.hosted_ref == "groq/llama-3.3-70b-versatile"
    none = costs([Scenario.make(open_model="llama-3.3-70b", hosted_provider="mistral")]).iloc[0]
    assert not none.allowed_hosted_open  # that provider does not serve the model: no price invented


def test_per_token_options_are_linear_and_self_hosting_is_a_staircase():
    # one GPU type, paid for around the clock: the fleet is a staircase of whole GPUs
    sweep = volume_sweep(Scenario.make(gpu="h100_80gb", gpu_pricing="reserved_1y"), n=121)
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


def test_minimum_fleet_is_redundant_from_the_production_volume_and_one_box_below(cat):
    edge = int(cat.a("redundancy_from_requests"))
    c = costs([Scenario.make(monthly_requests=v) for v in (1_000, edge - 1, edge)])
    assert list(c.self_replicas) == [1, 1, cat.a("min_replicas")]
    # one box at 1,000 requests a month, even when the data may not leave the premises (owned hardware)
    c = costs([Scenario.make(monthly_requests=1_000, sensitivity="on_prem_only", quality_need=q) for q in QUALITY])
    assert (c.self_replicas == 1).all() and (c.self_gpus == c.self_gpus_per_replica).all()
    assert (c.self_gpus <= 8).all()  # one server: a node holds 8 GPUs
    assert c.self_gpus[0] == 1  # everyday work: a single GPU


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


def test_break_even_points_really_swap_the_order(cat):
    # on either side of a break-even the order holds, or the two are tied (within the tie tolerance)
    tol = cat.a("cost_tie_tolerance")
    s = Scenario.make(quality_need="frontier")
    points = break_even(s)
    assert points
    for p in points:
        below = costs([s.replace(monthly_requests=max(100, int(p["monthly_requests"] / 1.3)))]).iloc[0]
        above = costs([s.replace(monthly_requests=int(p["monthly_requests"] * 1.3))]).iloc[0]
        winner = p["cheaper_above"]
        loser = p["b"] if winner == p["a"] else p["a"]
        assert above[winner] <= above[loser] * (1 + tol)
        assert below[winner] >= below[loser] * (1 - tol)


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


@pytest.mark.parametrize("tier", ["everyday", "strong", "frontier"])
def test_auto_open_model_is_the_cheapest_to_serve_of_the_adequate_ones(cat, tier):
    s = Scenario.make(quality_need=tier)
    pick = cheapest_open(frame([s]), cat).iloc[0]
    bar = cat.tiers[tier]["open_min_score"]
    scores = cat.open_models.set_index("id").quality_score
    # every candidate clears the tier's bar; every scored, commercially usable, hosted model that clears it is a
    # candidate; where none clears it, the best-scoring such model alone
    assert set(pick.per_1k) == set(cat.adequate_open[tier])
    offered = set(cat.hosted_offers.open_model)
    usable = cat.open_models[cat.open_models.commercial_use.astype(bool) & cat.open_models.id.isin(offered)]
    if cat.open_short_of_bar(tier):
        assert list(pick.per_1k) == [usable.dropna(subset=["quality_score"]).sort_values("quality_score").id.iloc[-1]]
        assert scores[pick.chosen] < bar
    else:
        assert all(scores[m] >= bar for m in pick.per_1k)
        assert set(usable.id[usable.quality_score >= bar]) == set(pick.per_1k)
    # the pick is the cheapest of them, and the engine prices that model
    assert pick.per_1k[pick.chosen] == min(pick.per_1k.values())
    assert resolve_models(frame([s]), cat).open_id[0] == pick.chosen
    # each candidate's figure is what the fleet would pay per request at full goodput for that model
    named = costs([s.replace(open_model=m, monthly_requests=10**9) for m in pick.per_1k], cat)
    per_1k_at_scale = named.self_gpu_rate * named.self_gpus_per_replica / (named.self_rps_per_replica * 3600) * 1000
    assert np.allclose(per_1k_at_scale, list(pick.per_1k.values()), rtol=0.05)


def test_auto_open_model_does_not_change_with_volume_and_a_named_one_is_kept(cat):
    sweep = volume_sweep(Scenario.make(quality_need="frontier"), n=25, cat=cat)
    assert sweep.open_id.nunique() == 1
    assert (volume_sweep(Scenario.make(open_model="llama-3.3-70b"), n=5, cat=cat).open_id == "llama-3.3-70b").all()


def test_a_low_bar_admits_more_models_and_can_only_lower_the_pick_cost(cat):
    pick = {t: cheapest_open(frame([Scenario.make(quality_need=t)]), cat).iloc[0] for t in ("everyday", "frontier")}
    assert set(pick["frontier"].per_1k) < set(pick["everyday"].per_1k)
    assert pick["everyday"].per_1k[pick["everyday"].chosen] <= pick["frontier"].per_1k[pick["frontier"].chosen]


def test_auto_open_model_fits_the_context_and_the_named_provider(cat):
    # a prompt longer than a model's context window rules it out
    long = cheapest_open(frame([Scenario.make(quality_need="everyday", input_tokens=200_000)]), cat).iloc[0]
    context = cat.open_models.set_index("id").context_tokens
    assert all(context[m] >= 200_300 for m in long.per_1k)
    # a named provider: the models it serves, so the hosted option stays priced
    for provider in ("groq", "deepinfra"):
        s = Scenario.make(quality_need="everyday", hosted_provider=provider)
        row = costs([s], cat).iloc[0]
        served = set(cat.hosted_offers.open_model[cat.hosted_offers.provider == provider])
        assert row.open_id in served and row.allowed_hosted_open
