"""How sure the answer is: ranges on what is uncertain, a seeded Monte Carlo through the engine, what the answer
hangs on (a tornado), the answer over one to three years, and cost per correct answer.

Every draw is a row of ``kit.recommend.decide`` with its ``draws`` (see ``kit.cost.price``): the same engine
that gives the deterministic answer prices every plausible world, so there is no second cost model. With every
range collapsed to its likely value, the draws reproduce the deterministic costs exactly.

Ranges live in data/uncertainty.yaml (low, likely, high, source). Each input is drawn on its own from a
two-piece triangle: half the draws between low and likely, half between likely and high, each piece peaking
at the likely value, so the likely value is the median. One uniform column per input, in the file's order,
from ``numpy.random.default_rng(seed)``: the same seed gives the same numbers on every machine, and changing
one input's range leaves every other input's draws as they were.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from kit.catalog import RANGE_FIELDS, UNCERTAIN, Catalog, check_range, load_catalog
from kit.cost import allowed
from kit.errors import DataError, ParamError, listing
from kit.params import NOTEBOOK_SPEC, OPTIONS, Scenario, range_items
from kit.recommend import cheapest, decide
from kit.results import Recommendation

DRAWS = 10_000  # draws per scenario
SEED = 20261127
PERCENTILES = (10, 50, 90)
MONTHLY = tuple(k for k, (engine, _) in UNCERTAIN.items() if engine != "time")  # what moves a monthly cost
OPEN_OPTIONS = ("hosted_open", "self_hosted_open")  # the options the open model answers


def ranges(cat: Catalog | None = None, overrides: Mapping[str, Any] | None = None) -> dict[str, tuple[float, ...]]:
    """Return every uncertain input's (low, likely, high): data/uncertainty.yaml's, with ``overrides`` (name ->
    (low, likely, high), a 'low:likely:high' string, or one number) in their place: a likely value other than
    the data's moves the plausible worlds, not the deterministic answer. A bad override raises ParamError naming
    it, the value and what is allowed."""
    cat = cat or load_catalog()
    out = {k: tuple(float(v[f]) for f in RANGE_FIELDS) for k, v in cat.uncertainty.items()}
    for name, value in (overrides or {}).items():
        where = f"ranges['{name}']"
        if name not in UNCERTAIN:
            raise ParamError(where, value, f"one of {listing(UNCERTAIN, most=20)}")
        parts = value.split(":") if isinstance(value, str) else value
        if isinstance(parts, (int, float)) and not isinstance(parts, bool):
            parts = (parts, parts, parts)  # one number: that value, no uncertainty
        if not isinstance(parts, (list, tuple)) or len(parts) != 3:
            raise ParamError(where, value, "three numbers low, likely, high (or 'low:likely:high', or one number)")
        try:
            out[name] = check_range(name, *parts, where, cat.assumptions)
        except DataError as exc:
            raise ParamError(where, value, str(exc).split("allowed: ", 1)[-1]) from None
    return out


def parse_ranges(items: str | Sequence[str], context: str = "") -> dict[str, tuple[float, float, float]]:
    """Read 'NAME=LOW:LIKELY:HIGH' items (a list, or one text separated by commas; NAME=VALUE holds an input at
    VALUE; 'none' or no item: none) as overrides for ``ranges``, checked by the ``ranges`` parameter of the spec
    (the same check for the CLI's --range, the notebooks and papermill); ``ranges`` then checks the values."""
    text = items if isinstance(items, str) else ", ".join(items) or "none"
    return range_items(NOTEBOOK_SPEC["ranges"].coerce(text, context))


def measured(result: Mapping[str, Any]) -> tuple[float, float, float]:
    """An accuracy measured with ``kit.evaluate`` (its ``summary()``: ``accuracy`` and the 95% Wilson interval
    ``ci95_low`` - ``ci95_high``) as a range (low, likely, high) for an ``accuracy_*`` input, so the
    measurement's uncertainty is carried into the plausible worlds."""
    try:
        low, likely, high = (float(result[k]) for k in ("ci95_low", "accuracy", "ci95_high"))
    except (KeyError, TypeError, ValueError):
        raise ParamError(
            "accuracy", result, "kit.evaluate's summary(): accuracy, ci95_low and ci95_high, numbers from 0 to 1"
        ) from None
    if not 0 <= low <= likely <= high <= 1:
        raise ParamError("accuracy", result, "0 <= ci95_low <= accuracy <= ci95_high <= 1")
    return low, likely, high


def collapsed(cat: Catalog | None = None) -> dict[str, tuple[float, float, float]]:
    """Every range collapsed to its likely value: the deterministic answer's world."""
    return {k: (mid, mid, mid) for k, (_, mid, _) in ranges(cat).items()}


def quantile(u: np.ndarray, low: float, likely: float, high: float) -> np.ndarray:
    """The two-piece triangle's value at probability ``u``: below 0.5 between low and likely, above between
    likely and high (exactly the likely value where low = likely = high)."""
    u = np.asarray(u, float)
    below = likely - (likely - low) * (1 - np.sqrt(2 * np.minimum(u, 0.5)))
    above = likely + (high - likely) * (1 - np.sqrt(2 * (1 - np.maximum(u, 0.5))))
    return np.where(u < 0.5, below, above)


def sample(rs: Mapping[str, tuple[float, ...]], n: int = DRAWS, seed: int = SEED) -> dict[str, np.ndarray]:
    """Draw ``n`` values of every input of UNCERTAIN (one uniform column each, in UNCERTAIN's order)."""
    u = np.random.default_rng(seed).random((n, len(UNCERTAIN)))
    return {k: quantile(u[:, j], *rs[k]) for j, k in enumerate(UNCERTAIN)}


def engine_draws(values: Mapping[str, np.ndarray], cat: Catalog) -> dict[str, np.ndarray]:
    """The draws as the engine reads them (``kit.cost.price``): factors and positions as drawn, a shift as the
    draw less the value the deterministic answer uses (data/uncertainty.yaml's likely value, that of its
    assumption), values as drawn; the time inputs are left out."""
    out = {}
    for k, v in values.items():
        engine = UNCERTAIN[k][0]
        if engine == "shift":
            out[k] = v - cat.uncertainty[k]["likely"]
        elif engine != "time":
            out[k] = v
    return out


def accuracy(values: Mapping[str, Any], hard_share: Any) -> dict[str, np.ndarray]:
    """Each option's accuracy (share of requests answered correctly) for a hard share of traffic: the closed
    model's and the open model's, easy and hard work weighted by the hard share (the hybrid's comes from the
    router, ``kit.router.simulate``)."""
    h = np.asarray(hard_share, float)

    def mix(easy: str, hard: str) -> np.ndarray:
        return (1 - h) * np.asarray(values[easy], float) + h * np.asarray(values[hard], float)

    closed, opened = (
        mix("accuracy_closed_easy", "accuracy_closed_hard"),
        mix("accuracy_open_easy", "accuracy_open_hard"),
    )
    return {"closed_api": closed, "hosted_open": opened, "self_hosted_open": opened}


def _frame(scenario: Scenario, n: int) -> pd.DataFrame:
    """``n`` copies of one scenario as engine rows."""
    row = pd.DataFrame([scenario.to_dict()])
    return row.iloc[np.zeros(n, dtype=int)].reset_index(drop=True)


def _bands(x: np.ndarray) -> dict[str, float | None]:
    """p10 / p50 / p90 of one option's draws (None where it is not allowed in any)."""
    x = x[np.isfinite(x)]
    if not len(x):
        return {f"p{p}": None for p in PERCENTILES}
    return {f"p{p}": float(v) for p, v in zip(PERCENTILES, np.percentile(x, PERCENTILES))}


class Part:
    """A block of engine rows for one scenario: each input's value per row (``values``, every key of UNCERTAIN),
    the volume of each row and the time view's price factors."""

    def __init__(self, values: dict[str, np.ndarray], volume: np.ndarray, token: Any = 1.0, gpu: Any = 1.0):
        self.values, self.volume = values, np.asarray(volume, float)
        self.n = len(self.volume)
        self.token, self.gpu = np.broadcast_to(token, (self.n,)), np.broadcast_to(gpu, (self.n,))


def _likely(rs: Mapping[str, tuple[float, ...]], n: int) -> dict[str, np.ndarray]:
    return {k: np.full(n, rs[k][1]) for k in UNCERTAIN}


def _run(
    scenario: Scenario, cat: Catalog, rs: Mapping[str, tuple[float, ...]], parts: list[Part]
) -> list[pd.DataFrame]:
    """Decide every part's rows in one engine call (the engine's fixed cost is paid once) and return each part's
    rows of ``decide``."""
    n = sum(p.n for p in parts)
    df = _frame(scenario, n).assign(monthly_requests=np.concatenate([p.volume for p in parts]))
    values = {k: np.concatenate([p.values[k] for p in parts]) for k in UNCERTAIN}
    draws = engine_draws(values, cat) | {
        "token_price": np.concatenate([p.token for p in parts]),
        "gpu_rate": np.concatenate([p.gpu for p in parts]),
    }
    d = decide(df, cat, draws=draws)
    edges = np.cumsum([0] + [p.n for p in parts])
    return [d.iloc[a:b].reset_index(drop=True) for a, b in zip(edges[:-1], edges[1:])]


def _mc_part(scenario: Scenario, rs: Mapping[str, tuple[float, ...]], n: int, seed: int) -> Part:
    """The likely world, then ``n`` drawn ones."""
    drawn = sample(rs, n, seed)
    values = {k: np.concatenate([[rs[k][1]], drawn[k]]) for k in UNCERTAIN}
    return Part(values, np.full(n + 1, float(scenario["monthly_requests"])))


def _read_mc(d: pd.DataFrame, part: Part, scenario: Scenario, choice: str | None, rs, seed: int) -> dict[str, Any]:
    likely, d = d.iloc[0], d.iloc[1:]
    values = {k: v[1:] for k, v in part.values.items()}
    n = len(d)
    choice = str(likely.choice) if choice is None else choice
    ok = allowed(d).to_numpy(float)
    allowed_any = ~np.isnan(ok).all(axis=0)
    first = cheapest(ok, np.ones_like(ok, bool), 0.0)  # the cheapest allowed option of each draw (-1: none)
    chosen = d.choice.to_numpy(object)
    acc = accuracy(values, scenario["hard_share"])
    acc["hybrid"] = d.hybrid_accuracy.to_numpy(float)
    volume = float(scenario["monthly_requests"])
    return {
        "choice": choice,
        "holds": float(np.mean(chosen == choice)),
        "p_cheapest": {o: float(np.mean(first == j)) for j, o in enumerate(OPTIONS) if allowed_any[j]},
        "p_chosen": {o: float(np.mean(chosen == o)) for o in OPTIONS if np.any(chosen == o)},
        "monthly": {o: _bands(ok[:, j]) for j, o in enumerate(OPTIONS) if allowed_any[j]},
        "per_correct": {
            o: _bands(ok[:, j] / np.maximum(volume * acc[o], 1e-300) * 1000)
            for j, o in enumerate(OPTIONS)
            if allowed_any[j]
        },
        "ranges": {k: list(v) for k, v in rs.items()},
        "seed": seed,
        "draws": n,
    }


def monte_carlo(
    scenario: Scenario,
    cat: Catalog | None = None,
    n: int = DRAWS,
    seed: int = SEED,
    overrides: Mapping[str, Any] | None = None,
    choice: str | None = None,
) -> dict[str, Any]:
    """Run ``n`` plausible worlds of one scenario through the engine and say how sure its answer is.

    Returns: ``holds`` (the share of draws whose recommendation is ``choice``, default the deterministic one),
    ``p_cheapest`` (per allowed option, the share of draws in which it is the cheapest allowed option; they sum
    to 1; a tie goes to the first in OPTIONS), ``p_chosen`` (the share each option is recommended), ``monthly``
    and ``per_correct`` (p10 / p50 / p90 of the monthly cost and of USD per 1,000 correct answers, per allowed
    option), the ranges used, the seed and the number of draws. The choice itself comes from the whole engine
    (gates, axes and costs), so a draw can change it only through what the ranges move.
    """
    cat = cat or load_catalog()
    rs = ranges(cat, overrides)
    part = _mc_part(scenario, rs, n, seed)
    return _read_mc(_run(scenario, cat, rs, [part])[0], part, scenario, choice, rs, seed)


def top_two(ok: np.ndarray) -> tuple[int, int] | None:
    """The two cheapest allowed options of one row of allowed costs (OPTIONS indices), or None if fewer."""
    order = [j for j in np.argsort(np.where(np.isnan(ok), np.inf, ok), kind="stable") if np.isfinite(ok[j])]
    return (int(order[0]), int(order[1])) if len(order) >= 2 else None


TORNADO_COLUMNS = ["input", "label", "low", "likely", "high", "gap_low", "gap_high", "gap", "swing", "flips",
                   "first", "second", "unit", "source"]  # fmt: skip


def _tornado_part(scenario: Scenario, rs: Mapping[str, tuple[float, ...]]) -> tuple[Part, list[str]]:
    """The likely world, then each monthly input with a range at its low and at its high."""
    names = [k for k in MONTHLY if rs[k][0] < rs[k][2]]
    values = _likely(rs, 1 + 2 * len(names))
    for i, k in enumerate(names):
        values[k][1 + 2 * i], values[k][2 + 2 * i] = rs[k][0], rs[k][2]
    return Part(values, np.full(1 + 2 * len(names), float(scenario["monthly_requests"]))), names


def _read_tornado(d: pd.DataFrame, names: list[str], rs, cat: Catalog) -> pd.DataFrame:
    ok = allowed(d).to_numpy(float)
    pair = top_two(ok[0])
    if pair is None or not names:
        return pd.DataFrame(columns=TORNADO_COLUMNS)
    a, b = pair
    gap = ok[:, b] - ok[:, a]
    meta = cat.uncertainty
    out = pd.DataFrame(
        {
            "input": names,
            "label": [meta[k]["label"] for k in names],
            "low": [rs[k][0] for k in names],
            "likely": [rs[k][1] for k in names],
            "high": [rs[k][2] for k in names],
            "gap_low": gap[1::2],
            "gap_high": gap[2::2],
            "gap": gap[0],
            "first": OPTIONS[a],
            "second": OPTIONS[b],
            "unit": [meta[k]["unit"] for k in names],
            "source": [meta[k]["source"] for k in names],
        }
    )
    out["swing"] = (out.gap_high - out.gap_low).abs()
    out["flips"] = (np.fmin(out.gap_low, out.gap_high) < 0).to_numpy()
    return out.sort_values(["swing", "input"], ascending=[False, True], kind="stable").reset_index(drop=True)[
        TORNADO_COLUMNS
    ]


def tornado(scenario: Scenario, cat: Catalog | None = None, overrides: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """What the answer hangs on: each monthly input swung alone to its low and its high (the rest at their likely
    values), with the cost gap between the two cheapest allowed options at the likely values (second minus
    first) at each end. Ranked by the swing, how far the input moves that gap; ``flips`` where an end reverses
    the order of the two. Inputs whose range is a single value are left out. Empty where fewer than two options
    are allowed."""
    cat = cat or load_catalog()
    rs = ranges(cat, overrides)
    part, names = _tornado_part(scenario, rs)
    return _read_tornado(_run(scenario, cat, rs, [part])[0], names, rs, cat)


def drivers(table: pd.DataFrame, most: int = 3) -> list[dict[str, Any]]:
    """The top of a tornado as plain data: the inputs that move the gap, with their ranges and the gap at each end."""
    rows = table[table.swing > 0].head(most)
    return [
        {
            "input": r.input,
            "label": r.label,
            "low": r.low,
            "likely": r.likely,
            "high": r.high,
            "gap_usd": round(float(r.gap), 2),
            "gap_at_low_usd": round(float(r.gap_low), 2),
            "gap_at_high_usd": round(float(r.gap_high), 2),
            "flips": bool(r.flips),
            "between": [r.first, r.second],
        }  # fmt: skip
        for r in rows.itertuples()
    ]


def _time_part(scenario: Scenario, rs: Mapping[str, tuple[float, ...]], years: Any) -> Part:
    """Month by month over ``years``: the volume grown and the prices fallen by their likely yearly rates."""
    if isinstance(years, bool) or years not in (1, 2, 3):
        raise ParamError("years", years, "1, 2 or 3")
    growth, api_fall, gpu_fall = (rs[k][1] for k in ("volume_growth", "api_price_decline", "gpu_price_decline"))
    t = np.arange(12 * int(years)) / 12
    volume = float(scenario["monthly_requests"]) * (1 + growth) ** t
    return Part(_likely(rs, len(t)), volume, token=(1 - api_fall) ** t, gpu=(1 - gpu_fall) ** t)


def _read_time(d: pd.DataFrame, part: Part, cat: Catalog) -> pd.DataFrame:
    ok = allowed(d)
    out = pd.DataFrame({"month": np.arange(1, part.n + 1), "monthly_requests": part.volume})
    spread = cat.a("amortise_months")
    one_off = {
        "self_hosted_open": d.self_setup_amortised.to_numpy(float),
        "hybrid": d.hybrid_setup_amortised.to_numpy(float),
    }
    for o in OPTIONS:
        cost = ok[o].to_numpy(float)
        out[o] = cost
        if o in one_off:
            amortised = np.nan_to_num(one_off[o])
            # pay each one-off once, in full, when first needed (the monthly figure spreads it instead)
            paid = np.diff(np.maximum.accumulate(amortised), prepend=0.0) * spread
            out[f"cum_{o}"] = np.cumsum(cost - amortised + paid)
        else:
            out[f"cum_{o}"] = np.cumsum(cost)
    return out


def over_time(
    scenario: Scenario, cat: Catalog | None = None, years: int = 3, overrides: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """The answer over ``years`` (1, 2 or 3): month by month, each allowed option's cost as volume grows by
    ``volume_growth`` a year and per-token and GPU prices fall by ``api_price_decline`` and
    ``gpu_price_decline`` a year (their likely values), and the cumulative cost (``cum_<option>``) with one-off
    engineering paid up front instead of spread over ``amortise_months`` (self-hosting's setup; a hybrid's
    router and its fleets' setup). NaN where an option is not allowed."""
    cat = cat or load_catalog()
    rs = ranges(cat, overrides)
    part = _time_part(scenario, rs, years)
    return _read_time(_run(scenario, cat, rs, [part])[0], part, cat)


def payback(view: pd.DataFrame) -> dict[str, Any]:
    """When self-hosting's setup pays back over a time view (``over_time``): ``month``, the first month its
    cumulative cost (setup paid up front) is at or below every other allowed option's (None: never within the
    horizon); ``ahead_at_end``, whether it still is at the last month; ``against``, the option cheapest at the
    end when self-hosting is not; ``why`` when there is nothing to compare."""
    cum = {o: view[f"cum_{o}"].to_numpy(float) for o in OPTIONS}
    own = cum["self_hosted_open"]
    others = [o for o in OPTIONS if o != "self_hosted_open" and np.isfinite(cum[o]).all()]
    horizon = int(view.month.iloc[-1])
    out: dict[str, Any] = {"month": None, "horizon_months": horizon, "ahead_at_end": False, "against": None, "why": ""}
    if not np.isfinite(own).all() or not others:
        out["why"] = "self-hosting is not allowed" if not np.isfinite(own).all() else "no other option is allowed"
        return out
    best = np.min([cum[o] for o in others], axis=0)
    below = np.flatnonzero(own <= best)
    out["month"] = int(view.month.iloc[below[0]]) if len(below) else None
    out["ahead_at_end"] = bool(own[-1] <= best[-1])
    if not out["ahead_at_end"]:
        out["against"] = min(others, key=lambda o: cum[o][-1])
    return out


def summary(
    scenario: Scenario,
    cat: Catalog | None = None,
    n: int = DRAWS,
    seed: int = SEED,
    overrides: Mapping[str, Any] | None = None,
    choice: str | None = None,
) -> dict[str, Any]:
    """The ``uncertainty`` block of a recommendation, from one engine call: the Monte Carlo (``monte_carlo``), the
    top three drivers of the tornado, and the three-year view's payback month and cumulative costs. Its
    ``tornado`` and ``time`` entries are the two tables, for charts (not JSON: ``plain_summary`` drops them)."""
    cat = cat or load_catalog()
    rs = ranges(cat, overrides)
    mc, (tor, names), view = _mc_part(scenario, rs, n, seed), _tornado_part(scenario, rs), _time_part(scenario, rs, 3)
    d_mc, d_tor, d_time = _run(scenario, cat, rs, [mc, tor, view])
    out = _read_mc(d_mc, mc, scenario, choice, rs, seed)
    table, time_view = _read_tornado(d_tor, names, rs, cat), _read_time(d_time, view, cat)
    return {
        **out,
        "drivers": drivers(table),
        "payback": payback(time_view),
        "three_years": {
            o: (
                None
                if not np.isfinite(time_view[f"cum_{o}"].iloc[-1])
                else round(float(time_view[f"cum_{o}"].iloc[-1]), 2)
            )
            for o in OPTIONS
        },
        "note": f"{out['holds']:.0%} of {out['draws']:,} plausible worlds give this answer (draws over the ranges of "
        f"data/uncertainty.yaml, seed {seed}): a probability under those ranges, not a guarantee",
        "tornado": table,
        "time": time_view,
    }


def plain_summary(block: Mapping[str, Any]) -> dict[str, Any]:
    """``summary`` without its tables: JSON-ready."""
    return {k: v for k, v in block.items() if k not in ("tornado", "time")}


def _rounded(x: Any) -> Any:
    """Numbers rounded for JSON (USD to the cent, shares to 4 places)."""
    if isinstance(x, dict):
        return {k: _rounded(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_rounded(v) for v in x]
    if isinstance(x, (float, np.floating)):
        return round(float(x), 4 if abs(x) < 10 else 2)
    return x


def assess(
    result: Recommendation,
    scenario: Scenario,
    cat: Catalog | None = None,
    block: Mapping[str, Any] | None = None,
    n: int = DRAWS,
    seed: int = SEED,
    overrides: Mapping[str, Any] | None = None,
) -> Recommendation:
    """Return a recommendation with how sure it is: ``confidence``, the share of plausible worlds that give its
    choice, and the ``uncertainty`` block (``summary``, JSON-ready). ``block``: a ``summary`` already worked out
    for this scenario and choice."""
    block = block if block is not None else summary(scenario, cat, n, seed, overrides, result["choice"])
    return {**result, "confidence": round(float(block["holds"]), 4), "uncertainty": _rounded(plain_summary(block))}
