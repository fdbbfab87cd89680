"""Notebook 02's derivations: the break-even and utilisation formulas, GPUs per replica, and the cost
lesson's tables, each worked from the engine's own inputs (``kit.cost``, ``kit.fleet``, ``kit.capacity`` and
data/assumptions.yaml) and set beside the engine's answer, so a learner can check one against the other.

Nothing here prices anything the engine does not: the formulas read a fleet's replica shape (GPU, GPUs per
replica, goodput, $/GPU-hour) from ``kit.cost.costs`` at one volume and redo the arithmetic in the open.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pandas as pd

from kit import capacity
from kit.catalog import Catalog, load_catalog
from kit.cost import break_even, costs, crossings, volume_sweep
from kit.fleet import base_and_overflow, min_replicas, scales
from kit.fmt import money
from kit.params import OPTION_LABELS, OPTIONS, Scenario

PER_TOKEN = ("closed_api", "hosted_open")
# How far the break-even formula may land from the engine's break-even (relative): the formula leaves out the
# whole-replica staircase and the extra replicas of the busy hours, which only move the engine's answer later.
FORMULA_TOLERANCE = 0.25


# --- the fleet's inputs, read from the engine ------------------------------------------------------------


def fleet_inputs(s: Scenario, volume: float | None = None, cat: Catalog | None = None) -> dict[str, Any]:
    """Return what the hand formulas multiply, for the replica shape the engine prices at ``volume`` (default:
    the scenario's): GPUs per replica, $/GPU-hour, goodput, planned peak utilisation, the load shape, the
    minimum fleet, staff and setup, and each per-token option's price per request."""
    cat = cat or load_catalog()
    volume = float(s["monthly_requests"] if volume is None else volume)
    row = costs([s.replace(monthly_requests=int(round(volume)))], cat).iloc[0]
    peak = float(s["peak_to_average"])
    base = float(base_and_overflow(np.array([peak]), cat)[0][0])
    scaled = bool(scales(np.array([row.self_pricing]))[0])
    w = cat.a("peak_hours_share") if scaled else 1.0
    fte_month = float(s["fte_annual_cost_usd"]) / 12
    n, rate, rps = float(row.self_gpus_per_replica), float(row.self_gpu_rate), float(row.self_rps_per_replica)
    return {
        "volume": volume,
        "gpu": row.self_gpu_id,
        "open_model": row.open_id,
        "pricing": row.self_pricing,
        "gpus_per_replica": int(n),
        "usd_per_gpu_hour": rate,
        "rps_per_replica": rps,
        "max_utilisation": float(row.self_max_utilisation),
        "peak_to_average": peak,
        "base_load": base if scaled else peak,  # a fleet that cannot scale is sized for the peak all month
        "peak_hours_share": w,
        "scaled": scaled,
        "floor_replicas": int(min_replicas(volume, cat)),
        "hours": cat.a("hours_per_month"),
        "overhead": cat.a("non_gpu_overhead"),
        "fte_month": fte_month,
        "ops_fte_base": cat.a("ops_fte_base"),
        "ops_fte_per_gpu": cat.a("ops_fte_per_gpu"),
        "setup_usd": float(row.self_setup_amortised),
        "price_per_request": {o: float(row[o]) / volume if row[f"allowed_{o}"] else math.nan for o in PER_TOKEN},
    }


# --- break-even ----------------------------------------------------------------------------------------


def break_even_formula(
    s: Scenario, rival: str = "closed_api", volume: float | None = None, cat: Catalog | None = None
) -> dict[str, Any]:
    """Work the break-even of self-hosting against a per-token ``rival`` by hand and set it beside the engine's.

    Self-hosting costs at least its floor, ``F_floor`` = the minimum fleet running all month (GPUs + non-GPU
    overhead) + its staff + setup; above the floor's capacity it grows by ``m`` per request (the GPU-hours a
    request takes at the planned utilisation, with overhead and the staff per GPU), from a fixed part ``F0``
    (base staff + setup). The rival bills ``p`` per request. It costs as much as self-hosting when it pays for
    the floor, ``F_floor / p``, and when it outruns the growing part, ``F0 / (p - m)``: the break-even is the
    later of the two (``None`` where ``p <= m``: self-hosting never catches up). The shape is the one the engine
    prices at ``volume`` (default: its own break-even, else the scenario's volume).
    """
    cat = cat or load_catalog()
    sweep = volume_sweep(s, cat=cat)
    engine = next(
        (b["monthly_requests"] for b in break_even(s, cat, sweep) if {b["a"], b["b"]} == {rival, "self_hosted_open"}),
        None,
    )
    at = volume or engine or float(s["monthly_requests"])
    x = fleet_inputs(s, at, cat)
    p = x["price_per_request"][rival]
    n, rate, hours, ovh = x["gpus_per_replica"], x["usd_per_gpu_hour"], x["hours"], x["overhead"]
    replica_month = n * rate * hours * (1 + ovh)  # one replica running all month, with its overhead
    staff_per_replica = x["ops_fte_per_gpu"] * n * x["fte_month"]
    f0 = x["ops_fte_base"] * x["fte_month"] + x["setup_usd"]
    floor = x["floor_replicas"]
    f_floor = f0 + floor * (replica_month + staff_per_replica)
    cap = x["rps_per_replica"] * x["max_utilisation"]  # requests/s one replica serves at the planned utilisation
    mean_load = x["peak_hours_share"] * x["peak_to_average"] + (1 - x["peak_hours_share"]) * x["base_load"]
    seconds = hours * 3600
    m = (replica_month * mean_load + staff_per_replica * x["peak_to_average"]) / (cap * seconds)
    floor_requests = floor * cap * seconds / x["peak_to_average"]  # what the minimum fleet serves at its peak
    n_floor = f_floor / p if p > 0 else None
    n_grow = f0 / (p - m) if p > m else None
    formula = None if n_grow is None else max(n_floor, n_grow)
    return {
        **x,
        "rival": rival,
        "api_per_request": p,
        "fixed_base_usd": f0,
        "floor_usd": f_floor,
        "marginal_per_request": m,
        "floor_requests": floor_requests,
        "break_even_floor": n_floor,
        "break_even_growing": n_grow,
        "break_even_formula": formula,
        "break_even_engine": engine,
        "ratio": None if formula is None or engine is None else formula / engine,
    }


def formula_table(s: Scenario, rival: str = "closed_api", cat: Catalog | None = None) -> pd.DataFrame:
    """The break-even formula worked line by line for ``s`` (see ``break_even_formula``), with the engine's."""
    h = break_even_formula(s, rival, cat=cat)
    n, rate = h["gpus_per_replica"], h["usd_per_gpu_hour"]

    def vol(x: float | None) -> str:
        return "never" if x is None else f"{x:,.0f} requests/month"

    rows = [
        ("replica shape the engine prices there", f"{n} x {h['gpu']} ({h['open_model']}), {h['pricing']}",
         f"at {h['volume']:,.0f} requests/month"),
        ("one replica all month, with overhead", money(n * rate * h["hours"] * (1 + h["overhead"])),
         f"{n} GPUs x ${rate:.2f}/h x {h['hours']:.0f} h x (1 + {h['overhead']:.0%})"),
        ("F0: base staff + setup", money(h["fixed_base_usd"]),
         f"{h['ops_fte_base']:g} FTE x {money(h['fte_month'])}/month + {money(h['setup_usd'])} setup"),
        ("F_floor: F0 + the minimum fleet and its staff", money(h["floor_usd"]),
         f"{h['floor_replicas']} replica(s) all month, {h['ops_fte_per_gpu']:g} FTE per GPU"),
        ("the minimum fleet serves up to", vol(h["floor_requests"]),
         f"{h['floor_replicas']} x {h['rps_per_replica']:.2f} req/s x {h['max_utilisation']:.0%} planned, "
         f"over {h['peak_to_average']:g}x peak"),
        (f"p: {OPTION_LABELS[rival]} per request", f"${h['api_per_request']:.6f}", "its monthly bill / requests"),
        ("m: self-hosting per extra request", f"${h['marginal_per_request']:.6f}",
         "GPU-hours per request at the planned utilisation, with overhead and staff per GPU"),
        ("F_floor / p (the API pays for the floor)", vol(h["break_even_floor"]), ""),
        ("F0 / (p - m) (the API outruns the growing fleet)", vol(h["break_even_growing"]), ""),
        ("break-even by hand: the later of the two", vol(h["break_even_formula"]), ""),
        ("break-even by the engine (volume sweep, rounded to two figures)", vol(h["break_even_engine"]),
         "" if h["ratio"] is None else f"hand / engine = {h['ratio']:.2f}"),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["quantity", "value", "how"]).set_index("quantity")


# --- the exact crossing --------------------------------------------------------------------------------


def exact_crossing(s: Scenario, rival: str = "closed_api", cat: Catalog | None = None) -> int | None:
    """The first whole volume at which self-hosting costs less than ``rival``, found by bisection on the
    engine's own cost curves between the two points of the volume sweep that bracket it (the sweep's points are
    about 7% apart, so reading the grid overshoots the crossing). ``None``: self-hosting never wins in the sweep.
    At this volume the two bills are equal to within one request's price, so the fleet's utilisation there is the
    utilisation the formula says self-hosting needs."""
    cat = cat or load_catalog()
    sweep = volume_sweep(s, cat=cat)
    own, other = sweep.self_hosted_open.to_numpy(float), sweep[rival].to_numpy(float)
    wins = np.flatnonzero(own < other)
    if not len(wins):
        return None
    i = int(wins[0])
    hi = int(sweep.monthly_requests.iloc[i])
    if i == 0:
        return hi
    lo = int(sweep.monthly_requests.iloc[i - 1])

    # Narrow the bracket 64-fold per engine call (one call prices 65 volumes), to the first whole volume that wins.
    while hi - lo > 1:
        grid = np.unique(np.linspace(lo, hi, 65).round().astype(int))
        rows = costs([s.replace(monthly_requests=int(v)) for v in grid], cat)
        win = rows.self_hosted_open.to_numpy(float) < rows[rival].to_numpy(float)
        j = int(np.flatnonzero(win)[0]) if win.any() else len(grid) - 1
        lo, hi = (int(grid[j - 1]), int(grid[j])) if j > 0 else (lo, int(grid[0]))
    return hi


# --- utilisation ---------------------------------------------------------------------------------------


def utilisation_formula(s: Scenario, volume: float | None = None, cat: Catalog | None = None) -> dict[str, Any]:
    """The utilisation identity at one volume, from the engine's fleet there.

    Average utilisation U = requests served / requests the paid GPU-hours could serve at full goodput. The GPU
    bill is then (full-speed GPU cost per request) x requests / U, so self-hosting matches a per-token price p
    when U = c_full x (1 + overhead) / (p - (staff + setup) / requests): with no staff that is seed 004's kind of
    rule, a price ratio. Returns U by the formula and by the engine, and the U needed against the closed API.
    """
    cat = cat or load_catalog()
    volume = float(s["monthly_requests"] if volume is None else volume)
    row = costs([s.replace(monthly_requests=int(round(volume)))], cat).iloc[0]
    n, rate, rps = float(row.self_gpus_per_replica), float(row.self_gpu_rate), float(row.self_rps_per_replica)
    replica_hours = float(row.self_gpu_hours) / n
    u = volume / (replica_hours * rps * 3600)
    c_full = n * rate / (rps * 3600)  # GPU cost of one request on a replica busy all the time
    ovh = cat.a("non_gpu_overhead")
    people = float(row.self_ops_staff + row.self_setup_amortised)
    p = float(row.closed_api) / volume if row.allowed_closed_api else math.nan
    denominator = p - people / volume
    return {
        "volume": volume,
        "utilisation_formula": u,
        "utilisation_engine": float(row.self_utilisation),
        "gpu_per_request_full": c_full,
        "api_per_request": p,
        "price_ratio": c_full * (1 + ovh) / p,  # the busy share at which GPU-hours alone match the API
        "needed_with_staff": c_full * (1 + ovh) / denominator if denominator > 0 else math.inf,
        "self_cost_engine": float(row.self_hosted_open),
        "self_cost_formula": c_full * (1 + ovh) * volume / u + people,
        "closed_cost": float(row.closed_api),
    }


def utilisation_formula_table(s: Scenario, cat: Catalog | None = None) -> pd.DataFrame:
    """The utilisation formulas at the scenario's volume and at the exact crossing with the closed API (found by
    bisection on the engine's cost curves; the engine's break-even is the same volume rounded to two figures)."""
    cat = cat or load_catalog()
    rounded = next(
        (b["monthly_requests"] for b in break_even(s, cat) if {b["a"], b["b"]} == {"closed_api", "self_hosted_open"}),
        None,
    )
    rows = []
    for label, vol in (
        ("your volume", s["monthly_requests"]),
        (
            "the exact crossing"
            + ("" if rounded is None else f" (the engine's break-even, {rounded:,.0f} rounded to two figures)"),
            exact_crossing(s, cat=cat),
        ),
    ):
        if vol is None:
            continue
        u = utilisation_formula(s, vol, cat)
        rows.append(
            {
                "at": f"{label} ({vol:,.0f}/month)",
                "U by formula": f"{u['utilisation_formula']:.1%}",
                "U by the engine": f"{u['utilisation_engine']:.1%}",
                "GPU-only U needed (price ratio)": f"{u['price_ratio']:.1%}",
                "U needed with staff and setup": "never"
                if math.isinf(u["needed_with_staff"])
                else f"{u['needed_with_staff']:.1%}",  # fmt: skip
                "self-hosting by formula": money(u["self_cost_formula"]),
                "by the engine": money(u["self_cost_engine"]),
                "closed API": money(u["closed_cost"]),
            }
        )
    return pd.DataFrame(rows).set_index("at")


# --- seed 004's rule of thumb ---------------------------------------------------------------------------

# Scenarios that move the three things seed 004's "under ~30% utilisation a closed API is cheaper" hides: the
# closed model's price against the GPU-hour (quality need picks both models), the model's size (GPUs per
# replica) and the staff. Each changes one or two inputs of the notebook's scenario.
RULE_CASES = (
    ("strong (the notebook's scenario)", {}),
    ("strong, GPUs reserved for a year", {"gpu_pricing": "reserved_1y"}),
    ("frontier: a pricier closed model", {"quality_need": "frontier"}),
    ("everyday: a cheap closed model, a small open one", {"quality_need": "everyday"}),
    ("everyday, engineers at $400k a year", {"quality_need": "everyday", "fte_annual_cost_usd": 400_000.0}),
    ("strong, Llama 3.3 70B named (one GPU a replica)", {"open_model": "llama-3.3-70b"}),
)


def rule_of_thumb_table(s: Scenario, cases: Any = RULE_CASES, cat: Catalog | None = None) -> pd.DataFrame:
    """For each case (a label and changes to ``s``): the models, GPUs per replica, the price ratio (full-speed
    GPU cost per request with overhead / closed price per request), and where self-hosting first beats the
    closed API - the exact crossing (``exact_crossing``), the fleet's average utilisation there and the
    utilisation the formula says it needs with staff, equal at the crossing - and whether seed 004's "below ~30%,
    closed is cheaper" holds there."""
    cat = cat or load_catalog()
    rows = []
    for label, change in cases:
        c = s.replace(**change)
        vol = exact_crossing(c, cat=cat)
        u = utilisation_formula(c, vol or c["monthly_requests"], cat)
        row = costs([c.replace(monthly_requests=int(vol or c["monthly_requests"]))], cat).iloc[0]
        util = None if vol is None else float(row.self_utilisation)
        rows.append(
            {
                "case": label,
                "closed / open model": f"{row.closed_ref.split('/')[-1]} / {row.open_id}",
                "GPUs per replica": f"{row.self_gpus_per_replica} x {row.self_gpu_id}",
                "price ratio (GPU-only U needed)": f"{u['price_ratio']:.1%}",
                "self-hosting beats closed from": "never" if vol is None else f"{vol:,}/month",
                "average U there": "-" if util is None else f"{util:.1%}",
                "U needed with staff there": "-" if vol is None else f"{u['needed_with_staff']:.1%}",
                "seed 004's 30% line": "-"
                if util is None
                else ("holds" if util >= 0.3 else "fails: self-hosting wins below 30%"),  # fmt: skip
            }
        )
    return pd.DataFrame(rows).set_index("case")


def staff_table(s: Scenario, volume: float, engineer_costs: Any = (100_000.0, 200_000.0, 400_000.0),
                cat: Catalog | None = None) -> pd.DataFrame:  # fmt: skip
    """At one volume, for each loaded yearly cost of an engineer: the price ratio, the utilisation self-hosting
    needs once staff and setup are spread over the requests, and the utilisation its fleet actually has."""
    rows = []
    for pay in engineer_costs:
        u = utilisation_formula(s.replace(fte_annual_cost_usd=float(pay)), volume, cat)
        need = u["needed_with_staff"]
        rows.append(
            {
                "engineer, loaded $/year": f"${pay:,.0f}",
                "price ratio (GPU-only U needed)": f"{u['price_ratio']:.1%}",
                "U needed with staff and setup": f"{need:.1%}" if need <= 1 else "over 100%: no fleet is that busy",
                "the fleet's U": f"{u['utilisation_engine']:.1%}",
                "cheaper": "self-hosting" if u["self_cost_engine"] < u["closed_cost"] else "the closed API",
            }
        )
    return pd.DataFrame(rows).set_index("engineer, loaded $/year")


def utilisation_ceiling(s: Scenario, cat: Catalog | None = None) -> dict[str, float]:
    """The highest average utilisation a fleet can reach for ``s``'s traffic: planned peak utilisation x (mean
    load / the load the fleet is sized for). A fleet rented by the hour follows the load; one reserved or owned
    is sized for the peak all month, so it averages at most planned utilisation / peak-to-average."""
    cat = cat or load_catalog()
    x = fleet_inputs(s, cat=cat)
    u = x["max_utilisation"]
    return {"scales_with_load": u, "sized_for_peak": u / x["peak_to_average"], "planned_peak": u}


# --- break-even pairs ------------------------------------------------------------------------------------


def break_even_pairs(s: Scenario, cat: Catalog | None = None, sweep: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every pair of options with its break-even volume, or why it has none: an option not allowed for this
    data, two per-token bills (straight lines through zero never cross: one is a fixed multiple of the other),
    a router that only touches an option (costs within the tie tolerance count as equal), or one option cheaper
    over the whole range swept. The crossings are the engine's (``kit.cost.crossings``)."""
    cat = cat or load_catalog()
    sweep = volume_sweep(s, cat=cat) if sweep is None else sweep
    v = sweep.monthly_requests.to_numpy(float)
    tol = cat.a("cost_tie_tolerance")
    rows = []
    for a, b in itertools.combinations(OPTIONS, 2):
        x, y = sweep[a].to_numpy(float), sweep[b].to_numpy(float)
        both = ~np.isnan(x) & ~np.isnan(y)
        label = f"{OPTION_LABELS[a]} vs {OPTION_LABELS[b]}"
        if not both.any():
            gone = [OPTION_LABELS[o] for o, c in ((a, x), (b, y)) if np.isnan(c).all()]
            rows.append((label, "none", f"{' and '.join(gone)} not allowed (or not priced) for this scenario"))
            continue
        found = crossings(x, y, tol)
        if found:
            (i, j), rest = found[0], len(found) - 1
            diff = x - y
            t = diff[i] / (diff[i] - diff[j])
            vol = float(np.exp(np.log(v[i]) + t * (np.log(v[j]) - np.log(v[i]))))
            above = OPTION_LABELS[a if diff[i] > 0 else b]
            more = f"; the staircase crosses {rest} more time(s) above it" if rest else ""
            rows.append((label, f"{float(f'{vol:.2g}'):,.0f}", f"{above} is cheaper above it{more}"))
            continue
        ratio = x[both] / y[both]
        near = np.abs(x[both] - y[both]) <= tol * np.fmax(np.abs(x[both]), np.abs(y[both]))
        cheaper = OPTION_LABELS[a] if np.nanmedian(ratio) < 1 else OPTION_LABELS[b]
        span = f"{v[both][0]:,.0f} to {v[both][-1]:,.0f} requests/month"
        if a in PER_TOKEN and b in PER_TOKEN:
            r = float(np.median(ratio))
            hi, lo = (a, b) if r > 1 else (b, a)
            why = (f"both bill per token: straight lines through zero, {OPTION_LABELS[hi]} always "
                   f"{max(r, 1 / r):.2f}x {OPTION_LABELS[lo]}; they never cross")  # fmt: skip
        elif near.all():
            why = f"within {tol:.0%} of each other wherever both exist ({span}): a tie, not a crossing"
        else:
            why = f"{cheaper} is cheaper wherever both exist ({span})"
        rows.append((label, "none", why))
    return pd.DataFrame(rows, columns=["pair", "break-even requests/month", "why"]).set_index("pair")


# --- GPUs per replica -----------------------------------------------------------------------------------


def replica_memory(
    s: Scenario, gpu: str | None = None, model: str | None = None, cat: Catalog | None = None
) -> pd.DataFrame:
    """How one replica's memory adds up on 1, 2, 4 and 8 GPUs, with the engine's own memory functions
    (``kit.capacity``): weights = parameters x bits / 8; the KV cache of one request at its real context
    (input + output tokens); a runtime reserve per GPU; only ``gpu_memory_usable`` of each GPU's memory for
    the engine. ``gpu``/``model`` (a GPU and an open model to use instead of ``s``'s) default to the ones the
    engine prices for ``s``; the shape the engine bills is marked."""
    cat = cat or load_catalog()
    s = s.replace(**({"open_model": model} if model else {}), **({"gpu": gpu} if gpu else {}))
    row = costs([s], cat).iloc[0]
    model, gpu = row.open_id, row.self_gpu_id
    m = capacity.find_model(model, cat)
    g = capacity.find_gpu(gpu, cat)
    bits = s["quant_bits"]
    weights = float(m.total_params_b) * bits / 8
    context = s["input_tokens"] + s["output_tokens"]
    kv_seq = float(
        capacity.kv_bytes(m.kv_bytes_per_token, m.kv_local_bytes_per_token, m.sliding_window_tokens, context,
                          s["kv_bits"])
    ) / 1e9  # fmt: skip
    rows = []
    for n in (1, 2, 4, 8):
        usable = float(capacity.usable_gb(n, g.memory_gb, cat))
        fits = int(capacity.max_concurrency(n, g.memory_gb, weights, kv_seq, cat))
        billed = n == row.self_gpus_per_replica
        rows.append(
            {
                "GPUs per replica": n,
                "memory": f"{n} x {g.memory_gb:g} GB = {n * g.memory_gb:g} GB",
                "usable for weights + KV cache": f"{usable:,.1f} GB",
                f"weights ({m['name']}, {bits}-bit)": f"{weights:,.1f} GB",
                f"KV cache per request ({context:,} tokens)": f"{kv_seq:.3f} GB",
                "requests that fit at once": fits if fits else "0: the weights do not fit",
                "engine bills": "this shape" + (f" (runs {row.self_concurrency} at once)" if billed else "")
                if billed
                else "",  # fmt: skip
            }
        )
    return pd.DataFrame(rows).set_index("GPUs per replica")


def gpus_per_replica_note(s: Scenario, cat: Catalog | None = None) -> str:
    """One sentence: the model, the GPUs per replica the engine bills for ``s``, and why (memory or speed)."""
    cat = cat or load_catalog()
    row = costs([s], cat).iloc[0]
    m = capacity.find_model(row.open_id, cat)
    g = capacity.find_gpu(row.self_gpu_id, cat)
    weights = float(m.total_params_b) * s["quant_bits"] / 8
    fewest = int(capacity.min_gpus(g.memory_gb, weights, 0.0, cat))
    n = int(row.self_gpus_per_replica)
    why = (
        "the fewest that hold its weights"
        if n == fewest
        else f"more than the {fewest} that hold its weights, because the extra memory for KV cache and the extra "
        "compute serve requests more cheaply within the latency targets"
    )
    return (
        f"{m['name']} at {s['quant_bits']}-bit weights is {weights:,.1f} GB; on {g['name']} "
        f"({float(capacity.usable_gb(1, g.memory_gb, cat)):.0f} GB usable per GPU after the runtime reserve) the "
        f"engine bills {n} GPU(s) per replica: {why}."
    )


# The GiB behind a GPU's "80 GB": data/gpus.csv lists the marketed figure, which for A100/H100-class GPUs is GiB.
GIB = 2**30 / 1e9


def memory_reading_table(
    s: Scenario, model: str = "llama-3.3-70b", gpu: str = "h100_80gb", cat: Catalog | None = None
) -> pd.DataFrame:
    """GPUs per replica and requests that fit at once, for ``model`` at 4, 8 and 16 bits on ``gpu``, under two
    readings of its memory: the kit's (the listed "80 GB" as 80 x 10^9 bytes) and the hardware's (80 GiB, about
    85.9 x 10^9 bytes). Both use the engine's own functions (``kit.capacity.min_gpus``/``max_concurrency``) at
    ``s``'s context; only the memory passed in differs. The kit's reading is the conservative one."""
    cat = cat or load_catalog()
    m = capacity.find_model(model, cat)
    g = capacity.find_gpu(gpu, cat)
    context = s["input_tokens"] + s["output_tokens"]
    kv_seq = float(
        capacity.kv_bytes(m.kv_bytes_per_token, m.kv_local_bytes_per_token, m.sliding_window_tokens, context,
                          s["kv_bits"])
    ) / 1e9  # fmt: skip
    readings = (("the kit (x 10^9 bytes)", float(g.memory_gb)), ("the hardware (GiB)", float(g.memory_gb) * GIB))
    rows = []
    for bits in (4, 8, 16):
        weights = float(m.total_params_b) * bits / 8
        row = {"bits per weight": bits, "weights": f"{weights:,.1f} GB"}
        for label, mem in readings:
            n = int(capacity.min_gpus(mem, weights, kv_seq, cat))
            fits = int(capacity.max_concurrency(n, mem, weights, kv_seq, cat)) if n else 0
            row[f"usable per GPU, {label}"] = f"{float(capacity.usable_gb(1, mem, cat)):.1f} GB"
            row[f"GPUs per replica, {label}"] = f"{n} ({fits} requests fit)" if n else "none fits"
        rows.append(row)
    return pd.DataFrame(rows).set_index("bits per weight")


def serving_summary(s: Scenario, cat: Catalog | None = None) -> pd.DataFrame:
    """What the engine bills for ``s``'s self-hosted fleet: the replica shape, the requests each runs at once,
    its latencies against the targets, the replicas at the peak and the monthly bill."""
    cat = cat or load_catalog()
    row = costs([s], cat).iloc[0]
    rows = [
        ("replica shape", f"{row.self_gpus_per_replica} x {row.self_gpu_id} ({row.open_id}, {s['quant_bits']}-bit)"),
        ("requests each replica runs at once", f"{row.self_concurrency}"),
        ("time to first token", f"{row.self_ttft_ms:,.0f} ms (target {s['latency_ms']:,} ms)"),
        ("time per output token", f"{row.self_tpot_ms:,.0f} ms (target {s['tpot_ms']:,} ms)"),
        ("meets the targets", "yes" if row.self_meets_targets else "no: no GPU shape meets the targets"),
        ("replicas at the peak", f"{row.self_replicas}"),
        ("self-hosted bill", f"{money(row.self_hosted_open)}/month"),
    ]
    return pd.DataFrame(rows, columns=["quantity", "value"]).set_index("quantity")


# --- hidden costs (seed 003) ----------------------------------------------------------------------------


def hidden_costs(s: Scenario, cat: Catalog | None = None) -> pd.DataFrame:
    """Seed 003's hidden costs on both sides, each with what the kit prices for ``s`` (a dollar figure from the
    engine's breakdown) or where the course treats it instead."""
    cat = cat or load_catalog()
    row = costs([s], cat).iloc[0]
    n = int(row.self_gpus_per_replica)
    spare = n * float(row.self_gpu_rate) * cat.a("hours_per_month") * (1 + cat.a("non_gpu_overhead"))
    closed = OPTION_LABELS["closed_api"]
    own = OPTION_LABELS["self_hosted_open"]
    rows = [
        (closed, "token bills that compound with volume", f"priced: {money(row.closed_api)}/month at this volume"),
        (closed, "rate limits that bite at traffic peaks", "not priced: the kit assumes the API takes any peak"),
        (closed, "provider outages", "not priced: no outage cost or fallback tier in the bill (notebook 08's "
         "router is one answer)"),
        (closed, "silent model upgrades, price and version changes", "not priced: today's list price is used; "
         "version pinning is on the control axis (notebook 03)"),
        (closed, "per-call latency (seed 003: rarely under ~500 ms)", "not a cost: the performance axis "
         "(notebook 06)"),
        (own, "GPUs, paid whether busy or not", f"priced: {money(row.self_gpu_cost)}/month GPUs + "
         f"{money(row.self_overhead)} overhead"),
        (own, "redundancy for production serving", f"priced: the minimum fleet keeps "
         f"{int(min_replicas(s['monthly_requests'], cat))} replicas; one spare replica costs about "
         f"{money(spare)}/month"),
        (own, "on-call and operations staff", f"priced: {row.self_ops_fte:.2f} FTE = "
         f"{money(row.self_ops_staff)}/month (whatever team you have: a gap is hired)"),
        (own, "inference-server tuning and setup", f"priced: {row.self_setup_weeks:g} engineer-weeks amortised = "
         f"{money(row.self_setup_amortised)}/month"),
        (own, "upgrade cycle: a new model is a re-tuning project", "partly: setup is amortised over "
         f"{cat.a('amortise_months'):.0f} months, as if you redo it each year"),
        (own, "capability gaps on tool use, structured output, long context", "not priced: a quality question "
         "(notebook 06); the kit only checks the open model's score against the quality bar"),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["side", "hidden cost (seed 003)", "in the kit"]).set_index(
        ["side", "hidden cost (seed 003)"]
    )
