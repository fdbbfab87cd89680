import json

import pytest

from kit.cli import main
from kit.recommend import recommend
from kit.params import Scenario
from kit.catalog import profile_params
from conftest import run_guarded


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_recommend_json_has_the_promised_keys(capsys):
    code, out, err = run(capsys, "recommend", "--profile", "regulated", "--set", "team_fte=3", "--json")
    assert code == 0 and err == ""
    r = json.loads(out)
    assert {"choice", "confidence", "reasons", "warnings", "costs", "axes", "flip", "scenario"} <= set(r)
    assert r["scenario"]["team_fte"] == 3 and r["scenario"]["sensitivity"] == "on_prem_only"
    expected = recommend(Scenario.make(profile_params("regulated"), team_fte=3))
    assert r["choice"] == expected["choice"] and r["costs"] == expected["costs"]


def test_recommend_text_summary(capsys):
    code, out, _ = run(capsys, "recommend", "--profile", "ship_fast")
    assert code == 0
    assert "Recommendation: Closed API" in out and "What would flip it" in out and "Monthly cost" in out


@pytest.mark.parametrize("argv,needle", [
    (["recommend", "--set", "monthly_requests=5"], "monthly_requests"),
    (["recommend", "--set", "sensitivity=secret"], "sensitivity"),
    (["recommend", "--set", "nonsense=1"], "nonsense"),
    (["recommend", "--set", "team_fte"], "team_fte"),
    (["recommend", "--profile", "unknown"], "profile"),
    (["size", "--params-b", "70", "--bits", "64", "--gpu", "H100"], "bits"),
    (["size", "--params-b", "70", "--bits", "4", "--gpu", "TPU"], "gpu"),
    (["size", "--params-b", "seventy", "--bits", "4", "--gpu", "H100"], "--params-b"),
    (["nonsense"], "nonsense"),
])
def test_bad_input_is_exit_2_and_one_line(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and needle in err and "Traceback" not in err


def test_size_json(capsys):
    code, out, _ = run(capsys, "size", "--params-b", "70", "--bits", "4", "--gpu", "H100", "--json")
    r = json.loads(out)
    assert code == 0 and r["gpus"] == 1 and set(r["breakdown"]) == {"weights_gb", "kv_cache_gb", "runtime_overhead_gb"}
    assert r["memory_gb"] == pytest.approx(sum(r["breakdown"].values()), abs=0.02)


def test_profiles_and_params_listing(capsys):
    code, out, _ = run(capsys, "profiles")
    assert code == 0 and all(p in out for p in ("cost_at_scale", "regulated", "logistics"))
    code, out, _ = run(capsys, "params", "--json")
    assert code == 0 and any(p["name"] == "latency_ms" for p in json.loads(out))


def test_module_entry_point_runs_offline(tmp_path):
    proc, attempts = run_guarded(["-m", "kit", "recommend", "--profile", "hybrid", "--json"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["choice"] == "hybrid"
    assert attempts == []


def test_module_entry_point_bad_input(tmp_path):
    proc, _ = run_guarded(["-m", "kit", "recommend", "--set", "latency_ms=0"], tmp_path)
    assert proc.returncode == 2 and "latency_ms" in proc.stderr and "Traceback" not in proc.stderr
