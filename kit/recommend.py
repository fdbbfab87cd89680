"""The recommendation: seed 000's stop-at-first-yes checklist as gates, then the axes; with flips."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from kit import axes as axes_mod
from kit.catalog import Catalog, labels, load_catalog, lookup
from kit.cost import (
    allowed,
    allowed_costs,
    break_even,
    breakdown,
    cheapest_open,
    costs,
    frame,
    gpu_pricing_as_priced,
    price,
    utilisation_needed,
    volume_sweep,
)
from kit.errors import ParamError
from kit.fleet import scales
from kit.fmt import money, number_or_none, plain
from kit.params import (
    AXIS_LABELS,
    OPTION_LABELS,
    OPTIONS,
    PARAMS,
    SENSITIVITY_LEVELS,
    SPEC,
    WEIGHTS,
    Scenario,
)
from kit.residency import terms_to_get, why_inside
from kit.results import Flip, Recommendation, RouterSplit

GATES = ("stay_inside", "high_steady_volume", "ship_fast", "frontier", "axes")
GATE_TEXT = {
    "stay_inside": "The data may not leave your network: self-hosted open weights are the only allowed option.",
    "high_steady_volume": "Volume is high and not sensitive, and an open-weight option is cheaper.",
    "ship_fast": "You must ship within weeks without an ML platform team: start on a closed, managed API.",
    "frontier": "You need the frontier edge on the hardest tasks: keep a closed frontier model in the mix.",
    "axes": "No checklist question gives a firm yes, so the five axes decide.",
}
# OPTIONS runs simplest first (closed API, hosted open, self-hosted, hybrid): of two costs within the
# tie tolerance, the simpler option wins. COL: each option's column in an array of allowed costs.
COL = {o: i for i, o in enumerate(OPTIONS)}


def cheaper(a: Any, b: Any, tol: float) -> np.ndarray:
    """Return where cost ``a`` is below ``b`` by more than ``tol`` of the larger; unknown (NaN) is never cheaper."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    with np.errstate(invalid="ignore"):
        return (b - a) > tol * np.fmax(a, b)


def cheapest(ok: np.ndarray, candidates: np.ndarray, tol: float) -> np.ndarray:
    """Return, per row, the index (in OPTIONS) of the cheapest candidate with a known allowed cost, the simplest
    of those within ``tol`` of it; -1 where there is none. ``ok``: allowed costs (NaN: not allowed)."""
    known = candidates & ~np.isnan(ok)
    masked = np.where(known, ok, np.inf)
    best = masked.min(axis=1, keepdims=True)
    near = known & (masked <= best * (1 + tol))
    return np.where(near.any(axis=1), near.argmax(axis=1), -1)


def weighted_lean(
    df: pd.DataFrame,
    c: pd.DataFrame,
    ok: np.ndarray,
    lean: pd.DataFrame,
    cat: Catalog,
    rows: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the axes' weighted mean lean for self-hosted open weights and for hosted open weights.

    Each option is weighed on its own numbers: the cost axis uses that option's saving against the closed
    API, and the control axis credits only an option that keeps the data inside. Hosted open weights send
    the data to a provider like a closed API does, so where control leans open it abstains for them (its
    weight drops out, so a heavier control weight cannot push hosted open weights either way); where it
    leans closed it counts against them as against any outside option. ``ok``: the allowed costs, as
    ``allowed(c)`` (NaN: not allowed); ``rows``: each row of ``c``'s scenario in ``df`` (default: one each).
    """
    rows = np.arange(len(df)) if rows is None else rows
    w = df[list(WEIGHTS)].to_numpy(float)  # one weight per axis, in AXES order
    closed, hosted_cost = ok[:, COL["closed_api"]], ok[:, COL["hosted_open"]]
    axes = {a: lean[a].to_numpy(float) for a in axes_mod.AXES}
    out = []
    # self-hosting is weighed on its smooth unit cost (GPUs in fractions), so a step of the GPU staircase
    # cannot flip the axes back and forth; which option is cheaper is still decided on the real bill
    for option_cost, credit_control in ((c.self_smooth_total.to_numpy(float), True), (hosted_cost, False)):
        values = {**axes, "cost": axes_mod.cost_lean(closed, option_cost, cat)}
        weights = {a: w[:, i][rows] for i, a in enumerate(axes_mod.AXES)}
        if not credit_control:
            weights["control"] = np.where(values["control"] > 0, 0.0, weights["control"])
        # column by column: sum() adds from 0 in AXES order, as numpy sums a row
        total = sum(weights.values())
        weighted = sum(weights[a] * values[a] for a in axes_mod.AXES)
        out.append(np.where(total > 0, weighted / np.where(total > 0, total, 1), 0.0))
    return out[0], out[1]


def _gates(
    df: pd.DataFrame, c: pd.DataFrame, ok: np.ndarray, cat: Catalog, rows: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Return each checklist question's answer (True = a firm yes) per scenario row, and the numbers behind them.

    ``ok``: the allowed costs, as ``allowed(c)`` (NaN: not allowed); ``rows``: each row of ``c``'s scenario in
    ``df`` (default: one each): what depends on the scenario alone is worked out once per row of ``df``."""
    rows = np.arange(len(df)) if rows is None else rows
    n = len(rows)
    tol = cat.a("cost_tie_tolerance")
    sens = lookup(df.sensitivity, {s: i for i, s in enumerate(SENSITIVITY_LEVELS)}, int)[rows]
    closed = ok[:, COL["closed_api"]]
    high = closed >= cat.a("high_spend_usd_month")  # NaN (not allowed) is not high
    steady = (df.peak_to_average.to_numpy(float) <= cat.a("steady_peak_to_average"))[rows]
    frontier = (df.quality_need == "frontier").to_numpy()[rows]
    # Your own GPUs answer the volume question when the traffic is steady, or when they are rented by the hour
    # and scale with the load (the fleet's cost then follows the traffic's shape, peaks included); a reserved
    # or owned fleet for bursty traffic pays for idle peaks around the clock. Per-token rental bills only what
    # you use, so it may answer whatever the traffic's shape.
    rented = scales(gpu_pricing_as_priced(df, cat))[rows]  # owned where the data may not leave your premises
    open_cands = np.zeros((n, len(OPTIONS)), bool)
    open_cands[:, COL["hosted_open"]] = True
    open_cands[:, COL["self_hosted_open"]] = steady | rented
    open_idx = cheapest(ok, open_cands, tol)
    open_cost = np.where(open_idx >= 0, ok[np.arange(n), np.maximum(open_idx, 0)], np.nan)
    open_wins = cheaper(open_cost, closed, tol)
    return {
        "stay_inside": ~c.outside_allowed.to_numpy(bool),
        "high_steady_volume": high & (sens <= 1) & ~frontier & open_wins,
        "ship_fast": ((df.weeks_to_launch.to_numpy(float) <= cat.a("ship_fast_weeks"))
                      & (df.team_fte.to_numpy(float) < cat.a("no_team_below_fte")))[rows],
        "frontier": frontier,
        "high_spend": high,
        "open_wins": open_wins,
        "open_idx": np.maximum(open_idx, 0),
        "open_pick": np.array(OPTIONS, dtype=object)[np.maximum(open_idx, 0)],
        "open_cost": open_cost,
        "hybrid_wins": cheaper(ok[:, COL["hybrid"]], closed, tol),
    }  # fmt: skip


def decide(scenarios: Any, cat: Catalog | None = None, draws: Any = None) -> pd.DataFrame:
    """Return, per scenario row, the choice, the gate that fired, the axis leans and costs.

    Only allowed options are chosen (``allowed_<option>`` columns of ``costs``); costs within the tie
    tolerance count as equal and the simpler option wins.
    """
    cat = cat or load_catalog()
    c, df, rows = price(scenarios, cat, draws=draws)  # df: the distinct scenarios; rows: each row's among them

    def col(name: str) -> np.ndarray:  # a scenario column, per row
        return df[name].to_numpy(float)[rows]

    lean = axes_mod.leans(df, c, cat, rows)
    ok = allowed(c).to_numpy(float)
    tol = cat.a("cost_tie_tolerance")
    team = col("team_fte")
    can_run = team >= c.self_ops_fte.to_numpy(float)

    g = _gates(df, c, ok, cat, rows)
    inside, g_volume, g_fast, frontier = g["stay_inside"], g["high_steady_volume"], g["ship_fast"], g["frontier"]
    mean_self, mean_hosted = weighted_lean(df, c, ok, lean, cat, rows)
    # the strongest case the axes make for an allowed open option
    mean = np.where(c.allowed_hosted_open.to_numpy(bool), np.fmax(mean_self, mean_hosted), mean_self)
    cut = cat.a("lean_cut")
    # Choices below are indices into OPTIONS (COL), gates into GATES.
    # Mixed signals point to a router, but only where routing costs less than the closed API alone.
    mixed = np.where(g["hybrid_wins"], COL["hybrid"], COL["closed_api"])
    # The axes lean open: self-hosting if they argue for it and it is what an operator would pick among the
    # open options - the cheaper one (a tie goes to hosted, the simpler), or, for confidential or regulated
    # data and a team able to run the fleet, at most `inside_premium` dearer than renting. Paying more than
    # the cheapest allowed option needs a real control need (the control axis leaning open). Otherwise
    # hosted open weights if the axes argue for them on their own; otherwise the signals are mixed.
    self_c, hosted_c = ok[:, COL["self_hosted_open"]], ok[:, COL["hosted_open"]]
    hosted_ok = ~np.isnan(hosted_c)
    prefer_inside = df.sensitivity.isin(["confidential", "regulated"]).to_numpy()[rows] & can_run
    within = self_c <= hosted_c * (1 + cat.a("inside_premium"))
    operator_pick = ~hosted_ok | ~cheaper(hosted_c, self_c, tol) | (prefer_inside & within)
    cheapest_all = np.where(np.isnan(ok), np.inf, ok).min(axis=1)
    dearer = cheaper(cheapest_all, self_c, tol)
    control_need = lean["control"].to_numpy(float) > 0
    self_by_axes = (mean_self >= cut) & operator_pick & (~dearer | control_need)
    hosted_by_axes = hosted_ok & (mean_hosted >= cut)
    by_axes = np.select(
        [mean <= -cut, self_by_axes, hosted_by_axes],
        [COL["closed_api"], COL["self_hosted_open"], COL["hosted_open"]],
        mixed,
    )

    fired = [inside, g_volume, g_fast, frontier]
    gate = np.select(fired, list(range(4)), GATES.index("axes"))
    choice = np.select(
        fired,
        [
            COL["self_hosted_open"],
            g["open_idx"],
            COL["closed_api"],
            mixed,  # one router rule on both paths: a router where it costs less than the closed API alone
        ],
        by_axes,
    )
    verdict = pd.DataFrame(
        {
            **{f"lean_{a}": lean[a].array for a in lean},
            "choice": labels(OPTIONS, choice),
            "gate": labels(GATES, gate),
            "weighted_lean": mean,
            "weighted_lean_self": mean_self,
            "weighted_lean_hosted": mean_hosted,
            "can_run_self_hosted": can_run,
            "open_wins": g["open_wins"],
            "hybrid_wins": g["hybrid_wins"],
        },
        copy=False,
    )
    return pd.concat([c, verdict], axis=1)


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
        for cand in {hit, *(_nice(p, hit, hit - base[name], digits) for digits in (2, 3, 4, 5, 6))}:
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
                "to": plain(float(f"{v:.12g}") if isinstance(v, float) else v),
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


def not_allowed(s: dict, row: pd.Series, cat: Catalog) -> dict[str, str]:
    """Return, for each option this scenario may not use, one sentence saying why."""
    out: dict[str, str] = {}
    inside = why_inside(s, cat)
    if inside:
        out["closed_api"] = out["hosted_open"] = inside
        out["hybrid"] = f"{inside} A router would have no outside tier: every request stays on your own GPUs."
        return out
    if not row.allowed_hosted_open:
        rule = s["hosted_provider"]
        out["hosted_open"] = (
            f"No provider in data/hosted_offers.csv serves open model '{row.open_id}' per token."
            if not row.hosted_offers
            else f"The provider you named ({rule}) does not serve open model '{row.open_id}'; "
            f"{row.hosted_offers} other provider(s) do (hosted_provider = cheapest, median or one of them)."
        )
    if not row.allowed_hybrid:
        tier = next(
            (t for t in ("closed_api", "hosted_open", "self_hosted_open") if row[f"hybrid_share_{_SHARE[t]}"] > 0.5),
            "closed_api",
        )
        out["hybrid"] = (
            f"With these inputs the router would send every request to one tier ({OPTION_LABELS[tier]}): "
            "it is that option, not a hybrid."
        )
    return out


def pricing_label(s: dict, row: pd.Series) -> str:
    """How the fleet's GPUs are paid for, as priced (owned where the data may not leave your premises; the
    on-demand price where the mode asked for lists none for that GPU), and whether its throughput is measured."""
    mode = row.self_pricing
    text = "owned" if mode == "owned" else f"{s['gpu_market']} {mode.replace('_', '-')}"
    if mode != s["gpu_pricing"]:
        text += " (the data may not leave your premises: GPUs you own)"
    if row.self_price_fallback:
        text += f" - no {mode.replace('_', '-')} price for {row.self_gpu_id}: its neocloud on-demand price used"
    if row.self_extrapolated:
        text += f"; throughput extrapolated (no cited measurement on {row.self_gpu_id})"
    return text


THROUGHPUT_NOTE = (
    "goodput at the latency targets from a roofline calibrated on cited measurements (data/throughput.csv)"
)
_SHARE = {"closed_api": "closed", "hosted_open": "hosted", "self_hosted_open": "self"}
# the options as named inside a sentence
NAMES = {
    "closed_api": "the closed API",
    "hosted_open": "renting open weights per token",
    "self_hosted_open": "self-hosting (own GPUs)",
    "hybrid": "the hybrid router",
}


def _warnings(s: dict, row: pd.Series, cat: Catalog) -> list[str]:
    out = []
    choice = row.choice
    if choice == "self_hosted_open" and not row.can_run_self_hosted:
        short = row.self_ops_fte - s["team_fte"]
        out.append(
            f"Running this fleet takes about {row.self_ops_fte:.1f} FTE and you have {s['team_fte']:g}: hire or "
            f"contract about {short:.1f} more before launch (their pay, "
            f"{money(short * s['fte_annual_cost_usd'] / 12)}/month, is already in the self-hosted cost)."
        )
    if choice == "self_hosted_open" and s["weeks_to_launch"] < cat.a("setup_weeks"):
        out.append(
            f"Self-hosting takes about {cat.a('setup_weeks'):.0f} engineer-weeks to reach production "
            f"(seed 002); you plan to launch in {s['weeks_to_launch']}."
        )
    if s["sensitivity"] in ("confidential", "regulated") and choice in ("closed_api", "hosted_open", "hybrid"):
        terms = terms_to_get(s, cat)
        out.append(
            f"{s['sensitivity'].capitalize()} data goes to an outside provider on the strength of your "
            f"{cat.residency['terms'][s['vendor_terms']]['label']}: this is allowed only under {terms} - check "
            "the contract covers every provider and endpoint you call, or keep that traffic on your own GPUs."
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
    if pd.isna(row.hosted_ref):
        out.append(f"No hosted price is known for open model '{row.open_id}': hosted open-weight is not an option.")
    stale = cat.stale_warning()
    if stale:
        out.append(stale)
    return out


def _vs(cost: float, other: float, tol: float) -> str:
    """Say how ``cost`` compares with ``other``: 'X less', 'X more' or 'about the same'."""
    if not (cheaper(cost, other, tol) or cheaper(other, cost, tol)):
        return f"about the same as {money(other)} (within {tol:.0%})"
    return f"{money(abs(other - cost))} {'less' if cost < other else 'more'} than {money(other)}"


def _reasons(s: dict, row: pd.Series, ax: dict, cat: Catalog) -> list[str]:
    """Return the reasons in order: the rule that decided, the costs it rests on (as shown), then the axes."""
    tol = cat.a("cost_tie_tolerance")
    c = allowed_costs(row)
    known = {o: v for o, v in c.items() if not pd.isna(v)}
    cheapest_o = min(known, key=lambda o: (known[o], OPTIONS.index(o)))
    choice, gate = row.choice, row.gate
    if gate == "stay_inside":
        why = why_inside(s, cat)
        reasons = [f"Self-hosted open weights are the only allowed option: {why[0].lower()}{why[1:]}"]
    elif gate == "high_steady_volume":
        reasons = [
            f"Volume is high (all-closed {money(c['closed_api'])}/month) and the data is {s['sensitivity']}: "
            f"{NAMES[choice]} costs {money(c[choice])}/month, {_vs(c[choice], c['closed_api'], tol)} on the "
            "closed API"
            + (
                (
                    f", and traffic is steady enough (peak/average {s['peak_to_average']:g}) to keep your GPUs busy."
                    if s["peak_to_average"] <= cat.a("steady_peak_to_average")
                    else f"; the GPUs are rented by the hour ({s['gpu_pricing'].replace('_', '-')}) and scale with the "
                    f"load, so the bill already follows the peaks (peak/average {s['peak_to_average']:g})."
                )
                if choice == "self_hosted_open"
                else " - renting per token bills only what you use, whatever the traffic's shape."
            )
        ]
    elif gate == "ship_fast":
        reasons = [
            f"You must ship within {s['weeks_to_launch']} weeks with {s['team_fte']:g} FTE of ML-ops (no platform "
            "team): start on a closed, managed API."
        ]
    elif gate == "frontier":
        if choice == "hybrid":
            reasons = [
                "You need the frontier edge on the hardest tasks: keep a closed frontier model in the mix, and "
                "route the rest."
            ]
        else:
            reasons = [
                "You need the frontier edge on the hardest tasks: a closed frontier model; a router, its "
                f"engineering included, would not cost less ({money(row.hybrid)}/month against {money(row.closed_api)})."
                if np.isfinite(row.hybrid)
                else "You need the frontier edge on the hardest tasks: a closed frontier model (a router is not "
                "allowed for this data)."
            ]
    else:
        lean, cut = row.weighted_lean, cat.a("lean_cut")
        head = (
            f"No checklist question gives a firm yes, so the five axes decide: their weighted mean lean is "
            f"{lean:+.2f} (-1 closed ... +1 open; beyond ±{cut:g} they point one way)"
        )
        if choice in ("hosted_open", "self_hosted_open") or (choice == "closed_api" and lean <= -cut):
            reasons = [head + "."]
        elif lean >= cut:
            reasons = [
                head + ", but no open option is one an operator would pick here: self-hosting costs "
                f"{money(row.self_hosted_open)}/month, more than {NAMES[cheapest_o]} ({money(known[cheapest_o])}), "
                + (
                    "with no control need to pay for it"
                    if row.lean_control <= 0
                    else f"a premium paid only by a team able to run the fleet and at most "
                    f"{cat.a('inside_premium'):.0%} over renting"
                )
                + ("" if row.allowed_hosted_open else ", and no hosted price is known")
                + f"; so a mix of needs decides: {NAMES[choice]}."
            ]
        else:
            reasons = [
                head
                + ": a mix of needs, so a hybrid router where it costs less than the closed API, else the closed API."
            ]
    if choice == "self_hosted_open":
        others = "; ".join(f"{NAMES[o]} {money(v)}" for o, v in known.items() if o != choice)
        line = f"Self-hosting ({row.self_gpus} x {row.self_gpu_id}) costs {money(c[choice])}/month"
        if not others:
            line += "; nothing else is allowed for this data."
        elif cheapest_o == choice:
            line += f", the cheapest allowed option ({others})."
        elif not cheaper(known[cheapest_o], c[choice], tol):
            line += f", within {tol:.0%} of {NAMES[cheapest_o]} ({money(known[cheapest_o])})."
        elif gate == "axes":
            line += (
                f", {_vs(c[choice], known[cheapest_o], tol)} for {NAMES[cheapest_o]}: the premium for keeping "
                "the data and the model in your own hands (control & residency leans open), which the weighted "
                "axes favour."
            )
        else:
            line += (
                f", {_vs(c[choice], known[cheapest_o], tol)} for {NAMES[cheapest_o]}; the "
                "checklist rule that decided compares open weights with the closed API alone."
            )
        reasons.append(line)
    if choice == "hosted_open":
        line = f"Renting the open model per token costs {money(c['hosted_open'])}/month"
        line += f", {_vs(c['hosted_open'], c['self_hosted_open'], tol)} for running your own GPUs"
        if cheaper(c["closed_api"], c["hosted_open"], tol):
            line += (
                f"; the closed API would cost {money(c['closed_api'])}, less, but the weighted axes lean to "
                "open weights here"
            )
        reasons.append(line + ".")
    if choice == "hybrid":
        bulk = OPTION_LABELS.get(row.hybrid_bulk_tier, "the closed model").lower()
        share = row.sensitive_share_used
        inside = f", the sensitive {share:.0%} to your own GPUs" if share else ""
        line = (
            f"Routing the hard {s['hard_share']:.0%} to the closed model{inside} and the rest to "
            f"{bulk} costs {money(c['hybrid'])}/month, {_vs(c['hybrid'], c['closed_api'], tol)} all-closed, "
            f"at about {row.hybrid_quality:.0%} of all-closed quality."
        )
        if cheapest_o != "hybrid" and cheaper(known[cheapest_o], c["hybrid"], tol):
            line += (
                f" {NAMES[cheapest_o][0].upper() + NAMES[cheapest_o][1:]} alone would cost "
                f"{money(known[cheapest_o])}, but the axes do not argue for that alone"
                + (" (the hard requests would lose the closed model)." if cheapest_o != "closed_api" else ".")
            )
        reasons.append(line)
    if choice == "closed_api":
        if cheapest_o != "closed_api" and cheaper(known[cheapest_o], c["closed_api"], tol):
            why = {
                "ship_fast": "seed 000's checklist starts a team without ML-ops on the closed API's mature SDKs, "
                "tools and support; revisit the saving once you have launched (see what would flip it)",
                "frontier": "the hardest tasks need the closed frontier model",
            }.get(gate, "the weighted axes put speed, capability and offloaded operations ahead of that saving")
            reasons.append(
                f"The closed API costs {money(c['closed_api'])}/month; {NAMES[cheapest_o]} would "
                f"cost {money(known[cheapest_o])}, {money(c['closed_api'] - known[cheapest_o])} less, but {why}."
            )
        else:
            reasons.append(
                f"The closed API costs {money(c['closed_api'])}/month, as little as any allowed option "
                f"(within {tol:.0%})."
            )
    # then the axes, strongest lean first, those that agree with the choice
    direction = {"closed_api": -1, "hybrid": 0}.get(choice, 1)
    ranked = sorted(ax.items(), key=lambda kv: -abs(kv[1]["lean"]))
    for name, a in ranked:
        if choice == "hosted_open" and name == "control" and a["lean"] > 0:
            continue  # the data leaves with hosted open weights: control does not argue for them
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
        }
    )


def open_choice(scenario: Scenario, cat: Catalog) -> dict[str, Any]:
    """How the open model was chosen: named by the scenario, or by ``open_model = auto`` the cheapest to serve
    of the models adequate for the quality need, with each one's GPU cost per 1,000 requests at full load."""
    s = scenario.to_dict()
    if s["open_model"] != "auto":
        return {"rule": "named", "candidates": {}}
    pick = cheapest_open(frame([scenario]), cat).iloc[0]
    tier = s["quality_need"]
    bar = cat.tiers[tier]["open_min_score"]
    short = (
        f"; no open model reaches it, so the best-scoring one is priced (open weights trail the closed "
        f"'{tier}' reference)"
        if cat.open_short_of_bar(tier)
        else ""
    )
    return {
        "rule": f"auto: the cheapest to serve on your GPUs of the open models scoring at least {bar:g} for "
        f"quality need '{tier}' (data/tiers.yaml, quality_score in data/open_models.csv){short}",
        "candidates": {m: number_or_none(x, 4) for m, x in pick.per_1k.items()},
    }


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
    costs_out = {o: number_or_none(v, 2) for o, v in allowed_costs(row).items()}
    lines = breakdown(row)
    result: Recommendation = {
        "choice": str(row.choice),
        "choice_label": OPTION_LABELS[row.choice],
        "confidence": None,
        "gate": str(row.gate),
        "reasons": _reasons(s, row, ax, cat),
        "warnings": _warnings(s, row, cat),
        "costs": costs_out,
        "not_allowed": not_allowed(s, row, cat),
        "weighted_lean": round(float(row.weighted_lean), 3),
        "breakdown": {o: (lines[o] if row[f"allowed_{o}"] else {}) for o in OPTIONS},
        "self_hosted": {
            "gpus": int(row.self_gpus),
            "replicas": int(row.self_replicas),
            "gpus_per_replica": int(row.self_gpus_per_replica),
            "gpu": str(row.self_gpu_id),
            "usd_per_gpu_hour": round(float(row.self_gpu_rate), 2),
            "requests_per_s_per_replica": round(float(row.self_rps_per_replica), 2),
            "average_utilisation": round(float(row.self_utilisation), 3),
            "ops_fte": round(float(row.self_ops_fte), 2),
            "pricing": pricing_label(s, row),
            "concurrency": int(row.self_concurrency),
            "ttft_ms": round(float(row.self_ttft_ms), 1),
            "tpot_ms": round(float(row.self_tpot_ms), 1),
            "meets_targets": bool(row.self_meets_targets),
            "gpu_hours": round(float(row.self_gpu_hours), 1),
            "owned_marginal_usd": number_or_none(row.self_owned_marginal, 2),
            "throughput": THROUGHPUT_NOTE,
        },
        "router": router_summary(row),
        "models": {
            "closed": row.closed_ref,
            "open": row.open_id,
            "open_choice": open_choice(scenario, cat),
            "hosted_price": None if pd.isna(row.hosted_ref) else row.hosted_ref,
            "hosted_market": {
                "rule": s["hosted_provider"],
                "offers": int(row.hosted_offers),
                "min_usd": number_or_none(row.hosted_min, 2),
                "median_usd": number_or_none(row.hosted_median, 2),
                "max_usd": number_or_none(row.hosted_max, 2),
            },
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
        "uncertainty": {},
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
    "high_steady_volume": "Is the volume high and not sensitive, and an open-weight option cheaper (your own GPUs "
    "only if the traffic is steady or they are rented by the hour and scale with it)?",
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
    g = _gates(df, c, allowed(c).to_numpy(float), cat)
    answers = {k: bool(v[0]) for k, v in g.items() if k in GATES}
    s = scenario.to_dict()
    closed = float(c.closed_api.iloc[0])
    yn = {True: "yes", False: "no"}
    need = cat.residency["levels"][s["sensitivity"]]["third_parties"]
    need_text = "never" if need == "never" else f"only under {cat.residency['terms'][need]['label']}"
    open_pick = str(g["open_pick"][0])
    evidence = {
        "stay_inside": f"data sensitivity: {s['sensitivity']} may reach an outside provider {need_text}; your "
        f"vendor terms: {cat.residency['terms'][s['vendor_terms']]['label']}; must run offline: "
        f"{yn[s['needs_offline']]}",
        "high_steady_volume": f"all-closed bill {money(closed)}/month (high means at least "
        f"{money(cat.a('high_spend_usd_month'))}); peak/average {s['peak_to_average']:g} "
        f"(steady means at most {cat.a('steady_peak_to_average'):g}; needed only for your own GPUs when reserved or "
        f"owned; yours are {s['gpu_pricing'].replace('_', '-')}); sensitivity "
        f"{s['sensitivity']} (must be public or internal); quality need {s['quality_need']} "
        f"(must not be frontier); cheapest open option {NAMES[open_pick]} "
        f"{money(g['open_cost'][0])} (must be more than {cat.a('cost_tie_tolerance'):.0%} below the closed API)",
        "ship_fast": f"launch in {s['weeks_to_launch']} weeks (within weeks means at most "
        f"{cat.a('ship_fast_weeks'):.0f}); ML-ops team {s['team_fte']:g} FTE (no team means under "
        f"{cat.a('no_team_below_fte'):g})",
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
    """Return choice, gate, axis leans and costs as input ``name`` takes each of ``values``, all else held.

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
