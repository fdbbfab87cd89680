import json

import pytest

from kit.catalog import profile_params
from kit.params import ParamError, Scenario
from kit.scenario_io import ScenarioFileError, from_json, from_query, to_json, to_query


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
