"""Formatting shared by the engine's sentences and every surface: money, missing numbers, inputs, flips."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from kit.params import OPTION_LABELS, SPEC


def money(x: float | None) -> str:
    """Format a USD amount for people: $1,234 (n/a when unknown)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"-${-x:,.0f}" if x < -0.5 else f"${abs(x) if abs(x) < 0.5 else x:,.0f}"


def plain(v: Any) -> Any:
    """Return a numpy scalar as the plain Python value (int, float, bool); anything else unchanged."""
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def number_or_none(x: Any, digits: int | None = None) -> float | None:
    """Return ``x`` as a float (rounded to ``digits``), or None when it is missing (None, NaN)."""
    if x is None:
        return None
    x = float(x)
    if math.isnan(x):
        return None
    return x if digits is None else round(x, digits)


def value_text(name: str, value: Any) -> str:
    """Show one scenario input's value with its unit: 1,000,000 requests/month, yes, strong."""
    p = SPEC[name]
    if p.kind == "bool":
        return "yes" if value else "no"
    if p.kind in ("int", "float"):
        text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.3g}"
        return f"{text} {p.unit}".strip()
    return str(value)


def flip_sentence(flip: dict[str, Any]) -> str:
    """Say one 'what would flip it' entry: 'Monthly requests: 1,000 requests/month → 2,000 … gives Closed API'."""
    name = flip["param"]
    hire = ""
    if name == "team_fte" and flip["to"] > flip["from"]:
        hire = f" (hire {flip['to'] - flip['from']:,.3g} FTE)"
    return (
        f"{SPEC[name].title}: {value_text(name, flip['from'])} → {value_text(name, flip['to'])}{hire} "
        f"gives {OPTION_LABELS[flip['choice']]}"
    )


def sure_sentence(r: dict[str, Any]) -> str:
    """Say how sure an answer is: 'Holds in 97% of 10,000 plausible worlds (...)', or that it is not worked out."""
    u = r.get("uncertainty") or {}
    if r.get("confidence") is None or not u:
        return "How sure: not worked out yet"
    return (
        f"Holds in {r['confidence']:.0%} of {u['draws']:,} plausible worlds: the share of draws over the ranges of "
        f"data/uncertainty.yaml (seed {u['seed']}) whose answer is still {OPTION_LABELS[r['choice']]} - a "
        f"probability under those ranges, not a guarantee. {runner_up(r)}"
    )


def runner_up(r: dict[str, Any]) -> str:
    """Say what the plausible worlds answer instead, or that none of them changes the answer."""
    u = r.get("uncertainty") or {}
    others = {o: p for o, p in (u.get("p_chosen") or {}).items() if o != r["choice"] and p > 0}
    if not others:
        return "No plausible world changes it: none of the ranges moves the rule or the costs that decide it."
    o, p = max(others.items(), key=lambda kv: kv[1])
    close = "A close call: " if p >= 0.3 else ""
    return f"{close}{OPTION_LABELS[o]} is the answer in {p:.0%} of them."


def band_text(band: dict[str, Any] | None) -> str:
    """Say a p10-p90 band: '$1,234 to $2,345 (median $1,800)'."""
    if not band or band.get("p10") is None:
        return "n/a"
    return f"{money(band['p10'])} to {money(band['p90'])} (median {money(band['p50'])})"


def _gap(x: float) -> str:
    """'$1,234 more' or '$1,234 less'."""
    return f"{money(abs(x))} {'more' if x >= 0 else 'less'}"


def driver_sentence(d: dict[str, Any]) -> str:
    """Say one input the answer hangs on: its range and how much more its challenger costs than the
    recommendation at each end of it (less, where the recommendation is the dearer)."""
    a, b = (OPTION_LABELS[o] for o in d["between"])
    flips = "; at one end the recommendation turns from cheaper to dearer, or back" if d["flips"] else ""
    return (
        f"{d['label']} ({d['low']:g} to {d['high']:g}, likely {d['likely']:g}): {b} costs "
        f"{_gap(d['gap_at_low_usd'])} a month than {a} at the low end, {_gap(d['gap_at_high_usd'])} at the high "
        f"end (likely {_gap(d['gap_usd'])}){flips}"
    )


def worlds_sentence(w: dict[str, Any]) -> str:
    """Say how often self-hosting pays back over the drawn worlds' own yearly rates (empty: nothing to compare)."""
    if not w or w.get("p_pays_back") is None:
        return ""
    return (
        f"Across {w['worlds']:,} plausible worlds, each with its own price falls and growth, self-hosting pays back "
        f"within {w['months']} months in {w['p_pays_back']:.0%} of them and is still the cheapest at the end in "
        f"{w['p_ahead_at_end']:.0%}"
    )


def payback_sentence(p: dict[str, Any]) -> str:
    """Say when self-hosting's setup pays back over the time view, or why it does not."""
    if p.get("why"):
        return f"Self-hosting's payback is not shown: {p['why']}"
    h = p["horizon_months"]
    if p.get("month") is None:
        return (
            f"Self-hosting does not pay back its setup within {h} months: its cumulative cost stays above "
            f"{OPTION_LABELS[p['against']]}'s"
        )
    if p["ahead_at_end"]:
        return f"Self-hosting pays back its setup in month {p['month']} and is still the cheapest after {h} months"
    return (
        f"Self-hosting pays back its setup in month {p['month']}, but by month {h} its cumulative cost is above "
        f"{OPTION_LABELS[p['against']]}'s again (prices and volume move at their likely yearly rates)"
    )


def time_sentence(u: dict[str, Any]) -> str:
    """Say the time view of an uncertainty block: the payback at the likely rates, then over the drawn worlds."""
    worlds = worlds_sentence(u.get("time_worlds") or {})
    return payback_sentence(u["payback"]) + "." + (f" {worlds}." if worlds else "")
