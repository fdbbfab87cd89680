import numpy as np
import pandas as pd
import pytest

from kit.capacity import candidates, find_gpu, predict_cited, size
from kit.cost import costs
from kit.params import ParamError, Scenario


def test_70b_at_4bit_fits_one_80gb_gpu_but_not_at_16bit():
    assert size(70, 4, "H100")["gpus"] == 1
    full = size(70, 16, "H100")
    assert full["gpus"] >= 2
    assert full["gpus_tensor_parallel"] >= full["gpus"]
    assert (full["gpus_tensor_parallel"] & (full["gpus_tensor_parallel"] - 1)) == 0  # a power of two


def test_memory_breakdown_adds_up_and_grows_with_context_and_bits():
    small = size(8, 8, "L4", context=4096)
    b = small["breakdown"]
    assert small["memory_gb"] == pytest.approx(b["weights_gb"] + b["kv_cache_gb"] + b["runtime_overhead_gb"], abs=0.02)
    assert b["weights_gb"] == pytest.approx(8 * 8 / 8)
    longer = size(8, 8, "L4", context=65536)
    assert longer["breakdown"]["kv_cache_gb"] > b["kv_cache_gb"]
    assert longer["gpus"] >= small["gpus"]
    assert size(8, 16, "L4")["breakdown"]["weights_gb"] == 2 * size(8, 8, "L4")["breakdown"]["weights_gb"]


def test_gpus_are_whole_and_never_fractional():
    for params in np.geomspace(0.1, 2000, 25):
        n = size(float(params), 8, "A100")["gpus"]
        assert isinstance(n, int) and n >= 1


def test_gpu_lookup_accepts_names_and_refuses_unknown(cat):
    assert find_gpu("H100", cat).id == "h100_80gb"
    assert find_gpu("l40s_48gb", cat).id == "l40s_48gb"
    assert find_gpu("NVIDIA H200 141GB SXM", cat).id == "h200_141gb"
    assert find_gpu("B200", cat).id == "b200_192gb"
    with pytest.raises(ParamError, match="gpu"):
        find_gpu("TPU v5e", cat)


def test_lambda_anchors_within_25_percent_held_out_of_the_calibration(cat):
    t = cat.throughput
    anchors = t[t.role == "anchor"]
    assert len(anchors) == 3 and anchors.source.str.contains("LambdaLabsML/vllm-benchmark").all()
    predicted = predict_cited(anchors, cat)
    for (_, row), p in zip(anchors.iterrows(), predicted):
        assert p == pytest.approx(row.output_tok_s, rel=0.25), (row.model_id, row.gpus)
    # the anchors are checked, not fitted: no calibration row is an anchor's measurement
    cal = t[t.role == "calibration"]
    assert not cal.output_tok_s.isin(anchors.output_tok_s).any()


def test_calibration_rows_fit_as_assumptions_yaml_states(cat):
    cal = cat.throughput[cat.throughput.role == "calibration"]
    errors = np.abs(predict_cited(cal, cat) / cal.output_tok_s.to_numpy(float) - 1)
    assert len(errors) == 24 and np.median(errors) < 0.2
    assert "median error 18%" in cat.assumption_meta["prefill_mfu"]["source"]


def test_prompt_heavy_work_is_priced_by_its_prefill_not_by_chat_shaped_figures(cat):
    """2,000 in / 100 out is bound by prefill compute: requests/s never exceed what the GPU's FLOP/s can
    prefill, and the chat-shaped workload (200 / 200) on the same replica serves several times more."""
    base = dict(open_model="llama-3.3-70b", gpu="h100_80gb", monthly_requests=10_000_000)
    chat = costs([Scenario.make(**base, input_tokens=200, output_tokens=200)], cat).iloc[0]
    heavy = costs([Scenario.make(**base, input_tokens=2000, output_tokens=100)], cat).iloc[0]
    g = cat.gpus.set_index("id").loc["h100_80gb"]
    prefill_bound = heavy.self_gpus_per_replica * g.bf16_tflops * 1e12 * cat.a("prefill_mfu") / (2 * 70.6e9 * 2000)
    assert heavy.self_rps_per_replica <= prefill_bound * (1 + 1e-9)
    assert chat.self_rps_per_replica > 3 * heavy.self_rps_per_replica
    assert heavy.self_ttft_ms <= 1000 + 1e-6 and chat.self_tpot_ms <= 100 + 1e-6


def test_size_and_engine_agree_on_gpus_per_replica_for_every_open_model(cat):
    combos = pd.DataFrame(
        {
            "open_id": cat.open_models.id, "gpu": "h100_80gb", "quant_bits": 4, "kv_bits": 16,
            "input_tokens": 1000, "output_tokens": 300, "cached_input_share": 0.0, "latency_ms": 1e6, "tpot_ms": 1e6,
        }
    )  # fmt: skip
    cand = candidates(combos, cat)
    for i, mid in enumerate(combos.open_id):
        engine_min = int(cand[(cand.combo == i) & (cand.gpu_id == "h100_80gb")].n.min())
        assert size(model=mid, bits=4, gpu="h100_80gb", context=1300, concurrency=1, cat=cat)["gpus"] == engine_min, mid


def test_70b_at_4bit_with_4k_context_fits_one_80gb_gpu_and_128k_needs_more(cat):
    assert size(model="llama-3.3-70b", bits=4, gpu="h100_80gb", context=4096, cat=cat)["gpus"] == 1
    long = size(model="llama-3.3-70b", bits=4, gpu="h100_80gb", context=131072, concurrency=8, cat=cat)
    assert long["gpus"] > 1


def test_engine_replica_holds_its_chosen_concurrency(cat):
    c = costs([Scenario.make(open_model="llama-3.3-70b", gpu="h100_80gb")], cat).iloc[0]
    held = size(
        model="llama-3.3-70b", bits=4, gpu="h100_80gb", context=1300, concurrency=int(c.self_concurrency), cat=cat
    )
    assert held["gpus"] <= c.self_gpus_per_replica
    assert c.self_tpot_ms <= 100 + 1e-6 and c.self_ttft_ms <= 1000 + 1e-6


def test_sliding_window_layers_cap_their_kv_cache(cat):
    short = size(model="gemma-3-27b", bits=4, gpu="h100_80gb", context=1024, cat=cat)["breakdown"]["kv_cache_gb"]
    long = size(model="gemma-3-27b", bits=4, gpu="h100_80gb", context=1024 * 64, cat=cat)["breakdown"]["kv_cache_gb"]
    assert long < 64 * short  # the local layers stop growing past their window
