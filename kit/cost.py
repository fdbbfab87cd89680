"""Monthly cost of each option with its breakdown, vectorised over many scenarios."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from kit.catalog import Catalog, check_models, distinct_rows, labels, load_catalog, lookup
from kit.fleet import AUTOSCALED, COMBO_KEYS, factors, min_replicas, plan, self_hosted_fleet
from kit.fmt import number_or_none
from kit.params import DEFAULTS, OPTIONS, PARAMS, Scenario
from kit.residency import on_premises, outside_allowed, sensitive_share, why_inside
from kit.router import simulate

VOLUME = "monthly_requests"
HOSTED_RULES = (
    "median",
    "cheapest",
    "priciest",
)  # hosted_provider values that pick by price, not by name  # the one scenario column the engine prices row by row


def frame(scenarios: Iterable[Scenario | Mapping[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    """Return scenarios as a DataFrame with one column per parameter."""
    if isinstance(scenarios, pd.DataFrame):
        df = scenarios.copy()
        for p in PARAMS:
            if p.name not in df:
                df[p.name] = [p.default] * len(df)
        return df.reset_index(drop=True)
    rows = [s.to_dict() if isinstance(s, Scenario) else {**DEFAULTS, **s} for s in scenarios]
    return pd.DataFrame(rows, columns=[p.name for p in PARAMS])


def resolve_models(df: pd.DataFrame, cat: Catalog) -> pd.DataFrame:
    """Fill 'auto' model choices and check the named models exist: the closed model of tiers.yaml, and the
    open model ``cheapest_open`` picks for the quality need."""
    quality = df.quality_need.to_numpy(object)
    closed = np.where(
        df.closed_model.to_numpy(object) == "auto", lookup(quality, {q: t["closed"] for q, t in cat.tiers.items()}, object),
        df.closed_model.to_numpy(object),
    )  # fmt: skip
    opened = df.open_model.to_numpy(object).copy()
    auto = opened == "auto"
    if auto.any():
        opened[auto] = cheapest_open(df[auto], cat).chosen.to_numpy(object)
    check_models(closed, opened, cat)
    return df.assign(closed_ref=closed, open_id=opened)


# the scenario columns the choice of an open model reads (those of the fleet's replica shapes, and what
# decides its reasoning tokens and whether its GPUs must be owned)
CHOICE_KEYS = [k for k in COMBO_KEYS if k != "open_id"] + [
    "quality_need",
    "sensitivity",
    "needs_offline",
    "reasoning_tokens",
    "hosted_provider",
]


def open_pool(row: Any, cat: Catalog, context: dict[str, float], served: dict[str, set]) -> tuple[str, ...]:
    """The open models ``open_model = auto`` chooses among for one scenario: those adequate for its quality need
    (``Catalog.adequate_open``) whose context window (``context``: model -> tokens) holds its input and output,
    and, where it names a hosted provider (``served``: provider -> the models it serves), those that provider
    serves (each only if some model is left)."""
    pool = cat.adequate_open[row.quality_need]
    fits = tuple(m for m in pool if context[m] >= row.input_tokens + row.output_tokens)
    pool = fits or pool
    return tuple(m for m in pool if m in served.get(row.hosted_provider, ())) or pool


def self_frame(df: pd.DataFrame, cat: Catalog) -> pd.DataFrame:
    """The resolved scenario rows as a self-hosted fleet serves them. Your own GPUs generate every token you
    would be billed for, hidden reasoning included (where the open model reasons: a provider of it flags
    reasoning), and you pay for GPUs your data may use: where it may not leave your premises at all, GPUs you
    own, not rented ones."""
    return df.assign(
        output_tokens=df.output_tokens.to_numpy(float) + df.reasoning_tokens.to_numpy(float) * reasoning_open(df, cat),
        gpu_pricing=gpu_pricing_as_priced(df, cat),
    )


def cheapest_open(df: pd.DataFrame, cat: Catalog) -> pd.DataFrame:
    """For ``open_model = auto``: of the open models adequate for each row's quality need
    (``Catalog.adequate_open``), the one cheapest to serve on your GPUs at full load - the GPU cost per request
    of its best replica shape at the latency targets (shapes that meet them first), a figure that does not
    depend on volume, so the choice does not flip along a volume sweep. A model the named GPU (if any) can hold
    comes first, then one served within the targets; ties go to the better-scoring model.

    Returns, per row of ``df``: ``chosen`` and, as a dict model -> USD per 1,000 requests, ``per_1k``.
    """
    row_of, first = distinct_rows(df, CHOICE_KEYS)
    distinct = df.iloc[first].reset_index(drop=True)
    if len(distinct) > REMEMBERED:
        chosen, per_1k = _cheapest_open(distinct, cat)
    else:  # a few scenarios, as in the app, a recommendation or its plausible worlds: remembered
        key = (cat, tuple(tuple(r) for r in distinct[CHOICE_KEYS].itertuples(index=False)))
        if key not in _PICKS:
            if len(_PICKS) >= 256:
                _PICKS.clear()
            _PICKS[key] = _cheapest_open(distinct, cat)
        chosen, remembered = _PICKS[key]
        per_1k = [dict(d) for d in remembered]  # the caller's own copies
    return pd.DataFrame({"chosen": np.asarray(chosen, dtype=object)[row_of], "per_1k": np.asarray(per_1k)[row_of]})


# Picks already made, by catalog and the distinct scenarios' CHOICE_KEYS (the pick depends on nothing else, and
# the catalog is immutable): a recommendation asks for the same pick several times. Calls with more than
# REMEMBERED distinct scenarios (sweeps) are not remembered.
REMEMBERED = 64
_PICKS: dict[tuple, tuple[list[str], list[dict]]] = {}


def _cheapest_open(distinct: pd.DataFrame, cat: Catalog) -> tuple[list[str], list[dict]]:
    """``cheapest_open``'s pick and costs for each row of ``distinct`` (one row per distinct scenario)."""
    context = cat.open_models.set_index("id").context_tokens.to_dict()
    served = cat.hosted_offers.groupby("provider").open_model.agg(set).to_dict()
    pools = [open_pool(r, cat, context, served) for r in distinct.itertuples()]
    rep = np.repeat(np.arange(len(distinct)), [len(p) for p in pools])
    models = np.concatenate([np.asarray(p, dtype=object) for p in pools])
    shapes = plan(self_frame(distinct.iloc[rep].assign(open_id=models).reset_index(drop=True), cat), cat)
    c = shapes["combo_of"]
    per_request = shapes["rate"][c] * shapes["n"][c] / (shapes["rps"][c] * 3600)
    # where the scenario names a GPU: the shapes on it (a model it cannot hold is priced on other GPUs instead)
    gi = shapes["gpu_ix"][c]
    named = distinct.gpu.to_numpy(object)[rep][:, None]
    on_named = (gi >= 0) & ((named == "auto") | (np.asarray(cat.gpus.id, dtype=object)[np.maximum(gi, 0)] == named))
    fits_named = on_named.any(axis=1)
    usable = np.where(fits_named[:, None], on_named, gi >= 0)
    meets = (shapes["meets"][c] > 0) & usable
    any_meets = meets.any(axis=1)
    per_request = np.where(usable & (meets | ~any_meets[:, None]), per_request, np.nan)
    best = np.fmin.reduce(np.where(np.isnan(per_request), np.inf, per_request), axis=1)
    chosen, per_1k = [], []
    for i, pool in enumerate(pools):
        mine = rep == i
        cost = best[mine]
        # a model the named GPU holds comes first, then one some shape serves within the latency targets, then
        # the cheapest (the pool is best score first, so a tie keeps the better model)
        chosen.append(pool[int(np.lexsort((cost, ~any_meets[mine], ~fits_named[mine]))[0])])
        per_1k.append({m: float(x) * 1000 for m, x in zip(pool, cost)})
    return chosen, per_1k


class Rates(NamedTuple):
    """What a per-token bill multiplies, per scenario and price row: the input bill is requests x
    ``input_tokens`` x ``input_price`` x ``batch`` / 1e6, the output bill likewise. Bills are linear in requests,
    so rates are worked out once per distinct scenario and spread over its volumes."""

    input_tokens: np.ndarray
    input_price: np.ndarray  # USD per M input tokens, blended over fresh, cache-read and cache-write tokens
    output_tokens: np.ndarray  # the answer, plus the hidden reasoning on a model that reasons
    output_price: np.ndarray
    batch: np.ndarray  # 1 - batch_share x the row's batch discount

    def at(self, index: Any) -> Rates:
        """The rates at ``index`` of each array."""
        return Rates(*(a[index] for a in self))

    def bills(self, requests: Any) -> tuple[np.ndarray, np.ndarray]:
        """Return the monthly input and output bills for ``requests`` a month."""
        return (
            requests * self.input_tokens * self.input_price * self.batch / 1e6,
            requests * self.output_tokens * self.output_price * self.batch / 1e6,
        )


def rates(df: pd.DataFrame, refs: Any, cat: Catalog) -> Rates:
    """Return the per-token rates of each scenario row of ``df`` at the price rows ``refs`` (one for every row,
    or one per row; a ref prices.csv does not list has NaN prices).

    The full price card: a prompt above a row's long-context threshold pays its long-context prices; of the
    cached input share, one token in ``cache_hits_per_write`` is written to the cache (at the cache-write
    price where one is listed, else the input price) and the rest read at the cache-read price; models
    flagged ``reasoning`` bill ``reasoning_tokens`` of hidden output per request; the ``batch_share`` of
    traffic pays the row's batch discount where it lists one.
    """
    if isinstance(refs, str):  # one price row for every scenario
        codes, uniques = np.zeros(len(df), dtype=int), np.array([refs], dtype=object)
    else:
        codes, uniques = pd.factorize(np.asarray(refs, dtype=object), use_na_sentinel=False)
    u = cat.price_table.reindex(uniques)  # each price row looked up once, then spread over the scenarios

    def col(name: str) -> np.ndarray:
        return u[name].to_numpy(float)[codes]

    inp = df.input_tokens.to_numpy(float)
    p_in, p_out = col("input_usd_per_mtok"), col("output_usd_per_mtok")
    long = inp > np.nan_to_num(col("long_context_above_tokens"), nan=np.inf)
    p_in = np.where(long, col("long_input_usd_per_mtok"), p_in)
    p_out = np.where(long, col("long_output_usd_per_mtok"), p_out)
    p_read, p_write = col("cache_read_usd_per_mtok"), col("cache_write_usd_per_mtok")
    p_read = np.where(np.isnan(p_read), p_in, p_read)
    p_write = np.where(np.isnan(p_write), p_in, p_write)
    c = df.cached_input_share.to_numpy(float)
    w = 1 / cat.a("cache_hits_per_write")
    batch = 1 - df.batch_share.to_numpy(float) * np.nan_to_num(col("batch_discount"))
    reasons = (u.reasoning == True).to_numpy()[codes]  # noqa: E712 - the column holds True, False or NaN
    out = df.output_tokens.to_numpy(float) + df.reasoning_tokens.to_numpy(float) * reasons
    return Rates(inp, (1 - c) * p_in + c * ((1 - w) * p_read + w * p_write), out, p_out, batch)


# the scenario columns a per-token bill reads
PRICE_INPUTS = ("input_tokens", "output_tokens", "cached_input_share", "batch_share", "reasoning_tokens")


def _offers(cat: Catalog) -> pd.DataFrame:
    """data/hosted_offers.csv with each offer's prices.csv ref (provider/model_id)."""
    return cat.hosted_offers.assign(ref=cat.hosted_offers.provider + "/" + cat.hosted_offers.model_id)


def reasoning_open(df: pd.DataFrame, cat: Catalog) -> np.ndarray:
    """1 where the scenario's open model reasons (a provider serving it flags reasoning in prices.csv), else 0."""
    offers = _offers(cat)
    flags = cat.price_table.reasoning.reindex(offers.ref).fillna(False).astype(bool).to_numpy()
    reasons = set(offers.open_model[flags])
    return lookup(df.open_id, {m: float(m in reasons) for m in pd.unique(df.open_id)}, float)


def _rank(bills: np.ndarray, count: np.ndarray, rule: np.ndarray, providers: np.ndarray) -> dict[str, np.ndarray]:
    """Order each row's offers by their bills (stable: ties keep the file's order; NaN, as in the padding past a
    row's ``count`` offers, sorts last) and return the positions of the cheapest, the median (the lower of the
    middle two), the priciest and the one ``rule`` picks (one of those, or a provider's last offer), -1 where
    there is none; ``order`` is the order itself."""
    order = np.argsort(bills, axis=1, kind="stable")
    r = np.arange(len(bills))
    last = np.maximum(count - 1, 0)
    pos = {"cheapest": order[:, 0], "median": order[r, last // 2], "priciest": order[r, last]}
    pick = np.select([rule == c for c in pos], list(pos.values()), -1)
    named = providers == rule[:, None]
    pick = np.where(named.any(axis=1), bills.shape[1] - 1 - np.argmax(named[:, ::-1], axis=1), pick)
    return {"order": order, **{k: np.where(count > 0, p, -1) for k, p in {**pos, "pick": pick}.items()}}


def _near_ties(unit: np.ndarray, block: Rates, order: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Rows whose order of offers by their bill for one request might not hold at every volume: neighbours in
    that order priced differently whose bills are within 1e-9 of each other (offers priced alike bill the same
    at every volume, and rounding moves a bill by about 1e-16 of itself)."""

    def ordered(a: np.ndarray) -> np.ndarray:
        return np.take_along_axis(a, order, axis=1)

    s = ordered(unit)
    near = np.abs(s[:, 1:] - s[:, :-1]) <= 1e-9 * np.fmax(np.abs(s[:, 1:]), np.abs(s[:, :-1]))
    alike = np.logical_and.reduce([ordered(a)[:, 1:] == ordered(a)[:, :-1] for a in block])
    within = np.arange(1, unit.shape[1]) < count[:, None]
    return (near & ~alike & within).any(axis=1)


def hosted_market(df: pd.DataFrame, cat: Catalog, requests: np.ndarray, rows: np.ndarray | None = None) -> pd.DataFrame:
    """Price every provider of each scenario's open model (data/hosted_offers.csv) and pick one per row by
    ``hosted_provider``: the median-priced offer (the lower of the middle two), the cheapest, the priciest,
    or a named provider. Returns the chosen ref (NaN when none), the number of offers, the monthly
    min / median / max over them and the chosen offer's bill (``hosted_open``).

    ``rows``: each of ``requests``'s row of ``df`` (default: one figure per row). Offers are ranked once per row
    of ``df``, on their bills for one request: bills are linear in requests, so that order holds at every
    volume, except for near ties (see ``_near_ties``) and volumes too far from 1 for a float's range
    (beyond 1e+-100): those scenario rows are ranked on their own bills.
    """
    rows = np.arange(len(df)) if rows is None else np.asarray(rows)
    requests = np.asarray(requests, float)
    offers = _offers(cat)
    model_of = offers.open_model.to_numpy(object)
    open_ids = df.open_id.to_numpy(object)
    # each row's offers as a (rows, K) block of positions in hosted_offers.csv, -1 past its count
    at_model = {m: np.flatnonzero(model_of == m) for m in pd.unique(open_ids)}
    block = np.full((len(df), max([1, *map(len, at_model.values())])), -1)
    count = np.zeros(len(df), int)
    for model, ix in at_model.items():
        here = open_ids == model
        block[here, : len(ix)] = ix
        count[here] = len(ix)
    n_u, k = block.shape
    refs = np.append(offers.ref.to_numpy(object), "-/-")[block]  # "-/-": no price
    providers = np.append(offers.provider.to_numpy(object), "")[block]
    rule = df.hosted_provider.to_numpy(object)
    # every offer's rates, flat: offer j of row i of df at i * k + j
    per_offer = rates(df[list(PRICE_INPUTS)].iloc[np.repeat(np.arange(n_u), k)], refs.ravel(), cat)
    unit = sum(per_offer.bills(1.0)).reshape(n_u, k)
    ranked = _rank(unit, count, rule, providers)
    pos = {key: ranked[key][rows] for key in ("cheapest", "median", "priciest", "pick")}
    redo = np.flatnonzero(
        _near_ties(unit, Rates(*(a.reshape(n_u, k) for a in per_offer)), ranked["order"], count)[rows]
        | ~((requests >= 1e-100) & (requests <= 1e100))
    )
    if len(redo):
        of = rows[redo]  # their rows of df
        bills = sum(per_offer.at(of[:, None] * k + np.arange(k)).bills(requests[redo, None]))
        again = _rank(bills, count[of], rule[of], providers[of])
        for key, p in pos.items():
            p[redo] = again[key]

    def bill(p: np.ndarray) -> np.ndarray:  # each scenario row's bill at its offer position p (NaN: none)
        bill_in, bill_out = per_offer.at(rows * k + np.maximum(p, 0)).bills(requests)
        return np.where(p >= 0, bill_in + bill_out, np.nan)

    chosen = np.where(pos["pick"] >= 0, block.ravel()[rows * k + np.maximum(pos["pick"], 0)], len(offers))
    return pd.DataFrame(
        {
            "hosted_ref": labels(np.append(offers.ref.to_numpy(object), np.nan), chosen),
            "hosted_offers": count[rows],
            "hosted_min": bill(pos["cheapest"]),
            "hosted_median": bill(pos["median"]),
            "hosted_max": bill(pos["priciest"]),
            "hosted_open": bill(pos["pick"]),
        },
        copy=False,
    )


def gpu_pricing_as_priced(df: pd.DataFrame, cat: Catalog) -> np.ndarray:
    """The pricing mode of each scenario's own GPUs: its ``gpu_pricing``, or owned where its data may not leave
    your premises at all."""
    return np.where(on_premises(df, cat), "owned", df.gpu_pricing.to_numpy(object))


class Priced(NamedTuple):
    """``costs()``, with the distinct scenarios it priced (every column but the volume) and each row's index
    among them, for callers that work on the distinct scenarios too (``kit.recommend.decide``)."""

    costs: pd.DataFrame
    distinct: pd.DataFrame  # frame() rows with their models resolved (resolve_models) and sensitive_share as used
    rows: np.ndarray


def price(scenarios: Any, cat: Catalog | None = None, thresholds: Any = None, draws: Any = None) -> Priced:
    """Return ``costs(scenarios, cat, thresholds)`` with the distinct scenarios and each row's index among them.

    Everything that does not depend on the volume (models, residency, price rows and the hosted market's order,
    replica shapes) is worked out once per distinct scenario; each row's volume then prices its bills, fleets
    and router. ``draws``: per row, what an uncertainty draw (``kit.uncertainty``) moves - a factor
    ``token_price`` on every per-token price, the fleets' ``kit.fleet.FLEET_FACTORS`` and the router's (see
    ``kit.router.simulate``); default none, the likely values.
    """
    cat = cat or load_catalog()
    table = scenarios if isinstance(scenarios, pd.DataFrame) else frame(scenarios)  # read, never changed
    rows, first = distinct_rows(table, [p.name for p in PARAMS if p.name != VOLUME and p.name in table])
    df = resolve_models(frame(table.iloc[first]), cat)
    n = len(table)
    requests = table[VOLUME].to_numpy(float) if VOLUME in table else np.full(n, float(DEFAULTS[VOLUME]))
    outside = outside_allowed(df, cat)
    # the hybrid keeps on self-hosted tiers every request whose data may not leave
    df["sensitive_share"] = sensitive_share(df, cat)

    drawn = factors(draws, n, {"token_price": 1.0, "hosted_price": 0.0})
    token = drawn["token_price"]
    closed_in, closed_out = rates(df, df.closed_ref, cat).at(rows).bills(requests)
    listed = cat.price_table.reindex(df.closed_ref)  # the closed model's list prices, as shown
    closed = (closed_in + closed_out) * token
    market = hosted_market(df, cat, requests, rows)
    for k in ("hosted_open", "hosted_min", "hosted_median", "hosted_max"):
        market[k] = market[k].to_numpy() * token
    # a draw's hosted price: a position between the cheapest (-1) and the priciest (+1) provider of the model,
    # 0 the one the scenario's rule picks; a provider the scenario names keeps its own price
    g = np.where(
        np.isin(df.hosted_provider.to_numpy(object)[rows], HOSTED_RULES),
        drawn["hosted_price"], 0.0,
    )  # fmt: skip
    pick, low, high = (market[k].to_numpy() for k in ("hosted_open", "hosted_min", "hosted_max"))
    market["hosted_open"] = pick + np.maximum(g, 0.0) * (high - pick) + np.minimum(g, 0.0) * (pick - low)
    hosted = market.hosted_open.to_numpy()
    own = self_frame(df, cat)
    shapes = plan(own, cat)
    sh = self_hosted_fleet(own, requests, cat, shapes, rows=rows, draws=draws)

    # Hybrid: the router model of kit/router.py (hard -> closed, sensitive -> self-hosted, the rest to the
    # cheapest adequate tier, escalations paid twice), the same everywhere the option is priced.
    hybrid = simulate(
        own, {"closed_api": closed / requests, "hosted_open": hosted / requests}, cat, threshold=thresholds,
        shapes=shapes, rows=rows, requests=requests, draws=draws,
    )  # fmt: skip
    allowed_outside = outside[rows]
    c = pd.DataFrame(
        {
            "closed_api": closed,
            "hosted_open": hosted,
            "self_hosted_open": sh["total"],
            "hybrid": hybrid.hybrid.to_numpy(),
            "outside_allowed": allowed_outside,
            "allowed_closed_api": allowed_outside.copy(),
            "allowed_hosted_open": allowed_outside & ~np.isnan(hosted),
            "allowed_self_hosted_open": np.ones(n, bool),
            "allowed_hybrid": allowed_outside & (hybrid.hybrid_tiers.to_numpy() > 1),
            "sensitive_share_used": df.sensitive_share.to_numpy(float)[rows],
            "closed_ref": labels(df.closed_ref, rows),
            "open_id": labels(df.open_id, rows),
            **{
                k: market[k].array for k in ("hosted_ref", "hosted_offers", "hosted_min", "hosted_median", "hosted_max")
            },
            "closed_in_price": listed.input_usd_per_mtok.to_numpy(float)[rows],
            "closed_out_price": listed.output_usd_per_mtok.to_numpy(float)[rows],
            **{f"self_{k}": v for k, v in sh.items() if k != "total"},
            **{k: v.array for k, v in hybrid.drop(columns="hybrid").items()},
        },
        copy=False,  # every column is an array of its own: no need to copy them all into one block
    )
    return Priced(c, df, rows)


def costs(scenarios: Any, cat: Catalog | None = None, thresholds: Any = None, draws: Any = None) -> pd.DataFrame:
    """Return monthly USD per option (columns named after OPTIONS), whether each is allowed, and every
    breakdown line.

    The option columns are what each would cost; ``allowed_<option>`` says whether the scenario may use
    it at all (residency, a known price, a router with more than one tier), and ``allowed(c)`` masks
    the rest. ``scenarios``: a DataFrame of scenario columns, or an iterable of Scenario / mappings;
    ``thresholds``: the hybrid router's difficulty threshold per row (default: 1 - hard_share); ``draws``: an
    uncertainty draw per row (see ``price``).
    """
    return price(scenarios, cat, thresholds, draws).costs


def allowed(c: pd.DataFrame) -> pd.DataFrame:
    """Return the four option costs of ``costs()`` with NaN where an option is not allowed."""
    return pd.DataFrame(
        {o: np.where(c[f"allowed_{o}"].to_numpy(bool), c[o].to_numpy(float), np.nan) for o in OPTIONS}, index=c.index
    )


def allowed_costs(row: pd.Series) -> dict[str, float]:
    """Return one row of ``costs()``'s four option costs, NaN where an option is not allowed."""
    return {o: (row[o] if row[f"allowed_{o}"] else np.nan) for o in OPTIONS}


def breakdown(row: pd.Series) -> dict[str, dict[str, float]]:
    """Return the cost lines of each option for one row of ``costs()``."""

    def r(x: float) -> float | None:
        return number_or_none(x, 2)

    return {
        "closed_api": {"tokens": r(row.closed_api)},
        "hosted_open": {"tokens": r(row.hosted_open)},
        "self_hosted_open": {
            "gpus": r(row.self_gpu_cost),
            "non_gpu_overhead": r(row.self_overhead),
            "ops_staff": r(row.self_ops_staff),
            "setup_amortised": r(row.self_setup_amortised),
        },
        "hybrid": {
            "closed_share": r(row.hybrid_closed_part),
            f"bulk_{row.hybrid_bulk_tier}": r(row.hybrid_bulk_part),
            "sensitive_self_hosted": r(row.hybrid_sensitive_part),
            "router_amortised": r(row.hybrid_router),
        },
    }


def volume_sweep(
    scenario: Scenario, n: int = 241, low: float | None = None, high: float | None = None, cat: Catalog | None = None
) -> pd.DataFrame:
    """Return the four costs over a log grid of monthly_requests (default: the sweep range of assumptions.yaml);
    an option the scenario may not use is NaN (not allowed), so no chart or break-even prices it."""
    cat = cat or load_catalog()
    low = cat.a("sweep_low_requests") if low is None else low
    high = cat.a("sweep_high_requests") if high is None else high
    grid = np.unique(np.round(np.geomspace(low, high, n)).astype(np.int64))
    df = frame([scenario] * len(grid))
    df["monthly_requests"] = grid
    out = costs(df, cat)
    out[list(OPTIONS)] = allowed(out)
    out.insert(0, "monthly_requests", grid)
    return out


def break_even(
    scenario: Scenario, cat: Catalog | None = None, sweep: pd.DataFrame | None = None
) -> list[dict[str, Any]]:
    """Return, for each pair of allowed options, the first volume where their cost curves really cross.

    Costs within ``cost_tie_tolerance`` of each other count as equal, so a curve that only touches
    another (a one-tier hybrid, rounding) is no crossing; options not allowed are left out.
    """
    cat = cat or load_catalog()
    sweep = volume_sweep(scenario, cat=cat) if sweep is None else sweep
    v = sweep.monthly_requests.to_numpy(float)
    found = []
    for a, b in itertools.combinations(OPTIONS, 2):
        found_ab = crossings(sweep[a].to_numpy(float), sweep[b].to_numpy(float), cat.a("cost_tie_tolerance"))
        if not found_ab:
            continue
        i, j = found_ab[0]
        diff = sweep[a].to_numpy(float) - sweep[b].to_numpy(float)
        # interpolate in log volume between the two grid points on either side
        t = diff[i] / (diff[i] - diff[j])
        vol = float(np.exp(np.log(v[i]) + t * (np.log(v[j]) - np.log(v[i]))))
        cheaper_above = a if diff[i] > 0 else b
        found.append({"a": a, "b": b, "monthly_requests": float(f"{vol:.2g}"), "cheaper_above": cheaper_above})
    return found


def crossings(a: np.ndarray, b: np.ndarray, tol: float) -> list[tuple[int, int]]:
    """Return where curve ``a`` and ``b`` really cross along a sweep, as (last index before, first after).

    A point where both are known and differ by more than ``tol`` of the larger has a side; points within
    the tolerance (ties) and unknown points have none. A crossing is a change of side between
    consecutive points that have one.
    """
    diff = a - b
    side = np.where(np.abs(diff) > tol * np.fmax(np.abs(a), np.abs(b)), np.sign(diff), 0.0)
    side = np.where(np.isnan(diff), 0.0, side)
    idx = np.flatnonzero(side)
    return [(int(i), int(j)) for i, j in zip(idx[:-1], idx[1:]) if side[i] != side[j]]


def utilisation_needed(
    scenario: Scenario, cat: Catalog | None = None, sweep: pd.DataFrame | None = None
) -> dict[str, dict[str, Any]]:
    """Return the volume and average fleet utilisation at which self-hosting first beats
    the closed API, and the cheapest per-token option."""
    sweep = volume_sweep(scenario, cat=cat) if sweep is None else sweep
    self_cost = sweep.self_hosted_open.to_numpy(float)
    rivals = {
        "closed_api": sweep.closed_api.to_numpy(float),
        "any_per_token": np.fmin(sweep.closed_api.to_numpy(float), sweep.hosted_open.to_numpy(float)),
    }
    out = {}
    for name, rival in rivals.items():
        if np.isnan(rival).all():
            continue  # that rival is not allowed for this data: nothing to beat
        wins = np.where(self_cost < rival)[0]
        if not len(wins):
            out[name] = {"monthly_requests": None, "utilisation": None, "gpus": None}
            continue
        i = wins[0]
        out[name] = {
            "monthly_requests": int(sweep.monthly_requests[i]),
            "utilisation": round(float(sweep.self_utilisation[i]), 3),
            "gpus": int(sweep.self_gpus[i]),
        }
    return out


def by_hand(scenario: Scenario, cat: Catalog | None = None) -> dict[str, Any]:
    """README's two hand formulas for one scenario, beside the engine's own answer from the volume sweep.

    Break-even volume = self-hosting's fixed monthly cost (base ops staff + amortised setup + the redundant
    minimum fleet) / (closed-API price per request - GPU cost per request at full goodput). Utilisation
    needed = GPU cost per request at full goodput / closed-API price per request. The formulas leave out
    the staircase, the planned-utilisation ceiling and the staff per GPU, so they land near the engine's
    figures, not on them. The replica is the one the engine picks at its own break-even (or at the scenario's
    volume where there is none): the cheapest GPU shape changes with volume.
    """
    cat = cat or load_catalog()
    engine = utilisation_needed(scenario, cat).get("closed_api", {})
    at = engine.get("monthly_requests") or scenario["monthly_requests"]
    c = costs([scenario.replace(monthly_requests=at)], cat).iloc[0]
    s = scenario.to_dict()
    hours = cat.a("hours_per_month")
    replica_hour = float(c.self_gpu_rate * c.self_gpus_per_replica * (1 + cat.a("non_gpu_overhead")))
    gpu_per_request = replica_hour / (float(c.self_rps_per_replica) * 3600)
    fixed = (
        cat.a("ops_fte_base") * s["fte_annual_cost_usd"] / 12
        + float(c.self_setup_amortised)
        + float(min_replicas(at, cat)) * replica_hour * hours
    )
    api = float(c.closed_api) / at
    return {
        "replica_usd_per_hour": replica_hour,
        "gpu_usd_per_request": gpu_per_request,
        "fixed_usd_per_month": fixed,
        "api_usd_per_request": api,
        "break_even_requests": fixed / (api - gpu_per_request) if api > gpu_per_request else None,
        "utilisation_needed": gpu_per_request / api,
        "engine_break_even_requests": engine.get("monthly_requests"),
        "engine_utilisation": engine.get("utilisation"),
    }


def cost_steps(scenario: Scenario, cat: Catalog | None = None) -> pd.DataFrame:
    """Return each option's monthly cost worked step by step: option, step, how it is computed, value, unit.

    Every value is read from the same code path as ``costs()``; the "how" column only shows its inputs.
    """
    cat = cat or load_catalog()
    df = resolve_models(frame([scenario]), cat)
    row = costs(df, cat).iloc[0]
    s = scenario.to_dict()
    req = float(s["monthly_requests"])
    cached = f", {s['cached_input_share']:.0%} of input at the cache price" if s["cached_input_share"] else ""
    steps: list[tuple[str, str, str, float, str]] = []
    barred = why_inside(scenario.to_dict(), cat)
    for option, ref in (("closed_api", row.closed_ref), ("hosted_open", row.hosted_ref)):
        if barred:
            steps.append((option, "Not allowed", barred, np.nan, "USD"))
            continue
        if pd.isna(ref):
            steps.append(
                (
                    option,
                    "No per-token price",
                    f"no provider serves open model '{row.open_id}' under hosted_provider = {s['hosted_provider']}",
                    np.nan,
                    "USD",
                )
            )
            continue
        price = cat.price_table.loc[ref]
        bill_in, bill_out = rates(df, pd.Series([ref]), cat).bills(np.array([req]))
        steps += [
            (
                option,
                "Input tokens",
                f"{req:,.0f} requests x {s['input_tokens']:,} tokens",
                req * s["input_tokens"],
                "tokens",
            ),
            (
                option,
                "Output tokens",
                f"{req:,.0f} requests x {s['output_tokens']:,} tokens",
                req * s["output_tokens"],
                "tokens",
            ),
            (
                option,
                "Input bill",
                f"{req * s['input_tokens'] / 1e6:,.0f} M tokens x ${price.input_usd_per_mtok:g}/M ({ref}{cached})",
                float(bill_in[0]),
                "USD",
            ),
            (
                option,
                "Output bill",
                f"{req * s['output_tokens'] / 1e6:,.0f} M tokens x ${price.output_usd_per_mtok:g}/M",
                float(bill_out[0]),
                "USD",
            ),
            (option, "Total", "input bill + output bill", float(row[option]), "USD"),
        ]
    hours = cat.a("hours_per_month")
    pricing = row.self_pricing  # owned where the data may not leave your premises
    scaled = pricing in AUTOSCALED
    paid = (
        "owned (purchase over the years + power + space)"
        if pricing == "owned"
        else f"{s['gpu_market']} {pricing.replace('_', '-')}"
    )
    steps += [
        (
            "self_hosted_open",
            "One replica serves",
            f"{row.self_gpus_per_replica} x {row.self_gpu_id}, {row.open_id} at {s['quant_bits']}-bit weights and "
            f"{s['kv_bits']}-bit KV cache, {row.self_concurrency} requests in flight: time to first token "
            f"{row.self_ttft_ms:,.0f} ms (target {s['latency_ms']:,}), {row.self_tpot_ms:,.0f} ms per output token "
            f"(target {s['tpot_ms']:,}){'' if row.self_meets_targets else ' - no GPU shape meets the targets'} "
            "(throughput model calibrated on data/throughput.csv)",
            float(row.self_rps_per_replica),
            "requests/s",
        ),
        (
            "self_hosted_open",
            "Peak load",
            f"{req:,.0f} requests / {hours * 3600:,.0f} s x {s['peak_to_average']:g} peak/average",
            float(row.self_peak_rps),
            "requests/s",
        ),
        (
            "self_hosted_open",
            "Replicas at the peak",
            f"peak / (one replica x {row.self_max_utilisation:.0%} planned utilisation), "
            + (
                f"at least {cat.a('min_replicas'):.0f} for redundancy"
                if min_replicas(req, cat) > 1
                else f"at least 1 (no spare replica below {cat.a('redundancy_from_requests'):,.0f} requests a month)"
            ),
            float(row.self_replicas),
            "replicas",
        ),
        (
            "self_hosted_open",
            "GPUs at the peak",
            f"{row.self_replicas} replicas x {row.self_gpus_per_replica} GPU(s), whole GPUs only",
            float(row.self_gpus),
            "GPUs",
        ),
        (
            "self_hosted_open",
            "GPU-hours",
            (
                f"{cat.a('peak_hours_share'):.0%} of {hours:.0f} h at {row.self_replicas} replicas, the rest at "
                f"{row.self_base_replicas} (the fleet scales with the load) x {row.self_gpus_per_replica} GPU(s)"
                if scaled
                else f"{row.self_replicas} replicas x {row.self_gpus_per_replica} GPU(s) x {hours:.0f} h "
                "(sized for the peak around the clock)"
            ),
            float(row.self_gpu_hours),
            "GPU-hours",
        ),
        (
            "self_hosted_open",
            "GPU bill",
            f"{paid}: {row.self_gpu_hours:,.0f} GPU-hours x ${row.self_gpu_rate:.2f}/h (data/gpu_prices.csv, "
            "data/gpu_owned.csv)",
            float(row.self_gpu_cost),
            "USD",
        ),
        (
            "self_hosted_open",
            "Non-GPU overhead",
            f"{cat.a('non_gpu_overhead'):.0%} of the GPU bill (egress, storage, monitoring)",
            float(row.self_overhead),
            "USD",
        ),
        (
            "self_hosted_open",
            "Operations staff",
            f"{row.self_ops_fte:.2f} FTE x ${s['fte_annual_cost_usd']:,.0f}/year / 12",
            float(row.self_ops_staff),
            "USD",
        ),
        (
            "self_hosted_open",
            "Setup, amortised",
            f"{row.self_setup_weeks:g} engineer-weeks over {cat.a('amortise_months'):.0f} months",
            float(row.self_setup_amortised),
            "USD",
        ),
        ("self_hosted_open", "Total", "GPUs + overhead + staff + setup", float(row.self_hosted_open), "USD"),
    ]
    return pd.DataFrame(steps, columns=["option", "step", "how", "value", "unit"])


def frontier(scenario: Any, points: int = 21, cat: Catalog | None = None) -> pd.DataFrame:
    """Return monthly cost and expected quality as the difficulty threshold moves from 0 (all closed) to 1."""
    thresholds = np.linspace(0, 1, points)
    rows = [scenario] * points
    out = costs(rows, cat, thresholds=thresholds)
    return pd.DataFrame(
        {
            "threshold": thresholds,
            "monthly_usd": out.hybrid.to_numpy(),
            "quality": out.hybrid_quality.to_numpy(),
            "share_closed": out.hybrid_share_closed.to_numpy(),
            "share_hosted": out.hybrid_share_hosted.to_numpy(),
            "share_self": out.hybrid_share_self.to_numpy(),
        }
    )
