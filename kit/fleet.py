"""The self-hosted fleet: the cheapest replica shape that meets the latency targets, scaled with the load,
and its monthly bill.

One home for fleet costing: ``kit.cost`` prices the all-self-hosted option with it and ``kit.router``
prices the hybrid router's self-hosted tiers with it.

Load model: ``peak_hours_share`` of the time at ``peak_to_average`` x the average rate, the rest at a
base rate, averaging 1. A rented fleet paid by the hour (spot, on demand) scales between its base
(at least ``min_replicas`` for redundancy from ``redundancy_from_requests`` a month, one box below) and its
peak; a reserved or owned fleet is sized for the peak around the clock. Each replica runs at most ``max_utilisation`` of its goodput at the peak.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from kit.capacity import candidates
from kit.catalog import Catalog, distinct_rows, labels, lookup
from kit.params import SPEC

AUTOSCALED = ("spot", "on_demand")
GPU_PRICING = SPEC["gpu_pricing"].choices
COMBO_KEYS = [
    "open_id", "gpu", "quant_bits", "kv_bits", "input_tokens", "output_tokens", "cached_input_share",
    "latency_ms", "tpot_ms", "gpu_market", "gpu_pricing", "gpu_rate",
]  # fmt: skip


def scales(pricing: Any) -> np.ndarray:
    """Whether each fleet, paid for by ``pricing`` mode, scales with the load (rented by the hour)."""
    return lookup(pricing, {m: m in AUTOSCALED for m in GPU_PRICING}, bool)


def base_and_overflow(peak_to_average: np.ndarray, cat: Catalog) -> tuple[np.ndarray, np.ndarray]:
    """Return the base load (as a multiple of the average rate) and the share of requests above it."""
    p = np.asarray(peak_to_average, float)
    f = cat.a("peak_hours_share")
    base = np.clip((1 - f * p) / (1 - f), 0.0, 1.0)
    overflow = np.where(p > 1, f * (np.minimum(p, 1 / f) - base), 0.0)
    return base, np.clip(overflow, 0.0, 1.0)


def gpu_hour_rate(
    gpu_id: np.ndarray, market: np.ndarray, mode: np.ndarray, point: np.ndarray, cat: Catalog
) -> np.ndarray:
    """USD per GPU-hour for each (GPU, market, pricing mode, price point low/mid/high); NaN where unpriced.

    ``owned``: the purchase price amortised over ``owned_amortise_years`` of hours, plus the GPU's board power
    (and its server's share) x PUE x electricity price, plus colocation per kW.
    """
    col = np.select([np.asarray(point) == "low", np.asarray(point) == "high"], [0, 2], 1)
    return gpu_hour_rates(gpu_id, market, mode, cat)[np.arange(len(col)), col] if len(col) else np.zeros(0)


def gpu_hour_rates(gpu_id: Any, market: Any, mode: Any, cat: Catalog) -> np.ndarray:
    """USD per GPU-hour at the listed low, likely and high price (columns) of each (GPU, market, pricing mode);
    NaN where unpriced (``owned`` rows are looked up whatever the market)."""
    table = cat.gpu_rate_lookup
    nan = (np.nan, np.nan, np.nan)
    keys = zip(gpu_id, np.where(np.asarray(mode) == "owned", "owned", market), mode)
    return np.array([table.get(k, nan) for k in keys], dtype=float).reshape(-1, 3)


def owned_marginal_rate(gpu_id: np.ndarray, point: np.ndarray, cat: Catalog) -> np.ndarray:
    """USD per GPU-hour on hardware already owned: its amortised purchase share plus power and space."""
    return gpu_hour_rate(gpu_id, np.full(len(gpu_id), "owned"), np.full(len(gpu_id), "owned"), point, cat)


def plan(df: pd.DataFrame, cat: Catalog) -> dict[str, np.ndarray]:
    """Every scenario row's candidate replica shapes, as (combos, K) blocks and each row's combo index.

    Shapes are computed once per distinct combination of the inputs that shape a replica (COMBO_KEYS), so a
    sweep over volume or sensitivity computes them once.
    """
    combo_of, first = distinct_rows(df, COMBO_KEYS)
    combos = df[COMBO_KEYS].iloc[first].reset_index(drop=True)
    cand = candidates(combos, cat)
    lat = cand.latency_ms.to_numpy(float)
    u_tight, u_relaxed = cat.a("max_utilisation_tight"), cat.a("max_utilisation_relaxed")
    cand["max_util"] = np.interp(lat, [cat.a("latency_tight_ms"), cat.a("latency_relaxed_ms")], [u_tight, u_relaxed])
    gpu_ids, point = cand.gpu_id.to_numpy(), cand.gpu_rate.to_numpy()
    col = (np.arange(len(cand)), np.select([point == "low", point == "high"], [0, 2], 1))
    listed = gpu_hour_rates(gpu_ids, cand.gpu_market.to_numpy(), cand.gpu_pricing.to_numpy(), cat)
    cand["rate"] = listed[col]
    # a GPU named by the scenario but not listed under its pricing mode: the neocloud on-demand price stands in
    fallback = gpu_hour_rates(gpu_ids, np.full(len(cand), "neocloud"), np.full(len(cand), "on_demand"), cat)
    on_demand = fallback[col]
    combo = cand.combo.to_numpy()
    priced = (np.bincount(combo, weights=np.isfinite(cand.rate.to_numpy()), minlength=len(combos)) > 0)[combo]
    cand["fallback"] = ~priced
    cand["rate"] = np.where(priced, cand.rate, on_demand)
    # each shape's listed low and high price in its mode (its own where unlisted), for uncertainty draws
    ends = np.where(priced[:, None], listed, fallback)
    for j, end in ((0, "low"), (2, "high")):
        cand[f"rate_{end}"] = np.where(np.isfinite(ends[:, j]), ends[:, j], cand.rate)
    cand["owned_rate"] = owned_marginal_rate(gpu_ids, point, cat)
    cand = cand[np.isfinite(cand.rate) & (cand.rps > 0)].sort_values("combo", kind="stable")
    cand = _prune(cand)

    cand = cand.sort_values(["combo", "meets"], ascending=[True, False], kind="stable")
    slot = cand.groupby("combo").cumcount().to_numpy()
    k = int(slot.max()) + 1 if len(cand) else 1
    rows, cols = cand.combo.to_numpy(), slot
    out: dict[str, np.ndarray] = {"combo_of": combo_of}
    for col, fill in (("rps", np.nan), ("n", np.nan), ("rate", np.nan), ("max_util", np.nan), ("meets", 0.0),
                      ("owned_rate", np.nan), ("concurrency", 0.0), ("tpot_ms", np.nan), ("ttft_ms", np.nan),
                      ("fallback", 0.0), ("rate_low", np.nan), ("rate_high", np.nan)):  # fmt: skip
        block = np.full((len(combos), k), fill, dtype=float)
        block[rows, cols] = cand[col].to_numpy(float)
        out[col] = block
    gpu_index = {g: i for i, g in enumerate(cat.gpus.id)}
    out["gpu_ix"] = np.full((len(combos), k), -1, dtype=int)
    out["gpu_ix"][rows, cols] = cand.gpu_id.map(gpu_index).to_numpy(int)
    out["cap"] = out["rps"] * out["max_util"]
    # per scenario row, once: whether its fleet scales with the load, its staff's monthly cost and its setup
    out["scaled"] = scales(df.gpu_pricing)
    out["fte_month"] = df.fte_annual_cost_usd.to_numpy(float) / 12
    out["setup_weeks"] = cat.a("setup_weeks") + cat.a("finetune_setup_weeks") * df.needs_finetuning.to_numpy(bool)
    out["setup"] = setup_cost(out["setup_weeks"], out["fte_month"], cat)
    return out


def setup_cost(weeks: Any, fte_month: Any, cat: Catalog) -> np.ndarray:
    """Monthly cost of ``weeks`` of engineering at ``fte_month`` a month, spread over ``amortise_months``."""
    return weeks * fte_month * 12 / 52 / cat.a("amortise_months")


def min_replicas(volume: Any, cat: Catalog) -> np.ndarray:
    """The fewest replicas a fleet runs for a scenario of ``volume`` monthly requests: ``min_replicas`` (N+1
    redundancy, seed 003) from ``redundancy_from_requests``; below it one box, restarted on failure."""
    small = np.asarray(volume, float) < cat.a("redundancy_from_requests")
    return np.where(small, 1.0, cat.a("min_replicas"))


# what an uncertainty draw (kit.uncertainty) may move in a fleet's bill, with its likely value: the GPU's price
# as a position in its listed range (-1 its low, 0 the scenario's price point, +1 its high) and factors on
# goodput, planned peak utilisation and ops FTE, setup weeks added, and a factor on every GPU's $/hour (the time
# view's price decline)
FLEET_FACTORS = {
    "gpu_price": 0.0, "throughput": 1.0, "utilisation": 1.0, "ops_fte": 1.0, "setup_weeks": 0.0, "gpu_rate": 1.0,
}  # fmt: skip


def factors(draws: Any, n: int, keys: Any, at: Any = None) -> dict[str, np.ndarray]:
    """Each of ``keys`` from ``draws`` (a mapping of per-row arrays, or None), as ``n`` values (the rows ``at``
    of each array, where given); where ``draws`` has none, the likely value: ``keys[k]`` where ``keys`` is a
    mapping, else 1.0 (a factor)."""
    out = {}
    for k in keys:
        v = None if draws is None else draws.get(k)
        v = np.asarray(keys[k] if isinstance(keys, dict) else 1.0, float) if v is None else np.asarray(v, float)
        out[k] = np.broadcast_to(v if at is None or v.ndim == 0 else v[at], (n,))
    return out


def _load(
    shapes: dict[str, np.ndarray], rows: np.ndarray, requests: np.ndarray, peak: np.ndarray, cat: Catalog,
    volume: np.ndarray, draws: Any = None,
) -> dict[str, np.ndarray]:  # fmt: skip
    """What sizes and prices a fleet for each scenario row, whatever its replica shape: ``requests`` a month as
    an average rate, ``peak`` and the base load (multiples of it), whether the fleet scales with the load and
    the share of hours at its peak size, its staff's monthly cost and its setup, and its fewest replicas: one
    box below ``redundancy_from_requests`` of the scenario's whole ``volume``, else ``min_replicas`` (N+1).
    ``rows``: each scenario row's row of the frame ``shapes`` was planned on; ``draws``: per row, the factors
    of FLEET_FACTORS an uncertainty draw puts on GPU $/h, goodput, planned utilisation, ops FTE and setup
    weeks (default: none, the likely values)."""
    base, _ = base_and_overflow(peak, cat)
    scaled = shapes["scaled"][rows]
    x = factors(draws, len(rows), FLEET_FACTORS)
    return {
        "x": x,
        "floor": min_replicas(volume, cat),
        "combo": shapes["combo_of"][rows], "avg_rps": np.asarray(requests, float) / (cat.a("hours_per_month") * 3600),
        "peak": peak, "base": base, "scaled": scaled,
        "w_peak": np.where(scaled, cat.a("peak_hours_share"), 1.0),  # all the hours when not scaled
        "fte_month": shapes["fte_month"][rows], "setup": shapes["setup"][rows] + setup_cost(x["setup_weeks"],
        shapes["fte_month"][rows], cat),
    }  # fmt: skip


def _size(shapes: dict[str, np.ndarray], at: np.ndarray, load: dict[str, np.ndarray], cat: Catalog) -> dict:
    """Size one replica shape's fleet for each scenario row's ``load`` and price it: replicas at the peak and at
    the base (exact and whole), replica-hours, and the bill (``_bill``'s lines, ``total`` inf where unpriced).
    ``at``: each row's shape, as a flat index into plan()'s (combos, K) blocks (one index, not a (combo, slot)
    pair: numpy gathers it four times faster)."""
    cap, rate, n, low, high = (shapes[key].ravel()[at] for key in ("cap", "rate", "n", "rate_low", "rate_high"))
    x = load["x"]
    g = x["gpu_price"]
    cap = cap * (x["throughput"] * x["utilisation"])
    rate = (rate + np.maximum(g, 0.0) * (high - rate) + np.minimum(g, 0.0) * (rate - low)) * x["gpu_rate"]
    hours = cat.a("hours_per_month")
    avg_rps, w_peak, floor = load["avg_rps"], load["w_peak"], load["floor"]
    peak_exact = np.maximum(floor, avg_rps * load["peak"] / cap)
    base_exact = np.where(load["scaled"], np.maximum(floor, avg_rps * load["base"] / cap), peak_exact)
    peak_r, base_r = np.ceil(peak_exact), np.ceil(base_exact)
    replica_hours = hours * (w_peak * peak_r + (1 - w_peak) * base_r)
    bill = _bill(replica_hours * n, peak_r * n, rate, load["fte_month"], load["setup"], cat, x["ops_fte"])
    bill["total"] = np.where(np.isfinite(bill["total"]), bill["total"], np.inf)
    return {"cap": cap, "rate": rate, "n": n, "peak_exact": peak_exact, "base_exact": base_exact, "peak_r": peak_r,
            "base_r": base_r, "replica_hours": replica_hours, "bill": bill}  # fmt: skip


def _cheapest(
    shapes: dict[str, np.ndarray], load: dict[str, np.ndarray], cat: Catalog
) -> tuple[np.ndarray, np.ndarray]:
    """Price every replica shape a scenario row may pick (``_size``) and return each row's cheapest, as a flat
    index into plan()'s blocks, and its monthly total (inf where no shape is priced).

    A row picks among the shapes that meet the latency targets where any does, else among all; ties go to
    the first slot.
    """
    meets = shapes["meets"]
    eligible = np.where((meets > 0).any(axis=1)[:, None], meets > 0, np.isfinite(shapes["rate"]))
    # plan() puts each combo's shapes first and, among them, those that meet the targets: the eligible shapes
    # are each combo's first slots, so only as many slots as the widest combo in use need pricing
    used = np.zeros(len(meets), bool)
    used[load["combo"]] = True
    first = load["combo"] * meets.shape[1]  # each row's combo's first slot, flat
    best, at = np.full(len(first), np.inf), first
    for slot in range(max(1, int(eligible[used].sum(axis=1).max(initial=0)))):
        total = _size(shapes, first + slot, load, cat)["bill"]["total"]
        total = np.where(eligible.ravel()[first + slot], total, np.inf)
        better = (total < best) | (slot == 0)
        best, at = np.where(better, total, best), np.where(better, first + slot, at)
    return at, best


def self_hosted_fleet(
    df: pd.DataFrame,
    requests: np.ndarray,
    cat: Catalog,
    shapes: dict[str, np.ndarray] | None = None,
    peak: np.ndarray | None = None,
    rows: np.ndarray | None = None,
    volume: np.ndarray | None = None,
    draws: Any = None,
) -> dict[str, np.ndarray]:
    """Size and price a self-hosted fleet for ``requests`` a month of each scenario: the cheapest replica
    shape (GPU type x GPUs per replica) that meets the latency targets, else the cheapest of all.

    ``shapes``: ``plan(df)``, when the caller has it already (the router prices several fleets per row);
    ``peak``: the peak-to-average ratio to size for (default: the scenario's); ``rows``: each of ``requests``'s
    row of ``df`` (default: one figure per row), so scenarios that differ only in volume are planned once;
    ``volume``: the scenario's whole monthly requests, which sets the redundancy (default: ``requests``);
    ``draws``: per row of ``requests``, an uncertainty draw's factors (see ``_load``).
    """
    shapes = plan(df, cat) if shapes is None else shapes
    rows = np.arange(len(df)) if rows is None else np.asarray(rows)
    p = df.peak_to_average.to_numpy(float)[rows] if peak is None else np.asarray(peak, float)
    load = _load(shapes, rows, requests, p, cat, requests if volume is None else volume, draws)
    at, total = _cheapest(shapes, load, cat)
    none = ~np.isfinite(total)
    s = _size(shapes, at, load, cat)  # the chosen shape's fleet, line by line
    hours = cat.a("hours_per_month")

    def shape(key: str) -> np.ndarray:  # the chosen shape's entry of a plan() block
        return shapes[key].ravel()[at]

    n_j, rate_j, cap_j, w_peak = s["n"], s["rate"], s["cap"], load["w_peak"]
    hours_j, avg_rps, fte_month, setup = s["replica_hours"], load["avg_rps"], load["fte_month"], load["setup"]
    exact_hours = hours * (w_peak * s["peak_exact"] + (1 - w_peak) * s["base_exact"])
    smooth = _bill(exact_hours * n_j, s["peak_exact"] * n_j, rate_j, fte_month, setup, cat, load["x"]["ops_fte"])[
        "total"
    ]
    gpus_per_replica = np.where(none, 0, n_j).astype(int)
    peak_replicas = np.where(none, 0, s["peak_r"]).astype(int)
    occupied = avg_rps / cap_j * n_j * hours  # GPU-hours the average load keeps busy
    owned_rate = shape("owned_rate")
    gi = shape("gpu_ix")
    gpu_code = np.where(gi >= 0, gi, len(cat.gpus))  # the last code: no GPU ("")
    rps_j = shape("rps") * load["x"]["throughput"]
    return {
        **{key: np.where(none, np.nan, v) for key, v in s["bill"].items()},
        "smooth_total": np.where(none, np.nan, smooth),
        "gpu_id": labels([*cat.gpus.id, ""], gpu_code),
        "gpus": peak_replicas * gpus_per_replica,
        "replicas": peak_replicas,
        "base_replicas": np.where(none, 0, s["base_r"]).astype(int),
        "gpu_hours": np.where(none, np.nan, hours_j * n_j),
        "gpus_per_replica": gpus_per_replica,
        "concurrency": shape("concurrency").astype(int),
        "tpot_ms": shape("tpot_ms"),
        "ttft_ms": shape("ttft_ms"),
        "meets_targets": (shapes["meets"] > 0).any(axis=1)[load["combo"]],
        "rps_per_replica": rps_j,
        "gpu_rate": rate_j,
        "peak_rps": avg_rps * p,
        "max_utilisation": shape("max_util") * load["x"]["utilisation"],
        "setup_weeks": shapes["setup_weeks"][rows] + load["x"]["setup_weeks"],
        "utilisation": avg_rps * hours / np.maximum(hours_j * rps_j, 1e-12),
        "owned_marginal": occupied * owned_rate,
        "owned_rate": owned_rate,
        # the GPU named has no price in the pricing mode asked for: its neocloud on-demand price stands in
        "price_fallback": shape("fallback") > 0,
        # no cited measurement on this GPU: its throughput is the model's extrapolation from other GPUs
        "extrapolated": ~np.append(np.isin(cat.gpus.id, list(cat.calibrated_gpus)), False)[gpu_code],
        "pricing": labels(df.gpu_pricing, rows),
    }


def _prune(cand: pd.DataFrame) -> pd.DataFrame:
    """Drop replica shapes no operator would pick: more GPUs per replica than a node (8) when the model fits in
    fewer, and shapes that cost more per replica-hour and per request/s than a shape with no more GPUs that
    meets the targets at least as well (its fleet can only cost more, to within one replica of the other).

    ``cand`` is sorted by combo; each combo's shapes are compared pairwise in one (combos, K, K) block."""
    n_min = cand.groupby(["combo", "gpu_id"]).n.transform("min")
    cand = cand[(cand.n <= np.maximum(8, n_min))]
    combo = cand.combo.to_numpy()
    starts = np.flatnonzero(np.diff(combo, prepend=-1))
    sizes = np.diff(np.append(starts, len(combo)))
    group = np.repeat(np.arange(len(starts)), sizes)
    slot = np.arange(len(combo)) - starts[group]

    def block(values: np.ndarray, fill: float) -> tuple[np.ndarray, np.ndarray]:
        """Each combo's values as shape a (rows) and as shape b (columns); ``fill`` pads, and never beats."""
        out = np.full((len(starts), sizes.max(initial=0)), fill)
        out[group, slot] = values
        return out[:, :, None], out[:, None, :]

    price = (cand.rate * cand.n).to_numpy()
    pr_a, pr_b = block(price, np.inf)
    pq_a, pq_b = block(price / cand.rps.to_numpy(), np.inf)
    n_a, n_b = block(cand.n.to_numpy(float), np.inf)
    m_a, m_b = block(cand.meets.to_numpy(float), -np.inf)
    # [combo, a, b]: shape b is at least as good as shape a on every count, and better on one (so b is not a)
    beats = (pr_b <= pr_a) & (pq_b <= pq_a) & (n_b <= n_a) & (m_b >= m_a)
    strictly = (pr_b < pr_a) | (pq_b < pq_a) | (n_b < n_a) | (m_b > m_a)
    return cand[~(beats & strictly).any(axis=2)[group, slot]]


def _bill(
    gpu_hours: np.ndarray, peak_gpus: np.ndarray, rate: np.ndarray, fte_month, setup, cat: Catalog, ops_x: Any = 1.0
) -> dict:
    """Return a fleet's monthly bill: its lines, its ops FTE (by the GPUs at the peak, x ``ops_x``) and the total."""
    gpu_cost = gpu_hours * rate
    overhead = gpu_cost * cat.a("non_gpu_overhead")
    ops_fte = (cat.a("ops_fte_base") + cat.a("ops_fte_per_gpu") * peak_gpus) * ops_x
    ops_staff = ops_fte * fte_month
    setup = np.broadcast_to(setup, gpu_cost.shape)
    return {
        "gpu_cost": gpu_cost,
        "overhead": overhead,
        "ops_staff": ops_staff,
        "setup_amortised": setup,
        "total": gpu_cost + overhead + ops_staff + setup,
        "ops_fte": ops_fte,
    }


def fleet_cost(
    df: pd.DataFrame,
    requests: np.ndarray,
    peak: np.ndarray,
    cat: Catalog,
    shapes: dict[str, np.ndarray] | None = None,
    rows: np.ndarray | None = None,
    volume: np.ndarray | None = None,
    draws: Any = None,
) -> np.ndarray:
    """Return the monthly cost of a self-hosted fleet serving ``requests`` sized for ``peak`` x the average rate
    (``shapes``, ``rows``, ``volume``, ``draws``: as for ``self_hosted_fleet``, which returns the same total with
    its breakdown)."""
    shapes = plan(df, cat) if shapes is None else shapes
    rows = np.arange(len(df)) if rows is None else np.asarray(rows)
    requests, peak = np.asarray(requests, float), np.broadcast_to(np.maximum(peak, 1e-9), len(rows))
    volume = requests if volume is None else np.broadcast_to(np.asarray(volume, float), len(rows))
    out = np.zeros(len(rows))  # no traffic, no fleet
    busy = np.flatnonzero(requests > 0)
    x = factors(draws, len(busy), FLEET_FACTORS, busy)
    total = _cheapest(shapes, _load(shapes, rows[busy], requests[busy], peak[busy], cat, volume[busy], x), cat)[1]
    out[busy] = np.where(np.isfinite(total), total, np.nan)
    return out
