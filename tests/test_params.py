import math

import pytest

from kit.params import DEFAULTS, PARAMS, SPEC, ParamError, Scenario, describe, parse_assignments, validate

REQUIRED = [
    "monthly_requests",
    "input_tokens",
    "output_tokens",
    "peak_to_average",
    "sensitivity",
    "team_fte",
    "quality_need",
    "weeks_to_launch",
    "latency_ms",
    "needs_finetuning",
    "needs_offline",
    "needs_version_pinning",
]


def test_spec_has_every_required_input_with_unit_range_default_and_help():
    for name in REQUIRED:
        p = SPEC[name]
        assert p.help and p.default is not None
        if p.kind in ("int", "float"):
            assert p.unit and p.low is not None and p.high is not None and p.low < p.high
            assert p.low <= p.default <= p.high
    assert SPEC["sensitivity"].choices == ("public", "internal", "confidential", "regulated", "on_prem_only")
    assert SPEC["quality_need"].choices == ("everyday", "strong", "frontier")


def test_defaults_validate_to_themselves():
    assert validate({}) == DEFAULTS
    assert Scenario.make().to_dict() == DEFAULTS


@pytest.mark.parametrize("p", [p for p in PARAMS if p.kind in ("int", "float")], ids=lambda p: p.name)
def test_out_of_range_names_parameter_value_and_range(p):
    bad = p.high * 10 + 1
    with pytest.raises(ParamError) as err:
        validate({p.name: bad})
    msg = str(err.value)
    assert p.name in msg and f"{bad!r}" in msg and "from" in msg and "to" in msg
    with pytest.raises(ParamError):
        validate({p.name: p.low - 1})


@pytest.mark.parametrize("p", [p for p in PARAMS if p.kind == "choice"], ids=lambda p: p.name)
def test_choice_lists_what_is_allowed(p):
    with pytest.raises(ParamError) as err:
        validate({p.name: "no-such-level"})
    for c in p.choices:
        assert str(c) in str(err.value)


def test_types_are_enforced_and_strings_are_parsed():
    assert validate({"monthly_requests": "2_000_000"})["monthly_requests"] == 2_000_000
    assert validate({"monthly_requests": "3e6"})["monthly_requests"] == 3_000_000
    assert validate({"needs_offline": "yes"})["needs_offline"] is True
    assert validate({"quant_bits": "8"})["quant_bits"] == 8
    for name, value in [
        ("monthly_requests", 1500.5),
        ("monthly_requests", True),
        ("team_fte", "lots"),
        ("needs_offline", "maybe"),
        ("latency_ms", math.nan),
        ("closed_model", ""),
    ]:
        with pytest.raises(ParamError):
            validate({name: value})


def test_unknown_parameter_is_refused_with_the_known_names():
    with pytest.raises(ParamError) as err:
        validate({"monthly_request": 10})
    assert "monthly_request'" in str(err.value) and "monthly_requests" in str(err.value)


def test_parse_assignments():
    assert parse_assignments(["team_fte=2.5", "sensitivity=regulated"]) == {"team_fte": 2.5, "sensitivity": "regulated"}
    with pytest.raises(ParamError):
        parse_assignments(["team_fte"])


def test_replace_validates():
    s = Scenario.make()
    assert s.replace(team_fte=3)["team_fte"] == 3
    with pytest.raises(ParamError):
        s.replace(team_fte=-1)


def test_describe_covers_every_param():
    assert [r["name"] for r in describe()] == [p.name for p in PARAMS]
