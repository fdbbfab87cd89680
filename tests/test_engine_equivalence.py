"""The engine prices each distinct scenario once and spreads it over the rows that share it: a row's answers must
not depend on which other rows are priced with it, and the columns handed back must be independent arrays."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from test_decisions import CAT, draw

from kit.catalog import distinct_rows
from kit.cost import costs, frame
from kit.recommend import decide


def batch(n: int = 24) -> pd.DataFrame:
    """Random scenarios, each at several volumes (extremes included), plus offers that tie at one request but are
    priced differently (no output tokens: deepinfra's two Llama 3.1 8B rows bill the same input price)."""
    rng = np.random.default_rng(11)
    rows = [draw(rng) for _ in range(n)]
    rows += [{**rows[0], "open_model": "llama-3.1-8b", "hosted_provider": p, "output_tokens": 0} for p in
             ("cheapest", "median", "priciest", "deepinfra")]  # fmt: skip
    df = frame(rows)
    df = df.loc[df.index.repeat(3)].reset_index(drop=True)
    df["monthly_requests"] = np.resize([0, 1_000, 10**10], len(df)) * np.resize([1, 1, 1, 3], len(df))
    return df


@pytest.mark.filterwarnings("ignore:invalid value encountered in divide:RuntimeWarning")  # per request at 0 requests
def test_a_row_is_priced_the_same_in_any_batch():
    df = batch()
    whole = decide(df, CAT)
    order = np.random.default_rng(3).permutation(len(df))
    shuffled = decide(df.iloc[order], CAT)
    pd.testing.assert_frame_equal(shuffled, whole.iloc[order].reset_index(drop=True), check_exact=True)
    for i in range(0, len(df), 7):  # alone
        pd.testing.assert_frame_equal(
            decide(df.iloc[[i]], CAT), whole.iloc[[i]].reset_index(drop=True), check_exact=True
        )


@pytest.mark.filterwarnings("ignore:invalid value encountered in divide:RuntimeWarning")
def test_the_columns_are_independent_arrays():
    out = decide(batch(4), CAT)
    arrays = {k: np.asarray(getattr(out[k].array, "_ndarray", out[k].to_numpy())) for k in out}
    assert not [(a, b) for a, b in itertools.combinations(arrays, 2) if np.shares_memory(arrays[a], arrays[b])]
    c = costs([{}, {}], CAT)
    c.loc[0, "outside_allowed"] = False
    assert c.allowed_closed_api.all()


def test_distinct_rows_are_exact():
    df = pd.DataFrame({"a": [1.0, -0.0, 0.0, np.nan, np.nan, 1.0], "b": ["x", None, None, "y", "y", "x"]})
    index, first = distinct_rows(df, ["a", "b"])
    assert index.tolist() == [0, 1, 2, 3, 3, 0] and first.tolist() == [0, 1, 2, 3]  # -0.0 and 0.0 stay apart
    index, first = distinct_rows(df.iloc[:0], ["a", "b"])
    assert len(index) == len(first) == 0
