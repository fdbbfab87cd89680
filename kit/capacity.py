"""GPU memory sizing and per-replica serving throughput (measured where cited, roofline otherwise)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from kit.catalog import Catalog, load_catalog
from kit.errors import ParamError

# bf16 KV cache bytes per token ~ this x sqrt(params in billions); fitted to Llama 3.1 8B and 3.3 70B.
KV_BYTES_RULE_OF_THUMB = 40_000


def kv_bytes_estimate(params_b: float) -> float:
    """Estimate KV-cache bytes per token for a model known only by its size."""
    return KV_BYTES_RULE_OF_THUMB * math.sqrt(params_b)


def find_gpu(name: str, cat: Catalog | None = None) -> pd.Series:
    """Return the gpus.csv row whose id or name matches ``name`` (case and spaces ignored)."""
    cat = cat or load_catalog()
    key = name.lower().replace(" ", "").replace("_", "").replace("-", "")
    for _, row in cat.gpus.iterrows():
        ids = {row.id.replace("_", ""), row["name"].lower().replace(" ", "").replace("-", "")}
        short = row.id.split("_")[0]
        if key in ids or key == short or key == row["name"].lower().replace("nvidia", "").replace(" ", ""):
            return row
    raise ParamError("gpu", name, "one of " + ", ".join(cat.gpus.id))


def gpus_for(total_gb: Any, gpu_memory_gb: Any, cat: Catalog) -> np.ndarray:
    """Return the whole number of GPUs whose usable memory holds ``total_gb`` (never fractional)."""
    usable = np.asarray(gpu_memory_gb, float) * cat.a("gpu_memory_usable") - cat.a("runtime_overhead_gb")
    return np.maximum(1, np.ceil(np.asarray(total_gb, float) / usable)).astype(int)


def next_pow2(n: Any) -> np.ndarray:
    """Round GPU counts up to a power of two, as tensor parallelism requires."""
    n = np.maximum(1, np.asarray(n, int))
    return (2 ** np.ceil(np.log2(n))).astype(int)


def size(
    params_b: float,
    bits: float,
    gpu: str,
    context: int = 8192,
    concurrency: int = 1,
    kv_bytes_per_token: float | None = None,
    cat: Catalog | None = None,
) -> dict:
    """Size the GPUs needed to hold a model: weights + KV cache + runtime overhead."""
    cat = cat or load_catalog()
    g = find_gpu(gpu, cat)
    kv_per_token = kv_bytes_per_token or kv_bytes_estimate(params_b)
    weights = params_b * bits / 8
    kv = context * concurrency * kv_per_token / 1e9
    n = int(gpus_for(weights + kv, g.memory_gb, cat))
    overhead = n * cat.a("runtime_overhead_gb")
    return {
        "gpu": g.id,
        "gpu_name": g["name"],
        "gpu_memory_gb": float(g.memory_gb),
        "gpus": n,
        "gpus_tensor_parallel": int(next_pow2(n)),
        "memory_gb": round(weights + kv + overhead, 2),
        "breakdown": {
            "weights_gb": round(weights, 2),
            "kv_cache_gb": round(kv, 2),
            "runtime_overhead_gb": round(overhead, 2),
        },
        "assumptions": {
            "params_b": params_b,
            "bits": bits,
            "context": context,
            "concurrency": concurrency,
            "kv_bytes_per_token": round(kv_per_token),
            "kv_estimated": kv_bytes_per_token is None,
            "usable_fraction": cat.a("gpu_memory_usable"),
        },
    }


def roofline_decode_tps(
    total_b: Any,
    active_b: Any,
    bits: Any,
    kv_bytes_per_token: Any,
    context: Any,
    bandwidth_gbs: Any,
    batch: Any,
    cat: Catalog,
) -> np.ndarray:
    """Return generated tokens/s for ``batch`` sequences bounded by memory bandwidth (vectorised).

    Each decode step streams the active weights (a mixture-of-experts batch touches more experts)
    and every sequence's KV cache through memory, at ``roofline_efficiency`` of the peak bandwidth.
    """
    batch = np.asarray(batch, float)
    weight_bytes = np.minimum(total_b, np.asarray(active_b, float) * np.sqrt(batch)) * 1e9 * np.asarray(bits, float) / 8
    kv_bytes = batch * np.asarray(context, float) * np.asarray(kv_bytes_per_token, float)
    bw = np.asarray(bandwidth_gbs, float) * 1e9 * cat.a("roofline_efficiency")
    return batch / ((weight_bytes + kv_bytes) / bw)


def replica_table(combos: pd.DataFrame, cat: Catalog, use_measurements: bool = True) -> pd.DataFrame:
    """For unique (open_model, gpu, quant_bits, input_tokens, output_tokens) rows, size one replica.

    Returns per row: gpus_per_replica, rps_per_replica (requests/s at 100% busy), throughput_method,
    throughput_source.
    """
    models = cat.open_models.set_index("id")
    gpus = cat.gpus.set_index("id")
    m = models.loc[combos.open_model]
    g = gpus.loc[combos.gpu]
    bits = combos.quant_bits.to_numpy(float)
    total_b = m.total_params_b.to_numpy(float)
    active_b = m.active_params_b.to_numpy(float)
    kv_tok = m.kv_bytes_per_token.to_numpy(float)
    batch = cat.a("serving_batch")
    kv_reserved_gb = batch * cat.a("kv_context_tokens") * kv_tok / 1e9
    n = next_pow2(gpus_for(total_b * bits / 8 + kv_reserved_gb, g.memory_gb.to_numpy(float), cat))

    inp = combos.input_tokens.to_numpy(float)
    out = combos.output_tokens.to_numpy(float)
    decode_tps = roofline_decode_tps(
        total_b, active_b, bits, kv_tok, inp + out / 2, n * g.bandwidth_gbs.to_numpy(float), batch, cat
    )
    prefill_tps = n * g.bf16_tflops.to_numpy(float) * 1e12 * cat.a("compute_efficiency") / (2 * active_b * 1e9)
    rps = 1.0 / (inp / prefill_tps + out / decode_tps)
    method = np.full(len(combos), "roofline estimate", dtype=object)
    source = np.full(len(combos), "memory-bandwidth roofline (data/assumptions.yaml)", dtype=object)

    # Replace with a cited measurement where one exists for this model, GPU and precision.
    measured = cat.measured if use_measurements else {}
    for i, (mid, gid, b) in enumerate(zip(combos.open_model, combos.gpu, bits)):
        row = measured.get((mid, gid, float(b)))
        if row is None:
            continue
        n[i] = max(int(n[i]), int(row.gpus))
        scale = n[i] / row.gpus
        if row.metric == "total":
            rps[i] = row.tokens_per_s * scale / (inp[i] + out[i])
        else:
            rps[i] = 1.0 / (inp[i] / prefill_tps[i] + out[i] / (row.tokens_per_s * scale))
        method[i] = f"measured ({row.engine}, {row.precision}, concurrency {row.concurrency})"
        source[i] = row.source
    return pd.DataFrame(
        {"gpus_per_replica": n, "rps_per_replica": rps, "throughput_method": method, "throughput_source": source},
        index=combos.index,
    )
