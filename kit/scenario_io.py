"""Scenarios in and out of text: URL query strings, saved JSON files."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from kit.catalog import profile_params
from kit.params import SPEC, ParamError, Scenario, validate

FORMAT = "llm-decision-kit/scenario"


class ScenarioFileError(ValueError):
    """A file that is not a scenario saved by this kit."""

VERSION = 1


def from_query(query: str | None) -> tuple[Scenario, str | None, list[str]]:
    """Read ``?profile=NAME&param=value...``; return the scenario, the profile and readable problems.

    Bad entries are skipped (and reported), so one typo in a shared link still opens the app.
    """
    pairs = urllib.parse.parse_qsl((query or "").lstrip("?"), keep_blank_values=True)
    problems: list[str] = []
    values: dict[str, Any] = {}
    profile = None
    for name, value in pairs:
        if name == "profile":
            try:
                values.update(profile_params(value))
                profile = value
            except ParamError as exc:
                problems.append(str(exc))
    for name, value in pairs:
        if name == "profile" or name.startswith("voila"):
            continue
        try:
            values.update(validate({name: value}, context="link", partial=True))
        except ParamError as exc:
            problems.append(str(exc))
    return Scenario.make(values), profile, problems


def to_query(scenario: Scenario, profile: str | None = None) -> str:
    """Return the query string that reopens this scenario (only values that differ from the profile)."""
    base = Scenario.make(profile_params(profile)) if profile else Scenario.make()
    changed = {k: v for k, v in scenario.to_dict().items() if base[k] != v}
    items = ([("profile", profile)] if profile else []) + [(k, str(v).lower() if isinstance(v, bool) else v)
                                                          for k, v in changed.items()]
    return urllib.parse.urlencode(items)


def to_json(scenario: Scenario, profile: str | None = None) -> str:
    """Return the scenario as a small, versioned JSON document."""
    return json.dumps({"format": FORMAT, "version": VERSION, "profile": profile,
                       "params": scenario.to_dict()}, indent=2)


def from_json(text: str | bytes, name: str = "scenario file") -> tuple[Scenario, str | None]:
    """Read a saved scenario; raise ScenarioFileError or ParamError naming the file and the problem."""
    hint = "Load a file saved with 'Save scenario (JSON)'."
    try:
        doc = json.loads(text)
    except UnicodeDecodeError:
        raise ScenarioFileError(f"'{name}' is not a scenario file: it is not text. {hint}") from None
    except json.JSONDecodeError as exc:
        raise ScenarioFileError(f"'{name}' is not a scenario file: it is not valid JSON "
                                f"(line {exc.lineno}, column {exc.colno}: {exc.msg}). {hint}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("params"), dict):
        raise ScenarioFileError(f"'{name}' is JSON but not a scenario saved by this kit "
                                f"(it needs \"format\": \"{FORMAT}\" and \"params\"). {hint}")
    params = {k: v for k, v in doc["params"].items()}
    unknown = [k for k in params if k not in SPEC]
    if unknown:
        raise ParamError(unknown[0], params[unknown[0]], "a known parameter", context=name)
    return Scenario.make(params, context=name), doc.get("profile")
