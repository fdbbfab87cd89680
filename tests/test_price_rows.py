"""The row checks that catch wrong price rows, wrong open-model rows and wrong hosted offers (issue 13, items 6-8).

Each check gets a bad row in a temporary copy of data/ and must name the file, row, column, value and what is
allowed; the generator must not bring the wrong rows back.
"""

import csv

import pytest

from kit import prices
from kit.catalog import DataError, load_catalog


def _rows(path):
    with path.open(newline="") as fh:
        return list(csv.reader(fh))


def _set(path, match, column, value):
    """Set ``column`` of the first row whose cells include all of ``match``; return its spreadsheet row number."""
    rows = _rows(path)
    col = rows[0].index(column)
    for n, row in enumerate(rows[1:], start=2):
        if all(m in row for m in match):
            row[col] = value
            with path.open("w", newline="") as fh:
                csv.writer(fh, lineterminator="\n").writerows(rows)
            return n
    raise AssertionError(f"no row with {match}")


def _refused(folder, *parts):
    with pytest.raises(DataError) as err:
        load_catalog(folder)
    msg = str(err.value)
    for part in parts:
        assert part in msg, msg
    return msg


# ---------------------------------------------------------------- prices.csv


def test_cache_read_above_input_is_refused(data_copy):
    # openai/gpt-3.5-turbo had cache read $1.25 above its $0.50 input
    n = _set(data_copy / "prices.csv", ["openai", "gpt-3.5-turbo"], "cache_read_usd_per_mtok", "1.25")
    _refused(data_copy, "prices.csv", f"row {n}", "'cache_read_usd_per_mtok'", "1.25", "allowed: cache read <= input")


@pytest.mark.parametrize("column", ["cache_read_usd_per_mtok", "cache_write_usd_per_mtok"])
def test_zero_cache_price_on_a_paid_model_is_refused(data_copy, column):
    # cerebras/zai-glm-4.7 had cache price 0: missing data, to be left blank
    n = _set(data_copy / "prices.csv", ["cerebras", "zai-glm-4.7"], column, "0")
    _refused(data_copy, "prices.csv", f"row {n}", f"'{column}'", "0 while input", "allowed: a price above 0, or blank")


def test_free_output_is_refused(data_copy):
    # embedding models came in as chat models with output $0
    n = _set(data_copy / "prices.csv", ["openai", "gpt-4.1"], "output_usd_per_mtok", "0")
    _refused(
        data_copy, "prices.csv", f"row {n}", "'output_usd_per_mtok'", "embedding model", "allowed: a price above 0"
    )


@pytest.mark.parametrize("model", ["magistral-medium-latest", "devstral-medium-2507", "mistral-medium-latest"])
def test_api_only_model_labelled_open_is_refused(data_copy, model):
    n = _set(data_copy / "prices.csv", ["mistral", model], "kind", "hosted_open")
    _refused(data_copy, "prices.csv", f"row {n}", "'kind'", "'hosted_open'", "allowed: closed_api")


def test_unknown_weights_licence_is_refused(data_copy):
    n = _set(data_copy / "prices.csv", ["mistral", "codestral-latest"], "weights_licence", "Secret-1.0")
    _refused(data_copy, "prices.csv", f"row {n}", "'weights_licence'", "Secret-1.0", "allowed: one of")


@pytest.mark.parametrize(
    "column,value,allowed",
    [
        ("long_input_usd_per_mtok", "", "all three long-context columns or none"),
        ("long_context_above_tokens", "2000000", "above 0 and below context_tokens (1,048,576)"),
        ("batch_discount", "1.5", "a fraction from 0 to below 1"),
    ],
)
def test_long_context_tier_and_batch_discount_are_checked(data_copy, column, value, allowed):
    n = _set(data_copy / "prices.csv", ["google", "gemini-2.5-pro"], column, value)
    _refused(data_copy, "prices.csv", f"row {n}", f"'{column}'", f"allowed: {allowed}")


def test_reasoning_must_be_true_or_false(data_copy):
    n = _set(data_copy / "prices.csv", ["openai", "o3"], "reasoning", "maybe")
    _refused(data_copy, "prices.csv", f"row {n}", "'reasoning'", "maybe", "true, false")


# ---------------------------------------------------------------- open_models.csv and hosted_offers.csv


def test_sliding_window_without_local_bytes_is_refused(data_copy):
    n = _set(data_copy / "open_models.csv", ["gemma-3-27b"], "kv_local_bytes_per_token", "0")
    _refused(data_copy, "open_models.csv", f"row {n}", "'sliding_window_tokens'", "1024", "allowed: both 0")


def test_commercial_use_must_agree_with_the_licence(data_copy):
    n = _set(data_copy / "open_models.csv", ["llama-3.3-70b"], "commercial_use", "false")
    _refused(data_copy, "open_models.csv", f"row {n}", "'commercial_use'", "false", "allowed: true")
    _set(data_copy / "open_models.csv", ["llama-3.3-70b"], "commercial_use", "true")
    n = _set(data_copy / "open_models.csv", ["llama-3.3-70b"], "licence_id", "MRL-0.1")
    _set(data_copy / "open_models.csv", ["llama-3.3-70b"], "licence_class", "custom_terms")
    _refused(data_copy, "open_models.csv", f"row {n}", "'commercial_use'", "true", "allowed: false")


def test_offer_of_an_unknown_open_model_is_refused(data_copy):
    n = _set(data_copy / "hosted_offers.csv", ["llama-3.3-70b", "groq"], "open_model", "llama-9")
    _refused(data_copy, "hosted_offers.csv", f"row {n}", "'open_model'", "'llama-9'", "allowed: one of")


def test_offer_must_be_a_hosted_open_price_row(data_copy):
    path = data_copy / "hosted_offers.csv"
    n = _set(path, ["llama-3.3-70b", "groq"], "model_id", "no-such-model")
    _refused(
        data_copy, "hosted_offers.csv", f"row {n}", "'model_id'", "groq/no-such-model", "allowed: a hosted_open row"
    )
    _set(path, ["llama-3.3-70b", "no-such-model"], "model_id", "llama-3.3-70b-versatile")
    n = _set(path, ["llama-3.3-70b", "groq"], "provider", "openai")
    _set(path, ["llama-3.3-70b", "openai"], "model_id", "gpt-4.1")
    _refused(data_copy, "hosted_offers.csv", f"row {n}", "'openai/gpt-4.1' is a closed_api row", "a hosted_open row")


# ---------------------------------------------------------------- the committed data


def test_committed_rows_are_fixed(cat):
    p = cat.price_table
    assert (
        p.loc["openai/gpt-3.5-turbo"].cache_read_usd_per_mtok != p.loc["openai/gpt-3.5-turbo"].cache_read_usd_per_mtok
    )
    assert str(p.loc["cerebras/zai-glm-4.7"].cache_read_usd_per_mtok) == "nan"
    assert not p.model_id.str.contains("embed", case=False).any() and (p.output_usd_per_mtok > 0).all()
    for ref in ("mistral/magistral-medium-latest", "mistral/devstral-medium-2507", "mistral/mistral-medium-latest"):
        assert p.loc[ref].kind == "closed_api"
    for ref, lic in (
        ("mistral/codestral-latest", "MNPL-0.1"),
        ("mistral/mistral-large-2411", "MRL-0.1"),
        ("mistral/pixtral-large-latest", "MRL-0.1"),
    ):
        assert p.loc[ref].weights_licence == lic and cat.licences[lic]["commercial_use"].startswith("no")
    assert p.loc["mistral/mistral-large-latest"].weights_licence == ""  # Mistral Large 3: Apache-2.0
    assert p.loc["openai/gpt-4.1"].batch_discount == 0.5 and p.loc["anthropic/claude-opus-4-7"].cache_write_usd_per_mtok
    assert p.loc["google/gemini-2.5-pro"].long_context_above_tokens == 200_000 and p.loc["openai/o3"].reasoning


def test_every_open_model_has_its_offers_and_llama_70b_has_four(cat):
    offers = cat.hosted_offers
    assert {"togetherai", "groq", "deepinfra", "nebius"} <= set(offers[offers.open_model == "llama-3.3-70b"].provider)
    hosted = cat.price_table[cat.price_table.kind == "hosted_open"]
    built = prices.build_offers(
        [{"provider": r.provider, "model_id": r.model_id, "name": r.name, "kind": r.kind} for r in hosted.itertuples()],
        cat.open_models.to_dict("records"),
    )
    assert [(o["open_model"], o["provider"], o["model_id"]) for o in built] == list(
        offers[["open_model", "provider", "model_id"]].itertuples(index=False, name=None)
    )
    for om in cat.open_models.itertuples():  # the hosted price the engine uses is one of the offers
        if om.hosted_price_ref:
            assert om.hosted_price_ref in set(offers[offers.open_model == om.id].provider + "/" + offers.model_id)


def test_kv_columns_of_sliding_window_models(cat):
    m = cat.open_models.set_index("id")
    # gemma-3-27b: 62 layers, 10 global and 52 local (window 1024), 16 KV heads x 128, bf16
    assert (m.loc["gemma-3-27b", "kv_bytes_per_token"], m.loc["gemma-3-27b", "kv_local_bytes_per_token"]) == (
        2 * 10 * 16 * 128 * 2,
        2 * 52 * 16 * 128 * 2,
    )
    # gpt-oss-120b: 36 layers alternating full and 128-token sliding window, 8 KV heads x 64
    assert m.loc["gpt-oss-120b", "kv_bytes_per_token"] == m.loc["gpt-oss-120b", "kv_local_bytes_per_token"] == 36864
    assert m.loc["gpt-oss-120b", "sliding_window_tokens"] == 128
    assert m.loc["deepseek-v3.2", "kv_bytes_per_token"] == 61 * (512 + 64) * 2  # MLA latent + rope key
    assert m.commercial_use.all()
