"""The one parameter spec: every scenario input with its type, unit, range, default and help.

Sliders (kit.widgets), papermill validation and the CLI's ``--set`` flags are all generated
from ``PARAMS``, so the three can never disagree.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kit.errors import ParamError, listing

SENSITIVITY_LEVELS = ("public", "internal", "confidential", "regulated", "on_prem_only")
VENDOR_TERMS = ("standard", "zero_retention", "enterprise_region")  # weakest first; data/residency.yaml
# how strong each terms level is; "never" (no terms suffice) ranks above them all
TERMS_RANK = {t: i for i, t in enumerate(VENDOR_TERMS)} | {"never": len(VENDOR_TERMS)}
QUALITY_LEVELS = ("everyday", "strong", "frontier")
OPTIONS = ("closed_api", "hosted_open", "self_hosted_open", "hybrid")
OPTION_LABELS = {
    "closed_api": "Closed API",
    "hosted_open": "Hosted open-weight (per token)",
    "self_hosted_open": "Self-hosted open-weight (own GPUs)",
    "hybrid": "Hybrid router",
}
AXES = ("cost", "control", "security", "ecosystem", "parity")
AXIS_LABELS = {
    "cost": "Cost",
    "control": "Control & data residency",
    "security": "Security & governance",
    "ecosystem": "Ecosystem & support",
    "parity": "Performance parity",
}


@dataclass(frozen=True)
class Param:
    """One scenario input."""

    name: str
    kind: str  # "int" | "float" | "choice" | "bool" | "model" | "text" | "ranges"
    default: Any
    help: str
    unit: str = ""
    low: float | None = None
    high: float | None = None
    choices: tuple = ()
    log: bool = False
    axis: str = ""
    label: str = ""
    flip: bool = True  # searched by "what would flip it"

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    def allowed(self) -> str:
        """Describe the allowed values in words."""
        if self.kind in ("int", "float"):
            unit = f" {self.unit}" if self.unit else ""
            kind = "a whole number" if self.kind == "int" else "a number"
            return f"{kind} from {_fmt(self.low)} to {_fmt(self.high)}{unit}"
        if self.kind == "choice":
            return "one of " + ", ".join(str(c) for c in self.choices)
        if self.kind == "bool":
            return "true or false"
        if self.kind == "text":
            return f"text of 1 to {_fmt(self.high)} characters"
        if self.kind == "ranges":
            names = listing(UNCERTAIN_INPUTS, most=3)
            return f"'none' or NAME=LOW:LIKELY:HIGH items, comma-separated (NAME: {names}; data/uncertainty.yaml)"
        return "'auto' or a model id from the data catalog"

    def coerce(self, value: Any, context: str = "") -> Any:
        """Return ``value`` converted to this parameter's type, or raise ParamError."""
        err = ParamError(self.name, value, self.allowed(), context)
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
                return value.strip().lower() in _TRUE
            if isinstance(value, (int, float)) and value in (0, 1):
                return bool(value)
            raise err
        if self.kind in ("int", "float"):
            number = _to_number(value)
            if number is None or not math.isfinite(number):
                raise err
            if self.kind == "int":
                if number != int(number):
                    raise err
                number = int(number)
            if not (self.low <= number <= self.high):
                raise err
            return number
        if self.kind == "choice":
            for choice in self.choices:
                if value == choice or (isinstance(value, str) and value.strip() == str(choice)):
                    return choice
            raise err
        if self.kind == "model":
            if isinstance(value, str) and value.strip():
                return value.strip()
            raise err
        if self.kind == "text":
            if isinstance(value, str) and value.strip() and len(value) <= self.high:
                return value
            raise err
        if self.kind == "ranges":
            if not isinstance(value, str) or len(value) > self.high:
                raise err
            try:
                range_items(value)
            except ValueError:
                raise err from None
            return value.strip()
        raise TypeError(f"unknown parameter kind {self.kind!r}")


# The uncertain inputs of data/uncertainty.yaml (kit.catalog.UNCERTAIN says how the engine reads each).
UNCERTAIN_INPUTS = (
    "gpu_price", "hosted_price", "throughput", "utilisation", "ops_fte", "setup_weeks", "escalation", "misroute_rate",
    "accuracy_open_easy", "accuracy_open_hard", "accuracy_closed_easy", "accuracy_closed_hard",
    "api_price_decline", "gpu_price_decline", "volume_growth",
)  # fmt: skip
_RANGE_ITEM = re.compile(r"\s*([a-z_]+)\s*=\s*([^:,;=\s]+)\s*(?::\s*([^:,;=\s]+)\s*:\s*([^:,;=\s]+)\s*)?")


def range_items(text: str) -> dict[str, tuple[float, float, float]]:
    """Read 'NAME=LOW:LIKELY:HIGH, NAME=VALUE, ...' ('none': no item) as name -> (low, likely, high); raise
    ValueError on an item that is not of that form, an unknown name or a value that is not a finite number.
    Whether the numbers are allowed is data/uncertainty.yaml's to say (kit.uncertainty.ranges)."""
    out: dict[str, tuple[float, float, float]] = {}
    if text.strip().lower() == "none":
        return out
    for item in re.split(r"[,;]", text):
        m = _RANGE_ITEM.fullmatch(item)
        if not m or m.group(1) not in UNCERTAIN_INPUTS:
            raise ValueError(item)
        numbers = [_to_number(x) for x in m.groups()[1:] if x is not None]
        if any(x is None or not math.isfinite(x) for x in numbers):
            raise ValueError(item)
        out[m.group(1)] = tuple(numbers) * 3 if len(numbers) == 1 else tuple(numbers)
    return out


_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


def _to_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, str):
            return float(value.strip().replace("_", "").replace(",", ""))
        return float(value)  # int, float, numpy scalars
    except (TypeError, ValueError, OverflowError):  # OverflowError: an int too large for a float
        return None


def _fmt(x: float | None) -> str:
    if x is None:
        return "?"
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:g}"


# The spec reads as a table, one parameter per entry: keep it compact.
# fmt: off
PARAMS: tuple[Param, ...] = (
    Param("monthly_requests", "int", 1_000_000, "How many model calls you make in a month.",
          unit="requests/month", low=100, high=10_000_000_000, log=True, axis="cost",
          label="Monthly requests"),
    Param("input_tokens", "int", 1_000, "Prompt size per request, including any retrieved context.",
          unit="tokens/request", low=1, high=1_000_000, log=True, axis="cost", label="Input tokens"),
    Param("output_tokens", "int", 300, "Answer size per request.",
          unit="tokens/request", low=1, high=32_000, log=True, axis="cost", label="Output tokens"),
    Param("peak_to_average", "float", 3.0,
          "Busiest hour's traffic divided by the average; 1 is perfectly steady, 10 very bursty.",
          unit="x", low=1.0, high=20.0, axis="cost", label="Peak / average"),
    Param("cached_input_share", "float", 0.0,
          "Share of input tokens billed at the provider's cache-read price (repeated system prompts).",
          unit="fraction", low=0.0, high=0.95, axis="cost", label="Cached input share", flip=False),
    Param("batch_share", "float", 0.0,
          "Share of requests that can wait hours for a batch API; they pay the provider's batch discount where "
          "data/prices.csv lists one (often 50%).",
          unit="fraction", low=0.0, high=1.0, axis="cost", label="Batch-able share", flip=False),
    Param("reasoning_tokens", "int", 0,
          "Hidden reasoning tokens a reasoning model (flagged in data/prices.csv) bills as output per request.",
          unit="tokens", low=0, high=100_000, axis="cost", label="Reasoning tokens", flip=False),
    Param("hosted_provider", "choice", "median",
          "Which provider of the open model to rent from (data/hosted_offers.csv): the median-priced offer, the "
          "cheapest, the priciest, or one by name.",
          choices=("median", "cheapest", "priciest", "togetherai", "fireworks-ai", "groq", "deepinfra", "cerebras",
                   "nebius", "baseten", "mistral", "moonshotai", "deepseek"),
          axis="cost", label="Hosted provider", flip=False),
    Param("sensitivity", "choice", "internal",
          "How sensitive the data is: public, internal, confidential, regulated (contracts and audits "
          "needed), on_prem_only (must never leave our network).",
          choices=SENSITIVITY_LEVELS, axis="control", label="Data sensitivity"),
    Param("vendor_terms", "choice", "standard",
          "What your outside providers (closed API, hosted open weights) have signed: standard API terms, "
          "zero_retention (no storage, no training) or enterprise_region (a DPA/BAA and a pinned region). "
          "data/residency.yaml says which sensitivity each allows.",
          choices=VENDOR_TERMS, axis="control", label="Vendor terms"),
    Param("needs_version_pinning", "bool", False,
          "The model must not change underneath you (reproducibility, audits).",
          axis="control", label="Version pinning"),
    Param("needs_offline", "bool", False,
          "Must run with no internet at all (air-gapped, edge, on-device).",
          axis="control", label="Offline / edge"),
    Param("needs_finetuning", "bool", False,
          "You need to fine-tune the weights on your own data.",
          axis="control", label="Fine-tuning"),
    Param("team_fte", "float", 1.0,
          "Engineers able to run models in production (serving, monitoring, on-call).",
          unit="FTE", low=0.0, high=50.0, axis="ecosystem", label="ML-ops team"),
    Param("weeks_to_launch", "int", 12, "Weeks until this must be in production.",
          unit="weeks", low=1, high=104, axis="ecosystem", label="Weeks to launch"),
    Param("fte_annual_cost_usd", "float", 200_000.0,
          "Loaded yearly cost of one platform engineer (salary, benefits, overhead).",
          unit="USD/year", low=20_000.0, high=1_000_000.0, axis="ecosystem",
          label="Engineer cost", flip=False),
    Param("quality_need", "choice", "strong",
          "How capable the model must be: everyday (classify, extract, summarise), strong "
          "(general assistant, coding), frontier (hardest reasoning and agentic work).",
          choices=QUALITY_LEVELS, axis="parity", label="Quality need"),
    Param("hard_share", "float", 0.2,
          "Share of requests that truly need the strongest model (used by the hybrid router).",
          unit="fraction", low=0.0, high=1.0, axis="parity", label="Hard share"),
    Param("sensitive_share", "float", 0.0,
          "Share of requests whose data must stay inside (the hybrid router keeps them on the self-hosted tier).",
          unit="fraction", low=0.0, high=1.0, axis="parity", label="Sensitive share", flip=False),
    Param("escalation_rate", "float", 0.1,
          "Share of hard requests an open tier fails on, detectably; the router retries them on the closed model.",
          unit="fraction", low=0.0, high=1.0, axis="parity", label="Escalation rate", flip=False),
    Param("latency_ms", "int", 1_000, "Target median time to first token.",
          unit="ms", low=50, high=30_000, log=True, axis="parity", label="Latency target"),
    Param("tpot_ms", "int", 100,
          "Target mean time per output token once the answer streams (100 ms is about 10 tokens a second, faster "
          "than most people read; batch work can allow more).",
          unit="ms", low=5, high=5_000, log=True, axis="parity", label="Time per token target", flip=False),
    Param("gpu", "choice", "auto",
          "GPU type for self-hosting (data/gpus.csv); 'auto' takes the cheapest type and count that meets the targets.",
          choices=("auto", "l4_24gb", "l40s_48gb", "a100_80gb", "h100_80gb", "h200_141gb", "b200_192gb", "mi300x_192gb"),
          axis="cost", label="GPU", flip=False),
    Param("gpu_pricing", "choice", "on_demand",
          "How the GPUs are paid for: rented spot or on demand (the fleet scales with the load), reserved for 1 or 3 "
          "years, or owned (purchase spread over the years, plus power and space; sized for the peak).",
          choices=("spot", "on_demand", "reserved_1y", "reserved_3y", "owned"), axis="cost", label="GPU pricing"),
    Param("gpu_market", "choice", "neocloud",
          "Where rented GPUs come from: a GPU cloud (neocloud) or a hyperscaler (AWS, Azure, Google).",
          choices=("neocloud", "hyperscaler"), axis="cost", label="GPU market", flip=False),
    Param("gpu_rate", "choice", "mid",
          "Where in the price range of data/gpu_prices.csv (or the purchase range of data/gpu_owned.csv) you pay: "
          "low, mid (the likely figure) or high.",
          choices=("low", "mid", "high"), axis="cost", label="GPU price point", flip=False),
    Param("quant_bits", "choice", 4,
          "Bits per weight when self-hosting (16 = unquantised; 4 is how gpt-oss ships).",
          choices=(4, 8, 16), axis="cost", label="Quantisation", flip=False),
    Param("kv_bits", "choice", 16,
          "Bits per value in the KV cache (16 is the engines' default; 8 = FP8 KV cache, half the memory).",
          choices=(16, 8), axis="cost", label="KV cache precision", flip=False),
    Param("closed_model", "model", "auto",
          "Closed model to price, as provider/model_id from data/prices.csv; 'auto' picks by quality need.",
          axis="parity", label="Closed model", flip=False),
    Param("open_model", "model", "auto",
          "Open-weight model, an id from data/open_models.csv; 'auto' picks the cheapest to serve of the models "
          "adequate for the quality need.",
          axis="parity", label="Open model", flip=False),
    *(Param(f"weight_{a}", "float", 1.0,
            f"How much the {AXIS_LABELS[a].lower()} axis counts when no checklist question decides "
            "(seed 000: weight the axes by your own constraints); 0 ignores it, 1 is the default.",
            unit="weight", low=0.0, high=5.0, axis="weights", label=f"Weight: {AXIS_LABELS[a].split(' ')[0].lower()}",
            flip=False)
      for a in AXES),
)
# fmt: on

SPEC: dict[str, Param] = {p.name: p for p in PARAMS}
WEIGHTS = tuple(f"weight_{a}" for a in AXES)
DEFAULTS: dict[str, Any] = {p.name: p.default for p in PARAMS}

# Inputs of the local-inference notebook: not part of a scenario, validated the same way.
LOCAL_MODELS = ("smollm2-135m", "gemma-3-270m")  # the keys of data/local_models.yaml (a test keeps them equal)
# fmt: off
LOCAL_PARAMS: tuple[Param, ...] = (
    Param("model", "choice", "smollm2-135m", "Bundled open-weight model to run on this CPU (data/local_models.yaml).",
          choices=LOCAL_MODELS, label="Local model"),
    Param("prompt", "text", "In one sentence, why might a company run a language model on its own hardware?",
          "What to ask the model.", high=2000, label="Prompt"),
    Param("max_tokens", "int", 48, "Most tokens to generate.", unit="tokens", low=1, high=512, label="Max tokens"),
    Param("eval_items", "int", 66, "How many items of data/eval/tickets.csv to evaluate each model on.",
          unit="items", low=6, high=66, label="Evaluation items"),
    Param("route_threshold", "float", 0.8,
          "Difficulty above which the router sends a request to the closed model (1 - hard share = the hard ones).",
          unit="difficulty", low=0.0, high=1.0, label="Routing threshold"),
    Param("ranges", "ranges", "none", "Uncertain inputs' ranges to replace, e.g. 'setup_weeks=4:5:13, "
          "gpu_price=-0.5:0:0.5' (data/uncertainty.yaml lists them; one number holds an input at it).", high=2000,
          label="Ranges"),
    Param("draws", "int", 10_000, "Plausible worlds to draw.", unit="draws", low=100, high=1_000_000, label="Draws"),
    Param("seed", "int", 20261127, "Random seed of the draws (the same seed, the same numbers).", low=0,
          high=2**32 - 1, label="Seed"),
)
# fmt: on
NOTEBOOK_SPEC: dict[str, Param] = {**SPEC, **{p.name: p for p in LOCAL_PARAMS}}


def validate(
    values: Mapping[str, Any], context: str = "", partial: bool = False, spec: Mapping[str, Param] | None = None
) -> dict[str, Any]:
    """Return validated values (defaults filled unless ``partial``); raise ParamError on the first bad one.

    ``spec``: the parameters allowed (default: the scenario's; notebooks pass ``NOTEBOOK_SPEC``).
    """
    spec = SPEC if spec is None else spec
    out = {} if partial else {p.name: p.default for p in spec.values()}
    for name, value in values.items():
        if name not in spec:
            raise ParamError(
                name, value, "a known parameter: " + listing(spec, 12) + " (`kit params` lists them)", context
            )
        out[name] = spec[name].coerce(value, context)
    if not partial and all(n in out for n in WEIGHTS) and not any(out[n] > 0 for n in WEIGHTS):
        raise ParamError(WEIGHTS[0], out[WEIGHTS[0]], "at least one of " + ", ".join(WEIGHTS) + " above 0", context)
    return out


@dataclass(frozen=True)
class Scenario:
    """A complete, validated set of scenario inputs."""

    values: dict = field(default_factory=lambda: dict(DEFAULTS))

    @classmethod
    def make(cls, values: Mapping[str, Any] | None = None, context: str = "", **kw: Any) -> Scenario:
        """Validate ``values`` and keyword overrides into a Scenario."""
        merged = dict(values or {})
        merged.update(kw)
        return cls(validate(merged, context))

    def replace(self, **kw: Any) -> Scenario:
        """Return a copy with some inputs changed (validated)."""
        return Scenario.make({**self.values, **kw})

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.values)


def parse_assignments(items: Iterable[str], context: str = "--set") -> dict[str, Any]:
    """Parse ``NAME=VALUE`` strings (CLI) into validated partial values."""
    raw: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ParamError(item, item, "NAME=VALUE, e.g. monthly_requests=2000000", context)
        name, value = item.split("=", 1)
        raw[name.strip()] = value
    return validate(raw, context, partial=True)


def describe() -> list[dict[str, Any]]:
    """Return the spec as plain records (for docs, tables and the UI)."""
    return [
        {
            "name": p.name,
            "type": p.kind,
            "unit": p.unit,
            "default": p.default,
            "allowed": p.allowed(),
            "axis": p.axis,
            "help": p.help,
        }
        for p in PARAMS
    ]
