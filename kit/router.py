"""The hybrid router, simulated: which tier answers which request, what it costs, what quality it gives.

Vectorised over scenarios. The same model prices the ``hybrid`` option everywhere (``kit.cost.costs``
calls ``hybrid_columns``), so the app, the decision notebook and the router notebook agree.

Traffic: every request has a difficulty d, uniform on [0, 1]; the hardest ``hard_share`` of it
(d >= 1 - hard_share) is "hard". A ``sensitive_share`` of all requests carries data that, under a
residency rule, may only be answered by the self-hosted tier.

Policy: non-sensitive requests with d >= ``threshold`` go to the closed model; the rest go to the
cheapest adequate tier (closed, hosted open, or self-hosted). The default threshold, 1 - hard_share,
is the rule "hard -> closed, the rest -> cheapest". Hard requests answered by an open tier fail
detectably at ``escalation_rate`` and are retried on the closed model: paid twice.

Capacity: a self-hosted tier for the bulk can be sized for the peak, or for the base load with the
busy hours spilling over to the hosted API (``peak_hours_share`` of the time at the peak rate);
sensitive traffic is always sized for its peak, since it cannot spill outside.
"""

from __future__ import annotations

import contextlib
import re
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np
import pandas as pd

from kit.catalog import Catalog, load_catalog

TIERS = ("closed_api", "hosted_open", "self_hosted_open")


def base_and_overflow(peak_to_average: Any, cat: Catalog) -> tuple[np.ndarray, np.ndarray]:
    """Return the base load (as a multiple of the average rate) and the share of requests above it.

    Load model: ``peak_hours_share`` of the time at the peak rate, the rest at a base rate, averaging 1.
    """
    p = np.asarray(peak_to_average, float)
    f = cat.a("peak_hours_share")
    base = np.clip((1 - f * p) / (1 - f), 0.0, 1.0)
    overflow = np.where(p > 1, f * (np.minimum(p, 1 / f) - base), 0.0)
    return base, np.clip(overflow, 0.0, 1.0)


def _fleet(df: pd.DataFrame, requests: np.ndarray, peak: np.ndarray, cat: Catalog) -> np.ndarray:
    """Monthly cost of a self-hosted fleet serving ``requests`` sized for ``peak`` x the average rate."""
    from kit.cost import _self_hosted

    sized = df.assign(peak_to_average=np.maximum(peak, 1e-9))
    sh = _self_hosted(sized, requests, cat)
    total = sh["gpu_cost"] + sh["overhead"] + sh["ops_staff"] + sh["setup_amortised"]
    return np.where(requests > 0, total, 0.0)


def simulate(df: pd.DataFrame, per_request: dict[str, np.ndarray], cat: Catalog | None = None,
             threshold: Any = None, residency: bool = True) -> pd.DataFrame:
    """Route each scenario's traffic and return costs, shares per tier, expected quality and savings.

    ``df``: resolved scenario rows (as inside ``kit.cost.costs``); ``per_request``: USD per request on the
    closed and hosted tiers (NaN where there is no hosted price); ``threshold``: difficulty above which
    non-sensitive requests go to the closed model (default 1 - hard_share); ``residency``: sensitive
    requests stay on the self-hosted tier.
    """
    cat = cat or load_catalog()
    n = len(df)
    req = df.monthly_requests.to_numpy(float)
    hard = df.hard_share.to_numpy(float)
    sens = df.sensitive_share.to_numpy(float) if residency else np.zeros(n)
    esc = df.escalation_rate.to_numpy(float)
    theta = 1 - hard if threshold is None else np.broadcast_to(np.asarray(threshold, float), (n,))
    theta = np.clip(theta, 0.0, 1.0)
    p_closed = per_request["closed_api"]
    p_hosted = per_request["hosted_open"]

    normal = 1 - sens
    to_closed = normal * (1 - theta)                    # routed up front
    bulk = normal * theta                               # to the cheapest adequate tier
    hard_in_bulk = normal * np.clip(theta - (1 - hard), 0.0, None)  # hard requests below the threshold

    # Candidate tiers for the bulk, each priced for this volume (the self-hosted fleet is a staircase),
    # with the escalations it causes and the router's engineering if traffic ends up on several tiers.
    bulk_req = req * bulk
    base, overflow = base_and_overflow(df.peak_to_average.to_numpy(float), cat)
    no_hosted = np.isnan(p_hosted)
    spill_price = np.where(no_hosted, p_closed, p_hosted)
    escalation_cost = req * hard_in_bulk * esc * p_closed
    router_cost = cat.a("router_setup_weeks") * df.fte_annual_cost_usd.to_numpy(float) / 52 / cat.a("amortise_months")
    uses_closed = (to_closed > 0) | (hard_in_bulk * esc > 0)  # closed is in play for every open option
    options = {
        "closed_api": (bulk_req * p_closed, {"closed_api"}),
        "hosted_open": (bulk_req * p_hosted + escalation_cost, {"hosted_open"}),
        "self_peak": (_fleet(df, bulk_req, df.peak_to_average.to_numpy(float), cat) + escalation_cost,
                      {"self_hosted_open"}),
        "self_base": (_fleet(df, bulk_req * (1 - overflow), base / np.maximum(1 - overflow, 1e-9), cat)
                      + bulk_req * overflow * spill_price + escalation_cost, {"self_hosted_open", "spill"}),
    }
    totals = []
    for name, (cost, tiers) in options.items():
        n_tiers = np.full(n, len(tiers - {"spill"}), dtype=int)
        if "spill" in tiers:
            n_tiers += overflow > 0
        if name != "closed_api":
            n_tiers += uses_closed  # hard requests sent up front, or escalations, reach the closed tier
        if "self_hosted_open" not in tiers:
            n_tiers += sens > 0  # sensitive requests are on the self-hosted tier whatever the bulk does
        totals.append(np.where(np.isnan(cost), np.inf, cost + np.where(n_tiers > 1, router_cost, 0.0)))
    table = np.column_stack(totals)
    pick = np.argmin(table, axis=1)
    names = np.array(list(options))[pick]
    names = np.where(bulk_req > 0, names, "none")
    open_bulk = np.isin(names, ["hosted_open", "self_peak", "self_base"])
    escalated = np.where(open_bulk, hard_in_bulk * esc, 0.0)
    raw = np.column_stack([np.where(np.isnan(c), np.inf, c) for c, _ in options.values()])[np.arange(n), pick]
    bulk_cost = np.where(bulk_req > 0, raw - np.where(open_bulk, escalation_cost, 0.0), 0.0)

    sens_req = req * sens
    sens_cost = _fleet(df, sens_req, df.peak_to_average.to_numpy(float), cat)
    closed_cost = req * (to_closed + escalated) * p_closed

    # Share of first answers per tier, and the spill of a base-sized fleet.
    share = {t: np.zeros(n) for t in TIERS}
    share["closed_api"] += to_closed + np.where(names == "closed_api", bulk, 0.0)
    share["hosted_open"] += np.where(names == "hosted_open", bulk, 0.0)
    share["self_hosted_open"] += sens + np.where(np.isin(names, ["self_peak", "self_base"]), bulk, 0.0)
    spill = np.where(names == "self_base", bulk * overflow, 0.0)
    spill_to = np.where(np.isnan(p_hosted), "closed_api", "hosted_open")
    share["self_hosted_open"] -= spill
    for t in ("closed_api", "hosted_open"):
        share[t] += np.where(spill_to == t, spill, 0.0)

    used = sum((share[t] > 1e-12).astype(int) for t in TIERS) + ((escalated > 0) & (share["closed_api"] <= 1e-12))
    router = np.where(used > 1, router_cost, 0.0)
    total = closed_cost + bulk_cost + sens_cost + router

    # Expected quality, relative to the closed model (= 1) on every request.
    q_easy, q_hard = cat.a("open_quality_easy"), cat.a("open_quality_hard")
    easy_in_bulk = bulk - hard_in_bulk
    open_quality = (np.where(open_bulk, easy_in_bulk * q_easy + hard_in_bulk * ((1 - esc) * q_hard + esc), bulk)
                    + sens * ((1 - hard) * q_easy + hard * q_hard))
    quality = to_closed + open_quality

    return pd.DataFrame({
        "hybrid": total, "hybrid_closed_part": closed_cost, "hybrid_bulk_part": bulk_cost,
        "hybrid_sensitive_part": sens_cost, "hybrid_router": router,
        "hybrid_bulk_tier": np.where(np.isin(names, ["self_peak", "self_base"]), "self_hosted_open", names),
        "hybrid_bulk_sizing": np.select([names == "self_peak", names == "self_base"],
                                        ["peak", "base + spill to API"], "-"),
        "hybrid_share_closed": share["closed_api"], "hybrid_share_hosted": share["hosted_open"],
        "hybrid_share_self": share["self_hosted_open"], "hybrid_escalated": escalated,
        "hybrid_quality": quality, "hybrid_threshold": theta,
    }, index=df.index)


def frontier(scenario: Any, points: int = 21, cat: Catalog | None = None) -> pd.DataFrame:
    """Return monthly cost and expected quality as the difficulty threshold moves from 0 (all closed) to 1."""
    from kit.cost import costs

    thresholds = np.linspace(0, 1, points)
    rows = [scenario] * points
    out = costs(rows, cat, thresholds=thresholds)
    return pd.DataFrame({"threshold": thresholds, "monthly_usd": out.hybrid.to_numpy(),
                         "quality": out.hybrid_quality.to_numpy(),
                         "share_closed": out.hybrid_share_closed.to_numpy(),
                         "share_hosted": out.hybrid_share_hosted.to_numpy(),
                         "share_self": out.hybrid_share_self.to_numpy()})


# ---------------------------------------------------------------- live routing of real prompts

SENSITIVE = re.compile(
    r"[\w.+-]+@[\w-]+\.[\w.]+"                      # an email address
    r"|\b(?:\d[ -]?){13,19}\b"                       # a card or account number
    r"|\b[A-Z]{2}\d{2}[A-Z0-9]{11,30}\b"             # an IBAN
    r"|\b(?:patient|diagnos\w*|salary|salaries|passport|medical|social security)\b", re.IGNORECASE)
HARD = ("step by step", "prove", "analy", "plan ", "design", "compare", "trade-off", "derive", "strategy",
        "debug", "refactor", "why ", "explain", "multi-step", "evaluate")


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

    name: str                # closed_api | hosted_open | self_hosted_open
    backend: Any             # anything with complete(prompt, max_tokens) -> Completion
    stands_in_for: str       # what this backend represents in the demo, said plainly
    external: bool           # does a request leave this machine / network?
    usd_per_mtok: tuple[float, float] | None = None  # input, output prices of the tier it represents
    usd_per_hour: float | None = None                # or a machine paid by the hour


@dataclass
class Router:
    """Send each prompt to a tier: sensitive -> inside, hard -> strong, the rest -> cheap; log every decision."""

    strong: Tier
    cheap: Tier
    inside: Tier
    threshold: float = 0.5
    residency: bool = True
    max_tokens: int = 48
    log: list[dict[str, Any]] = field(default_factory=list)

    def decide(self, prompt: str) -> tuple[Tier, str, float, bool]:
        """Return the tier for a prompt, the reason, its difficulty and whether it is sensitive."""
        sensitive = is_sensitive(prompt)
        score = difficulty(prompt)
        if sensitive and self.residency:
            if self.inside.external:
                raise ValueError(f"the inside tier '{self.inside.name}' is external: sensitive data cannot go there")
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
        if tier is self.cheap and len(c.text.split()) < 2 and not (sensitive and self.residency):
            first = c
            c = self.strong.backend.complete(prompt, max_tokens=self.max_tokens)  # the cheap tier failed: retry
            usd += self._price(self.strong, c)
            escalated, reason = True, reason + f"; escalated: {self.cheap.name} gave {first.text.strip()!r}"
            tier = self.strong
        entry = {"n": len(self.log) + 1, "prompt": prompt[:80], "sensitive": sensitive, "difficulty": round(score, 2),
                 "tier": tier.name, "stands_in_for": tier.stands_in_for, "external": tier.external,
                 "reason": reason, "escalated": escalated, "latency_ms": round((time.perf_counter() - t) * 1000, 1),
                 "prompt_tokens": c.prompt_tokens, "completion_tokens": c.completion_tokens, "usd": usd,
                 "answer": c.text.strip()}
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
def local_router(scenario: Any, threshold: float = 0.5, max_tokens: int = 48,
                 endpoint: Any = None) -> Iterator[Router]:
    """Start the local tiers as llama.cpp servers on 127.0.0.1 and yield a Router over them; stop them after.

    Without an external endpoint, SmolLM2 (instruct) stands in for the closed model and Gemma 3 270M (base)
    for the cheap open tier; sensitive prompts go to SmolLM2 on this machine, which really is self-hosted.
    Each answer is priced as the tier it stands for would bill it (the scenario's models, data/prices.csv).
    """
    from kit import evaluate, local
    from kit.cost import frame, resolve_models

    cat = load_catalog()
    row = resolve_models(frame([scenario]), cat).iloc[0]
    closed_price = cat.price_table.loc[row.closed_ref]
    hosted_ref = cat.open_models.set_index("id").loc[row.open_id].hosted_price_ref
    hosted_price = cat.price_table.loc[hosted_ref] if hosted_ref else closed_price
    with contextlib.ExitStack() as stack:
        smol = stack.enter_context(local.serve("smollm2-135m"))
        gemma = stack.enter_context(local.serve("gemma-3-270m"))
        if endpoint is not None:
            strong = Tier("closed_api", endpoint, f"{endpoint.model} (external endpoint)", True,
                          evaluate.endpoint_price() or (closed_price.input_usd_per_mtok, closed_price.output_usd_per_mtok))
        else:
            strong = Tier("closed_api", evaluate.EndpointBackend(smol.base_url, "smollm2-135m", name="smollm2-135m"),
                          f"smollm2-135m on 127.0.0.1, standing in for {row.closed_ref}", False,
                          (closed_price.input_usd_per_mtok, closed_price.output_usd_per_mtok))
        cheap = Tier("hosted_open", evaluate.EndpointBackend(gemma.base_url, "gemma-3-270m", name="gemma-3-270m"),
                     f"gemma-3-270m on 127.0.0.1, standing in for {hosted_ref or row.open_id}", False,
                     (hosted_price.input_usd_per_mtok, hosted_price.output_usd_per_mtok))
        inside = Tier("self_hosted_open", evaluate.EndpointBackend(smol.base_url, "smollm2-135m", name="smollm2-135m"),
                      "smollm2-135m on this machine (self-hosted for real)", False,
                      usd_per_hour=cat.a("cpu_server_usd_per_hour"))
        yield Router(strong, cheap, inside, threshold=threshold, max_tokens=max_tokens)


def summary_table(row: pd.Series, hard_share: float) -> pd.DataFrame:
    """Return, for one row of ``costs()``, each option's monthly cost and quality and the router's savings."""
    from kit.params import OPTION_LABELS

    cat = load_catalog()
    rows = []
    q_open = cat.a("open_quality_easy") * (1 - hard_share) + cat.a("open_quality_hard") * hard_share
    for option, quality in (("closed_api", 1.0), ("hosted_open", q_open), ("self_hosted_open", q_open),
                            ("hybrid", float(row.hybrid_quality))):
        cost = float(row[option])
        rows.append({"option": OPTION_LABELS[option], "USD per month": cost,
                     "quality vs all-closed": quality,
                     "hybrid saves": float(cost - row.hybrid) if option != "hybrid" else 0.0})
    out = pd.DataFrame(rows).set_index("option")
    out["USD per month"] = out["USD per month"].map(lambda v: f"${v:,.0f}" if v == v else "n/a")
    out["quality vs all-closed"] = out["quality vs all-closed"].map(lambda v: f"{v:.1%}")
    out["hybrid saves"] = out["hybrid saves"].map(lambda v: "-" if v == 0 or v != v else
                                                  (f"${v:,.0f}" if v > 0 else f"costs ${-v:,.0f} more"))
    return out


def endpoint_or_none() -> tuple[Any, str]:
    """Return the external endpoint configured by environment variables (or None) and a sentence saying so."""
    from kit.evaluate import endpoint_from_env

    endpoint, note = endpoint_from_env()
    if endpoint is None:
        return None, ("No external endpoint is configured, so both model tiers run locally: SmolLM2 stands in for "
                      "the closed model and Gemma 3 270M for the hosted open tier.")
    return endpoint, note + " It is the strong tier; sensitive prompts never go there."


def log_summary(log: list[dict[str, Any]]) -> pd.DataFrame:
    """Return the live router's log per tier: requests, escalations, median latency and cost."""
    df = pd.DataFrame(log)
    g = df.groupby("tier")
    return pd.DataFrame({"requests": g.size(), "sensitive": g.sensitive.sum(), "escalated": g.escalated.sum(),
                         "external": g.external.any(), "median latency ms": g.latency_ms.median(),
                         "USD": g.usd.sum().map(lambda v: f"${v:.6f}")})
