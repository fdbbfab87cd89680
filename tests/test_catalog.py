import csv
import datetime as dt

import pytest

from kit.catalog import SCHEMAS, DataError, load_catalog
from kit.params import SPEC

FAMILIES = {"Llama", "Qwen", "DeepSeek", "Mistral", "Gemma", "Phi", "Kimi", "GLM", "gpt-oss", "SmolLM2", "OLMo"}


def test_real_catalog_loads_and_every_row_is_sourced_and_dated(cat):
    for table in (cat.prices, cat.gpus, cat.open_models, cat.throughput):
        assert len(table) > 0
        assert table.filter(like="as_of").notna().all().all()
        source_cols = [c for c in table.columns if "source" in c]
        assert source_cols and (table[source_cols] != "").all().all()
    for meta in cat.assumption_meta.values():
        assert meta["source"] and meta["as_of"]


def test_data_covers_what_the_kit_promises(cat):
    assert {"h100_80gb", "h200_141gb", "a100_80gb", "l40s_48gb", "l4_24gb"} <= set(cat.gpus.id)
    assert set(SPEC["gpu"].choices) == set(cat.gpus.id)
    assert len(cat.open_models) >= 15
    assert FAMILIES <= set(cat.open_models.family)
    assert set(cat.open_models.licence_class) == {"permissive", "community_limits", "custom_terms"}
    assert set(cat.profiles) >= {"cost_at_scale", "regulated", "ship_fast", "prototype", "hybrid", "logistics"}
    assert set(cat.prices.kind) == {"closed_api", "hosted_open"}
    assert (cat.gpus.usd_per_hour_low <= cat.gpus.usd_per_hour_high).all()
    assert (cat.open_models.active_params_b <= cat.open_models.total_params_b).all()


def _corrupt(path, row, column, value):
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    rows[row - 1][rows[0].index(column)] = value
    with path.open("w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


@pytest.mark.parametrize("name,column,value", [
    ("gpus.csv", "memory_gb", "eighty"),
    ("gpus.csv", "usd_per_hour_low", "-1"),
    ("open_models.csv", "licence_class", "freeware"),
    ("open_models.csv", "release_date", "2025-13-45"),
    ("throughput.csv", "tokens_per_s", "0"),
    ("prices.csv", "input_usd_per_mtok", ""),
])
def test_malformed_cell_names_file_row_and_column(data_copy, name, column, value):
    _corrupt(data_copy / name, 3, column, value)
    with pytest.raises(DataError) as err:
        load_catalog(data_copy)
    msg = str(err.value)
    assert name in msg and "row 3" in msg and f"'{column}'" in msg


def test_missing_file_and_missing_column(data_copy):
    (data_copy / "gpus.csv").unlink()
    with pytest.raises(DataError, match=r"gpus\.csv: file not found"):
        load_catalog(data_copy)


def test_missing_column_is_named(data_copy):
    path = data_copy / "throughput.csv"
    path.write_text(path.read_text().replace("tokens_per_s", "tps", 1))
    with pytest.raises(DataError, match=r"throughput\.csv: missing column 'tokens_per_s'"):
        load_catalog(data_copy)


def test_ragged_row_is_named(data_copy):
    path = data_copy / "gpus.csv"
    path.write_text(path.read_text() + "x,y\n")
    with pytest.raises(DataError, match=r"gpus\.csv: row \d+: has 2 cells"):
        load_catalog(data_copy)


def test_dangling_reference_is_named(data_copy):
    _corrupt(data_copy / "throughput.csv", 2, "gpu_id", "tpu_v5")
    with pytest.raises(DataError, match=r"throughput\.csv: row 2, column 'gpu_id': 'tpu_v5'"):
        load_catalog(data_copy)


def test_bad_yaml_and_bad_profile_value(data_copy):
    (data_copy / "profiles.yaml").write_text("regulated: [unclosed\n")
    with pytest.raises(DataError, match=r"profiles\.yaml: line \d+"):
        load_catalog(data_copy)


def test_profile_with_out_of_range_value_names_profile_and_parameter(data_copy):
    path = data_copy / "profiles.yaml"
    path.write_text(path.read_text().replace("monthly_requests: 2000000", "monthly_requests: 5", 1))
    with pytest.raises(DataError) as err:
        load_catalog(data_copy)
    assert "profiles.yaml" in str(err.value) and "regulated" in str(err.value) and "monthly_requests" in str(err.value)


def test_assumption_without_source_is_refused(data_copy):
    path = data_copy / "assumptions.yaml"
    text = path.read_text()
    start = text.index("setup_weeks:")
    end = text.index("finetune_setup_weeks:")
    block = text[start:end]
    path.write_text(text.replace(block, "\n".join(l for l in block.splitlines() if "source" not in l) + "\n"))
    with pytest.raises(DataError, match=r"assumptions\.yaml: entry 'setup_weeks', field 'source'"):
        load_catalog(data_copy)


def test_stale_prices_warn_after_six_months(cat):
    as_of = dt.date.fromisoformat(cat.prices_as_of())
    assert cat.stale_warning(today=as_of + dt.timedelta(days=30)) is None
    warning = cat.stale_warning(today=as_of + dt.timedelta(days=200))
    assert warning and "200 days old" in warning and "--refresh" in warning


def test_schema_columns_match_committed_headers(cat):
    for name, schema in SCHEMAS.items():
        header = (cat.folder / name).read_text().splitlines()[0].split(",")
        assert header == list(schema), name
