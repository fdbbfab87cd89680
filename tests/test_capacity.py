import numpy as np
import pandas as pd
import pytest

from kit.capacity import find_gpu, replica_table, size
from kit.params import ParamError


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
    with pytest.raises(ParamError, match="gpu"):
        find_gpu("B200", cat)


def test_measured_throughput_is_used_where_cited_and_roofline_is_close(cat):
    row = cat.throughput[(cat.throughput.model_id == "llama-3.1-8b") & (cat.throughput.gpu_id == "h100_80gb")].iloc[0]
    combo = pd.DataFrame(
        {
            "open_model": ["llama-3.1-8b", "llama-3.1-8b"],
            "gpu": ["h100_80gb", "h100_80gb"],
            "quant_bits": [16, 8],
            "input_tokens": [1000, 1000],
            "output_tokens": [300, 300],
        }
    )
    rep = replica_table(combo, cat)
    assert rep.throughput_method[0].startswith("measured") and rep.throughput_source[0] == row.source
    assert rep.throughput_method[1] == "roofline estimate"
    # the roofline, with output-only traffic, lands within 35% of the cited measurement it was calibrated on
    decode_only = pd.DataFrame(
        {
            "open_model": ["llama-3.1-8b"],
            "gpu": ["h100_80gb"],
            "quant_bits": [16],
            "input_tokens": [1],
            "output_tokens": [1000],
        }
    )
    est = replica_table(decode_only, cat, use_measurements=False).rps_per_replica[0] * 1000
    assert est == pytest.approx(row.tokens_per_s, rel=0.35)
