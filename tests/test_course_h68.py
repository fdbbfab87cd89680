"""Notebooks 06-08 (helper h68): the parity lesson's tables agree with the engine; the live router's cheap
tier answers from a few-shot prompt; bits per weight come from the block layouts."""

from __future__ import annotations

import pytest

from kit import capacity, lesson, live, local, recommend
from kit.evaluate import Completion
from kit.lesson import parity_lesson
from kit.params import Scenario


def test_fit_table_is_the_engines_memory_function():
    s = Scenario.make()
    t = lesson.fit_table(s)
    for model in parity_lesson.FIT_MODELS:
        z = capacity.size(
            model=model, bits=s["quant_bits"], gpu="h100_80gb", context=s["input_tokens"] + s["output_tokens"]
        )
        row = t.loc[(model, f"{s['input_tokens'] + s['output_tokens']:,}")]
        assert row["GPUs per replica (memory)"] == z["gpus"] == 1  # "fits one 80 GB GPU" at the real context
        assert row["sequences that fit at once"] == z["max_concurrency"] > 1
    # at 128K the 70B model's KV cache needs a second GPU in the replica; gpt-oss-120b's sliding window does not
    assert t.loc[("llama-3.3-70b", "131,072"), "GPUs per replica (memory)"] == 2
    assert t.loc[("gpt-oss-120b", "131,072"), "GPUs per replica (memory)"] == 1


def test_fleet_table_shows_two_replicas_of_one_gpu():
    s = Scenario.make()
    t = lesson.fleet_table(s)
    for model in parity_lesson.FIT_MODELS:
        sh = recommend.recommend(s.replace(open_model=model, gpu="h100_80gb"), with_flips=False, with_sweep=False)[
            "self_hosted"
        ]
        assert t.loc[model, "GPUs per replica"] == sh["gpus_per_replica"] == 1
        assert t.loc[model, "replicas"] == sh["replicas"] >= 2
        assert t.loc[model, "GPUs billed"] == sh["gpus"]


def test_context_table_counts_every_contender_once():
    t = lesson.context_table()
    from kit.catalog import load_catalog

    m = load_catalog().open_models
    assert t.models.sum() == (m.total_params_b >= 1).sum()
    assert "llama-4-scout" in t.loc["over 256K", "which"]


def test_options_table_and_view_follow_sensitivity_and_need():
    s = Scenario.make(sensitivity="regulated", quality_need="frontier")
    t = lesson.options_table(s)
    assert t.loc["Closed API", "allowed"].startswith("no: ")
    assert t.loc["Self-hosted open-weight (own GPUs) (recommended)", "allowed"] == "yes"
    assert "falls short" in t.loc["Self-hosted open-weight (own GPUs) (recommended)", "quality against the need"]
    html = lesson.parity_view(s)
    assert "Recommended: Self-hosted open-weight" in html and "<svg" in html
    easy = lesson.options_table(Scenario.make(quality_need="everyday"))
    assert all(v == "yes" for v in easy.allowed)


def test_quant_mix_bits_come_from_the_block_layouts():
    mix = local.quant_mix("smollm2-135m")
    assert mix.loc["Q4_1", "bits_per_weight"] == pytest.approx(5.0)  # 32 x 4 bits + fp16 scale + fp16 min
    assert mix.loc["Q8_0", "bits_per_weight"] == pytest.approx(8.5)
    info = local.gguf_info(local.model_path("smollm2-135m"))
    assert mix.loc["all tensors", "bits_per_weight"] == pytest.approx(info["bits_per_weight"], abs=0.01)
    parts = mix.drop(["all tensors", "whole file"])
    assert (parts.share_of_parameters * parts.bits_per_weight).sum() == pytest.approx(
        mix.loc["all tensors", "bits_per_weight"]
    )
    gemma = local.quant_mix("gemma-3-270m")
    assert gemma.loc["Q4_K", "bits_per_weight"] == pytest.approx(4.5)
    assert gemma.loc["Q6_K", "bits_per_weight"] == pytest.approx(6.5625)


class Fixed:
    def __init__(self, name, text):
        self.name, self.text, self.calls = name, text, 0

    def complete(self, prompt, max_tokens=4):
        self.calls += 1
        return Completion(self.text, 10, 3, 0.01)


@pytest.mark.parametrize("text, escalated", [("Paris.", False), ("", True), ("  ...  ", True), ("42", False)])
def test_a_one_word_answer_is_an_answer_and_an_empty_one_escalates(text, escalated):
    strong, cheap = (
        live.Tier("closed_api", Fixed("s", "strong answer"), "s", True),
        live.Tier("hosted_open", Fixed("c", text), "c", True),
    )
    inside = live.Tier("self_hosted_open", Fixed("i", "inside"), "i", False)
    r = live.Router(strong, cheap, inside)
    e = r.route("What is the capital of France?")
    assert e["escalated"] is escalated
    assert e["tier"] == ("closed_api" if escalated else "hosted_open")
    summary = lesson.log_summary(r.log)
    assert list(summary.index) == ["closed_api", "hosted_open", "self_hosted_open"]  # every tier has a row
    assert summary.requests.sum() == 1


def test_few_shot_prompt_ends_where_the_answer_starts():
    p = live.few_shot_prompt("Translate  'good morning'\ninto Spanish.")
    assert p.endswith("Request: Translate 'good morning' into Spanish.\nAnswer:")
    assert p.count("Answer:") == len(live.FEW_SHOT) + 1
    assert all(q not in p.split("Request: ")[-1] for q, _ in live.FEW_SHOT)


def test_batching_divides_a_70b_models_cost_but_barely_a_tiny_ones():
    """Notebook 07: batching 32 sequences cuts a 70B model's cost per token more than tenfold in the engine's
    roofline (the tiny models' GPU rows move far less: their per-sequence overhead dominates)."""
    t = lesson.batching_table()
    gain = [float(x) for x in t["x one sequence"]]
    assert gain[0] == 1.0 and gain[-1] > 10


def test_long_context_exercise_numbers_are_the_engines():
    """Notebook 06, Exercise 1: 20 sequences of 121K tokens - one 16-GPU replica of Llama 3.3 70B, one 4-GPU
    replica of gpt-oss-120b; with the 128K shape (2 and 1 GPUs, two sequences each) it would take 20 and 10."""
    llama = capacity.size(model="llama-3.3-70b", bits=4, gpu="h100_80gb", context=121000, concurrency=20)
    oss = capacity.size(model="gpt-oss-120b", bits=4, gpu="h100_80gb", context=121000, concurrency=20)
    assert (llama["gpus"], llama["max_concurrency"]) == (16, 27)
    assert (oss["gpus"], oss["max_concurrency"]) == (4, 49)
    assert capacity.size(model="llama-3.3-70b", bits=4, gpu="h100_80gb", context=121000)["max_concurrency"] == 2
    assert capacity.size(model="gpt-oss-120b", bits=4, gpu="h100_80gb", context=121000)["max_concurrency"] == 2
    assert 16 in capacity.TP_SIZES and 32 in capacity.TP_SIZES  # the glossary's tensor parallelism says so


def test_hard_share_choices_follow_the_mixed_signal_rule():
    """Notebook 06, Exercise 2: the axes are mixed at every hard share, so the router where it is allowed and
    cheaper than closed, otherwise the closed API - even at 0%, where hosted open costs far less."""
    s = lesson.scenario("06")
    v = recommend.vary(s, "hard_share", [0, 0.2, 1.0]).set_index("hard_share")
    assert list(v.choice) == ["closed_api", "hybrid", "closed_api"]
    assert (v.gate == "axes").all() and (v.weighted_lean.abs() < 0.1).all()
    assert (v.hosted_open < v.closed_api).all() and not v.loc[0, "allowed_hybrid"]


def test_a_higher_threshold_lowers_the_bill_unless_escalations_are_frequent():
    """Notebook 08: at escalation 0.5 a threshold of 0.95 costs less than 0.8 (and delivers less quality);
    only at a high escalation rate (0.9) does sending hard requests to the open tier first cost more."""
    from kit.cost import costs

    s = lesson.scenario("08")

    def row(th, esc):
        return costs([s.replace(escalation_rate=esc)], thresholds=[th]).iloc[0]

    low, high = row(0.8, 0.5), row(0.95, 0.5)
    assert high.hybrid < low.hybrid and high.hybrid_quality < low.hybrid_quality
    assert row(0.95, 0.9).hybrid > row(0.8, 0.9).hybrid
    assert round(row(0.8, 0.1).hybrid_share_closed, 3) == 0.272  # 0.2 x 0.88 + 0.8 x 0.12: misrouting
