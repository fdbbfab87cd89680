"""Notebook 07: local open-weight models streamed, compared, evaluated and priced."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ipywidgets as w
import pandas as pd
from IPython.display import display

from kit import charts, evaluate, local
from kit.catalog import load_catalog
from kit.fmt import number_or_none
from kit.lesson.figures import HTML, Figure, figure

e = html.escape


def _short_path(path: str) -> str:
    """Show a model path without this machine's folders (the same text on every machine)."""
    cache = str(local.cache_dir())
    if path.startswith(cache):
        return "<kit cache>" + path[len(cache) :]
    if "site-packages/" in path:
        return "<site-packages>/" + path.split("site-packages/", 1)[1]
    return path


def local_models_table() -> pd.DataFrame:
    """Return both bundled models as the kit checks them: file, size, pinned sha256, licence and GGUF facts."""
    rows = []
    for name in local.models():
        d = local.describe(name)
        rows.append(
            {
                "model": name,
                "kind": d["kind"],
                "file": _short_path(d["path"]),
                "size": f"{d['size_mb']} MB",
                "sha256 (pinned, verified)": d["sha256"][:16] + "…",
                "licence": d["licence"],
                "licence text": f"{Path(d['licence_text']).name} in the {d['package']} package",
                "parameters": f"{d['parameters'] / 1e6:.0f} M",
                "quantisation": d["quantisation"],
                "bits per weight": d["bits_per_weight"],
                "context": f"{d['context_length']:,} tokens",
                "architecture": d["architecture"],
            }
        )
    return pd.DataFrame(rows).set_index("model").T


def stream(model: str, prompt: str, max_tokens: int, chat: bool | None = None) -> Any:
    """Generate with a bundled model, showing the text as it arrives; return the run with its figures."""
    handle = display(HTML(_stream_html(model, "")), display_id=True)
    text: list[str] = []

    def on_token(piece: str) -> None:
        text.append(piece)
        handle.update(HTML(_stream_html(model, "".join(text) + " ▌")))

    run = local.generate(model, prompt, max_tokens=max_tokens, chat=chat, on_token=on_token)
    handle.update(HTML(_stream_html(model, run.text)))
    return run


def _stream_html(model: str, text: str) -> str:
    return (
        f'<div style="border-left:3px solid {charts.COLORS["self_hosted_open"]};padding:4px 10px;'
        f'margin:4px 0;white-space:pre-wrap;font-family:monospace;font-size:12.5px">'
        f"<b>{e(model)}</b>\n{e(text)}</div>"
    )


def runs_table(runs: Sequence[Any]) -> pd.DataFrame:
    """Return the speed and memory figures of generation runs."""
    return pd.DataFrame([r.metrics() for r in runs]).set_index("model")


def side_by_side(prompt: str, max_tokens: int, first: Any = None) -> pd.DataFrame:
    """Give both bundled models the same prompt, as a chat message and as plain text to continue.

    ``first``: a run already made of one model in its own format with this prompt and ``max_tokens`` (the
    streamed run above it): shown again rather than generated twice, since at temperature 0 it would give
    the same text. The runs are kept in ``.attrs["runs"]``, each model in its own format first.
    """
    rows, runs = [], {}
    for name, entry in local.models().items():
        for chat in (entry["kind"] == "instruct", entry["kind"] != "instruct"):
            same = first is not None and first.model == name and chat == (entry["kind"] == "instruct")
            run = first if same else local.generate(name, prompt, max_tokens=max_tokens, chat=chat)
            runs.setdefault(name, run)
            rows.append(
                {
                    "model": f"{name} ({entry['kind']})",
                    "prompt given as": "chat message" if chat else "plain text to continue",
                    "answer": run.text.strip()[:400] or "(nothing: the model ended its answer at once)",
                }
            )
    out = pd.DataFrame(rows).set_index(["model", "prompt given as"])
    out.attrs["runs"] = list(runs.values())
    return out


def quant_table() -> pd.DataFrame:
    """Return both bundled models' tensors by storage type, with bits per weight from each block layout."""
    parts = []
    for name in local.models():
        t = local.quant_mix(name).reset_index()
        t.insert(0, "model", f"{name} ({local.describe(name)['quantisation']})")
        parts.append(t)
    out = pd.concat(parts).set_index(["model", "stored as"])
    out["parameters"] = [f"{v / 1e6:,.1f} M" for v in out.parameters]
    out["share_of_parameters"] = [f"{v:.0%}" for v in out.share_of_parameters]
    out["bits_per_weight"] = [f"{v:.2f}" for v in out.bits_per_weight]
    return out.rename(columns={"share_of_parameters": "share of parameters", "bits_per_weight": "bits per weight"})


def evaluate_all(n_items: int, backends: Sequence[Any] | None = None) -> list[Any]:
    """Evaluate the bundled models (and any extra backends) on the first ``n_items`` tasks, with progress."""
    items = evaluate.load_tasks()[:n_items]
    backends = list(backends or [local.LocalBackend(n) for n in local.models()])
    jobs = [
        (b, m) for b in backends for m in ("generate", "logprob") if m == "generate" or hasattr(b, "label_logprobs")
    ]
    bar = w.IntProgress(
        value=0, min=0, max=len(jobs) * len(items), description="Evaluating", layout=w.Layout(width="420px")
    )
    handle = display(_Progress(bar), display_id=True)
    rate = load_catalog().a("cpu_server_usd_per_hour")
    results = []
    for b, mode in jobs:
        per_hour = rate if isinstance(b, local.LocalBackend) else None
        price = None if per_hour else evaluate.endpoint_price()
        results.append(
            evaluate.evaluate(
                b,
                items,
                mode,
                usd_per_hour=per_hour,
                usd_per_mtok=price,
                progress=lambda n, total: setattr(bar, "value", bar.value + 1),
            )
        )
    bar.description = "Done"
    handle.update(_Progress(bar))
    return results


class _Progress:
    """A progress bar that, read without a kernel, says how far it got."""

    def __init__(self, bar: w.IntProgress):
        self.bar = bar

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = self.bar._repr_mimebundle_(**kwargs) or {}
        text = f"{self.bar.description}: {self.bar.value} of {self.bar.max} model answers"
        bundle["text/html"] = f"<p>{e(text)}</p>"
        bundle["text/plain"] = text
        return bundle


def results_table(results: Sequence[Any]) -> pd.DataFrame:
    """Return evaluation results: accuracy with its 95% interval, the baseline, speed and cost."""
    rows = []
    for r in results:
        s = r.summary()
        rows.append(
            {
                "backend": s["backend"],
                "scoring": s["mode"],
                "items": s["items"],
                "accuracy": f"{s['accuracy']:.0%}",
                "95% interval": f"{s['ci95_low']:.0%} - {s['ci95_high']:.0%}",
                "majority baseline": f"{s['baseline']:.0%}",
                "no answer": s["no_answer"],
                "median latency": f"{s['median_ms']:.0f} ms",
                "cost per 1,000 items": "-" if s["cost_per_1000_usd"] is None else f"${s['cost_per_1000_usd']:.4f}",
                "cost basis": s["cost_basis"],
            }
        )
    return pd.DataFrame(rows).set_index(["backend", "scoring"])


def accuracy_figure(results: Sequence[Any]) -> Figure:
    """Return the accuracy chart of evaluation results (points with 95% intervals, the baseline dashed)."""
    rows = pd.DataFrame([r.summary() for r in results])
    return figure(charts.accuracy_chart(rows, results[0].baseline), "accuracy")


def machine_table(runs: Sequence[Any], bandwidth_gbs: float) -> pd.DataFrame:
    """Return ``local.machine_costs`` formatted: tokens/s, share of the bandwidth bound, USD per hour and per M tokens."""
    t = local.machine_costs(list(runs), bandwidth_gbs)
    return pd.DataFrame(
        {
            "model": t.model,
            "where": t["where"],
            "tokens/s": [f"{v:,.0f}" for v in t.tokens_per_s],
            "share of the bound": ["-" if number_or_none(v) is None else f"{v:.0%}" for v in t.fraction_of_bound],
            "USD per hour": [f"${v:.3f}" for v in t.usd_per_hour],
            "USD per million tokens": [f"${v:.4f}" for v in t.usd_per_mtok],
        }
    ).set_index(["model", "where"])


BATCH_MODEL = "llama-3.3-70b"  # the model the rest of the course quotes, beside the tiny ones measured here


def batching_table(
    model: str = BATCH_MODEL, bits: float = 4, gpu: str = "h100_80gb", context: int = 1300, batches=(1, 8, 32)
) -> pd.DataFrame:
    """Return the cost engine's roofline for ``model`` at ``bits`` on one ``gpu`` (the same decode-step model
    as ``local.machine_costs``) for each batch size: tokens/s, the gain over one sequence and USD per million
    tokens at the GPU's likely on-demand rate and 100% utilisation. A 70B model reads 35 GB of weights a
    step, so batching divides that read; the tiny models' GPU rows barely move (see ``seq_overhead_ms``)."""
    cat = load_catalog()
    m = cat.open_models.set_index("id").loc[model]
    g = cat.gpus.set_index("id").loc[gpu]
    rate = float(cat.gpu_rates.loc[(gpu, "neocloud", "on_demand"), "likely"])
    tps = {b: local.decode_tps(m, bits, g, context, b, cat) for b in batches}
    return pd.DataFrame(
        {
            "model": model,
            "where": [f"1 x {gpu}, {b} sequence{'s' if b > 1 else ''} (roofline, {bits:g} bits)" for b in batches],
            "tokens/s": [f"{tps[b]:,.0f}" for b in batches],
            "x one sequence": [f"{tps[b] / tps[batches[0]]:.1f}" for b in batches],
            "USD per million tokens": [f"${local.usd_per_mtok(tps[b], rate):.3f}" for b in batches],
        }
    ).set_index(["model", "where"])
