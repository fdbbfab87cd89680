"""Measure a model on your own task: a labelled task set, any backend, accuracy with its uncertainty.

A backend is anything with ``complete(prompt, max_tokens) -> Completion`` (free generation) and,
optionally, ``label_logprobs(prompt, labels) -> {label: log-probability}`` (scoring the labels). The
local models (``kit.local.LocalBackend``) support both; an OpenAI-compatible endpoint
(``EndpointBackend``: a closed API, a hosted-open provider or a bigger self-hosted model) supports
generation.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from kit.catalog import read_text
from kit.errors import DataError, ParamError
from kit.paths import data_dir

LABELS = ("billing", "technical", "account")
TASK = "Route each customer message to one queue: billing, technical or account."
# Few-shot examples for the completion prompt; deliberately not items of data/eval/tickets.csv.
SHOTS = (
    ("I think I was overcharged on my last bill.", "billing"),
    ("The page shows an error when I press save.", "technical"),
    ("How do I reset my password?", "account"),
)


@dataclass(frozen=True)
class Item:
    """One labelled example."""

    id: str
    text: str
    label: str


@dataclass(frozen=True)
class Completion:
    """What a backend returned for one prompt."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float


class Backend(Protocol):
    name: str

    def complete(self, prompt: str, max_tokens: int = 4) -> Completion: ...


def tasks_path() -> Path:
    return data_dir() / "eval" / "tickets.csv"


def load_tasks(path: Path | None = None, labels: Sequence[str] = LABELS) -> list[Item]:
    """Read a labelled task file (id, text, label); raise DataError naming the file, row and column."""
    path = Path(path or tasks_path())
    if not path.exists():
        raise DataError(f"{path}: file not found (expected columns: id, text, label)")
    text = read_text(path)  # DataError naming the file if it cannot be read or is not UTF-8
    try:
        return _parse_tasks(path, text, labels)
    except csv.Error as exc:
        raise DataError(f"{path}: not a readable CSV file ({exc}); expected columns: id, text, label") from None


def _parse_tasks(path: Path, text: str, labels: Sequence[str]) -> list[Item]:
    with io.StringIO(text, newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in ("id", "text", "label") if c not in (reader.fieldnames or [])]
        if missing:
            raise DataError(f"{path}: missing column '{missing[0]}' (expected columns: id, text, label)")
        items, seen = [], set()
        for row_no, row in enumerate(reader, start=2):
            for col in ("id", "text", "label"):
                if not (row.get(col) or "").strip():
                    raise DataError(f"{path}: row {row_no}, column '{col}': is empty")
            if row["label"].strip() not in labels:
                raise DataError(
                    f"{path}: row {row_no}, column 'label': {row['label']!r} is not one of " + ", ".join(labels)
                )
            if row["id"] in seen:
                raise DataError(f"{path}: row {row_no}, column 'id': {row['id']!r} appears twice")
            seen.add(row["id"])
            items.append(Item(row["id"].strip(), row["text"].strip(), row["label"].strip()))
    if not items:
        raise DataError(f"{path}: has a header but no rows")
    return items


def wilson(correct: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Return the Wilson score interval for a proportion (95% by default)."""
    if n == 0:
        return 0.0, 1.0
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def majority_baseline(items: Sequence[Item]) -> tuple[str, float]:
    """Return the most common label and the accuracy of always answering it."""
    counts = pd.Series([i.label for i in items]).value_counts()
    return str(counts.index[0]), float(counts.iloc[0] / len(items))


def completion_prompt(text: str) -> str:
    """Return the few-shot completion prompt for one message (works for base and instruct models)."""
    shots = "".join(f"Message: {t}\nQueue: {label}\n\n" for t, label in SHOTS)
    return f"{TASK}\n\n{shots}Message: {text}\nQueue:"


def parse_label(text: str, labels: Sequence[str] = LABELS) -> str | None:
    """Return the first label named in a model's answer, or None."""
    words = re.findall(r"[a-z]+", text.lower())
    for word in words:
        if word in labels:
            return word
    return None


@dataclass
class EvalResult:
    """Accuracy of one backend in one mode, with its uncertainty, baseline, speed and cost."""

    backend: str
    mode: str
    n: int
    correct: int
    baseline_label: str
    baseline: float
    seconds: list[float]
    cost_per_1000: float | None
    cost_basis: str
    rows: pd.DataFrame = field(repr=False)

    @property
    def accuracy(self) -> float:
        return self.correct / self.n

    @property
    def ci(self) -> tuple[float, float]:
        return wilson(self.correct, self.n)

    def summary(self) -> dict[str, Any]:
        lo, hi = self.ci
        return {
            "backend": self.backend,
            "mode": self.mode,
            "items": self.n,
            "accuracy": round(self.accuracy, 3),
            "ci95_low": round(lo, 3),
            "ci95_high": round(hi, 3),
            "baseline": round(self.baseline, 3),
            "no_answer": int(self.rows.predicted.isna().sum()),
            "median_ms": round(statistics.median(self.seconds) * 1000, 1),
            "cost_per_1000_usd": None if self.cost_per_1000 is None else round(self.cost_per_1000, 4),
            "cost_basis": self.cost_basis,
        }


def evaluate(
    backend: Any,
    items: Sequence[Item],
    mode: str = "generate",
    labels: Sequence[str] = LABELS,
    usd_per_hour: float | None = None,
    usd_per_mtok: tuple[float, float] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> EvalResult:
    """Run ``backend`` on every item and score it.

    ``mode``: "generate" (the model writes an answer, parsed to a label) or "logprob" (the label the
    model finds most likely after the prompt). Cost per 1,000 items comes from ``usd_per_hour`` (a
    machine you pay by the hour, times the measured time) or ``usd_per_mtok`` (input, output prices).
    """
    if mode not in ("generate", "logprob"):
        raise ParamError("mode", mode, "'generate' or 'logprob'")
    if mode == "logprob" and not hasattr(backend, "label_logprobs"):
        raise ParamError(
            "mode", mode, f"'generate' for backend {backend.name!r}, which cannot score labels by log-probability"
        )
    if not items:
        raise ParamError("items", list(items), "at least one labelled item")
    rows, seconds, tokens_in, tokens_out = [], [], 0, 0
    for n, item in enumerate(items, 1):
        prompt = completion_prompt(item.text)
        if mode == "generate":
            c = backend.complete(prompt, max_tokens=4)
            predicted, answer, took = parse_label(c.text, labels), c.text.strip(), c.seconds
            tokens_in, tokens_out = tokens_in + c.prompt_tokens, tokens_out + c.completion_tokens
        else:
            t = time.perf_counter()
            scores = backend.label_logprobs(prompt, labels)
            took = time.perf_counter() - t
            predicted = max(scores, key=scores.get)
            answer = ", ".join(f"{k} {v:.2f}" for k, v in scores.items())
        seconds.append(took)
        rows.append(
            {
                "id": item.id,
                "label": item.label,
                "predicted": predicted,
                "answer": answer,
                "correct": predicted == item.label,
                "ms": round(took * 1000, 1),
            }
        )
        if progress:
            progress(n, len(items))
    table = pd.DataFrame(rows)
    base_label, base = majority_baseline(items)
    cost, basis = None, "no price given"
    if usd_per_hour is not None:
        cost = sum(seconds) / len(items) * 1000 * usd_per_hour / 3600
        basis = f"measured time x ${usd_per_hour:g}/hour"
    elif usd_per_mtok is not None and mode == "generate":
        cost = (tokens_in * usd_per_mtok[0] + tokens_out * usd_per_mtok[1]) / 1e6 / len(items) * 1000
        basis = f"tokens x ${usd_per_mtok[0]:g}/M in, ${usd_per_mtok[1]:g}/M out"
    return EvalResult(
        backend.name, mode, len(items), int(table.correct.sum()), base_label, base, seconds, cost, basis, table
    )


# ---------------------------------------------------------------- OpenAI-compatible endpoints

ENV_BASE_URL = "KIT_LLM_BASE_URL"
ENV_API_KEY = "KIT_LLM_API_KEY"
ENV_MODEL = "KIT_LLM_MODEL"
ENV_PRICE = "KIT_LLM_USD_PER_MTOK"  # "input,output", e.g. "0.15,0.60"


class EndpointBackend:
    """Any OpenAI-compatible chat endpoint, reached with the standard ``openai`` client."""

    def __init__(
        self, base_url: str, model: str, api_key: str = "not-needed", name: str | None = None, timeout: float = 60
    ):
        from openai import OpenAI  # delayed: importing openai (httpx, pydantic) takes about 0.8 s

        self.base_url, self.model = base_url, model
        self.name = name or f"{model} @ {base_url}"
        self.client = OpenAI(base_url=base_url, api_key=api_key or "not-needed", timeout=timeout, max_retries=0)

    def complete(self, prompt: str, max_tokens: int = 4) -> Completion:
        """Send one prompt as a chat message at temperature 0."""
        t = time.perf_counter()
        r = self.client.chat.completions.create(
            model=self.model, messages=[{"role": "user", "content": prompt}], temperature=0, max_tokens=max_tokens
        )
        took = time.perf_counter() - t
        usage = r.usage
        return Completion(
            r.choices[0].message.content or "",
            getattr(usage, "prompt_tokens", 0) or 0,
            getattr(usage, "completion_tokens", 0) or 0,
            took,
        )


def endpoint_from_env(env: dict[str, str] | None = None) -> tuple[EndpointBackend | None, str]:
    """Return the endpoint configured by environment variables (or None) and a sentence saying which."""
    env = dict(os.environ if env is None else env)
    base = env.get(ENV_BASE_URL, "").strip()
    if not base:
        return None, (
            f"No external endpoint is configured: set {ENV_BASE_URL} (e.g. https://api.openai.com/v1), "
            f"{ENV_MODEL} and {ENV_API_KEY} to compare a closed API, a hosted open model or a bigger "
            "self-hosted model on the same items. No numbers are shown for it."
        )
    if not re.match(r"https?://[^/\s]+", base):
        raise ParamError(
            ENV_BASE_URL,
            base,
            "an http:// or https:// URL, e.g. https://api.openai.com/v1",
            context="environment variable",
        )
    model = env.get(ENV_MODEL, "").strip()
    if not model:
        raise ParamError(
            ENV_MODEL,
            env.get(ENV_MODEL, ""),
            f"the name of the model to call (required when {ENV_BASE_URL} is set), e.g. gpt-5.4-mini",
            context="environment variable",
        )
    return EndpointBackend(base, model, env.get(ENV_API_KEY, "")), f"Endpoint: {model} at {base}."


def endpoint_price(env: dict[str, str] | None = None) -> tuple[float, float] | None:
    """Return the endpoint's (input, output) USD per million tokens from KIT_LLM_USD_PER_MTOK, if set."""
    env = dict(os.environ if env is None else env)
    raw = env.get(ENV_PRICE, "").strip()
    if not raw:
        return None
    allowed = "two numbers 'input,output' in USD per million tokens, at least 0, e.g. 0.15,0.60"
    try:
        a, b = (float(x) for x in raw.split(","))
    except ValueError:
        raise ParamError(ENV_PRICE, raw, allowed, context="environment variable") from None
    if not all(math.isfinite(x) and x >= 0 for x in (a, b)):
        raise ParamError(ENV_PRICE, raw, allowed, context="environment variable")
    return a, b
