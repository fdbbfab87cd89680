"""The hybrid router, simulated: which tier answers which request, what it costs, what quality it gives.

Vectorised over scenarios. The same model prices the ``hybrid`` option everywhere (``kit.cost.costs``
calls ``hybrid_columns``), so the app, the decision notebook and the router notebook agree.

Traffic: every request has a difficulty d, uniform on [0, 1]; the hardest ``hard_share`` of it
(d >= 1 - hard_share) is "hard". A ``sensitive_share`` of all requests carries data that, under a
residency rule, may only be answered by the self-hosted tier.

Policy: non-sensitive requests with d >= ``threshold`` go to the closed model; the rest go to the
cheapest adequate tier (closed, hosted open, or self-hosted). The default threshold, 1 - hard_share,
is the rule "hard -> closed, the rest -> cheapest". The router is not perfect: it sends ``misroute_rate`` of
each side to the other (a hard request to the cheap tier, an easy one to the closed model) wherever its
threshold splits the traffic. Hard requests answered by an open tier fail detectably at ``escalation_rate``
and are retried on the closed model: paid twice. Quality comes from each tier's accuracy on easy and on hard
work (the closed model's is the yardstick, 1, unless measured; the open model's relative to it).

The live router that sends real prompts to servers is ``kit.live``; display tables are in ``kit.lesson``.

Capacity: a self-hosted tier for the bulk can be sized for the peak, or for the base load with the
busy hours spilling over to the hosted API (``peak_hours_share`` of the time at the peak rate);
sensitive traffic is always sized for its peak, since it cannot spill outside.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from kit.catalog import Catalog, labels, load_catalog
from kit.fleet import base_and_overflow, factors, fleet_cost, plan, setup_cost

TIERS = ("closed_api", "hosted_open", "self_hosted_open")
# The bulk's candidate tiers in the order of simulate()'s options, then none (no bulk traffic); the tier and the
# sizing each is reported under.
CLOSED, HOSTED, SELF_PEAK, SELF_BASE, NONE = range(5)
BULK_TIER = ("closed_api", "hosted_open", "self_hosted_open", "self_hosted_open", "none")
BULK_SIZING = ("-", "-", "peak", "base + spill to API", "-")


# the accuracies the router's quality reads, each 0-1 on a share of requests: the closed and the open model's on
# easy and on hard work
ACCURACY = ("accuracy_closed_easy", "accuracy_closed_hard", "accuracy_open_easy", "accuracy_open_hard")


def blend(easy: Any, hard: Any, hard_share: Any) -> Any:
    """A tier's accuracy over traffic whose ``hard_share`` is hard, from its accuracy on easy and on hard work."""
    return (1 - hard_share) * easy + hard_share * hard


def accuracy_defaults(cat: Catalog) -> dict[str, float]:
    """The likely misrouting rate and accuracies (ACCURACY): the closed model's taken as 1 (the yardstick), the
    open model's relative to it (``open_quality_easy``, ``open_quality_hard``), unless measured ones are given."""
    return {
        "misroute_rate": cat.a("misroute_rate"),
        "accuracy_closed_easy": 1.0,
        "accuracy_closed_hard": 1.0,
        "accuracy_open_easy": cat.a("open_quality_easy"),
        "accuracy_open_hard": cat.a("open_quality_hard"),
    }


def simulate(
    df: pd.DataFrame,
    per_request: dict[str, np.ndarray],
    cat: Catalog | None = None,
    threshold: Any = None,
    residency: bool = True,
    shapes: dict[str, np.ndarray] | None = None,
    rows: np.ndarray | None = None,
    requests: np.ndarray | None = None,
    draws: Any = None,
) -> pd.DataFrame:
    """Route each scenario's traffic and return costs, shares per tier, expected quality and savings.

    ``df``: resolved scenario rows (as inside ``kit.cost.costs``); ``per_request``: USD per request on the
    closed and hosted tiers (NaN where there is no hosted price); ``threshold``: difficulty above which
    non-sensitive requests go to the closed model (default 1 - hard_share); ``residency``: sensitive
    requests stay on the self-hosted tier. ``rows``, ``requests``: route these monthly volumes, each of
    the scenario at its row of ``df`` (default: each row at its own ``monthly_requests``). ``draws``: per routed
    row, an uncertainty draw (kit.uncertainty): the fleets' factors (``kit.fleet.FLEET_FACTORS``), a factor on
    the escalation rate, the misrouting rate and the accuracies of ``accuracy_defaults`` (default: the likely
    values).
    """
    cat = cat or load_catalog()
    shapes = plan(df, cat) if shapes is None else shapes  # the replica shapes, once for the three fleets below
    if rows is None:
        rows, requests = np.arange(len(df)), df.monthly_requests.to_numpy(float)
    n = len(rows)

    def col(name: str) -> np.ndarray:  # a scenario column, per routed row
        return df[name].to_numpy(float)[rows]

    req = np.asarray(requests, float)
    hard = col("hard_share")
    sens = col("sensitive_share") if residency else np.zeros(n)
    d = factors(draws, n, {"escalation": 1.0, "setup_weeks": 0.0, **accuracy_defaults(cat)})
    esc = np.clip(col("escalation_rate") * d["escalation"], 0.0, 1.0)
    m = d["misroute_rate"]
    peak = col("peak_to_average")
    theta = 1 - hard if threshold is None else np.broadcast_to(np.asarray(threshold, float), (n,))
    theta = np.clip(theta, 0.0, 1.0)
    p_closed = per_request["closed_api"]
    p_hosted = per_request["hosted_open"]

    normal = 1 - sens
    # as the policy means them: above the threshold up front to the closed model (the hard ones among them),
    # the rest, some of them hard where the threshold is above 1 - hard_share, to the cheapest adequate tier
    up, meant_bulk = normal * (1 - theta), normal * theta
    hard_up, hard_meant_bulk = normal * np.minimum(hard, 1 - theta), normal * np.clip(theta - (1 - hard), 0.0, None)
    # the router sends a misrouting rate m of each side to the other, where its threshold splits the traffic
    # (a threshold of 0 or 1 sends everything one way: nothing to classify, nothing misrouted)
    m = np.where((theta > 0) & (theta < 1), m, 0.0)
    to_closed = (1 - m) * up + m * meant_bulk
    bulk = (1 - m) * meant_bulk + m * up
    hard_in_bulk = (1 - m) * hard_meant_bulk + m * hard_up
    hard_to_closed = (1 - m) * hard_up + m * hard_meant_bulk

    # Candidate tiers for the bulk, each priced for this volume (the self-hosted fleet is a staircase),
    # with the escalations it causes and the router's engineering if traffic ends up on several tiers.
    bulk_req = req * bulk
    base, overflow = base_and_overflow(peak, cat)
    no_hosted = np.isnan(p_hosted)
    spill_price = np.where(no_hosted, p_closed, p_hosted)
    escalation_cost = req * hard_in_bulk * esc * p_closed
    router_cost = cat.a("router_setup_weeks") * col("fte_annual_cost_usd") / 52 / cat.a("amortise_months")
    uses_closed = (to_closed > 0) | (hard_in_bulk * esc > 0)  # closed is in play for every open option
    options = {
        "closed_api": (bulk_req * p_closed, {"closed_api"}),
        "hosted_open": (bulk_req * p_hosted + escalation_cost, {"hosted_open"}),
        "self_peak": (
            fleet_cost(df, bulk_req, peak, cat, shapes, rows, req, draws) + escalation_cost,
            {"self_hosted_open"},
        ),
        "self_base": (
            fleet_cost(
                df, bulk_req * (1 - overflow), base / np.maximum(1 - overflow, 1e-9), cat, shapes, rows, req, draws
            )
            + bulk_req * overflow * spill_price
            + escalation_cost,
            {"self_hosted_open", "spill"},
        ),
    }
    # the cheapest option (the first of equals, as argmin), and what it costs without the router
    best, pick, raw = np.full(n, np.inf), np.zeros(n, int), np.full(n, np.inf)
    for i, (name, (cost, tiers)) in enumerate(options.items()):
        n_tiers = np.full(n, len(tiers - {"spill"}), dtype=int)
        if "spill" in tiers:
            n_tiers += overflow > 0
        if name != "closed_api":
            n_tiers += uses_closed  # hard requests sent up front, or escalations, reach the closed tier
        if "self_hosted_open" not in tiers:
            n_tiers += sens > 0  # sensitive requests are on the self-hosted tier whatever the bulk does
        raw_i = np.where(np.isnan(cost), np.inf, cost)
        total_i = np.where(np.isnan(cost), np.inf, cost + np.where(n_tiers > 1, router_cost, 0.0))
        better = (total_i < best) | (i == 0)
        best, pick, raw = np.where(better, total_i, best), np.where(better, i, pick), np.where(better, raw_i, raw)
    pick = np.where(bulk_req > 0, pick, NONE)
    on_self = (pick == SELF_PEAK) | (pick == SELF_BASE)
    open_bulk = (pick == HOSTED) | on_self
    escalated = np.where(open_bulk, hard_in_bulk * esc, 0.0)
    bulk_cost = np.where(bulk_req > 0, raw - np.where(open_bulk, escalation_cost, 0.0), 0.0)

    sens_req = req * sens
    sens_cost = fleet_cost(df, sens_req, peak, cat, shapes, rows, req, draws)
    closed_cost = req * (to_closed + escalated) * p_closed

    # Share of first answers per tier, and the spill of a base-sized fleet (to the hosted API, else the closed).
    share = {t: np.zeros(n) for t in TIERS}
    share["closed_api"] += to_closed + np.where(pick == CLOSED, bulk, 0.0)
    share["hosted_open"] += np.where(pick == HOSTED, bulk, 0.0)
    share["self_hosted_open"] += sens + np.where(on_self, bulk, 0.0)
    spill = np.where(pick == SELF_BASE, bulk * overflow, 0.0)
    share["self_hosted_open"] -= spill
    share["closed_api"] += np.where(no_hosted, spill, 0.0)
    share["hosted_open"] += np.where(no_hosted, 0.0, spill)

    used = sum((share[t] > 1e-12).astype(int) for t in TIERS) + ((escalated > 0) & (share["closed_api"] <= 1e-12))
    router = np.where(used > 1, router_cost, 0.0)
    total = closed_cost + bulk_cost + sens_cost + router
    # the one-off engineering in that total, spread over amortise_months: the router's and each fleet's setup
    fleets = (sens_req > 0).astype(float) + (on_self & (bulk_req > 0))
    setup = shapes["setup"][rows] + setup_cost(d["setup_weeks"], shapes["fte_month"][rows], cat)

    # Expected accuracy: each tier's on easy and on hard work, by the requests it answers (an escalated hard
    # request gets the closed model's answer); quality is that relative to the closed model on every request.
    a_ce, a_ch, a_oe, a_oh = (d[k] for k in ACCURACY)
    easy_in_bulk = bulk - hard_in_bulk
    bulk_accuracy = np.where(
        open_bulk,
        easy_in_bulk * a_oe + hard_in_bulk * ((1 - esc) * a_oh + esc * a_ch),
        easy_in_bulk * a_ce + hard_in_bulk * a_ch,
    )
    accuracy = (
        (to_closed - hard_to_closed) * a_ce + hard_to_closed * a_ch + bulk_accuracy
        + sens * blend(a_oe, a_oh, hard)
    )  # fmt: skip
    closed_accuracy = blend(a_ce, a_ch, hard)
    quality = accuracy / np.where(closed_accuracy > 0, closed_accuracy, np.nan)

    return pd.DataFrame(
        {
            "hybrid": total,
            "hybrid_closed_part": closed_cost,
            "hybrid_bulk_part": bulk_cost,
            "hybrid_sensitive_part": sens_cost,
            "hybrid_router": router,
            "hybrid_setup_amortised": router + fleets * setup,
            "hybrid_bulk_tier": labels(BULK_TIER, pick),
            "hybrid_bulk_sizing": labels(BULK_SIZING, pick),
            "hybrid_share_closed": share["closed_api"],
            "hybrid_share_hosted": share["hosted_open"],
            "hybrid_share_self": share["self_hosted_open"],
            "hybrid_escalated": escalated,
            "hybrid_quality": quality,
            "hybrid_accuracy": accuracy,
            "hybrid_misrouted": m,
            "hybrid_threshold": theta,
            "hybrid_tiers": used,
        },
        copy=False,
    )
