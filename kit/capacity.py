"""GPU memory and serving throughput at a latency target (goodput), for one replica of a self-hosted model.

One memory function and one throughput model serve ``kit size``, the cost engine and the lessons:

Memory (``max_concurrency``): a replica of ``n`` GPUs holds the weights (parameters x bits / 8) and, per
concurrent sequence, the KV cache of its real context (input + output tokens) at the KV precision, with
sliding-window layers holding at most their window; each GPU keeps ``runtime_overhead_gb`` and only
``gpu_memory_usable`` of its memory for the engine.

Throughput (``goodput``), continuous batching with ``B`` sequences in flight:

- a decode step takes ``t_step(B) = step_overhead + tp_sync (n > 1) + (weights touched + B x KV read) /
  (n x bandwidth x bandwidth_efficiency) + B x 2 x active parameters / (n x FLOP/s x decode_mfu)``;
  a mixture-of-experts batch touches ``total x (1 - (1 - active/total)^B)`` of its weights (each token
  picks experts independently: the expert-touch model);
- each new request's prefill takes ``t_pf = uncached input x 2 x active parameters / (n x FLOP/s x
  prefill_mfu)`` at the precision's FLOP/s (FP8 weights use FP8 tensor cores where the GPU has them);
- with ``B`` in flight, ``B / output`` requests start per step, so each step also carries their prefill:
  time per output token ``TPOT(B) = t_step(B) + B x t_pf / output``; time to first token
  ``TTFT(B) = t_pf + t_step(B)``; requests per second ``B / (output x TPOT(B))``.

The replica runs the largest ``B`` that fits in memory, stays within the engine's ``max_num_seqs`` and
meets both latency targets. The constants are fitted on the cited rows of ``data/throughput.csv`` marked
``calibration`` and checked on the three held-out ``anchor`` rows; see data/README.md. ``gpu = auto`` picks
only among GPUs with such rows; a GPU named without them is priced by extrapolation, and says so.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from kit.catalog import PRECISION_BITS, Catalog, load_catalog
from kit.errors import ParamError

TP_SIZES = (1, 2, 4, 8, 16, 32)  # GPUs per replica: tensor parallel within a node of 8, up to 4 nodes


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


def find_model(model_id: str, cat: Catalog | None = None) -> pd.Series:
    """Return the open_models.csv row ``model_id``; ParamError lists the known ids."""
    cat = cat or load_catalog()
    hit = cat.open_models[cat.open_models.id == model_id]
    if hit.empty:
        raise ParamError("model", model_id, "one of " + ", ".join(cat.open_models.id))
    return hit.iloc[0]


def kv_bytes(kv_full: Any, kv_local: Any, window: Any, context: Any, kv_bits: Any = 16) -> np.ndarray:
    """Return KV-cache bytes for ``context`` tokens of one sequence (vectorised).

    ``kv_full``: bytes per token of the full-attention layers at 16 bits; ``kv_local`` and ``window``: the
    sliding-window layers' bytes per token and window (they hold at most ``window`` tokens).
    """
    context = np.asarray(context, float)
    per16 = context * np.asarray(kv_full, float) + np.minimum(context, np.asarray(window, float)) * np.asarray(
        kv_local, float
    )
    return per16 * np.asarray(kv_bits, float) / 16


def usable_gb(n: Any, gpu_memory_gb: Any, cat: Catalog) -> np.ndarray:
    """Memory ``n`` GPUs offer for weights and KV cache."""
    return np.asarray(n, float) * (
        np.asarray(gpu_memory_gb, float) * cat.a("gpu_memory_usable") - cat.a("runtime_overhead_gb")
    )


def max_concurrency(n: Any, gpu_memory_gb: Any, weights_gb: Any, kv_seq_gb: Any, cat: Catalog) -> np.ndarray:
    """Return how many sequences of ``kv_seq_gb`` KV cache fit beside the weights on ``n`` GPUs (0: none)."""
    room = usable_gb(n, gpu_memory_gb, cat) - np.asarray(weights_gb, float)
    return np.maximum(0, np.floor(room / np.maximum(np.asarray(kv_seq_gb, float), 1e-12))).astype(np.int64)


def min_gpus(gpu_memory_gb: Any, weights_gb: Any, kv_seq_gb: Any, cat: Catalog, concurrency: Any = 1) -> np.ndarray:
    """Return the fewest GPUs per replica (a tensor-parallel size) holding ``concurrency`` sequences; 0: none does."""
    out = np.zeros(np.broadcast(np.asarray(weights_gb), np.asarray(gpu_memory_gb)).shape, np.int64)
    for n in reversed(TP_SIZES):
        fits = max_concurrency(n, gpu_memory_gb, weights_gb, kv_seq_gb, cat) >= np.asarray(concurrency)
        out = np.where(fits, n, out)
    return out


def size(
    params_b: float | None = None,
    bits: float = 4,
    gpu: str = "h100_80gb",
    context: int = 8192,
    concurrency: int = 1,
    kv_bytes_per_token: float | None = None,
    model: str | None = None,
    kv_bits: int = 16,
    cat: Catalog | None = None,
) -> dict:
    """Size the GPUs of one replica: weights + KV cache of ``concurrency`` sequences of ``context`` tokens.

    With ``model`` (an open_models.csv id) the model's parameters and KV layout (sliding windows included)
    are used, exactly as the cost engine uses them; otherwise ``params_b`` and an estimated KV size.
    """
    cat = cat or load_catalog()
    g = find_gpu(gpu, cat)
    if model is not None:
        m = find_model(model, cat)
        params_b = float(m.total_params_b)
        kv_full, kv_local, window = (
            float(m.kv_bytes_per_token),
            float(m.kv_local_bytes_per_token),
            float(m.sliding_window_tokens),
        )
        estimated = False
    else:
        if params_b is None:
            raise ParamError("params_b", None, "a number of billions of parameters, or a model id")
        kv_full, kv_local, window = (kv_bytes_per_token or kv_bytes_estimate(params_b)), 0.0, 0.0
        estimated = kv_bytes_per_token is None
    weights = params_b * bits / 8
    kv_seq = float(kv_bytes(kv_full, kv_local, window, context, kv_bits)) / 1e9
    kv = kv_seq * concurrency
    n = int(min_gpus(g.memory_gb, weights, kv_seq, cat, concurrency))
    fits = n > 0
    n_show = n if fits else TP_SIZES[-1]
    overhead = n_show * cat.a("runtime_overhead_gb")
    return {
        "gpu": g.id,
        "gpu_name": g["name"],
        "gpu_memory_gb": float(g.memory_gb),
        "fits": fits,
        "gpus": n if fits else None,
        "gpus_tensor_parallel": n if fits else None,
        "max_concurrency": int(max_concurrency(n_show, g.memory_gb, weights, kv_seq, cat)),
        "memory_gb": round(weights + kv + overhead, 2),
        "breakdown": {
            "weights_gb": round(weights, 2),
            "kv_cache_gb": round(kv, 2),
            "runtime_overhead_gb": round(overhead, 2),
        },
        "assumptions": {
            "model": model,
            "params_b": params_b,
            "bits": bits,
            "kv_bits": kv_bits,
            "context": context,
            "concurrency": concurrency,
            "kv_bytes_per_token": round(kv_full),
            "kv_sliding_window": {"tokens": int(window), "bytes_per_token": round(kv_local)} if window else None,
            "kv_estimated": estimated,
            "usable_fraction": cat.a("gpu_memory_usable"),
            "largest_replica_gpus": TP_SIZES[-1],
        },
    }


# bf16 KV cache bytes per token ~ this x sqrt(params in billions); fitted to Llama 3.1 8B and 3.3 70B.
KV_BYTES_RULE_OF_THUMB = 40_000


def kv_bytes_estimate(params_b: float) -> float:
    """Estimate KV-cache bytes per token for a model known only by its size."""
    return KV_BYTES_RULE_OF_THUMB * math.sqrt(params_b)


def prefill_tflops(bits: Any, bf16: Any, fp8: Any) -> np.ndarray:
    """Dense TFLOP/s prefill runs at: FP8 tensor cores for 8-bit weights where the GPU has them, else BF16."""
    fp8 = np.asarray(fp8, float)
    return np.where((np.asarray(bits) == 8) & (fp8 > 0), fp8, np.asarray(bf16, float))


def weights_touched(total_b: Any, active_b: Any, batch: Any) -> np.ndarray:
    """Billions of parameters a decode step of ``batch`` tokens reads (expert-touch model for MoE)."""
    total = np.asarray(total_b, float)
    share = np.clip(np.asarray(active_b, float) / total, 0, 1)
    return total * (1 - (1 - share) ** np.asarray(batch, float))


def decode_step_s(
    total_b: Any, active_b: Any, bits: Any, kv_seq_bytes: Any, n: Any, bandwidth_gbs: Any, tflops: Any, batch: Any,
    cat: Catalog,
) -> np.ndarray:  # fmt: skip
    """Seconds for one decode step of ``batch`` sequences on ``n`` GPUs."""
    n = np.asarray(n, float)
    batch = np.asarray(batch, float)
    bytes_read = weights_touched(total_b, active_b, batch) * 1e9 * np.asarray(bits, float) / 8 + batch * kv_seq_bytes
    memory = bytes_read / (n * np.asarray(bandwidth_gbs, float) * 1e9 * cat.a("bandwidth_efficiency"))
    # the tokens' matrix work, not overlapped with the memory traffic at these batch sizes
    compute = (
        batch * 2 * np.asarray(active_b, float) * 1e9 / (n * np.asarray(tflops, float) * 1e12 * cat.a("decode_mfu"))
    )
    # tensor parallelism's all-reduces add a roughly fixed time per step, whatever the split
    sync = np.where(n > 1, cat.a("tp_sync_ms"), 0.0) / 1e3
    overhead = (cat.a("step_overhead_ms") + batch * cat.a("seq_overhead_ms")) / 1e3  # scheduling, sampling
    return overhead + sync + memory + compute


def goodput(
    total_b: Any, active_b: Any, bits: Any, kv_bits: Any, kv_full: Any, kv_local: Any, window: Any,
    input_tokens: Any, output_tokens: Any, cached_share: Any, n: Any, gpu_memory_gb: Any, bandwidth_gbs: Any,
    prefill_tf: Any, ttft_ms: Any, tpot_ms: Any, cat: Catalog, max_seqs: Any = None,
) -> dict[str, np.ndarray]:  # fmt: skip
    """Return, per row, the concurrency a replica runs and its requests/s at the latency targets (vectorised).

    ``concurrency`` 0 marks a replica that cannot hold the model or cannot meet the targets even with one
    sequence; its ``rps`` is 0 (see ``meets``: False where even one sequence misses a latency target).
    """
    inp = np.asarray(input_tokens, float)
    out = np.maximum(np.asarray(output_tokens, float), 1.0)
    n = np.asarray(n, float)
    weights_gb = np.asarray(total_b, float) * np.asarray(bits, float) / 8
    kv_seq = kv_bytes(kv_full, kv_local, window, inp + out, kv_bits)  # memory: the full context
    kv_read = kv_bytes(kv_full, kv_local, window, inp + out / 2, kv_bits)  # read per step: the mean context
    cap = cat.a("max_num_seqs") if max_seqs is None else np.minimum(np.asarray(max_seqs, float), cat.a("max_num_seqs"))
    b_mem = np.minimum(max_concurrency(n, gpu_memory_gb, weights_gb, kv_seq / 1e9, cat), np.asarray(cap, np.int64))
    t_pf = (
        inp * (1 - np.asarray(cached_share, float)) * 2 * np.asarray(active_b, float) * 1e9
        / (n * np.asarray(prefill_tf, float) * 1e12 * cat.a("prefill_mfu"))
    )  # fmt: skip
    ttft_s = np.asarray(ttft_ms, float) / 1e3
    tpot_s = np.asarray(tpot_ms, float) / 1e3

    def latencies(b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        step = decode_step_s(total_b, active_b, bits, kv_read, n, bandwidth_gbs, prefill_tf, b, cat)
        return step + b * t_pf / out, t_pf + step

    def ok(b: np.ndarray) -> np.ndarray:
        tpot, ttft = latencies(b)
        return (tpot <= tpot_s) & (ttft <= ttft_s)

    # the largest B in [1, b_mem] meeting both targets (both latencies rise with B): a vectorised bisection
    one_ok = (b_mem >= 1) & ok(np.ones_like(b_mem))
    lo = np.where(one_ok, 1, 0)  # ok(lo) holds, or lo = 0
    hi = np.where(one_ok, b_mem, 0)
    while np.any(hi > lo):
        mid = (lo + hi + 1) // 2
        good = ok(mid.astype(float))
        lo = np.where(good, mid, lo)
        hi = np.where(good, hi, mid - 1)
    b = lo
    meets = one_ok
    # a replica that holds the model but misses a target even alone still serves one sequence at a time
    b_run = np.where(meets, b, np.minimum(b_mem, 1))
    tpot, ttft = latencies(np.maximum(b_run, 1).astype(float))
    rps = np.where(b_run > 0, b_run / (out * tpot), 0.0)
    return {
        "concurrency": b_run,
        "rps": rps,
        "tpot_ms": tpot * 1e3,
        "ttft_ms": ttft * 1e3,
        "meets": meets,
        "fits": b_mem >= 1,
        "output_tok_s": rps * out,
        "max_concurrency": b_mem,
    }


def candidates(combos: pd.DataFrame, cat: Catalog) -> pd.DataFrame:
    """Every replica shape (GPU type x GPUs per replica) for each combo row, with its goodput.

    ``combos`` columns: open_id, gpu ('auto' or an id), quant_bits, kv_bits, input_tokens, output_tokens,
    cached_input_share, latency_ms, tpot_ms. Returns one row per (combo index ``combo``, gpu, n) that
    holds the model, with concurrency, rps, latencies and whether it meets the targets.
    """
    models = cat.open_models.set_index("id")
    gpus = cat.gpus.set_index("id")
    gids = gpus.index.to_numpy(object)
    named = combos.gpu.to_numpy(object)[:, None]
    # 'auto' picks only among GPUs the throughput model was calibrated on; a named GPU is priced anyway
    use = ((named == "auto") & np.isin(gids, list(cat.calibrated_gpus))[None, :]) | (named == gids[None, :])
    # rows GPU by GPU, then size by size, then combo by combo (index arrays first, one frame after)
    at, gpu_of, size_of = [], [], []
    for j in range(len(gids)):
        rows = np.flatnonzero(use[:, j])
        for n in TP_SIZES if len(rows) else ():
            at.append(rows)
            gpu_of.append(np.full(len(rows), j))
            size_of.append(np.full(len(rows), n))
    at = np.concatenate(at) if at else np.zeros(0, int)
    cand = combos.iloc[at].reset_index(drop=True)
    cand["combo"] = combos.index.to_numpy()[at]
    cand["gpu_id"] = gids[np.concatenate(gpu_of)] if gpu_of else np.zeros(0, object)
    cand["n"] = np.concatenate(size_of) if size_of else np.zeros(0, int)
    cand = _goodput_rows(cand, models, gpus, cat)
    # a GPU named by the scenario that cannot hold the model: every GPU type is tried instead
    lost = combos.index.difference(cand.combo[cand.fits].unique())
    if len(lost):
        c = combos.loc[lost]
        extra = [c.assign(combo=c.index, gpu_id=gid, n=n) for gid in gpus.index for n in TP_SIZES]
        cand = pd.concat(
            [cand, _goodput_rows(pd.concat(extra, ignore_index=True), models, gpus, cat)], ignore_index=True
        )
    return cand[cand.fits].reset_index(drop=True)


def _goodput_rows(cand: pd.DataFrame, models: pd.DataFrame, gpus: pd.DataFrame, cat: Catalog) -> pd.DataFrame:
    """Add ``goodput``'s columns to candidate rows (combo columns + gpu_id + n, and optionally max_seqs)."""
    m = models.loc[cand.open_id]
    g = gpus.loc[cand.gpu_id]
    bits = cand.quant_bits.to_numpy(float)
    gp = goodput(
        m.total_params_b.to_numpy(float), m.active_params_b.to_numpy(float), bits, cand.kv_bits.to_numpy(float),
        m.kv_bytes_per_token.to_numpy(float), m.kv_local_bytes_per_token.to_numpy(float),
        m.sliding_window_tokens.to_numpy(float), cand.input_tokens.to_numpy(float),
        cand.output_tokens.to_numpy(float), cand.cached_input_share.to_numpy(float), cand.n.to_numpy(float),
        g.memory_gb.to_numpy(float), g.bandwidth_gbs.to_numpy(float),
        prefill_tflops(bits, g.bf16_tflops.to_numpy(float), g.fp8_tflops.to_numpy(float)),
        cand.latency_ms.to_numpy(float), cand.tpot_ms.to_numpy(float), cat,
        max_seqs=cand.max_seqs.to_numpy(float) if "max_seqs" in cand else None,
    )  # fmt: skip
    for k, v in gp.items():
        cand[k] = v
    return cand


def decode_tps(model: pd.Series, bits: float, gpu: pd.Series, context: float, batch: int, cat: Catalog) -> float:
    """Generated tokens/s of ``batch`` sequences of ``context`` tokens decoding on one GPU (no prefill)."""
    kv = kv_bytes(model.kv_bytes_per_token, model.kv_local_bytes_per_token, model.sliding_window_tokens, context)
    step = decode_step_s(
        model.total_params_b, model.active_params_b, bits, kv, 1, gpu.bandwidth_gbs,
        prefill_tflops(bits, gpu.bf16_tflops, gpu.fp8_tflops), batch, cat,
    )  # fmt: skip
    return float(batch / step)


def predict_cited(rows: pd.DataFrame, cat: Catalog) -> np.ndarray:
    """The model's output tokens/s for rows of data/throughput.csv: each at its own workload, GPUs, precision
    and concurrency, with its measured time per output token as the target (0 where memory cannot hold it)."""
    cand = pd.DataFrame(
        {
            "open_id": rows.model_id.to_numpy(object), "gpu_id": rows.gpu_id.to_numpy(object),
            "quant_bits": rows.precision.map(PRECISION_BITS).to_numpy(float),
            "kv_bits": np.where(rows.kv_precision.fillna("").str.lower().eq("fp8"), 8, 16),
            "input_tokens": rows.input_tokens.to_numpy(float), "output_tokens": rows.output_tokens.to_numpy(float),
            "cached_input_share": 0.0, "n": rows.gpus.to_numpy(float), "latency_ms": 1e9,
            "tpot_ms": rows.tpot_ms.to_numpy(float), "max_seqs": rows.concurrency.fillna(1e9).to_numpy(float),
        }
    )  # fmt: skip
    models, gpus = cat.open_models.set_index("id"), cat.gpus.set_index("id")
    return _goodput_rows(cand, models, gpus, cat).output_tok_s.to_numpy(float)
