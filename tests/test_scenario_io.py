import json

import pytest

from kit.catalog import load_catalog, profile_params
from kit.errors import KitError, ParamError, ScenarioFileError
from kit.params import Scenario
from kit.scenario_io import MAX_FILE_BYTES, check_size, from_json, from_query, to_json, to_query


def test_query_profile_then_overrides():
    s, profile, problems = from_query("?profile=regulated&monthly_requests=2000000&needs_offline=yes")
    assert profile == "regulated" and problems == []
    assert s["sensitivity"] == "on_prem_only" and s["monthly_requests"] == 2_000_000 and s["needs_offline"] is True


def test_bad_query_entries_are_reported_and_skipped():
    s, profile, problems = from_query("profile=nope&monthly_requests=5&team_fte=2&colour=red")
    assert profile is None and s["team_fte"] == 2 and s["monthly_requests"] == Scenario.make()["monthly_requests"]
    text = " ".join(problems)
    assert "profile" in text and "monthly_requests" in text and "colour" in text


def test_query_round_trip():
    s = Scenario.make(profile_params("hybrid"), team_fte=0.5, needs_offline=True)
    q = to_query(s, "hybrid")
    assert q.startswith("profile=hybrid") and "team_fte=0.5" in q and "monthly_requests" not in q
    back, profile, problems = from_query(q)
    assert back == s and profile == "hybrid" and problems == []


def test_json_round_trip_and_errors():
    s = Scenario.make(profile_params("logistics"))
    back, profile = from_json(to_json(s, "logistics"))
    assert back == s and profile == "logistics"
    for text in ("{not json", "[1, 2]", json.dumps({"format": "other", "params": {}})):
        with pytest.raises(ScenarioFileError, match="x.json"):
            from_json(text, "x.json")
    doc = json.loads(to_json(s))
    doc["params"]["monthly_requests"] = -1
    with pytest.raises(ParamError, match="x.json.*monthly_requests"):
        from_json(json.dumps(doc), "x.json")
    doc["params"]["monthly_requests"] = 1000
    doc["params"]["warp_factor"] = 9
    with pytest.raises(ParamError, match="warp_factor"):
        from_json(json.dumps(doc), "x.json")


# ---------------------------------------------------------------- bad input from outside: one readable line each


def _saved(**top) -> dict:
    doc = json.loads(to_json(Scenario.make(profile_params("hybrid")), "hybrid"))
    params = top.pop("params", {})
    doc["params"].update(params)
    doc.update(top)
    return doc


def _text(doc) -> bytes:
    return json.dumps(doc).encode()


NESTED = b"[" * 100_000 + b"]" * 100_000  # built once; the big files are built by the test that uses them
HUGE_INT = _text(_saved(params={"monthly_requests": 0})).replace(
    b'"monthly_requests": 0', b'"monthly_requests": ' + b"9" * 5_000
)

# (case, file content (or a function that makes it), error class, words the message must contain)
BAD_FILES = [
    ("bogus profile", _text(_saved(profile="bogus")), ParamError, ["'profile'", "'bogus'", "regulated"]),
    ("profile of wrong type", _text(_saved(profile=["regulated"])), ParamError, ["'profile'", "regulated"]),
    (
        "unknown closed model",
        _text(_saved(params={"closed_model": "acme/gpt-99"})),
        ParamError,
        ["'closed_model'", "acme/gpt-99", "data/prices.csv"],
    ),
    (
        "unknown open model",
        _text(_saved(params={"open_model": "llama-99"})),
        ParamError,
        ["'open_model'", "llama-99", "gpt-oss-120b"],
    ),
    (
        "very long model name",
        _text(_saved(params={"open_model": "m" * 10_000})),
        ParamError,
        ["'open_model'", "(10,000 characters)"],
    ),
    ("100k levels of nesting", lambda: NESTED, ScenarioFileError, ["nested too deeply"]),
    ("nested value", _text(_saved(params={"team_fte": [[[[1]]]]})), ParamError, ["'team_fte'", "from 0 to 50"]),
    ("5,000-digit integer", HUGE_INT, ScenarioFileError, ["4,300 digits"]),
    (
        "4,000-digit integer",
        _text(_saved(params={"monthly_requests": 10**4_000})),
        ParamError,
        ["'monthly_requests'", "10,000,000,000"],
    ),
    ("20 MB", lambda: b" " * 20_000_000, ScenarioFileError, ["19.1 MB", "256 kB"]),
    ("50 MB", lambda: b"{" * 50_000_000, ScenarioFileError, ["47.7 MB", "256 kB"]),
    ("truncated JSON", _text(_saved())[:-40], ScenarioFileError, ["not valid JSON", "line 1"]),
    ("empty file", b"", ScenarioFileError, ["not valid JSON"]),
    ("a list", b"[1, 2]", ScenarioFileError, ["not a scenario saved by this kit"]),
    ("params not an object", _text(_saved() | {"params": [1, 2]}), ScenarioFileError, ['"params"', "[1, 2]"]),
    (
        "number as words",
        _text(_saved(params={"monthly_requests": "lots"})),
        ParamError,
        ["'monthly_requests'", "'lots'"],
    ),
    ("bool for a number", _text(_saved(params={"team_fte": True})), ParamError, ["'team_fte'"]),
    ("number for a choice", _text(_saved(params={"sensitivity": 3})), ParamError, ["'sensitivity'", "on_prem_only"]),
    ("NaN", _text(_saved(params={"team_fte": float("nan")})), ParamError, ["'team_fte'", "nan"]),
    ("unknown parameter", _text(_saved(params={"warp_factor": 9})), ParamError, ["'warp_factor'", "a known parameter"]),
    ("unknown top-level key", _text(_saved(colour="red")), ScenarioFileError, ["'colour'", "refused"]),
    ("version 2", _text(_saved(version=2)), ScenarioFileError, ['"version" is 2', "version 1"]),
    ("version as text", _text(_saved(version="1")), ScenarioFileError, ["\"version\" is '1'", "version 1"]),
    (
        "no version",
        _text({k: v for k, v in _saved().items() if k != "version"}),
        ScenarioFileError,
        ['"version" is missing'],
    ),
    ("invalid UTF-8", b'{"format": "\xff\xfe"}', ScenarioFileError, ["not UTF-8", "byte 12"]),
    ("UTF-16", json.dumps(_saved()).encode("utf-16"), ScenarioFileError, ["not UTF-8"]),
]


@pytest.mark.parametrize("case, content, error, words", BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_bad_files_raise_one_readable_line(case, content, error, words):
    with pytest.raises(error) as info:
        from_json(content() if callable(content) else content, "in.json")
    msg = str(info.value)
    assert isinstance(info.value, KitError) and "\n" not in msg and len(msg) <= 600
    assert "in.json" in msg, msg  # the message names the file...
    for word in words:  # ...and what is wrong with it
        assert word in msg, (word, msg)


def test_size_is_refused_before_parsing_and_long_names_are_cut():
    with pytest.raises(ScenarioFileError, match="is 1 MB; a scenario file is at most 256 kB"):
        check_size(2**20, "x.json")
    check_size(MAX_FILE_BYTES, "x.json")
    with pytest.raises(ScenarioFileError) as info:
        from_json(b"{", "n" * 10_000 + ".json")
    assert len(str(info.value)) < 300 and "…" in str(info.value)


def test_files_with_bom_and_catalog_models_load():
    ref = next(r for r in load_catalog().price_table.index if "/" in r)
    doc = _saved(params={"closed_model": ref, "open_model": "phi-4"}, profile=None)
    s, profile = from_json(b"\xef\xbb\xbf" + _text(doc), "bom.json")
    assert s["closed_model"] == ref and s["open_model"] == "phi-4" and profile is None


# (query, the parameter reported, values that must survive it)
BAD_QUERIES = [
    ("closed_model=foo&team_fte=2&profile=regulated", "closed_model", {"team_fte": 2, "sensitivity": "on_prem_only"}),
    ("open_model=nope&weeks_to_launch=4", "open_model", {"weeks_to_launch": 4}),
    ("profile=bogus&team_fte=3", "profile", {"team_fte": 3}),
    ("monthly_requests=" + "9" * 10_000 + "&team_fte=4", "monthly_requests", {"team_fte": 4}),
    ("closed_model=" + "x" * 10_000 + "&needs_offline=true", "closed_model", {"needs_offline": True}),
    ("warp=" + "w" * 10_000 + "&team_fte=5", "warp", {"team_fte": 5}),
]


@pytest.mark.parametrize("query, bad, kept", BAD_QUERIES, ids=[q[1] for q in BAD_QUERIES])
def test_bad_link_entries_are_reported_shortened_and_the_rest_kept(query, bad, kept):
    s, _, problems = from_query(query)
    assert len(problems) == 1 and f"'{bad}'" in problems[0] and len(problems[0]) <= 600, problems
    for name, value in kept.items():
        assert s[name] == value
    assert s["closed_model"] == "auto" and s["open_model"] == "auto"


def test_a_huge_query_is_refused_whole():
    s, profile, problems = from_query("team_fte=2&" + "a=b&" * 50_000)
    assert s == Scenario.make() and profile is None and "at most 65,536" in problems[0]
