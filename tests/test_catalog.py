import csv
import datetime as dt
import re

import pytest

from kit import catalog, paths
from kit.catalog import ASSUMPTION_KEYS, ASSUMPTION_ORDER, ASSUMPTION_RANGES, SCHEMAS, DataError, load_catalog
from kit.params import SPEC

FAMILIES = {"Llama", "Qwen", "DeepSeek", "Mistral", "Gemma", "Phi", "Kimi", "GLM", "gpt-oss", "SmolLM2", "OLMo"}


def test_real_catalog_loads_and_every_row_is_sourced_and_dated(cat):
    for table in (cat.prices, cat.gpus, cat.open_models, cat.throughput):
        assert len(table) > 0
        assert table.filter(like="as_of").notna().all().all()
        source_cols = [c for c in table.columns if "source" in c and c != "quality_source"]
        assert source_cols and (table[source_cols] != "").all().all()
    # a quality score carries its source; a model without one is never picked by open_model = auto
    scored = cat.open_models[cat.open_models.quality_score.notna()]
    assert len(scored) >= 19 and (scored.quality_source.str.contains("Artificial Analysis")).all()
    for meta in cat.assumption_meta.values():
        assert meta["source"] and meta["as_of"]


def test_data_covers_what_the_kit_promises(cat):
    assert {"h100_80gb", "h200_141gb", "a100_80gb", "l40s_48gb", "l4_24gb"} <= set(cat.gpus.id)
    assert set(SPEC["gpu"].choices) - {"auto"} == set(cat.gpus.id)
    assert len(cat.open_models) >= 15
    assert FAMILIES <= set(cat.open_models.family)
    assert set(cat.open_models.licence_class) == {"permissive", "community_limits", "custom_terms"}
    assert set(cat.profiles) >= {"cost_at_scale", "regulated", "ship_fast", "prototype", "hybrid", "logistics"}
    assert set(cat.prices.kind) == {"closed_api", "hosted_open"}
    rates = cat.gpu_rates
    assert (rates.low <= rates.likely).all() and (rates.likely <= rates.high).all()
    # every GPU can be rented on demand, and owned wherever a purchase price is cited
    assert set(cat.gpus.id) <= {g for g, m, mode in rates.index if (m, mode) == ("neocloud", "on_demand")}
    assert (cat.open_models.active_params_b <= cat.open_models.total_params_b).all()


def _corrupt(path, row, column, value):
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    rows[row - 1][rows[0].index(column)] = value
    with path.open("w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


@pytest.mark.parametrize(
    "name,column,value",
    [
        ("gpus.csv", "memory_gb", "eighty"),
        ("gpu_prices.csv", "usd_low", "-1"),
        ("open_models.csv", "licence_class", "freeware"),
        ("open_models.csv", "release_date", "2025-13-45"),
        ("throughput.csv", "output_tok_s", "-5"),
        ("prices.csv", "input_usd_per_mtok", ""),
    ],
)
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
    path.write_text(path.read_text().replace("output_tok_s", "tps", 1))
    with pytest.raises(DataError, match=r"throughput\.csv: missing column 'output_tok_s'"):
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
    path.write_text(text.replace(block, "\n".join(line for line in block.splitlines() if "source" not in line) + "\n"))
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


# ---------------------------------------------------------------- assumptions: ranges and order


def _set_assumption(folder, key, value):
    path = folder / "assumptions.yaml"
    text, n = re.subn(rf"(?m)^({key}:\n  value: )\S+", lambda m: m.group(1) + value, path.read_text())
    assert n == 1, key
    path.write_text(text)


def test_every_assumption_has_a_range_and_the_committed_values_are_inside(cat):
    assert set(ASSUMPTION_RANGES) == set(ASSUMPTION_KEYS), "every assumption needs an entry in ASSUMPTION_RANGES"
    outside = [k for k in ASSUMPTION_KEYS if not ASSUMPTION_RANGES[k].holds(cat.a(k))]
    assert outside == []


@pytest.mark.parametrize(
    "key,value,shown,allowed",
    [
        ("hours_per_month", ".nan", "nan", "a number from 1 to 744"),
        ("hours_per_month", "-730", "-730", "a number from 1 to 744"),
        ("hours_per_month", ".inf", "inf", "a number from 1 to 744"),
        ("gpu_memory_usable", "0", "0", "a number above 0 and at most 1"),
        ("peak_hours_share", "1", "1", "a number above 0 and below 1"),
        ("min_replicas", "2.5", "2.5", "a whole number from 1 to 100"),
        ("max_num_seqs", "true", "True", "a whole number from 1 to 65,536"),
        ("lean_control_public", "-1.5", "-1.5", "a number from -1 to 1"),
        ("open_quality_hard", "abc", "'abc'", "a number from 0 to 1"),
    ],
)
def test_assumption_out_of_range_names_file_entry_value_and_range(data_copy, key, value, shown, allowed):
    _set_assumption(data_copy, key, value)
    with pytest.raises(DataError) as err:
        load_catalog(data_copy)
    assert str(err.value) == (
        f"{data_copy / 'assumptions.yaml'}: entry '{key}', field 'value': got {shown}; allowed: {allowed}"
    )


@pytest.mark.parametrize("small,rel,large", ASSUMPTION_ORDER)
def test_assumptions_in_the_wrong_order_are_refused(cat, data_copy, small, rel, large):
    value = cat.a(large) if rel == "<" else min(cat.a(large) * 1.05, ASSUMPTION_RANGES[small].high)
    assert ASSUMPTION_RANGES[small].holds(value)
    _set_assumption(data_copy, small, repr(float(value)))
    with pytest.raises(DataError, match=rf"entry '{small}', field 'value': got .*; allowed: .*{large}"):
        load_catalog(data_copy)


def test_runtime_overhead_must_leave_room_on_the_smallest_gpu(data_copy):
    _set_assumption(data_copy, "runtime_overhead_gb", "30")
    with pytest.raises(
        DataError,
        match=r"entry 'runtime_overhead_gb', field 'value': got 30; allowed: below "
        r"gpu_memory_usable x .* \(21\.6 GB, l4_24gb\)",
    ):
        load_catalog(data_copy)


# ---------------------------------------------------------------- rows, encodings, YAML


def test_duplicated_price_row_names_both_rows(data_copy):
    path = data_copy / "prices.csv"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines) + lines[5])
    with pytest.raises(DataError, match=rf"prices\.csv: rows 6 and {len(lines) + 1} both have provider/model_id "):
        load_catalog(data_copy)


@pytest.mark.parametrize(
    "name,column,value,message",
    [
        ("gpu_prices.csv", "usd_low", "99", r"row 3, column 'usd_likely': low 99, likely .* are out of order"),
        ("open_models.csv", "active_params_b", "99999", r"row 3, column 'active_params_b': 99999 is above total"),
        ("gpus.csv", "id", "h100_80gb", r"rows 3 and 5 both have id 'h100_80gb'"),
    ],
)
def test_rows_that_contradict_themselves_or_repeat(data_copy, name, column, value, message):
    _corrupt(data_copy / name, 3, column, value)
    with pytest.raises(DataError, match=message):
        load_catalog(data_copy)


@pytest.mark.parametrize("name", ["gpus.csv", "prices.csv", "assumptions.yaml", "profiles.yaml"])
def test_invalid_utf8_names_the_file_and_the_byte(data_copy, name):
    path = data_copy / name
    data = path.read_bytes()
    path.write_bytes(data[:100] + b"\xff" + data[100:])
    with pytest.raises(DataError) as err:
        load_catalog(data_copy)
    assert str(err.value).startswith(f"{path}: not valid UTF-8 at byte 100 (line ")


@pytest.mark.parametrize(
    "text,problem",
    [
        ("a: &x [1, 2]\nb: *x\n", "aliases"),
        ("base: &b {t: 1}\nr: {<<: *b}\n", "aliases"),
        ("a: " + "[" * 100_000 + "]" * 100_000 + "\n", "nested more than"),
        ("a: " + "1" * 5000 + "\n", "cannot be read"),
        ("a: !!python/object/apply:os.system [echo]\n", "constructor"),
    ],
)
def test_yaml_that_could_hang_or_run_code_is_refused(data_copy, text, problem):
    (data_copy / "tiers.yaml").write_text(text)
    with pytest.raises(DataError, match=rf"tiers\.yaml: .*{problem}"):
        load_catalog(data_copy)


def test_csv_field_over_the_csv_limit_is_a_data_error(data_copy):
    path = data_copy / "throughput.csv"
    path.write_text(path.read_text() + "x" * 200_000 + "\n")
    with pytest.raises(DataError, match=r"throughput\.csv: row \d+: not valid CSV"):
        load_catalog(data_copy)


# ---------------------------------------------------------------- cache and folder


def test_reload_forgets_the_cached_catalog(data_copy):
    first = load_catalog(data_copy)
    _set_assumption(data_copy, "hours_per_month", "700")
    assert load_catalog(data_copy) is first  # cached per folder
    catalog.reload()
    assert load_catalog(data_copy).a("hours_per_month") == 700


def test_data_dir_is_the_one_of_kit_paths(monkeypatch, tmp_path):
    assert catalog.data_dir is paths.data_dir
    monkeypatch.setenv("KIT_DATA_DIR", str(tmp_path))
    assert catalog.data_dir() == tmp_path


def test_a_quality_score_without_its_source_is_refused(data_copy):
    rows = (data_copy / "open_models.csv").read_text().splitlines()
    header = rows[0].split(",")
    assert header[-2:] == ["quality_score", "quality_source"]
    rows[1] = rows[1].rsplit(",", 2)[0] + ",31.5,"
    (data_copy / "open_models.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(DataError, match=r"open_models.csv.*row 2.*quality_source.*31.5"):
        load_catalog(data_copy)


def test_a_tier_bar_no_open_model_reaches_leaves_the_best_one_flagged(data_copy):
    text = (data_copy / "tiers.yaml").read_text()
    (data_copy / "tiers.yaml").write_text(text.replace("open_min_score: 41.4", "open_min_score: 99"))
    cat = load_catalog(data_copy)
    scored = cat.open_models.dropna(subset=["quality_score"])
    best = scored[scored.id.isin(cat.hosted_offers.open_model)].sort_values("quality_score").id.iloc[-1]
    assert cat.adequate_open["strong"] == (best,) and cat.open_short_of_bar("strong")
    assert not cat.open_short_of_bar("everyday")


def test_no_data_file_is_dated_after_today():
    """An as-of date still to come would claim a figure nobody could have read yet."""
    cat = load_catalog()
    today = dt.date.today()
    if today < dt.date.fromisoformat(cat.prices_as_of()):
        pytest.skip(f"this machine's clock ({today}) is behind the price snapshot; dates cannot be judged")
    late = []
    for path in sorted(cat.folder.glob("*.yaml")):  # as_of: YYYY-MM-DD in YAML entries
        for m in re.finditer(r"as_of[\"']?\s*:\s*[\"']?(\d{4}-\d{2}-\d{2})", path.read_text(encoding="utf-8")):
            if dt.date.fromisoformat(m.group(1)) > today:
                late.append(f"{path.name}: {m.group(1)}")
    for path in sorted(cat.folder.glob("*.csv")):  # an as_of column in CSV files
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                if row.get("as_of") and dt.date.fromisoformat(row["as_of"][:10]) > today:
                    late.append(f"{path.name}: {row['as_of']}")
    assert not late, late
