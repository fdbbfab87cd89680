import json
import types
import typing

import pytest

from kit.catalog import profile_params
from kit.params import AXES, OPTIONS, Scenario
from kit.recommend import decide, recommend
from kit.results import Recommendation

EXPECTED = {
    "regulated": {"self_hosted_open"},
    "ship_fast": {"closed_api"},
    "prototype": {"closed_api"},
    "hybrid": {"hybrid"},
    "cost_at_scale": {"hosted_open", "self_hosted_open"},
    "logistics": {"hosted_open", "self_hosted_open"},
}


@pytest.mark.parametrize("profile", sorted(EXPECTED))
def test_profiles_land_where_the_seeds_say(profile):
    r = recommend(Scenario.make(profile_params(profile)))
    assert r["choice"] in EXPECTED[profile]


def test_result_shape():
    r = recommend(Scenario.make(profile_params("hybrid")))
    assert r["choice"] in OPTIONS and r["confidence"] is None and r["uncertainty"] == {}  # worked out by assess
    assert set(r["costs"]) == set(OPTIONS) and all(v > 0 for v in r["costs"].values())
    assert set(r["axes"]) == set(AXES)
    for a in r["axes"].values():
        assert -1 <= a["lean"] <= 1 and a["why"]
    assert r["reasons"] and all(isinstance(x, str) and x for x in r["reasons"])
    for f in r["flip"]:
        assert {"param", "to", "choice"} <= set(f) and f["choice"] != r["choice"]
    assert r["scenario"]["monthly_requests"] == 20_000_000


def _conforms(value, hint, where: str) -> list[str]:
    """Return where ``value`` departs from the type ``hint`` (TypedDicts, lists, dicts, unions, plain types)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if typing.is_typeddict(hint):
        hints = typing.get_type_hints(hint)
        if not isinstance(value, dict) or set(value) != set(hints):
            return [f"{where}: keys {sorted(value) if isinstance(value, dict) else type(value)} != {sorted(hints)}"]
        return [p for k, h in hints.items() for p in _conforms(value[k], h, f"{where}.{k}")]
    if hint is typing.Any:
        return []
    if origin in (typing.Union, types.UnionType):
        return [] if any(not _conforms(value, a, where) for a in args) else [f"{where}: {value!r} is not {hint}"]
    if origin is list:
        return (
            [p for i, v in enumerate(value) for p in _conforms(v, args[0], f"{where}[{i}]")]
            if isinstance(value, list)
            else [f"{where}: not a list"]
        )
    if origin is dict:
        return (
            [p for k, v in value.items() for p in _conforms(v, args[1], f"{where}[{k}]")]
            if isinstance(value, dict)
            else [f"{where}: not a dict"]
        )
    if hint is float:
        return [] if isinstance(value, (int, float)) and not isinstance(value, bool) else [f"{where}: {value!r}"]
    return [] if isinstance(value, hint) else [f"{where}: {value!r} is not {hint}"]


@pytest.mark.parametrize("profile", [None, "regulated", "hybrid"])
def test_the_answer_matches_its_declared_type_and_is_json(profile):
    r = recommend(Scenario.make(profile_params(profile) if profile else {}))
    assert _conforms(r, Recommendation, "recommendation") == []
    assert json.loads(json.dumps(r, allow_nan=False)) == r  # JSON-ready: no NaN, no numpy scalars


def test_the_type_check_can_fail():
    r = recommend(Scenario.make(), with_flips=False, with_sweep=False)
    assert _conforms({**r, "costs": {"closed_api": "cheap"}}, Recommendation, "r") == [
        "r.costs[closed_api]: 'cheap' is not float | None"
    ]
    assert _conforms({k: v for k, v in r.items() if k != "flip"}, Recommendation, "r")[0].startswith("r: keys")


def test_every_flip_really_flips():
    for profile in ("hybrid", "cost_at_scale", "ship_fast"):
        s = Scenario.make(profile_params(profile))
        r = recommend(s)
        assert r["flip"], profile
        distances = [f["distance"] for f in r["flip"]]
        assert distances == sorted(distances)
        for f in r["flip"]:
            assert recommend(s.replace(**{f["param"]: f["to"]}), with_flips=False)["choice"] == f["choice"]


def test_numeric_flip_is_near_the_threshold():
    s = Scenario.make(profile_params("hybrid"))
    f = next(f for f in recommend(s)["flip"] if f["param"] == "monthly_requests")
    base = recommend(s, with_flips=False)["choice"]
    # five percent back toward the current value, the answer has not flipped yet
    back = int(f["to"] * 1.05) if f["to"] < f["from"] else int(f["to"] / 1.05)
    assert recommend(s.replace(monthly_requests=back), with_flips=False)["choice"] == base


def test_residency_without_a_team_warns():
    r = recommend(Scenario.make(sensitivity="on_prem_only", team_fte=0), with_flips=False)
    assert r["choice"] == "self_hosted_open"
    ops = r["self_hosted"]["ops_fte"]
    assert any(f"takes about {ops:.1f} FTE and you have 0" in w and "hire" in w for w in r["warnings"])


def test_offline_forces_self_hosting_and_sensitivity_is_monotone():
    assert recommend(Scenario.make(needs_offline=True), with_flips=False)["choice"] == "self_hosted_open"
    leans = [
        recommend(Scenario.make(sensitivity=s), with_flips=False)["axes"]["control"]["lean"]
        for s in ("public", "internal", "confidential", "regulated", "on_prem_only")
    ]
    assert leans == sorted(leans)


def test_decide_is_vectorised_and_consistent_with_recommend(cat):
    scenarios = [Scenario.make(profile_params(p)) for p in cat.profiles]
    table = decide(scenarios)
    for i, s in enumerate(scenarios):
        assert table.choice[i] == recommend(s, with_flips=False)["choice"]


def test_the_answer_says_how_the_open_model_was_chosen():
    r = recommend(Scenario.make(quality_need="frontier"), with_flips=False, with_sweep=False)
    choice = r["models"]["open_choice"]
    assert "auto" in choice["rule"] and "48.8" in choice["rule"]
    assert min(choice["candidates"], key=choice["candidates"].get) == r["models"]["open"]
    named = recommend(Scenario.make(open_model="llama-3.3-70b"), with_flips=False, with_sweep=False)
    assert named["models"]["open_choice"] == {"rule": "named", "candidates": {}}
    assert named["models"]["open"] == "llama-3.3-70b"
