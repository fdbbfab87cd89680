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
