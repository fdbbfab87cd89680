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
from kit.cost import allowed, frame, gpu_pricing_as_priced
from kit.errors import DataError, ParamError, listing
from kit.fleet import scales
from kit.params import NOTEBOOK_SPEC, OPTIONS, Scenario, range_items
from kit.recommend import cheapest, decide
from kit.results import Recommendation
from kit.router import ACCURACY, blend

DRAWS = 10_000  # draws per scenario
TIME_WORLDS = 400  # of them, followed month by month over three years (36 engine rows each)
SEED = 20261127
PERCENTILES = (10, 50, 90)
MONTHLY = tuple(k for k, (engine, _) in UNCERTAIN.items() if engine != "time")  # what moves a monthly cost


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
            out[name] = check_range(name, *parts, where, cat.assumptions, data=False)
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
    measurement's uncertainty is carried into the plausible worlds: the ends are set so that the draws' 2.5th
    and 97.5th percentiles are the interval's ends (within 0 to 1)."""
    try:
        low, likely, high = (float(result[k]) for k in ("ci95_low", "accuracy", "ci95_high"))
    except (KeyError, TypeError, ValueError):
        raise ParamError(
            "accuracy", result, "kit.evaluate's summary(): accuracy, ci95_low and ci95_high, numbers from 0 to 1"
        ) from None
    if not 0 <= low <= likely <= high <= 1:
        raise ParamError("accuracy", result, "0 <= ci95_low <= accuracy <= ci95_high <= 1")
    stretch = 1 - np.sqrt(0.05)  # the two-piece triangle's 2.5th percentile lies this far from likely to low
    return max(0.0, likely - (likely - low) / stretch), likely, min(1.0, likely + (high - likely) / stretch)


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
    a_ce, a_ch, a_oe, a_oh = (np.asarray(values[k], float) for k in ACCURACY)
    opened = blend(a_oe, a_oh, h)
    return {"closed_api": blend(a_ce, a_ch, h), "hosted_open": opened, "self_hosted_open": opened}


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

    def __init__(
        self, values: dict[str, np.ndarray], volume: np.ndarray, token: Any = 1.0, gpu: Any = 1.0, gain: Any = 1.0
    ):
        self.values, self.volume = values, np.asarray(volume, float)
        self.n = len(self.volume)
        self.token, self.gpu, self.gain = (np.broadcast_to(np.asarray(x, float), (self.n,)) for x in (token, gpu, gain))


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
    draws["throughput"] = draws["throughput"] * np.concatenate([p.gain for p in parts])
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


def top_two(ok: np.ndarray, choice: int) -> tuple[int, int] | None:
    """The recommendation (``choice``, an OPTIONS index) and its challenger, the cheapest other allowed option,
    in one row of allowed costs; None where no other option is allowed."""
    others = [j for j in np.argsort(np.where(np.isnan(ok), np.inf, ok), kind="stable") if np.isfinite(ok[j])]
    others = [j for j in others if j != choice]
    return (int(choice), int(others[0])) if others and np.isfinite(ok[choice]) else None


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
    pair = top_two(ok[0], OPTIONS.index(str(d.choice.iloc[0])))
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
    sign = np.sign(gap[0])
    out["flips"] = ((np.sign(out.gap_low) != sign) | (np.sign(out.gap_high) != sign)).to_numpy()
    return out.sort_values(["swing", "input"], ascending=[False, True], kind="stable").reset_index(drop=True)[
        TORNADO_COLUMNS
    ]


def tornado(scenario: Scenario, cat: Catalog | None = None, overrides: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """What the answer hangs on: each monthly input swung alone to its low and its high (the rest at their likely
    values), with the cost gap between the recommendation (``first``) and its challenger, the cheapest other
    allowed option (``second``): second minus first, so positive where the recommendation costs less, at the
    likely values and at each end. Ranked by the swing, how far the input moves that gap; ``flips`` where an end
    changes the gap's sign. Inputs whose range is a single value are left out. Empty where no other option is
    allowed."""
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


def _time_part(
    scenario: Scenario, rs: Mapping[str, tuple[float, ...]], years: Any, cat: Catalog, values: Any = None
) -> Part:
    """Month by month over ``years``, for each world of ``values`` (default: the likely one alone; each input one
    value per world): the volume grown by ``volume_growth`` a year; per-token prices fallen by
    ``api_price_decline``, and the self-hosted fleet's goodput grown as much (the same curve: newer open models
    and serving stacks a team moves to, as API buyers move to cheaper models); and GPU $/hour fallen by
    ``gpu_price_decline`` where the GPUs are rented by the hour (spot, on demand), not where they are reserved
    or owned. Rows world by world, month by month."""
    if isinstance(years, bool) or years not in (1, 2, 3):
        raise ParamError("years", years, "1, 2 or 3")
    values = {k: np.array([rs[k][1]]) for k in UNCERTAIN} if values is None else values
    worlds, months = len(values["volume_growth"]), 12 * int(years)
    t = np.tile(np.arange(months) / 12, worlds)

    def yearly(name: str) -> np.ndarray:
        return np.repeat(np.asarray(values[name], float), months)

    rented = bool(scales(gpu_pricing_as_priced(frame([scenario]), cat))[0])
    volume = float(scenario["monthly_requests"]) * (1 + yearly("volume_growth")) ** t
    api = (1 - yearly("api_price_decline")) ** t
    gpu = (1 - yearly("gpu_price_decline")) ** t if rented else np.ones_like(t)
    per_row = {k: np.repeat(np.asarray(v, float), months) for k, v in values.items()}
    return Part(per_row, volume, token=api, gpu=gpu, gain=1 / api)


def _cumulative(d: pd.DataFrame, cat: Catalog, shape: tuple[int, int]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each option's monthly cost and cumulative cost as (worlds, months) arrays, one-off engineering paid in
    full when first needed (the monthly figure spreads it over ``amortise_months``); NaN where not allowed."""
    ok = allowed(d)
    one_off = {"self_hosted_open": d.self_setup_amortised, "hybrid": d.hybrid_setup_amortised}
    out = {}
    for o in OPTIONS:
        cost = ok[o].to_numpy(float).reshape(shape)
        if o in one_off:
            amortised = np.nan_to_num(one_off[o].to_numpy(float)).reshape(shape)
            paid = np.diff(np.maximum.accumulate(amortised, axis=1), axis=1, prepend=0.0) * cat.a("amortise_months")
            out[o] = (cost, np.cumsum(cost - amortised + paid, axis=1))
        else:
            out[o] = (cost, np.cumsum(cost, axis=1))
    return out


def _read_time(d: pd.DataFrame, part: Part, cat: Catalog) -> pd.DataFrame:
    out = pd.DataFrame({"month": np.arange(1, part.n + 1), "monthly_requests": part.volume})
    for o, (cost, cum) in _cumulative(d, cat, (1, part.n)).items():
        out[o], out[f"cum_{o}"] = cost[0], cum[0]
    return out


def _read_time_worlds(d: pd.DataFrame, part: Part, worlds: int, cat: Catalog) -> dict[str, Any]:
    """Over the drawn worlds: the share in which self-hosting pays back its setup within the horizon and in which
    it is still ahead at the end, and p10 / p50 / p90 of each option's cumulative cost at the end."""
    months = part.n // worlds
    cum = {o: c for o, (_, c) in _cumulative(d, cat, (worlds, months)).items()}
    own = cum["self_hosted_open"]
    others = [o for o in OPTIONS if o != "self_hosted_open" and np.isfinite(cum[o]).any()]
    out: dict[str, Any] = {"worlds": worlds, "months": months, "p_pays_back": None, "p_ahead_at_end": None}
    if np.isfinite(own).any() and others:
        # in each world, the cheapest other option allowed there (an option not allowed in a world is no rival)
        best = np.fmin.reduce([np.where(np.isfinite(cum[o]), cum[o], np.inf) for o in others])
        out["p_pays_back"] = float(np.mean((own <= best).any(axis=1)))
        out["p_ahead_at_end"] = float(np.mean(own[:, -1] <= best[:, -1]))
    out["cumulative"] = {o: _bands(cum[o][:, -1]) for o in OPTIONS if np.isfinite(cum[o][:, -1]).any()}
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
    part = _time_part(scenario, rs, years, cat)
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
    top three drivers of the tornado, the three-year view at the likely rates (payback month, cumulative costs)
    and over ``TIME_WORLDS`` of the drawn worlds, each with its own yearly rates (``time_worlds``: how often
    self-hosting pays back, p10 / p50 / p90 of each option's three-year cost). Its ``tornado`` and ``time``
    entries are the two tables, for charts (not JSON: ``plain_summary`` drops them)."""
    cat = cat or load_catalog()
    rs = ranges(cat, overrides)
    mc, (tor, names), view = (
        _mc_part(scenario, rs, n, seed),
        _tornado_part(scenario, rs),
        _time_part(scenario, rs, 3, cat),
    )
    worlds = min(TIME_WORLDS, n)
    many = _time_part(scenario, rs, 3, cat, sample(rs, worlds, seed))  # the first draws of the same worlds
    d_mc, d_tor, d_time, d_many = _run(scenario, cat, rs, [mc, tor, view, many])
    out = _read_mc(d_mc, mc, scenario, choice, rs, seed)
    table, time_view = _read_tornado(d_tor, names, rs, cat), _read_time(d_time, view, cat)
    by_year = {  # each option's cumulative cost after one, two and three years (None: not allowed)
        y: {o: _usd(time_view[f"cum_{o}"].iloc[12 * y - 1]) for o in OPTIONS} for y in (1, 2, 3)
    }
    return {
        **out,
        "drivers": drivers(table),
        "payback": payback(time_view),
        "three_years": by_year[3],
        "cumulative_by_year": by_year,
        "time_worlds": _read_time_worlds(d_many, many, worlds, cat),
        "note": f"{out['holds']:.0%} of {out['draws']:,} plausible worlds give this answer (draws over the ranges of "
        f"data/uncertainty.yaml, seed {seed}): a probability under those ranges, not a guarantee",
        "tornado": table,
        "time": time_view,
    }


def _usd(x: float) -> float | None:
    return round(float(x), 2) if np.isfinite(x) else None


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
