import json
import subprocess
import sys

import pytest
from conftest import ROOT, run_guarded

from kit import cli, local
from kit.catalog import profile_params
from kit.cli import main
from kit.params import Scenario
from kit.recommend import recommend
from kit.scenario_io import to_json


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_recommend_json_has_the_promised_keys(capsys):
    code, out, err = run(capsys, "recommend", "--profile", "regulated", "--set", "team_fte=3", "--json")
    assert code == 0 and err == ""
    r = json.loads(out)
    keys = {"choice", "confidence", "uncertainty", "reasons", "warnings", "costs", "not_allowed", "axes", "flip"}
    assert keys | {"scenario"} <= set(r)
    u = r["uncertainty"]
    assert r["confidence"] == u["holds"] and u["draws"] == 10_000 and u["choice"] == r["choice"]
    assert {"p_cheapest", "monthly", "per_correct", "drivers", "payback", "seed", "ranges"} <= set(u)
    assert set(r["not_allowed"]) == {"closed_api", "hosted_open", "hybrid"}  # on_prem_only: nothing may leave
    assert r["scenario"]["team_fte"] == 3 and r["scenario"]["sensitivity"] == "on_prem_only"
    expected = recommend(Scenario.make(profile_params("regulated"), team_fte=3))
    assert r["choice"] == expected["choice"] and r["costs"] == expected["costs"]


def test_recommend_text_summary(capsys):
    code, out, _ = run(capsys, "recommend", "--profile", "ship_fast")
    assert code == 0
    assert "Recommendation: Closed API" in out and "What would flip it" in out and "Monthly cost" in out


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["recommend", "--set", "monthly_requests=5"], "monthly_requests"),
        (["recommend", "--set", "sensitivity=secret"], "sensitivity"),
        (["recommend", "--set", "nonsense=1"], "nonsense"),
        (["recommend", "--set", "team_fte"], "team_fte"),
        (["recommend", "--profile", "unknown"], "profile"),
        (["size", "--params-b", "70", "--bits", "64", "--gpu", "H100"], "bits"),
        (["size", "--params-b", "70", "--bits", "4", "--gpu", "TPU"], "gpu"),
        (["size", "--params-b", "seventy", "--bits", "4", "--gpu", "H100"], "--params-b"),
        (["nonsense"], "nonsense"),
    ],
)
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


# ---------------------------------------------------------------- --scenario FILE.json


def test_scenario_file_sits_between_profile_and_set(capsys, tmp_path):
    path = tmp_path / "saved.json"
    path.write_text(to_json(Scenario.make(team_fte=3, monthly_requests=2_000_000), "hybrid"))
    code, out, err = run(
        capsys, "recommend", "--profile", "regulated", "--scenario", str(path), "--set", "team_fte=5", "--json"
    )
    assert code == 0, err
    s = json.loads(out)["scenario"]
    assert s["team_fte"] == 5  # --set wins over the file
    assert s["monthly_requests"] == 2_000_000  # the file wins over the profile ...
    assert s["sensitivity"] == "internal"  # ... for every parameter, since a saved file holds them all
    expected = recommend(Scenario.make(team_fte=5, monthly_requests=2_000_000))
    assert json.loads(out)["costs"] == expected["costs"]


def test_a_partial_scenario_file_leaves_the_rest_to_the_profile(capsys, tmp_path):
    path = tmp_path / "partial.json"
    path.write_text(
        json.dumps({"format": "llm-decision-kit/scenario", "version": 1, "profile": None, "params": {"team_fte": 3}})
    )
    code, out, err = run(capsys, "route-sim", "--profile", "regulated", "--scenario", str(path), "--json")
    assert code == 0, err
    assert json.loads(out)["scenario"]["monthly_requests"] == profile_params("regulated")["monthly_requests"]
    code, out, _ = run(capsys, "recommend", "--profile", "regulated", "--scenario", str(path), "--json")
    s = json.loads(out)["scenario"]
    assert s["team_fte"] == 3 and s["sensitivity"] == "on_prem_only"


def test_a_scenario_file_over_the_cap_is_refused_unread(capsys, tmp_path):
    path = tmp_path / "huge.json"
    with path.open("wb") as fh:
        fh.truncate(50 * 2**20)
    code, _, err = run(capsys, "recommend", "--scenario", str(path))
    assert code == 2 and "huge.json" in err and "50 MB" in err and len(err.splitlines()) == 1


# ---------------------------------------------------------------- local bench: model files


@pytest.mark.parametrize("state", ["missing", "altered"])
def test_local_bench_with_a_bad_model_file_is_one_line(capsys, tmp_path, monkeypatch, state):
    path = tmp_path / "model.gguf"
    if state == "altered":
        path.write_bytes(b"GGUF not the pinned file")
    monkeypatch.setattr(local, "model_path", lambda name: path)
    local.load.cache_clear()
    code, out, err = run(capsys, "local", "bench", "--model", "smollm2-135m")
    local.load.cache_clear()
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("kit: error: ") and "model.gguf" in err
    assert ("not found" if state == "missing" else "sha256 is") in err


# ---------------------------------------------------------------- options and imports


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["run", "--jobs", "0"], "--jobs: got '0'; allowed: a whole number from 1 to 256"),
        (["run", "--jobs", "-2"], "--jobs: got '-2'"),
        (["app", "--port", "70000"], "--port: got '70000'; allowed: a whole number from 1 to 65535"),
        (["run", "--out", ""], "--out: got ''; allowed: a folder path"),
        (
            ["recommend", "--set", "team_ftee=2"],
            "parameter 'team_ftee': got '2'; allowed: a known parameter such as 'team_fte'",
        ),
        (["profiles", "extra"], "unrecognized argument 'extra'"),
    ],
)
def test_option_checks(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and needle in err and len(err.splitlines()) == 1


def test_importing_the_cli_leaves_nbformat_alone():
    """kit.runs and kit.notebooks are imported inside their commands: nbformat costs ~1.6 s."""
    code = "import sys, kit.cli; print('nbformat' in sys.modules, 'kit.runs' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.stdout.split() == ["False", "False"], proc.stderr


def test_help_documents_the_order_of_profile_scenario_and_set():
    text = cli.build_parser()._subparsers._group_actions[0].choices["recommend"].format_help()
    assert "--profile < --scenario < --set" in " ".join(text.split())


def test_app_seats_the_machine_cannot_hold_are_refused_before_anything_starts(capsys, monkeypatch):
    """`kit app --seats N` checks memory first: too many seats name the value, the need and what fits here."""
    from kit import serve

    monkeypatch.setattr(serve.os, "execve", lambda *a: pytest.fail("the server must not start"))
    code, out, err = run(capsys, "app", "--seats", "1000")
    assert code == 2
    assert "SEATS=1000" in err and "too many for this machine" in err and "allowed here: at most" in err
    assert "docs/hub.md" in err and "Traceback" not in err
    allowed = int(err.split("allowed here: at most ")[1].split()[0])
    assert serve.seats_mb(allowed) <= serve.seats_mb(1000)


def test_seat_memory_counts_the_server_the_seats_and_the_spare_kernels():
    from kit import serve
    from kit.errors import ServerError

    assert serve.seats_mb(30) == serve.SERVER_MB + (30 + serve.SPARE) * serve.KERNEL_MB
    fits = serve.most_seats(12_000)
    assert serve.seats_mb(fits) <= 12_000 * 0.9 < serve.seats_mb(fits + 1)
    assert "30 seats need about" in serve.check_seats(30, available_mb=20_000)
    with pytest.raises(ServerError, match=r"SEATS=30: too many .* at most 14 seats"):
        serve.check_seats(30, available_mb=5_500)
