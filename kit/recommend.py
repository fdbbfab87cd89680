"""The recommendation: seed 000's stop-at-first-yes checklist as gates, then the axes; with flips."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from kit import axes as axes_mod
from kit.catalog import Catalog, load_catalog
from kit.cost import (
    break_even,
    breakdown,
    costs,
    frame,
    utilisation_needed,
    volume_sweep,
)
from kit.errors import ParamError
from kit.fmt import money, number_or_none, plain
from kit.params import (
    AXIS_LABELS,
    OPTION_LABELS,
    OPTIONS,
    PARAMS,
    SENSITIVITY_LEVELS,
    SPEC,
    Scenario,
)
from kit.results import Flip, Recommendation, RouterSplit

GATES = ("stay_inside", "high_steady_volume", "ship_fast", "frontier", "axes")
GATE_TEXT = {
    "stay_inside": "Data must stay inside your own network (or run offline): self-hosted open weights are the only "
    "fully compliant option.",
    "high_steady_volume": "Volume is high, steady and not sensitive: open weights win on cost.",
    "ship_fast": "You must ship within weeks without an ML platform team: start on a closed, managed API.",
    "frontier": "You need the frontier edge on the hardest tasks: keep a closed frontier model in the mix.",
    "axes": "No checklist question gives a firm yes, so the five axes decide.",
}


def _gates(df: pd.DataFrame, c: pd.DataFrame, cat: Catalog) -> dict[str, np.ndarray]:
    """Return each checklist question's answer (True = a firm yes) per scenario row, plus high spend."""
    sens = df.sensitivity.map({s: i for i, s in enumerate(SENSITIVITY_LEVELS)}).to_numpy(int)
    high = c.closed_api.to_numpy(float) >= cat.a("high_spend_usd_month")
    steady = df.peak_to_average.to_numpy(float) <= cat.a("steady_peak_to_average")
    frontier = (df.quality_need == "frontier").to_numpy()
    return {
        "stay_inside": (df.sensitivity == "on_prem_only").to_numpy() | df.needs_offline.to_numpy(bool),
        "high_steady_volume": high & steady & (sens <= 1) & ~frontier,
        "ship_fast": (df.weeks_to_launch.to_numpy(float) <= cat.a("ship_fast_weeks"))
        & (df.team_fte.to_numpy(float) < cat.a("no_team_below_fte")),
        "frontier": frontier,
        "high_spend": high,
    }


def decide(scenarios: Any, cat: Catalog | None = None) -> pd.DataFrame:
    """Return, per scenario row, the choice, confidence, the gate that fired, the axis leans and costs."""
    cat = cat or load_catalog()
    df = frame(scenarios)
    c = costs(df, cat)
    lean = axes_mod.leans(df, c, cat)
    team = df.team_fte.to_numpy(float)
    closed = c.closed_api.to_numpy(float)
    hosted = c.hosted_open.to_numpy(float)
    selfh = c.self_hosted_open.to_numpy(float)
    can_run = team >= c.self_ops_fte.to_numpy(float)
    open_pick = np.where(can_run & ~(selfh >= hosted), "self_hosted_open", "hosted_open")  # NaN hosted -> self

    g = _gates(df, c, cat)
    inside, g_volume, g_fast, frontier, high = (
        g["stay_inside"],
        g["high_steady_volume"],
        g["ship_fast"],
        g["frontier"],
        g["high_spend"],
    )
    mean = lean.mean(axis=1).to_numpy(float)
    # Mixed signals point to a router, but only where routing pays for its own engineering.
    mixed = np.where(c.hybrid.to_numpy(float) < closed, "hybrid", "closed_api")
    cut = cat.a("lean_cut")
    by_axes = np.select([mean <= -cut, mean >= cut], ["closed_api", open_pick], mixed)

    gate = np.select([inside, g_volume, g_fast, frontier], list(GATES[:4]), "axes")
    choice = np.select(
        [inside, g_volume, g_fast, frontier],
        ["self_hosted_open", open_pick, "closed_api", np.where(high, "hybrid", "closed_api")],
        by_axes,
    )
    # Confidence: how firmly the deciding rule holds, nudged by how many axes agree with the direction.
    direction = np.select([choice == "closed_api", choice == "hybrid"], [-1.0, 0.0], 1.0)
    agree = np.where(
        direction == 0,
        1 - np.abs(lean.to_numpy()).mean(axis=1),
        (np.sign(lean.to_numpy()) == direction[:, None]).mean(axis=1),
    )
    spend_margin = np.clip(np.log10(np.maximum(closed, 1) / cat.a("high_spend_usd_month")), 0, 1)
    fast_margin = np.clip(1 - df.weeks_to_launch.to_numpy(float) / (cat.a("ship_fast_weeks") + 1), 0, 1)
    rule, margin = cat.a("confidence_rule_base"), cat.a("confidence_rule_margin")
    base = np.select(
        [gate == "stay_inside", gate == "high_steady_volume", gate == "ship_fast", gate == "frontier"],
        [
            np.where(can_run, cat.a("confidence_stay_inside_team"), cat.a("confidence_stay_inside_no_team")),
            rule + margin * spend_margin,
            rule + margin * fast_margin,
            cat.a("confidence_frontier"),
        ],
        0.5 + 0.5 * np.minimum(np.abs(mean), 0.6),
    )
    confidence = np.clip(
        base + cat.a("confidence_agree_weight") * (agree - 0.5), cat.a("confidence_floor"), cat.a("confidence_cap")
    )
    out = pd.concat([c, lean.add_prefix("lean_")], axis=1)
    out["choice"] = choice
    out["gate"] = gate
    out["confidence"] = np.round(confidence, 2)
    out["can_run_self_hosted"] = can_run
    return out


def _candidates(p, current: Any) -> list:
    if p.kind == "choice":
        return [v for v in p.choices if v != current]
    if p.kind == "bool":
        return [not current]
    if p.log:
        grid = np.geomspace(p.low, p.high, 61)
    else:
        grid = np.linspace(p.low, p.high, 61)
    if p.kind == "int":
        grid = np.unique(np.round(grid).astype(np.int64))
    return [v for v in grid.tolist() if v != current]


def _distance(p, a: Any, b: Any) -> float:
    if p.kind in ("choice", "bool"):
        if p.kind == "choice":
            return abs(p.choices.index(a) - p.choices.index(b)) / max(1, len(p.choices) - 1)
        return 1.0
    if p.log:
        return abs(np.log(b) - np.log(a)) / (np.log(p.high) - np.log(p.low))
    return abs(b - a) / (p.high - p.low)


def _narrow(brackets: dict, base: dict, base_choice: str, cat: Catalog, points: int = 41) -> dict:
    """Shrink each (unchanged, flipped) bracket to adjacent points of a fine grid between them."""
    rows, tags = [], []
    for name, (lo, hi) in brackets.items():
        p = SPEC[name]
        grid = np.geomspace(lo, hi, points) if (p.log and lo > 0) else np.linspace(lo, hi, points)
        if p.kind == "int":
            grid = np.unique(np.round(grid).astype(np.int64))
            grid = grid if hi > lo else grid[::-1]
        for g in grid[1:]:
            rows.append({**base, name: int(g) if p.kind == "int" else float(g)})
            tags.append((name, rows[-1][name]))
    if not rows:
        return brackets
    out = dict(brackets)
    done: set[str] = set()
    for (name, v), ch in zip(tags, decide(rows, cat).choice.to_numpy()):
        if name in done:
            continue
        if ch != base_choice:
            done.add(name)
            out[name] = (out[name][0], v)
        else:
            out[name] = (v, out[name][1])
    return out


def _nice(p, value: float, toward: float, digits: int = 2) -> float:
    """Round ``value`` to ``digits`` significant figures, away from the current value."""
    if value == 0:
        return 0
    mag = 10 ** (np.floor(np.log10(abs(value))) - (digits - 1))
    nice = (np.ceil if toward > 0 else np.floor)(value / mag) * mag
    nice = float(np.clip(nice, p.low, p.high))
    return int(round(nice)) if p.kind == "int" else round(nice, 6)


def flips(scenario: Scenario, cat: Catalog | None = None, base_choice: str | None = None) -> list[Flip]:
    """Return, per parameter, the smallest single change that changes the choice, nearest first."""
    cat = cat or load_catalog()
    base = scenario.to_dict()
    if base_choice is None:
        base_choice = decide([scenario], cat).choice.iloc[0]
    searched = [p for p in PARAMS if p.flip]
    rows, tags = [], []
    for p in searched:
        for v in _candidates(p, base[p.name]):
            rows.append({**base, p.name: v})
            tags.append((p.name, v))
    coarse = decide(rows, cat).choice.to_numpy()
    best: dict[str, tuple[float, Any, str]] = {}
    for (name, v), ch in zip(tags, coarse):
        if ch == base_choice:
            continue
        d = _distance(SPEC[name], base[name], v)
        if name not in best or d < best[name][0]:
            best[name] = (d, v, ch)

    # Refine numeric flips: narrow the bracket [last unchanged, first flipped] twice on fine grids,
    # then take the roundest nearby value that still flips.
    brackets = {n: (base[n], v) for n, (_, v, _) in best.items() if SPEC[n].kind in ("int", "float")}
    for _ in range(2):
        brackets = _narrow(brackets, base, base_choice, cat)
    rows, tags = [], []
    for name, (_, hit) in brackets.items():
        p = SPEC[name]
        for cand in {hit, _nice(p, hit, hit - base[name], 2), _nice(p, hit, hit - base[name], 3)}:
            rows.append({**base, name: cand})
            tags.append((name, cand))
    if rows:
        chosen: dict[str, tuple] = {}
        for (name, cand), ch in zip(tags, decide(rows, cat).choice.to_numpy()):
            p = SPEC[name]
            limit = 1.02 * _distance(p, base[name], brackets[name][1]) + 1e-12
            d = _distance(p, base[name], cand)
            if ch == base_choice or d > limit:
                continue
            key = (_roundness(cand), -d)  # the roundest value close to the threshold
            if name not in chosen or key > chosen[name][0]:
                chosen[name] = (key, (d, cand, ch))
        for name, (_, entry) in chosen.items():
            best[name] = entry
    out = []
    for name, (d, v, ch) in sorted(best.items(), key=lambda kv: kv[1][0]):
        out.append(
            {
                "param": name,
                "from": plain(base[name]),
                "to": plain(v),
                "choice": str(ch),
                "distance": round(float(d), 3),
            }
        )
    return out


def _roundness(x: Any) -> int:
    s = f"{float(x):.6g}".rstrip("0").rstrip(".")
    return -len(s.replace("-", "").replace(".", "").lstrip("0").rstrip("0"))


def router_summary(row: pd.Series) -> RouterSplit:
    """Return the hybrid router's split for one row of ``decide``/``costs``: shares per tier, quality, cost."""
    return {
        "monthly_usd": round(float(row.hybrid), 2),
        "share": {
            "closed_api": round(float(row.hybrid_share_closed), 4),
            "hosted_open": round(float(row.hybrid_share_hosted), 4),
            "self_hosted_open": round(float(row.hybrid_share_self), 4),
        },
        "escalated_share": round(float(row.hybrid_escalated), 4),
        "bulk_tier": str(row.hybrid_bulk_tier),
        "bulk_sizing": str(row.hybrid_bulk_sizing),
        "quality_vs_closed": round(float(row.hybrid_quality), 4),
        "threshold": round(float(row.hybrid_threshold), 4),
    }


def _warnings(s: dict, row: pd.Series, cat: Catalog) -> list[str]:
    out = []
    choice = row.choice
    if row.gate == "stay_inside" and not row.can_run_self_hosted:
        out.append(
            f"Residency forces self-hosting, but you have {s['team_fte']:g} FTE to run it; operating this "
            f"fleet takes about {row.self_ops_fte:.1f} FTE. Hire or contract before launch."
        )
    elif choice == "self_hosted_open" and s["weeks_to_launch"] < cat.a("setup_weeks"):
        out.append(
            f"Self-hosting takes about {cat.a('setup_weeks'):.0f} engineer-weeks to reach production "
            f"(seed 002); you plan to launch in {s['weeks_to_launch']}."
        )
    if s["sensitivity"] in ("confidential", "regulated") and choice in ("closed_api", "hosted_open", "hybrid"):
        out.append(
            f"{s['sensitivity'].capitalize()} data would reach an outside provider: you need a data-processing "
            "agreement, zero-retention terms and region pinning - or route that traffic to a self-hosted tier."
        )
    if s["quality_need"] == "frontier" and choice in ("hosted_open", "self_hosted_open"):
        out.append(
            "Frontier quality is needed but the answer is open-weight only: check on your own hardest tasks "
            "that the open model is good enough."
        )
    if choice == "closed_api" and s["needs_version_pinning"]:
        out.append(
            "You need version pinning, which a closed API cannot fully promise: pin dated model "
            "versions and re-run your evaluation before every upgrade."
        )
    if pd.isna(row.hosted_open):
        out.append(f"No hosted price is known for open model '{row.open_id}'; hosted open-weight is left out.")
    stale = cat.stale_warning()
    if stale:
        out.append(stale)
    return out


def _reasons(s: dict, row: pd.Series, ax: dict, cat: Catalog) -> list[str]:
    reasons = [GATE_TEXT[row.gate]]
    c = {o: row[o] for o in OPTIONS}
    cheapest = min((o for o in OPTIONS if not pd.isna(c[o])), key=lambda o: c[o])
    if row.choice == "self_hosted_open" and row.gate != "stay_inside":
        reasons.append(
            f"Self-hosting ({row.self_gpus} x {s['gpu']}) costs ${c['self_hosted_open']:,.0f}/month "
            f"against ${c['hosted_open']:,.0f} hosted, and you have the team to run it."
        )
    if row.choice == "hosted_open":
        why = "without running GPUs" if not row.can_run_self_hosted else "cheaper than running your own GPUs"
        reasons.append(f"Renting the open model per token costs ${c['hosted_open']:,.0f}/month, {why}.")
    if row.choice == "hybrid":
        bulk = OPTION_LABELS.get(row.hybrid_bulk_tier, "the closed model").lower()
        inside = f", the sensitive {s['sensitive_share']:.0%} to your own GPUs" if s["sensitive_share"] else ""
        reasons.append(
            f"Routing the hard {s['hard_share']:.0%} to the closed model{inside} and the rest to "
            f"{bulk} costs ${c['hybrid']:,.0f}/month against ${c['closed_api']:,.0f} all-closed, "
            f"at about {row.hybrid_quality:.0%} of all-closed quality."
        )
    if row.choice == "closed_api" and cheapest != "closed_api":
        reasons.append(
            f"The closed API costs ${c['closed_api']:,.0f}/month; cheaper options exist "
            f"({OPTION_LABELS[cheapest]}: ${c[cheapest]:,.0f}) but the saving does not outweigh speed, "
            "capability and offloaded operations here."
        )
    # then the axes, strongest lean first, those that agree with the choice
    direction = {"closed_api": -1, "hybrid": 0}.get(row.choice, 1)
    ranked = sorted(ax.items(), key=lambda kv: -abs(kv[1]["lean"]))
    for name, a in ranked:
        if direction == 0 or np.sign(a["lean"]) == direction:
            if abs(a["lean"]) >= 0.2:
                reasons.append(f"{AXIS_LABELS[name]}: {a['why']}")
    return reasons


def decision_map(scenario: Scenario, cat: Catalog | None = None, points: int = 36) -> pd.DataFrame:
    """Return the recommended option over monthly volume x data sensitivity, all else held."""
    volumes = np.unique(
        np.round(np.geomspace(SPEC["monthly_requests"].low, SPEC["monthly_requests"].high, points)).astype(np.int64)
    )
    grid = [
        {**scenario.to_dict(), "monthly_requests": int(v), "sensitivity": s}
        for s in SENSITIVITY_LEVELS
        for v in volumes
    ]
    table = decide(grid, cat)
    return pd.DataFrame(
        {
            "monthly_requests": [g["monthly_requests"] for g in grid],
            "sensitivity": [g["sensitivity"] for g in grid],
            "choice": table.choice.to_numpy(),
            "confidence": table.confidence.to_numpy(),
        }
    )


def recommend(
    scenario: Scenario,
    cat: Catalog | None = None,
    with_flips: bool = True,
    sweep: pd.DataFrame | None = None,
    with_sweep: bool = True,
) -> Recommendation:
    """Return the full recommendation for one scenario as plain JSON-ready data.

    ``sweep``: a precomputed ``volume_sweep(scenario)`` to reuse for break-even and utilisation;
    ``with_sweep=False`` skips both (empty) for a quick first answer.
    """
    cat = cat or load_catalog()
    row = decide([scenario], cat).iloc[0]
    s = scenario.to_dict()
    lean = row[[f"lean_{a}" for a in axes_mod.AXES]].rename(lambda k: k[5:]).astype(float)
    ax = axes_mod.explain(s, row, lean, cat)
    costs_out = {o: number_or_none(row[o], 2) for o in OPTIONS}
    result: Recommendation = {
        "choice": str(row.choice),
        "choice_label": OPTION_LABELS[row.choice],
        "confidence": float(row.confidence),
        "gate": str(row.gate),
        "reasons": _reasons(s, row, ax, cat),
        "warnings": _warnings(s, row, cat),
        "costs": costs_out,
        "breakdown": breakdown(row),
        "self_hosted": {
            "gpus": int(row.self_gpus),
            "replicas": int(row.self_replicas),
            "gpus_per_replica": int(row.self_gpus_per_replica),
            "gpu": s["gpu"],
            "usd_per_gpu_hour": round(float(row.self_gpu_rate), 2),
            "requests_per_s_per_replica": round(float(row.self_rps_per_replica), 2),
            "average_utilisation": round(float(row.self_utilisation), 3),
            "ops_fte": round(float(row.self_ops_fte), 2),
            "throughput": row.self_throughput_method,
            "throughput_source": row.self_throughput_source,
        },
        "router": router_summary(row),
        "models": {
            "closed": row.closed_ref,
            "open": row.open_id,
            "hosted_price": None if pd.isna(row.hosted_ref) else row.hosted_ref,
        },
        "axes": ax,
        "break_even": [],
        "utilisation_needed": {},
        "flip": [],
        "data": {
            "prices_as_of": cat.prices_as_of(),
            "prices_source": str(cat.prices.source.iloc[0]),
            "stale": cat.stale_warning() is not None,
        },
        "scenario": {k: plain(v) for k, v in s.items()},
    }
    return extend(result, scenario, cat, sweep, with_sweep=with_sweep, with_flips=with_flips)


def extend(
    result: Recommendation,
    scenario: Scenario,
    cat: Catalog | None = None,
    sweep: pd.DataFrame | None = None,
    with_sweep: bool = True,
    with_flips: bool = True,
) -> Recommendation:
    """Return a quick answer completed with break-even volumes, utilisation needed and flips."""
    cat = cat or load_catalog()
    out: Recommendation = {**result}
    if with_sweep:
        sweep = volume_sweep(scenario, cat=cat) if sweep is None else sweep
        out["break_even"] = break_even(scenario, cat, sweep)
        out["utilisation_needed"] = utilisation_needed(scenario, cat, sweep)
    if with_flips:
        out["flip"] = flips(scenario, cat, base_choice=result["choice"])
    return out


CHECKLIST = {
    "stay_inside": "Must the data stay inside your own network, or the system run offline?",
    "high_steady_volume": "Is the volume high, steady and not sensitive?",
    "ship_fast": "Must you ship within weeks, without an ML platform team?",
    "frontier": "Do you need the frontier edge on the hardest tasks?",
    "axes": "Nothing firm above: weigh the five axes (a mix of needs points to a hybrid router).",
}


def checklist(scenario: Scenario, cat: Catalog | None = None) -> list[dict[str, Any]]:
    """Walk seed 000's stop-at-first-yes checklist for one scenario: question, answer, evidence, status.

    ``status`` is "decides" for the question that settles it, "no" before it and "not reached" after.
    """
    cat = cat or load_catalog()
    df = frame([scenario])
    c = costs(df, cat)
    answers = {k: bool(v[0]) for k, v in _gates(df, c, cat).items()}
    s = scenario.to_dict()
    closed = float(c.closed_api.iloc[0])
    yn = {True: "yes", False: "no"}
    evidence = {
        "stay_inside": f"data sensitivity: {s['sensitivity']} (only on_prem_only keeps it inside); "
        f"must run offline: {yn[s['needs_offline']]}",
        "high_steady_volume": f"all-closed bill {money(closed)}/month (high means at least "
        f"{money(cat.a('high_spend_usd_month'))}); peak/average {s['peak_to_average']:g} "
        f"(steady means at most {cat.a('steady_peak_to_average'):g}); sensitivity "
        f"{s['sensitivity']} (must be public or internal); quality need {s['quality_need']} "
        "(must not be frontier)",
        "ship_fast": f"launch in {s['weeks_to_launch']} weeks (within weeks means at most "
        f"{cat.a('ship_fast_weeks'):.0f}); ML-ops team {s['team_fte']:g} FTE (no team means under 1)",
        "frontier": f"quality need: {s['quality_need']}",
        "axes": "no question above answered yes",
    }
    rows, settled = [], False
    for step, gate in enumerate(GATES, 1):
        yes = True if gate == "axes" else answers[gate]
        status = "not reached" if settled else ("decides" if yes else "no")
        rows.append(
            {
                "step": step,
                "gate": gate,
                "question": CHECKLIST[gate],
                "answer": "-" if gate == "axes" else yn[yes],
                "evidence": evidence[gate],
                "status": status,
            }
        )
        settled = settled or yes
    return rows


def vary(
    scenario: Scenario, name: str, values: Sequence[Any] | None = None, cat: Catalog | None = None
) -> pd.DataFrame:
    """Return choice, confidence, axis leans and costs as input ``name`` takes each of ``values``, all else held.

    ``values`` defaults to every choice of the input, or 25 points across its range (log-spaced if it is).
    """
    p = SPEC[name]
    if values is None:
        if p.kind == "choice":
            values = list(p.choices)
        elif p.kind == "bool":
            values = [False, True]
        elif p.kind in ("int", "float"):
            grid = np.geomspace(p.low, p.high, 25) if p.log else np.linspace(p.low, p.high, 25)
            values = [int(round(v)) for v in grid] if p.kind == "int" else [float(v) for v in grid]
        else:
            raise ParamError(name, values, "a list of values to try (this input has no range to sweep)", "vary")
    values = [p.coerce(v, context="vary") for v in values]
    table = decide([scenario.replace(**{name: v}) for v in values], cat)
    table.insert(0, name, values)
    return table
