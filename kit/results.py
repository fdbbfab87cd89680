"""The shapes of the engine's answers: typed, JSON-ready (plain dicts at run time, checked by type checkers).

``kit.recommend.recommend`` returns a ``Recommendation``; the CLI, the app, the memo, the notebooks and
``kit run`` read it through these names. ``tests/test_recommend.py`` checks a real answer against them.
"""

from __future__ import annotations

from typing import Any, TypedDict

# "from" is a Python keyword, so this one uses the functional form.
Flip = TypedDict("Flip", {"param": str, "from": Any, "to": Any, "choice": str, "distance": float})
Flip.__doc__ = "The smallest change of one input that changes the choice."


class AxisLean(TypedDict):
    """One decision axis: its lean from -1 (closed) to +1 (open) and the sentence that explains it."""

    lean: float
    why: str


class BreakEven(TypedDict):
    """The volume where two options cost the same, and which is cheaper above it."""

    a: str
    b: str
    monthly_requests: float
    cheaper_above: str


class UtilisationPoint(TypedDict):
    """Where self-hosting first beats a rival: the volume, the fleet and its average utilisation (None: never)."""

    monthly_requests: int | None
    utilisation: float | None
    gpus: int | None


class SelfHosted(TypedDict):
    """The self-hosted fleet behind the self-hosted cost."""

    gpus: int
    replicas: int
    gpus_per_replica: int
    gpu: str
    usd_per_gpu_hour: float
    requests_per_s_per_replica: float
    average_utilisation: float
    ops_fte: float
    pricing: str
    concurrency: int
    ttft_ms: float
    tpot_ms: float
    meets_targets: bool
    gpu_hours: float
    owned_marginal_usd: float | None  # None: no purchase price for this GPU
    throughput: str


class RouterSplit(TypedDict):
    """The hybrid router's split: cost, shares of first answers per tier, escalations, quality."""

    monthly_usd: float
    share: dict[str, float]
    escalated_share: float
    bulk_tier: str
    bulk_sizing: str
    quality_vs_closed: float
    threshold: float


class HostedMarket(TypedDict):
    """The providers of the open model, priced for this workload, and which one was used and why."""

    rule: str  # hosted_provider: median, cheapest, priciest or a provider's name
    offers: int
    min_usd: float | None
    median_usd: float | None
    max_usd: float | None


class OpenChoice(TypedDict):
    """How the open model was chosen ('named', or the auto rule) and, for auto, each adequate model's GPU cost
    per 1,000 requests at full load (None: fits no GPU shape)."""

    rule: str
    candidates: dict[str, float | None]


class Models(TypedDict):
    """The models a scenario compares: the closed price row, the open model, its hosted price row (None: none)."""

    closed: str
    open: str
    open_choice: OpenChoice
    hosted_price: str | None
    hosted_market: HostedMarket


class DataInfo(TypedDict):
    """The price snapshot the answer rests on."""

    prices_as_of: str
    prices_source: str
    stale: bool


class Recommendation(TypedDict):
    """The whole answer for one scenario."""

    choice: str
    choice_label: str
    confidence: (
        float | None
    )  # the share of plausible worlds (kit.uncertainty) that give this answer; None: not worked out
    gate: str
    reasons: list[str]
    warnings: list[str]
    costs: dict[str, float | None]  # None: not allowed (see not_allowed) or no price known
    not_allowed: dict[str, str]  # option -> why it may not be used here
    weighted_lean: float  # the axes' weighted mean lean, -1 closed ... +1 open
    breakdown: dict[str, dict[str, float | None]]
    self_hosted: SelfHosted
    router: RouterSplit
    models: Models
    axes: dict[str, AxisLean]
    break_even: list[BreakEven]
    utilisation_needed: dict[str, UtilisationPoint]
    flip: list[Flip]
    data: DataInfo
    scenario: dict[str, Any]
    uncertainty: dict[str, Any]  # kit.uncertainty.plain_summary(), empty until worked out
