"""The five decision axes (seed 000's grid): each a lean from -1 (closed) to +1 (open), vectorised."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kit.catalog import Catalog, lookup
from kit.fmt import money
from kit.params import AXES, QUALITY_LEVELS, SENSITIVITY_LEVELS


def _by_level(cat: Catalog, prefix: str, levels: tuple[str, ...]) -> dict[str, float]:
    """Return the leans of assumptions.yaml named ``prefix_<level>`` for each level."""
    return {level: cat.a(f"{prefix}_{level}") for level in levels}


def cost_lean(closed: np.ndarray, option: np.ndarray, cat: Catalog) -> np.ndarray:
    """Return the cost lean of an open option against the closed API, from -1 (closed far cheaper) to +1.

    It is the relative saving beyond the tie tolerance (a 40% saving leans about +0.4; costs within the
    tolerance lean 0), scaled down while the saving is small in dollars (below the high-spend line a $9
    saving does not matter, whatever its share). 0 where either cost is unknown or not allowed.
    """
    tol = cat.a("cost_tie_tolerance")
    with np.errstate(invalid="ignore", divide="ignore"):
        saving = closed - option
        share = saving / np.fmax(closed, option)
        beyond = np.sign(share) * np.clip((np.abs(share) - tol) / (1 - tol), 0, 1)
        material = np.clip(np.abs(saving) / cat.a("high_spend_usd_month"), 0, 1)
        return np.nan_to_num(beyond * material, nan=0.0)


def leans(df: pd.DataFrame, c: pd.DataFrame, cat: Catalog, rows: np.ndarray | None = None) -> pd.DataFrame:
    """Return one column per axis with its lean for each row of ``c``.

    ``rows``: each row of ``c``'s scenario in ``df`` (default: one each); the axes but cost depend on the
    scenario alone and are worked out once per row of ``df``.
    """
    rows = np.arange(len(df)) if rows is None else rows
    team = df.team_fte.to_numpy(float)
    weeks = df.weeks_to_launch.to_numpy(float)
    fast = cat.a("ship_fast_weeks")
    # Allowed options only: a hosted price that is unknown or not allowed does not count, and where the
    # closed API is not allowed there is nothing to weigh against (the lean is 0).
    hosted = np.where(c.allowed_hosted_open.to_numpy(bool), c.hosted_open.to_numpy(float), np.nan)
    closed = np.where(c.allowed_closed_api.to_numpy(bool), c.closed_api.to_numpy(float), np.nan)
    cost = cost_lean(closed, np.fmin(hosted, c.self_smooth_total.to_numpy(float)), cat)
    a = cat.a
    control = (
        lookup(df.sensitivity, _by_level(cat, "lean_control", SENSITIVITY_LEVELS), float)
        + a("lean_control_pinning") * df.needs_version_pinning.to_numpy(bool)
        + a("lean_control_finetuning") * df.needs_finetuning.to_numpy(bool)
    )
    control = np.where(df.needs_offline.to_numpy(bool), 1.0, control)
    security = (
        lookup(df.sensitivity, _by_level(cat, "lean_audit", SENSITIVITY_LEVELS), float)
        + a("lean_security_base")
        + a("lean_security_per_fte") * np.minimum(team, a("lean_security_max_fte"))
    )
    ecosystem = (
        a("lean_ecosystem_rush") * np.clip((2 * fast - weeks) / (2 * fast), 0, 1)
        + a("lean_ecosystem_base")
        + a("lean_ecosystem_per_fte") * np.minimum(team, a("lean_ecosystem_max_fte"))
    )
    below_floor = df.latency_ms.to_numpy(float) < a("closed_latency_floor_ms")
    parity = (
        lookup(df.quality_need, _by_level(cat, "lean_parity", QUALITY_LEVELS), float)
        + a("lean_parity_low_latency") * below_floor
    )
    lean = {"cost": cost, "control": control[rows], "security": security[rows], "ecosystem": ecosystem[rows],
            "parity": parity[rows]}  # fmt: skip
    return pd.DataFrame({axis: np.clip(lean[axis], -1, 1) for axis in AXES}, copy=False)


def explain(s: dict, row: pd.Series, lean: pd.Series, cat: Catalog) -> dict[str, dict]:
    """Return, for one scenario, each axis's lean rounded and the sentence that explains it."""
    hosted = row.hosted_open if row.allowed_hosted_open else np.nan
    best_open = "hosted_open" if hosted <= row.self_hosted_open else "self_hosted_open"
    best_cost = hosted if best_open == "hosted_open" else row.self_hosted_open
    label = "hosted open-weight" if best_open == "hosted_open" else "self-hosted open-weight"
    if not row.allowed_closed_api:
        cost_why = (
            "The data may not go to an outside provider, so no closed or hosted price is weighed: cost cannot "
            f"pull either way (self-hosting costs {money(row.self_hosted_open)}/month)."
        )
    else:
        diff = row.closed_api - best_cost
        if diff >= 0:
            cost_why = (
                f"The closed API would cost {money(row.closed_api)}/month; the cheapest open path "
                f"({label}) {money(best_cost)} - {money(diff)} less each month."
            )
        else:
            cost_why = (
                f"The closed API ({money(row.closed_api)}/month) is cheaper than any open path "
                f"({label}: {money(best_cost)}) at this volume."
            )
        if abs(diff) < 0.1 * cat.a("high_spend_usd_month"):
            cost_why += " The difference is small next to engineering time, so cost barely pushes either way."
    sens = s["sensitivity"]
    control_why = {
        "public": "Public data: a vendor's contractual guarantees are plenty.",
        "internal": "Internal data: vendor terms (no training, zero retention) usually suffice.",
        "confidential": "Confidential data: vendor terms are a promise, not a network boundary - keeping it in "
        "leans to weights you run yourself (hosted open weights get no credit here: the data leaves).",
        "regulated": "Regulated data: contracts, audits and residency rules favour weights you run yourself "
        "(hosted open weights get no credit here: the data leaves).",
        "on_prem_only": "Data must never leave your network: only self-hosted open weights satisfy that physically.",
    }[sens]
    if s["needs_offline"]:
        control_why = "It must run offline: no API can be reached, so only open weights you run yourself work."
    extras = [
        x
        for x, on in (
            ("version pinning", s["needs_version_pinning"]),
            ("fine-tuning on your own data", s["needs_finetuning"]),
        )
        if on
    ]
    if extras:
        control_why += " You also need " + " and ".join(extras) + ", which open weights give you fully."
    team = s["team_fte"]
    security_why = f"With {team:g} FTE to build guardrails, monitoring and red-teaming, " + (
        "a vendor's safety stack and SLAs carry most of the load."
        if lean["security"] < 0  # the sentence follows the lean's sign, as the ecosystem's does
        else "you can own governance and gain full auditability."
    )
    ecosystem_why = f"Launch in {s['weeks_to_launch']} weeks with {team:g} FTE of ML-ops: " + (
        "mature closed SDKs and support shorten the path."
        if lean["ecosystem"] < 0
        else "you can assemble and run an open serving stack."
    )
    parity_why = {
        "everyday": "Everyday tasks: open-weight models are already good enough here.",
        "strong": "Strong general quality: top open models are close; measure on your own task.",
        "frontier": "Frontier reasoning or agentic work: closed models still lead where it is hardest.",
    }[s["quality_need"]]
    if s["latency_ms"] < cat.a("closed_latency_floor_ms"):
        parity_why += (
            f" A {s['latency_ms']} ms latency target is below the ~{cat.a('closed_latency_floor_ms'):.0f} ms "
            "p50 closed APIs rarely beat (seed 003); fast open-weight serving can meet it."
        )
    whys = {
        "cost": cost_why,
        "control": control_why,
        "security": security_why,
        "ecosystem": ecosystem_why,
        "parity": parity_why,
    }
    return {a: {"lean": round(float(lean[a]), 2), "why": whys[a]} for a in AXES}
