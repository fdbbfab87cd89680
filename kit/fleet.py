"""The self-hosted fleet: whole GPUs sized for the peak load, and its monthly bill.

One home for fleet costing: ``kit.cost`` prices the all-self-hosted option with it and ``kit.router``
prices the hybrid router's self-hosted tiers with it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kit.capacity import replica_table
from kit.catalog import Catalog


def self_hosted_fleet(df: pd.DataFrame, requests: np.ndarray, cat: Catalog) -> dict[str, np.ndarray]:
    """Size and price a self-hosted fleet for ``requests`` a month of each scenario."""
    keys = ["open_id", "gpu", "quant_bits", "input_tokens", "output_tokens"]
    combos = df[keys].drop_duplicates().rename(columns={"open_id": "open_model"})
    rep = replica_table(combos.reset_index(drop=True), cat)
    rep[keys] = combos.reset_index(drop=True).rename(columns={"open_model": "open_id"})[keys].to_numpy()
    merged = df[keys].merge(rep, on=keys, how="left")

    lat = df.latency_ms.to_numpy(float)
    u_tight, u_relaxed = cat.a("max_utilisation_tight"), cat.a("max_utilisation_relaxed")
    max_util = np.interp(lat, [cat.a("latency_tight_ms"), cat.a("latency_relaxed_ms")], [u_tight, u_relaxed])
    avg_rps = requests / (cat.a("hours_per_month") * 3600)
    peak_rps = avg_rps * df.peak_to_average.to_numpy(float)
    rps_cap = merged.rps_per_replica.to_numpy(float)
    replicas_exact = np.maximum(cat.a("min_replicas"), peak_rps / (rps_cap * max_util))
    replicas = np.ceil(replicas_exact).astype(int)
    n_gpus = replicas * merged.gpus_per_replica.to_numpy(int)
    gpus_exact = replicas_exact * merged.gpus_per_replica.to_numpy(int)

    gpus = cat.gpus.set_index("id").loc[df.gpu]
    low, high = gpus.usd_per_hour_low.to_numpy(float), gpus.usd_per_hour_high.to_numpy(float)
    rate = np.select([df.gpu_rate == "low", df.gpu_rate == "high"], [low, high], (low + high) / 2)
    fte_month = df.fte_annual_cost_usd.to_numpy(float) / 12
    setup_weeks = cat.a("setup_weeks") + cat.a("finetune_setup_weeks") * df.needs_finetuning.to_numpy(bool)
    setup = setup_weeks * df.fte_annual_cost_usd.to_numpy(float) / 52 / cat.a("amortise_months")
    return {
        **_bill(n_gpus, rate, fte_month, setup, cat),
        # The same bill with GPUs in fractions: the unit economics without the staircase, which rises
        # smoothly with volume (the cost axis weighs it, so a step of the staircase cannot flip the axes).
        "smooth_total": _bill(gpus_exact, rate, fte_month, setup, cat)["total"],
        "gpus": n_gpus,
        "replicas": replicas,
        "gpus_per_replica": merged.gpus_per_replica.to_numpy(int),
        "rps_per_replica": rps_cap,
        "gpu_rate": rate,
        "peak_rps": peak_rps,
        "max_utilisation": max_util,
        "setup_weeks": setup_weeks,
        "utilisation": avg_rps / (replicas * rps_cap),
        "throughput_method": merged.throughput_method.to_numpy(object),
        "throughput_source": merged.throughput_source.to_numpy(object),
    }


def _bill(gpus: np.ndarray, rate: np.ndarray, fte_month: np.ndarray, setup: np.ndarray, cat: Catalog) -> dict:
    """Return a fleet's monthly bill for ``gpus`` GPUs: its lines, its ops FTE and the total."""
    gpu_cost = gpus * rate * cat.a("hours_per_month")
    overhead = gpu_cost * cat.a("non_gpu_overhead")
    ops_fte = cat.a("ops_fte_base") + cat.a("ops_fte_per_gpu") * gpus
    ops_staff = ops_fte * fte_month
    return {
        "gpu_cost": gpu_cost,
        "overhead": overhead,
        "ops_staff": ops_staff,
        "setup_amortised": setup,
        "total": gpu_cost + overhead + ops_staff + setup,
        "ops_fte": ops_fte,
    }


def fleet_cost(df: pd.DataFrame, requests: np.ndarray, peak: np.ndarray, cat: Catalog) -> np.ndarray:
    """Return the monthly cost of a self-hosted fleet serving ``requests`` sized for ``peak`` x the average rate."""
    sized = df.assign(peak_to_average=np.maximum(peak, 1e-9))
    return np.where(requests > 0, self_hosted_fleet(sized, requests, cat)["total"], 0.0)
