"""Notebook 06: performance parity - what fits one GPU, how long a context open models take, and how the
quality need, volume, sensitivity and team move the answer (the parity explorer's panels)."""

from __future__ import annotations

import html

import pandas as pd

from kit import capacity, report
from kit.catalog import load_catalog
from kit.fmt import money
from kit.params import OPTION_LABELS, OPTIONS, Scenario
from kit.recommend import recommend
from kit.results import Recommendation

e = html.escape

FIT_MODELS = ("gpt-oss-120b", "llama-3.3-70b")  # the two models the course says fit one 80 GB GPU at 4 bits
LONG_CONTEXT = 131_072  # 128K tokens: where seed 002 puts open models' context


def fit_table(s: Scenario, gpu: str = "h100_80gb", models: tuple[str, ...] = FIT_MODELS) -> pd.DataFrame:
    """Return what ``capacity.size`` (the engine's memory function) says of each model on one ``gpu`` at the
    scenario's quantisation: for the scenario's real context (input + output tokens) and for a 128K context,
    the weights, the KV cache of one sequence, the GPUs one replica needs, and the sequences that fit."""
    cat = load_catalog()
    rows = []
    for model in models:
        for context in (s["input_tokens"] + s["output_tokens"], LONG_CONTEXT):
            z = capacity.size(model=model, bits=s["quant_bits"], gpu=gpu, context=context, cat=cat)
            b = z["breakdown"]
            rows.append(
                {
                    "model": model,
                    "context (tokens)": f"{context:,}",
                    "weights GB": b["weights_gb"],
                    "KV cache per sequence GB": round(b["kv_cache_gb"], 2),
                    "usable GB per GPU": round(float(capacity.usable_gb(1, z["gpu_memory_gb"], cat)), 1),
                    "GPUs per replica (memory)": z["gpus"] if z["fits"] else "does not fit",
                    "sequences that fit at once": z["max_concurrency"],
                }
            )
    return pd.DataFrame(rows).set_index(["model", "context (tokens)"])


def fleet_table(s: Scenario, gpu: str = "h100_80gb", models: tuple[str, ...] = FIT_MODELS) -> pd.DataFrame:
    """Return the self-hosted fleet the cost engine bills for the scenario with each model on ``gpu``:
    GPUs per replica (memory and latency targets), replicas (peak load, never fewer than the minimum for
    redundancy) and GPUs in all, beside the scenario's own open model on the engine's choice of GPU."""
    rows = []
    for model, g in [(m, gpu) for m in models] + [(s["open_model"], s["gpu"])]:
        r = recommend(s.replace(open_model=model, gpu=g), with_flips=False, with_sweep=False)
        sh = r["self_hosted"]
        rows.append(
            {
                "open model": r["models"]["open"] + (" (the scenario's own)" if model == s["open_model"] else ""),
                "GPU": sh["gpu"],
                "GPUs per replica": sh["gpus_per_replica"],
                "replicas": sh["replicas"],
                "GPUs billed": sh["gpus"],
                "sequences per replica": sh["concurrency"],
                "average utilisation": f"{sh['average_utilisation']:.0%}",
            }
        )
    return pd.DataFrame(rows).set_index("open model")


def context_table() -> pd.DataFrame:
    """Return the open models of data/open_models.csv grouped by the context length they publish."""
    m = load_catalog().open_models
    m = m[m.total_params_b >= 1]  # the two tiny bundled models are not contenders
    bins = [0, 128_000, 131_072, 262_144, float("inf")]
    labels = ["under 128K", "128K", "129K to 256K", "over 256K"]
    group = pd.cut(m.context_tokens, bins=bins, labels=labels, right=True)
    rows = []
    for label in labels:
        part = m[group == label].sort_values("context_tokens")
        rows.append(
            {
                "published context": label,
                "models": len(part),
                "which": ", ".join(f"{i} ({c / 1024:,.0f}K)" for i, c in zip(part.id, part.context_tokens)) or "-",
            }
        )
    return pd.DataFrame(rows).set_index("published context")


def _quality_line(r: Recommendation, s: Scenario, option: str) -> str:
    """Return what quality an option delivers against the scenario's need, in words."""
    cat = load_catalog()
    tier = s["quality_need"]
    bar = cat.tiers[tier]["open_min_score"]
    open_id = r["models"]["open"]
    score = cat.open_models.set_index("id").quality_score.get(open_id)
    open_text = f"{open_id} scores {score:g} against a bar of {bar:g}: " + (
        "meets the need" if score >= bar else "falls short of it"
    )
    if option == "closed_api":
        return f"{r['models']['closed']}, the closed reference for '{tier}' work: meets the need by definition"
    if option == "hybrid":
        return (
            f"hard {s['hard_share']:.0%} to {r['models']['closed']}, the rest to {open_id}: about "
            f"{r['router']['quality_vs_closed']:.0%} of all-closed quality"
        )
    return open_text


def options_table(s: Scenario, r: Recommendation | None = None) -> pd.DataFrame:
    """Return, per option, whether the data may use it, its monthly cost and the quality it delivers."""
    r = r or recommend(s, with_flips=False, with_sweep=False)
    rows = []
    for option in OPTIONS:
        rows.append(
            {
                "option": OPTION_LABELS[option] + (" (recommended)" if option == r["choice"] else ""),
                "allowed": "no: " + r["not_allowed"][option] if option in r["not_allowed"] else "yes",
                "USD per month": report.cost_text(r, option),
                "quality against the need": _quality_line(r, s, option),
            }
        )
    return pd.DataFrame(rows).set_index("option")


def parity_panel(s: Scenario, r: Recommendation) -> str:
    """Return the explorer's summary panel: the recommendation, its quality against the need, who runs it."""
    sh = r["self_hosted"]
    allowed = [OPTION_LABELS[o] for o in OPTIONS if o not in r["not_allowed"]]
    team = (
        f"A self-hosted fleet ({sh['gpus']} x {e(sh['gpu'])}) needs about {sh['ops_fte']:.1f} FTE; you have "
        f"{s['team_fte']:g}."
    )
    return (
        f'<div class="kit-panel" style="margin-bottom:10px"><b>Recommended: {e(r["choice_label"])}</b> '
        f"({money(r['costs'][r['choice']])}/month) for <b>{e(s['quality_need'])}</b> work at "
        f"{s['monthly_requests']:,} requests a month of {e(s['sensitivity'])} data.<br>"
        f"Quality: {e(_quality_line(r, s, r['choice']))}.<br>"
        f"Allowed for this data: {e(', '.join(allowed))}. {e(team)}</div>"
    )
