"""The hybrid router: properties of the simulation over many random scenarios, the live router, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from kit import lesson, live, router
from kit.catalog import load_catalog, profile_params
from kit.cost import costs, frontier
from kit.errors import KitError
from kit.evaluate import Completion
from kit.params import QUALITY_LEVELS, SENSITIVITY_LEVELS, Scenario
from kit.recommend import decide, recommend

N = 1500


def random_scenarios(n: int = N, seed: int = 7, **fixed) -> pd.DataFrame:
    """Random scenarios across the spec's ranges (log-uniform volume), with some inputs fixed."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "monthly_requests": np.round(10 ** rng.uniform(2, 10, n)).astype(np.int64),
            "input_tokens": np.round(10 ** rng.uniform(1, 4, n)).astype(int),
            "output_tokens": np.round(10 ** rng.uniform(0.5, 3.3, n)).astype(int),
            "peak_to_average": rng.uniform(1, 12, n),
            "sensitivity": rng.choice(SENSITIVITY_LEVELS[:-1], n),
            "team_fte": rng.uniform(0, 6, n),
            "quality_need": rng.choice(QUALITY_LEVELS, n),
            "hard_share": rng.uniform(0, 1, n),
            "sensitive_share": rng.uniform(0, 0.6, n),
            "escalation_rate": rng.uniform(0, 1, n),
            "gpu": rng.choice(["h100_80gb", "a100_80gb", "l40s_48gb"], n),
            "quant_bits": rng.choice([4, 8, 16], n),
            # terms that let every sensitivity but on_prem_only go outside, so the router's own
            # arithmetic is what these tests see (residency has its own tests)
            "vendor_terms": "enterprise_region",
        }
    )
    for k, v in fixed.items():
        df[k] = v
    return df


def test_no_hard_or_sensitive_traffic_costs_no_more_than_the_cheapest_single_tier():
    c = costs(random_scenarios(hard_share=0.0, sensitive_share=0.0))
    cheapest = np.fmin(np.fmin(c.closed_api, c.hosted_open), c.self_hosted_open)
    assert (c.hybrid <= cheapest * (1 + 1e-9) + 1e-6).all()
    assert (c.hybrid_router == 0).sum() > 0


def test_all_hard_traffic_equals_all_closed():
    c = costs(random_scenarios(hard_share=1.0, sensitive_share=0.0))
    assert np.allclose(c.hybrid, c.closed_api, rtol=1e-12)
    assert np.allclose(c.hybrid_share_closed, 1.0) and (c.hybrid_router == 0).all()


@pytest.mark.parametrize("threshold", [None, 0.95])
def test_cost_is_monotone_in_the_escalation_rate(threshold):
    base = random_scenarios(n=300, seed=11)
    rates = np.linspace(0, 1, 11)
    grid = pd.concat([base.assign(escalation_rate=r) for r in rates], ignore_index=True)
    t = None if threshold is None else np.full(len(grid), threshold)
    hybrid = costs(grid, thresholds=t).hybrid.to_numpy().reshape(len(rates), len(base))
    assert (np.diff(hybrid, axis=0) >= -1e-6).all()
    if threshold is not None:  # hard requests below the threshold do escalate, so some cost really rises
        assert (np.diff(hybrid, axis=0) > 1e-6).any()


def test_sensitive_traffic_never_reaches_an_external_tier():
    for threshold in (None, 0.0, 0.5, 1.0):
        df = random_scenarios(seed=3)
        c = costs(df, thresholds=None if threshold is None else np.full(len(df), threshold))
        sens = df.sensitive_share.to_numpy()
        external = c.hybrid_share_closed.to_numpy() + c.hybrid_share_hosted.to_numpy()
        assert (external <= 1 - sens + 1e-9).all()
        assert (c.hybrid_share_self.to_numpy() >= sens - 1e-9).all()
        shares = c.hybrid_share_closed + c.hybrid_share_hosted + c.hybrid_share_self
        assert np.allclose(shares, 1.0)
    # and the escalations of sensitive requests stay inside too: nothing sensitive is retried outside
    c = costs(random_scenarios(seed=5, hard_share=1.0, sensitive_share=0.5), thresholds=np.ones(N))
    assert (c.hybrid_escalated <= 0.5 + 1e-9).all()


def test_frontier_spans_all_closed_to_all_cheap():
    s = Scenario.make(profile_params("hybrid"))
    f = frontier(s)
    assert f.threshold.iloc[0] == 0 and f.share_closed.iloc[0] == 1 and f.quality.iloc[0] == 1
    assert f.monthly_usd.iloc[0] == pytest.approx(
        recommend(s, with_flips=False, with_sweep=False)["costs"]["closed_api"]
    )
    assert f.monthly_usd.is_monotonic_decreasing and f.quality.is_monotonic_decreasing


def test_the_engine_prices_hybrid_with_the_router():
    s = Scenario.make(profile_params("hybrid"))
    r = recommend(s, with_flips=False, with_sweep=False)
    assert r["costs"]["hybrid"] == pytest.approx(r["router"]["monthly_usd"], abs=0.01)
    assert sum(r["router"]["share"].values()) == pytest.approx(1.0)
    # the default threshold is the rule "hard -> closed", and the router misroutes misroute_rate of each side
    h, m = s["hard_share"], load_catalog().a("misroute_rate")
    assert r["router"]["threshold"] == pytest.approx(1 - h)
    assert r["router"]["share"]["closed_api"] == pytest.approx((1 - m) * h + m * (1 - h))
    perfect = recommend(s, with_flips=False, with_sweep=False)  # with a perfect router: exactly the hard share
    d = decide([s], draws={"misroute_rate": np.zeros(1)})
    assert d.hybrid_share_closed.iloc[0] == pytest.approx(h) and perfect["costs"]["hybrid"] > d.hybrid.iloc[0]


def test_base_load_and_spill():
    cat = load_catalog()
    base, spill = router.base_and_overflow([1.0, 3.0, 10.0, 20.0], cat)
    assert base[0] == 1 and spill[0] == 0
    f = cat.a("peak_hours_share")
    assert f * 3.0 + (1 - f) * base[1] == pytest.approx(1.0)  # the profile averages to 1
    assert 0 < spill[1] < spill[2] <= 1


def test_difficulty_and_sensitivity_heuristics():
    assert live.difficulty("What is 2+2?") < 0.3
    assert live.difficulty("Explain step by step why the design fails, and compare the trade-off. Why?") > 0.6
    assert live.is_sensitive("Refund card 4111 1111 1111 1111")
    assert live.is_sensitive("write to jane.doe@example.com")
    assert live.is_sensitive("The patient needs a follow-up")
    assert not live.is_sensitive("What is the capital of France?")


class Echo:
    def __init__(self, name, text="an answer of words"):
        self.name, self.text, self.calls = name, text, 0

    def complete(self, prompt, max_tokens=4):
        self.calls += 1
        return Completion(self.text, 10, 5, 0.01)


def test_router_refuses_an_external_inside_tier():
    strong, cheap = live.Tier("closed_api", Echo("s"), "s", True), live.Tier("hosted_open", Echo("c"), "c", True)
    inside = live.Tier("self_hosted_open", Echo("i"), "i", True)
    r = live.Router(strong, cheap, inside)
    with pytest.raises(KitError, match="sensitive data cannot go to an external tier"):
        r.route("Refund card 4111 1111 1111 1111")


@pytest.mark.slow
def test_live_router_routes_between_two_local_backends():
    prompts = {
        "What is the capital of France?": "easy",
        "Explain step by step why interest rates move house prices, and compare two cases. Why?": "hard",
        "Design a migration plan for our database and analyse the risks.": "hard",
        "Refund card 4111 1111 1111 1111 for the double charge.": "sensitive",
        "Email the summary to jane@example.com": "sensitive",
    }
    with live.local_router(Scenario.make(), threshold=0.5, max_tokens=16) as rt:
        ports = {t.backend.base_url for t in (rt.strong, rt.cheap, rt.inside)}
        for p in prompts:
            rt.route(p)
    assert all(u.startswith("http://127.0.0.1:") for u in ports) and len(ports) == 2  # two local servers
    log = {e["prompt"]: e for e in rt.log}
    assert len(rt.log) == len(prompts)
    for p, kind in prompts.items():
        e = log[p[:80]]
        assert e["latency_ms"] > 0 and e["usd"] > 0 and e["answer"] is not None
        if kind == "sensitive":
            assert e["tier"] == "self_hosted_open" and not e["external"] and e["sensitive"]
        elif kind == "hard":
            assert e["tier"] == "closed_api" and not e["escalated"] and e["difficulty"] >= 0.5
        else:
            assert e["difficulty"] < 0.5
            assert e["tier"] == "hosted_open" or (e["tier"] == "closed_api" and e["escalated"])
    summary = lesson.log_summary(rt.log)
    assert summary.requests.sum() == len(prompts)


@pytest.mark.slow
def test_cli_route_sim_matches_the_engine():
    proc = subprocess.run(
        [sys.executable, "-m", "kit", "route-sim", "--profile", "hybrid", "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    r = recommend(Scenario.make(profile_params("hybrid")), with_flips=False, with_sweep=False)
    assert out["costs"] == r["costs"]
    assert out["hybrid"]["share"] == r["router"]["share"]
    assert out["hybrid"]["saving_vs_all_closed"] == pytest.approx(r["costs"]["closed_api"] - r["costs"]["hybrid"])
    text = subprocess.run(
        [sys.executable, "-m", "kit", "route-sim", "--set", "sensitive_share=0.3"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert text.returncode == 0 and "Self-hosted open-weight (own GPUs)" in text.stdout and "30.0%" in text.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "kit", "route-sim", "--set", "escalation_rate=2"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert bad.returncode == 2 and "'escalation_rate': got '2'" in bad.stderr and bad.stderr.count("\n") == 1
