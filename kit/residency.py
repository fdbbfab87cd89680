"""Data residency as a constraint: which options a scenario's data may reach, and why not the others.

A closed API and a hosted open-weight provider are both third parties: the prompt leaves your network
either way, so they sit on the same rung. ``data/residency.yaml`` gives, per sensitivity, the weakest
vendor terms under which data may go to a third party at all; the scenario's ``vendor_terms`` says what
the vendors have signed. Where the data may not leave, every outside tier is closed to it: the closed
API, hosted open weights, and the outside tiers of a hybrid (its sensitive share becomes 1).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from kit.catalog import Catalog, lookup
from kit.params import TERMS_RANK as RANK


def needs(sensitivity: str, cat: Catalog) -> str:
    """Return the weakest vendor terms under which ``sensitivity`` data may reach a third party, or 'never'."""
    return cat.residency["levels"][sensitivity]["third_parties"]


def outside_allowed(df: pd.DataFrame, cat: Catalog) -> np.ndarray:
    """Return, per scenario row, whether its data may go to a third party (closed API or hosted open)."""
    need = lookup(df.sensitivity, {lvl: RANK[needs(lvl, cat)] for lvl in cat.residency["levels"]}, int)
    have = lookup(df.vendor_terms, dict(RANK), int)
    return (have >= need) & ~df.needs_offline.to_numpy(bool)


def on_premises(df: pd.DataFrame, cat: Catalog) -> np.ndarray:
    """True where the data may not leave your premises at all (its sensitivity allows no third party, or it
    must run offline): its GPUs must be your own, not rented from a cloud."""
    never = {lvl for lvl in cat.residency["levels"] if needs(lvl, cat) == "never"}
    return lookup(
        df.sensitivity, {lvl: lvl in never for lvl in cat.residency["levels"]}, bool
    ) | df.needs_offline.to_numpy(bool)


def sensitive_share(df: pd.DataFrame, cat: Catalog) -> np.ndarray:
    """Return the share of requests the hybrid must keep on self-hosted tiers: the input, or 1 where
    the data may not leave at all (sensitivity sets the floor)."""
    return np.where(outside_allowed(df, cat), df.sensitive_share.to_numpy(float), 1.0)


def why_inside(s: dict[str, Any], cat: Catalog) -> str | None:
    """Return why this scenario's data may not go to a third party (one sentence), or None if it may."""
    if s["needs_offline"]:
        return "It must run offline, so no outside provider can be reached."
    need = needs(s["sensitivity"], cat)
    if RANK[s["vendor_terms"]] >= RANK[need]:
        return None
    level = cat.residency["levels"][s["sensitivity"]]
    why = level["why"][0].upper() + level["why"][1:]
    if need == "never":
        return f"{why} (source: {level['source']})."
    have = cat.residency["terms"][s["vendor_terms"]]["label"]
    return f"{why}; your vendors have signed {have} (source: {level['source']})."


def terms_to_get(s: dict[str, Any], cat: Catalog) -> str | None:
    """Return the vendor terms that would let this data reach a third party, or None if none would."""
    need = needs(s["sensitivity"], cat)
    if s["needs_offline"] or need == "never":
        return None
    return cat.residency["terms"][need]["label"]
