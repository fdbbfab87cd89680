"""The hybrid router, live: real prompts routed by a sensitivity and difficulty heuristic to real backends.

The tiers are OpenAI-compatible servers (llama.cpp on 127.0.0.1 for the bundled models, or an external
endpoint configured by environment variables). Every decision is logged with its reason, latency and
the price the tier it stands for would bill. The simulation that prices the hybrid option is
``kit.router``.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kit import evaluate, local
from kit.catalog import load_catalog
from kit.cost import frame, hosted_market, resolve_models
from kit.errors import ParamError
from kit.params import NOTEBOOK_SPEC

DEFAULT_THRESHOLD = NOTEBOOK_SPEC["route_threshold"].default  # one default: the spec's

SENSITIVE = re.compile(
    r"[\w.+-]+@[\w-]+\.[\w.]+"  # an email address
    r"|\b(?:\d[ -]?){13,19}\b"  # a card or account number
    r"|\b[A-Z]{2}\d{2}[A-Z0-9]{11,30}\b"  # an IBAN
    r"|\b(?:patient|diagnos\w*|salary|salaries|passport|medical|social security)\b",
    re.IGNORECASE,
)
HARD = (
    "step by step",
    "prove",
    "analy",
    "plan ",
    "design",
    "compare",
    "trade-off",
    "derive",
    "strategy",
    "debug",
    "refactor",
    "why ",
    "explain",
    "multi-step",
    "evaluate",
)


# The cheap tier is a base model (Gemma 3 270M): it continues text and does not follow chat messages, so
# it gets each request as a few-shot completion prompt, the way base models are used. The examples are
# not the demo's prompts.
FEW_SHOT_TASK = "Answer each request in one short line."
FEW_SHOT = (
    ("What is the capital of Italy?", "Rome."),
    ("Translate 'thank you' into German.", "Danke."),
    ("Summarise this: the invoice was paid late because the approver was on holiday.", "The invoice was late: the approver was away."),
)  # fmt: skip


def few_shot_prompt(prompt: str) -> str:
    """Return a request wrapped as a few-shot completion prompt (instruction, worked examples, the request)."""
    shots = "".join(f"Request: {q}\nAnswer: {a}\n\n" for q, a in FEW_SHOT)
    return f"{FEW_SHOT_TASK}\n\n{shots}Request: {' '.join(prompt.split())}\nAnswer:"


def answered(text: str) -> bool:
    """Return whether a tier's reply counts as an answer: some letters or digits (an empty reply does not)."""
    return any(ch.isalnum() for ch in text)


class FewShotBackend:
    """A base model behind an OpenAI-compatible ``/v1/completions`` endpoint, sent few-shot prompts."""

    def __init__(self, base_url: str, model: str, name: str | None = None, timeout: float = 60):
        from openai import OpenAI  # delayed: importing openai (httpx, pydantic) takes about 0.8 s

        self.base_url, self.model, self.name = base_url, model, name or model
        self.client = OpenAI(base_url=base_url, api_key="not-needed", timeout=timeout, max_retries=0)

    def complete(self, prompt: str, max_tokens: int = 32) -> evaluate.Completion:
        """Complete the few-shot prompt for ``prompt`` at temperature 0, up to the end of the answer's line."""
        t = time.perf_counter()
        r = self.client.completions.create(
            model=self.model, prompt=few_shot_prompt(prompt), temperature=0, max_tokens=max_tokens, stop=["\n"]
        )
        took = time.perf_counter() - t
        usage = r.usage
        return evaluate.Completion(
            r.choices[0].text or "",
            getattr(usage, "prompt_tokens", 0) or 0,
            getattr(usage, "completion_tokens", 0) or 0,
            took,
        )


def is_sensitive(prompt: str) -> bool:
    """Return whether a prompt carries data that must stay inside (emails, account numbers, health, pay)."""
    return bool(SENSITIVE.search(prompt))


def difficulty(prompt: str) -> float:
    """Score how hard a prompt is, 0 (trivial) to 1, from its length, reasoning words and number of questions."""
    text = prompt.lower()
    words = len(text.split())
    markers = sum(1 for m in HARD if m in text)
    questions = text.count("?")
    return float(min(1.0, 0.1 + min(words / 120, 0.35) + 0.2 * min(markers, 3) + 0.1 * (questions > 1)))


@dataclass
class Tier:
    """One destination of the live router: a backend, what it stands for, and how its answers are priced."""

    name: str  # closed_api | hosted_open | self_hosted_open
    backend: Any  # anything with complete(prompt, max_tokens) -> Completion
    stands_in_for: str  # what this backend represents in the demo, said plainly
    external: bool  # does a request leave this machine / network?
    usd_per_mtok: tuple[float, float] | None = None  # input, output prices of the tier it represents
    usd_per_hour: float | None = None  # or a machine paid by the hour


@dataclass
class Router:
    """Send each prompt to a tier: sensitive -> inside, hard -> strong, the rest -> cheap; log every decision."""

    strong: Tier
    cheap: Tier
    inside: Tier
    threshold: float = DEFAULT_THRESHOLD
    residency: bool = True
    max_tokens: int = 48
    log: list[dict[str, Any]] = field(default_factory=list)

    def decide(self, prompt: str) -> tuple[Tier, str, float, bool]:
        """Return the tier for a prompt, the reason, its difficulty and whether it is sensitive."""
        sensitive = is_sensitive(prompt)
        score = difficulty(prompt)
        if sensitive and self.residency:
            if self.inside.external:
                raise ParamError(
                    "inside",
                    self.inside.name,
                    "a tier that keeps data on this network (external=False): "
                    "sensitive data cannot go to an external tier",
                )
            return self.inside, "sensitive data stays inside", score, True
        if score >= self.threshold:
            return self.strong, f"difficulty {score:.2f} >= threshold {self.threshold:.2f}", score, sensitive
        return self.cheap, f"difficulty {score:.2f} < threshold {self.threshold:.2f}", score, sensitive

    def route(self, prompt: str) -> dict[str, Any]:
        """Answer one prompt through the router and return (and log) what happened."""
        tier, reason, score, sensitive = self.decide(prompt)
        t = time.perf_counter()
        c = tier.backend.complete(prompt, max_tokens=self.max_tokens)
        usd = self._price(tier, c)
        escalated = False
        if tier is self.cheap and not answered(c.text) and not (sensitive and self.residency):
            first = c
            c = self.strong.backend.complete(prompt, max_tokens=self.max_tokens)  # the cheap tier failed: retry
            usd += self._price(self.strong, c)
            escalated, reason = True, reason + f"; escalated: {self.cheap.name} gave {first.text.strip()!r}"
            tier = self.strong
        entry = {
            "n": len(self.log) + 1,
            "prompt": prompt[:80],
            "sensitive": sensitive,
            "difficulty": round(score, 2),
            "tier": tier.name,
            "stands_in_for": tier.stands_in_for,
            "external": tier.external,
            "reason": reason,
            "escalated": escalated,
            "latency_ms": round((time.perf_counter() - t) * 1000, 1),
            "prompt_tokens": c.prompt_tokens,
            "completion_tokens": c.completion_tokens,
            "usd": usd,
            "answer": c.text.strip(),
        }
        self.log.append(entry)
        return entry

    @staticmethod
    def _price(tier: Tier, c: Any) -> float:
        if tier.usd_per_mtok:
            return (c.prompt_tokens * tier.usd_per_mtok[0] + c.completion_tokens * tier.usd_per_mtok[1]) / 1e6
        if tier.usd_per_hour:
            return c.seconds * tier.usd_per_hour / 3600
        return 0.0


@contextlib.contextmanager
def local_router(
    scenario: Any, threshold: float = DEFAULT_THRESHOLD, max_tokens: int = 48, endpoint: Any = None
) -> Iterator[Router]:
    """Start the local tiers as llama.cpp servers on 127.0.0.1 and yield a Router over them; stop them after.

    Without an external endpoint, SmolLM2 (instruct, sent chat messages) stands in for the closed model and
    Gemma 3 270M (base, sent few-shot completion prompts) for the cheap open tier; sensitive prompts go to SmolLM2 on this machine, which really is self-hosted.
    Each answer is priced as the tier it stands for would bill it (the scenario's models, data/prices.csv).
    """
    cat = load_catalog()
    df = resolve_models(frame([scenario]), cat)
    row = df.iloc[0]
    closed_price = cat.price_table.loc[row.closed_ref]
    hosted_ref = hosted_market(df, cat, np.ones(1)).hosted_ref.iloc[0]  # the provider the cost engine prices
    hosted_price = cat.price_table.loc[hosted_ref] if isinstance(hosted_ref, str) else closed_price
    closed_usd = (closed_price.input_usd_per_mtok, closed_price.output_usd_per_mtok)
    names = ("smollm2-135m", "gemma-3-270m")
    with local.serve_all(names) as started:  # both start at once
        servers = dict(zip(names, started))

        def here(tier: str, model: str, stands_in_for: str, **price: Any) -> Tier:
            url = servers[model].base_url
            kind = local.check_name(model)["kind"]
            backend = (
                evaluate.EndpointBackend(url, model, name=model) if kind == "instruct" else FewShotBackend(url, model)
            )
            return Tier(tier, backend, f"{model} {stands_in_for}", False, **price)

        if endpoint is not None:
            strong = Tier("closed_api", endpoint, f"{endpoint.model} (external endpoint)", True,
                          evaluate.endpoint_price() or closed_usd)  # fmt: skip
        else:
            strong = here("closed_api", "smollm2-135m", f"on 127.0.0.1, standing in for {row.closed_ref}",
                          usd_per_mtok=closed_usd)  # fmt: skip
        cheap = here("hosted_open", "gemma-3-270m", f"on 127.0.0.1, standing in for {hosted_ref or row.open_id}",
                     usd_per_mtok=(hosted_price.input_usd_per_mtok, hosted_price.output_usd_per_mtok))  # fmt: skip
        inside = here("self_hosted_open", "smollm2-135m", "on this machine (self-hosted for real)",
                      usd_per_hour=cat.a("cpu_server_usd_per_hour"))  # fmt: skip
        yield Router(strong, cheap, inside, threshold=threshold, max_tokens=max_tokens)


def endpoint_or_none() -> tuple[Any, str]:
    """Return the external endpoint configured by environment variables (or None) and a sentence saying so."""
    endpoint, note = evaluate.endpoint_from_env()
    if endpoint is None:
        return None, (
            "No external endpoint is configured, so both model tiers run locally: SmolLM2 stands in for "
            "the closed model and Gemma 3 270M for the hosted open tier."
        )
    return endpoint, note + " It is the strong tier; sensitive prompts never go there."
