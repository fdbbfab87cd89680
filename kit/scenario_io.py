"""Scenarios in and out of text: URL query strings, saved JSON files.

Everything read here comes from a person (a link, a file): every problem is a KitError with one line
naming the input, the value (shortened) and what is allowed — never a TraitError, RecursionError or
a bare ValueError further down.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from kit.catalog import check_models, load_catalog
from kit.errors import ParamError, ScenarioFileError, shorten
from kit.params import Scenario, validate

FORMAT = "llm-decision-kit/scenario"
VERSION = 1
KEYS = ("format", "version", "profile", "params")  # a saved file has exactly these top-level keys
MAX_FILE_BYTES = 256 * 1024  # a saved scenario is about 1 kB
MAX_QUERY_CHARS = 64 * 1024  # a link that reopens a scenario is a few hundred characters
HINT = "Load a file saved with 'Save scenario (JSON)'."


# ---------------------------------------------------------------- checks shared by links and files


def _size(n: int) -> str:
    for unit, scale in (("MB", 2**20), ("kB", 2**10)):
        if n >= scale:
            return f"{n / scale:,.1f}".removesuffix(".0") + f" {unit}"
    return f"{n:,} bytes"


def file_label(name: Any) -> str:
    """Return a file name fit for a one-line message (a very long name is cut)."""
    text = " ".join(str(name or "uploaded file").split())
    return text if len(text) <= 60 else f"{text[:40]}…{text[-15:]}"


def check_size(size: int, name: str = "scenario file") -> None:
    """Refuse a file over MAX_FILE_BYTES before reading it (say its size and the limit)."""
    name = file_label(name)
    if size > MAX_FILE_BYTES:
        raise ScenarioFileError(
            f"'{name}' is {_size(size)}; a scenario file is at most {_size(MAX_FILE_BYTES)} "
            f"(a saved scenario is about 1 kB). {HINT}"
        )


def check_profile(value: Any, context: str = "", none: str = "") -> str | None:
    """Return a known profile name (None stays None); ParamError lists the known ones (and ``none``)."""
    if value is None:
        return None
    profiles = load_catalog().profiles
    if isinstance(value, str) and value in profiles:
        return value
    raise ParamError("profile", value, "one of " + ", ".join(profiles) + none, context)


def check_values(values: dict[str, Any], context: str = "", partial: bool = False) -> dict[str, Any]:
    """Validate scenario inputs from outside: the spec (names, types, ranges), then known models; ParamError if not."""
    out = validate(values, context=context, partial=partial)
    named = [[out[k]] if out.get(k, "auto") != "auto" else [] for k in ("closed_model", "open_model")]
    check_models(*named, context=context)
    return out


# ---------------------------------------------------------------- links


def from_query(query: str | None) -> tuple[Scenario, str | None, list[str]]:
    """Read ``?profile=NAME&param=value...``; return the scenario, the profile and readable problems.

    Bad entries are skipped (and reported), so one typo in a shared link still opens the app with the
    rest of it.
    """
    query = (query or "").lstrip("?")
    problems: list[str] = []
    if len(query) > MAX_QUERY_CHARS:
        problems.append(
            f"the link's parameters are {len(query):,} characters; allowed: at most "
            f"{MAX_QUERY_CHARS:,} (a link to a scenario is a few hundred)"
        )
        query = ""
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    values: dict[str, Any] = {}
    profile = None
    for name, value in pairs:
        if name == "profile":
            try:
                profile = check_profile(value, "link")
                values.update(load_catalog().profiles[profile]["params"])
            except ParamError as exc:
                problems.append(str(exc))
    for name, value in pairs:
        if name == "profile" or name.startswith("voila"):
            continue
        try:
            values.update(check_values({name: value}, context="link", partial=True))
        except ParamError as exc:
            problems.append(str(exc))
    try:
        return Scenario.make(values), profile, problems
    except ParamError as exc:  # a profile whose own values are bad (a data problem): open the defaults
        return Scenario.make(), None, problems + [str(exc)]


def to_query(scenario: Scenario, profile: str | None = None) -> str:
    """Return the query string that reopens this scenario (only values that differ from the profile)."""
    base = Scenario.make(load_catalog().profiles[profile]["params"]) if profile else Scenario.make()
    changed = {k: v for k, v in scenario.to_dict().items() if base[k] != v}
    items = ([("profile", profile)] if profile else []) + [
        (k, str(v).lower() if isinstance(v, bool) else v) for k, v in changed.items()
    ]
    return urllib.parse.urlencode(items)


# ---------------------------------------------------------------- files


def to_json(scenario: Scenario, profile: str | None = None) -> str:
    """Return the scenario as a small, versioned JSON document."""
    return json.dumps(
        {"format": FORMAT, "version": VERSION, "profile": profile, "params": scenario.to_dict()}, indent=2
    )


def _parse(text: str | bytes, name: str) -> Any:
    size = len(text) if isinstance(text, (bytes, bytearray, memoryview)) else len(text.encode("utf-8", "replace"))
    check_size(size, name)
    if not isinstance(text, str):
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ScenarioFileError(
                f"'{name}' is not a scenario file: it is not UTF-8 text (byte {exc.start} "
                f"is {bytes(text)[exc.start : exc.start + 1]!r}). {HINT}"
            ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioFileError(
            f"'{name}' is not a scenario file: it is not valid JSON "
            f"(line {exc.lineno}, column {exc.colno}: {exc.msg}). {HINT}"
        ) from None
    except RecursionError:
        raise ScenarioFileError(
            f"'{name}' is not a scenario file: its JSON is nested too deeply (a scenario file has two levels). {HINT}"
        ) from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        what = (
            "it holds a number too long to read (over 4,300 digits)"
            if "digits" in str(exc)
            else f"it cannot be read as JSON ({exc})"
        )
        raise ScenarioFileError(f"'{name}' is not a scenario file: {what}. {HINT}") from None


def from_json(text: str | bytes, name: str = "scenario file") -> tuple[Scenario, str | None]:
    """Read a saved scenario; raise ScenarioFileError or ParamError naming the file and the problem.

    A file must be at most MAX_FILE_BYTES of UTF-8 JSON with exactly the keys a saved file has (format,
    version, profile, params): unknown top-level keys are refused, like unknown parameters.
    """
    name = file_label(name)
    doc = _parse(text, name)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ScenarioFileError(
            f"'{name}' is JSON but not a scenario saved by this kit "
            f'(it needs "format": "{FORMAT}" and "params"). {HINT}'
        )
    version = doc.get("version")
    if isinstance(version, bool) or version != VERSION:
        got = f"is {shorten(version)}" if "version" in doc else "is missing"
        raise ScenarioFileError(f"'{name}': \"version\" {got}; this kit reads version {VERSION} only. {HINT}")
    unknown = [k for k in doc if k not in KEYS]
    if unknown:
        raise ScenarioFileError(
            f"'{name}': unknown top-level key {shorten(unknown[0])}; allowed keys: "
            f"{', '.join(KEYS)} (unknown keys are refused, not ignored). {HINT}"
        )
    if not isinstance(doc.get("params"), dict):
        raise ScenarioFileError(
            f"'{name}': \"params\" is {shorten(doc.get('params'))}; allowed: an object of "
            f"parameter names and values. {HINT}"
        )
    profile = check_profile(doc.get("profile"), context=name, none=", or null for none")
    return Scenario.make(check_values(doc["params"], context=name), context=name), profile
