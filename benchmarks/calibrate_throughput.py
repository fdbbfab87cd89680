"""Fit the throughput model's six constants to the 'calibration' rows of data/throughput.csv and print
every cited row's prediction beside its measurement (the 'anchor' rows are held out of the fit).

    .venv/bin/python benchmarks/calibrate_throughput.py          # print the table with today's constants
    .venv/bin/python benchmarks/calibrate_throughput.py --fit    # refit, print the constants and the table

The fit minimises the sum of squared log errors of output tokens/s, each row at its own workload (input and
output tokens, GPUs, precision), its measured time per output token as the target and its concurrency
as the cap, with a bounded Nelder-Mead search from several starts (numpy only). Copy the printed
constants into data/assumptions.yaml by hand: calibration is a decision, not a side effect.
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np
import pandas as pd

from kit.capacity import predict_cited
from kit.catalog import load_catalog

NAMES = ("step_overhead_ms", "bandwidth_efficiency", "prefill_mfu", "decode_mfu", "tp_sync_ms", "seq_overhead_ms")
BOUNDS = np.array([(0.0, 40.0), (0.2, 1.0), (0.1, 0.9), (0.05, 0.9), (0.0, 40.0), (0.0, 1.0)])


def with_constants(cat, values):
    """The catalog with the six constants replaced (nothing written to disk)."""
    return dataclasses.replace(cat, assumptions={**cat.assumptions, **dict(zip(NAMES, values))})


def loss(values, rows, cat) -> float:
    pred = predict_cited(rows, with_constants(cat, np.clip(values, BOUNDS[:, 0], BOUNDS[:, 1])))
    fits = pred > 0
    return float(np.sum(np.log(pred[fits] / rows.output_tok_s.to_numpy(float)[fits]) ** 2))


def nelder_mead(f, x0, steps=400):
    """A plain Nelder-Mead search (enough for six bounded constants)."""
    pts = [np.array(x0, float)] + [
        np.array(x0, float) + np.eye(len(x0))[i] * 0.2 * (BOUNDS[i, 1] - BOUNDS[i, 0]) for i in range(len(x0))
    ]
    vals = [f(p) for p in pts]
    for _ in range(steps):
        order = np.argsort(vals)
        pts, vals = [pts[i] for i in order], [vals[i] for i in order]
        centre = np.mean(pts[:-1], axis=0)
        refl = centre + (centre - pts[-1])
        fr = f(refl)
        if fr < vals[0]:
            exp = centre + 2 * (centre - pts[-1])
            fe = f(exp)
            pts[-1], vals[-1] = (exp, fe) if fe < fr else (refl, fr)
        elif fr < vals[-2]:
            pts[-1], vals[-1] = refl, fr
        else:
            con = centre + 0.5 * (pts[-1] - centre)
            fc = f(con)
            if fc < vals[-1]:
                pts[-1], vals[-1] = con, fc
            else:
                pts = [pts[0]] + [pts[0] + 0.5 * (p - pts[0]) for p in pts[1:]]
                vals = [vals[0]] + [f(p) for p in pts[1:]]
    i = int(np.argmin(vals))
    return np.clip(pts[i], BOUNDS[:, 0], BOUNDS[:, 1]), vals[i]


def table(rows: pd.DataFrame, cat) -> pd.DataFrame:
    pred = predict_cited(rows, cat)
    return pd.DataFrame(
        {
            "role": rows.role, "model": rows.model_id, "gpus": rows.gpus.astype(int).astype(str) + " x " + rows.gpu_id,
            "engine": rows.engine, "precision": rows.precision, "in": rows.input_tokens, "out": rows.output_tokens,
            "tpot_ms": rows.tpot_ms, "measured": rows.output_tok_s, "predicted": pred.round(0),
            "error": np.where(pred > 0, pred / rows.output_tok_s - 1, np.nan).round(2),
        }
    )  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fit", action="store_true", help="refit the constants on the calibration rows")
    args = ap.parse_args()
    cat = load_catalog()
    rows = cat.throughput[cat.throughput.role.isin(["anchor", "calibration", "check"])]
    if args.fit:
        cal = rows[rows.role == "calibration"]
        rng = np.random.default_rng(0)
        best = None
        for _ in range(8):
            x0 = rng.uniform(BOUNDS[:, 0], BOUNDS[:, 1])
            x, v = nelder_mead(lambda p: loss(p, cal, cat), x0)
            if best is None or v < best[1]:
                best = (x, v)
        print("fitted:", ", ".join(f"{n} = {v:.3g}" for n, v in zip(NAMES, best[0])), f"(loss {best[1]:.3f})")
        cat = with_constants(cat, [float(f"{v:.3g}") for v in best[0]])
    pd.set_option("display.width", 200)
    out = table(rows, cat)
    print(out.to_string(index=False))
    for role in ("anchor", "calibration"):
        err = out.error[out.role == role].abs()
        print(f"{role:12s} rows {len(err):3d}  median |error| {err.median():.0%}  max {err.max():.0%}")


if __name__ == "__main__":
    main()
