"""Notebook 08: the hybrid router explored, its live log and its cost/quality tables."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import pandas as pd

from kit import charts
from kit.catalog import load_catalog
from kit.cost import costs, frontier
from kit.fmt import money, number_or_none
from kit.lesson.figures import _inline, _page, _row
from kit.params import (
    OPTION_LABELS,
    Scenario,
)

e = html.escape


def router_view(s: Scenario, route_threshold: float | None = None) -> str:
    """The router for a scenario: the cost-quality frontier, where requests go, and the bill per option."""
    row = costs([s], thresholds=None if route_threshold is None else [route_threshold]).iloc[0]
    fr = frontier(s)
    refs = {"all closed": (row.closed_api, 1.0)}
    current = {"monthly_usd": float(row.hybrid), "quality": float(row.hybrid_quality)}
    shares = {
        "closed_api": row.hybrid_share_closed,
        "hosted_open": row.hybrid_share_hosted,
        "self_hosted_open": row.hybrid_share_self,
    }
    summary = (
        f'<div class="kit-panel" style="margin-bottom:8px"><b>Hybrid router: {money(row.hybrid)}/month</b>, '
        f"about {row.hybrid_quality:.1%} of all-closed quality. All-closed {money(row.closed_api)}; "
        f"all hosted open {money(row.hosted_open)}; all self-hosted {money(row.self_hosted_open)}. "
        f"Escalated to the closed model: {row.hybrid_escalated:.1%} of requests.</div>"
    )
    return _page(
        summary,
        _row(
            _inline(charts.frontier_chart(fr, current, refs), "rt-frontier"),
            _inline(charts.shares_chart(shares), "rt-shares"),
        ),
    )


def router_log(entries: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Return the live router's log: each prompt, the tier, why, latency, cost and the answer."""
    df = pd.DataFrame(entries)
    df["usd"] = [f"${v:.6f}" for v in df.usd]
    return df[
        [
            "n",
            "prompt",
            "sensitive",
            "difficulty",
            "tier",
            "stands_in_for",
            "escalated",
            "reason",
            "latency_ms",
            "usd",
            "answer",
        ]
    ].set_index("n")


def summary_table(row: pd.Series, hard_share: float) -> pd.DataFrame:
    """Return, for one row of ``costs()``, each option's monthly cost and quality and the router's savings."""
    cat = load_catalog()
    rows = []
    q_open = cat.a("open_quality_easy") * (1 - hard_share) + cat.a("open_quality_hard") * hard_share
    for option, quality in (
        ("closed_api", 1.0),
        ("hosted_open", q_open),
        ("self_hosted_open", q_open),
        ("hybrid", float(row.hybrid_quality)),
    ):
        cost = float(row[option])
        rows.append(
            {
                "option": OPTION_LABELS[option],
                "USD per month": cost,
                "quality vs all-closed": quality,
                "hybrid saves": float(cost - row.hybrid) if option != "hybrid" else 0.0,
            }
        )
    out = pd.DataFrame(rows).set_index("option")
    out["USD per month"] = out["USD per month"].map(lambda v: money(number_or_none(v)))
    out["quality vs all-closed"] = out["quality vs all-closed"].map(lambda v: f"{v:.1%}")
    out["hybrid saves"] = out["hybrid saves"].map(
        lambda v: "-" if not number_or_none(v) else (money(v) if v > 0 else f"costs {money(-v)} more")
    )
    return out


def log_summary(log: list[dict[str, Any]]) -> pd.DataFrame:
    """Return the live router's log per tier: requests, escalations, median latency and cost."""
    df = pd.DataFrame(log)
    g = df.groupby("tier")
    tiers = ["closed_api", "hosted_open", "self_hosted_open"]  # every tier has a row, even one that answered nothing
    out = pd.DataFrame(
        {
            "requests": g.size(),
            "sensitive": g.sensitive.sum(),
            "escalated to it": g.escalated.sum(),
            "external": g.external.any(),
            "median latency ms": g.latency_ms.median(),
            "usd": g.usd.sum(),
        }
    ).reindex(tiers)
    out[["requests", "sensitive", "escalated to it", "usd"]] = (
        out[["requests", "sensitive", "escalated to it", "usd"]].fillna(0).astype({"requests": int})
    )
    out["sensitive"] = out["sensitive"].astype(int)
    out["escalated to it"] = out["escalated to it"].astype(int)
    out["external"] = out["external"].map(lambda v: "-" if pd.isna(v) else ("yes" if v else "no"))
    out["USD"] = out.pop("usd").map(lambda v: f"${v:.6f}")
    out["median latency ms"] = out["median latency ms"].map(lambda v: "-" if pd.isna(v) else f"{v:,.0f}")
    out.index.name = "tier"
    return out
