#!/usr/bin/env python3
"""Benchmark: how the offline synthesis, preview and plan diff scale, and how long the suite takes.

Not a test (nothing here asserts): `make bench` prints a Markdown report, kept in
benchmarks/README.md. Each synthesis runs in a fresh interpreter, as `scripts/preview` does, so
that import costs and peak memory are those of a real run:

- synthesis of the prod stack's program with 2, 3, 10 and 30 regions (config variants of
  Pulumi.prod.yaml: real AWS regions, disjoint /16s, every Cloudflare region code mapped to the
  nearest deployed region): wall time end to end, time inside `synthesize`, peak RSS;
- `scripts/preview` (prod) end to end, and `scripts/preview --base HEAD` (the plan diff: two
  syntheses in parallel subprocesses), and their ratio;
- the test suite (`pytest`), end to end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Production needs a second region for its backup copies (python-org:backup.copyRegion).
REGION_COUNTS = (2, 3, 10, 30)

# Regions in the order a growing deployment would add them, home first.
REGIONS = [
    "us-east-2", "eu-west-1", "ap-southeast-1", "us-west-2", "eu-central-1", "ap-northeast-1",
    "sa-east-1", "ap-south-1", "ap-southeast-2", "ca-central-1", "us-east-1", "eu-west-2",
    "eu-north-1", "ap-northeast-2", "me-central-1", "af-south-1", "us-west-1", "eu-west-3",
    "eu-south-1", "ap-east-1", "ap-southeast-3", "ap-northeast-3", "ca-west-1", "eu-central-2",
    "eu-south-2", "me-south-1", "il-central-1", "ap-south-2", "ap-southeast-4", "mx-central-1",
]  # fmt: skip

# Cloudflare region code -> AWS region prefixes, nearest first.
NEAREST = {
    "WNAM": ("us-west", "ca-west", "us-east", "ca-", "mx-"),
    "ENAM": ("us-east", "ca-central", "us-", "ca-"),
    "NSAM": ("sa-", "mx-", "us-east"),
    "SSAM": ("sa-", "us-east"),
    "WEU": ("eu-west", "eu-central", "eu-"),
    "EEU": ("eu-central", "eu-north", "eu-"),
    "ME": ("me-", "il-", "eu-south", "eu-"),
    "NAF": ("eu-south", "af-", "eu-"),
    "SAF": ("af-", "eu-"),
    "SAS": ("ap-south", "me-", "ap-southeast"),
    "SEAS": ("ap-southeast", "ap-east", "ap-"),
    "NEAS": ("ap-northeast", "ap-east", "ap-"),
    "OC": ("ap-southeast-2", "ap-southeast-4", "ap-southeast", "ap-"),
}

# Runs in a fresh interpreter: synthesize one config, report timings on stdout.
_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
sys.path.insert(0, sys.argv[1])
from infra.review.synth import synthesize
import stacks.website
t1 = time.perf_counter()
raw = json.loads(open(sys.argv[2]).read())
graph = synthesize("prod", preview=True, raw_config=raw)
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "synth_s": t2 - t1,
                  "resources": sum(1 for r in graph if r.custom)}))
import gc
gc.freeze()  # as scripts/preview does: no final collection of the SDKs' objects
"""


@dataclass
class Sample:
    wall_s: float
    peak_mb: float
    detail: dict[str, Any]
    cpu_s: float = 0.0  # user + system, of the process and the children it waited for


def run_measured(cmd: list[str], *, cwd: Path = ROOT) -> tuple[Sample, str]:
    """Run `cmd`; its wall time, CPU time (with its children's), peak RSS (of the largest
    process) and stdout."""
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=err, text=True)
        assert proc.stdout is not None
        out = proc.stdout.read()
        # wait4's usage covers the child and the descendants it reaped (Linux: RUSAGE_BOTH).
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in (0, 1):
            err.seek(0)
            raise RuntimeError(f"{' '.join(cmd[:3])} failed:\n{err.read().decode()[-2000:]}")
    # Linux reports ru_maxrss in KiB.
    cpu = usage.ru_utime + usage.ru_stime
    return Sample(wall, usage.ru_maxrss / 1024, {}, cpu), out


def prod_config() -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from infra.review.stackfile import read_stack_file

    raw, _ = read_stack_file("prod", ROOT)
    return {k: json.loads(v) if v[:1] in "[{" else v for k, v in raw.items()}


def variant(base: dict[str, Any], count: int) -> dict[str, str]:
    """The prod config with `count` regions, as the engine would pass it (JSON strings)."""
    raw = json.loads(json.dumps(base))
    names = REGIONS[:count]
    raw["python-org:regions"] = {
        name: {
            "vpcCidr": f"10.{10 + i}.0.0/16",
            "availabilityZones": [f"{name}a", f"{name}b", f"{name}c"],
        }
        for i, name in enumerate(names)
    }
    raw["python-org:homeRegion"] = names[0]
    pools = {}
    for code, prefixes in NEAREST.items():
        pools[code] = next(
            (n for p in prefixes for n in names if n.startswith(p)),
            names[0],
        )
    raw["python-org:edge"]["poolRegions"] = pools
    if isinstance(raw.get("python-org:backup"), dict):
        raw["python-org:backup"]["copyRegion"] = names[1]
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}


def bench_regions(repeat: int) -> dict[int, list[Sample]]:
    base = prod_config()
    results: dict[int, list[Sample]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for count in REGION_COUNTS:
            path = Path(tmp) / f"regions-{count}.json"
            path.write_text(json.dumps(variant(base, count)))
            samples = []
            for _ in range(repeat):
                sample, out = run_measured([sys.executable, "-c", _CHILD, str(ROOT), str(path)])
                sample.detail = json.loads(out)
                samples.append(sample)
            results[count] = samples
            print(f"  {count:>2} regions: {median(samples, 'wall_s'):.2f}s", file=sys.stderr)
    return results


def median(samples: list[Sample], key: str) -> float:
    values = [float(getattr(s, key) if hasattr(s, key) else s.detail[key]) for s in samples]
    return statistics.median(values)


def bench_commands(repeat: int) -> dict[str, list[Sample]]:
    preview = [sys.executable, str(ROOT / "scripts" / "preview")]
    commands = {
        "preview": [*preview, "prod"],
        "diff": [*preview, "--base", "HEAD", "prod", "--format", "json"],
    }
    results: dict[str, list[Sample]] = {name: [] for name in commands}
    for i in range(repeat):
        # Interleaved, in alternating order, so that both see the same machine state.
        order = list(commands) if i % 2 == 0 else list(reversed(commands))
        for name in order:
            results[name].append(run_measured(commands[name])[0])
    return results


def bench_suite() -> Sample:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2"]
    sample, out = run_measured(cmd)
    sample.detail = {"summary": out.strip().splitlines()[-1] if out.strip() else ""}
    return sample


def fit(xs: list[float], ys: list[float]) -> tuple[float, float, float]:
    """Least squares y = a + b x: intercept, slope, R^2."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx
    intercept = my - slope * mx
    ss_tot = sum((y - my) ** 2 for y in ys)
    ss_res = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys, strict=True))
    return intercept, slope, 1 - ss_res / ss_tot if ss_tot else 1.0


def _regions_report(regions: dict[int, list[Sample]]) -> list[str]:
    lines = [
        "",
        "| regions | resources | end to end | imports | `synthesize` | peak RSS |",
        "|--:|--:|--:|--:|--:|--:|",
    ]
    for count, samples in regions.items():
        lines.append(
            f"| {count} | {samples[0].detail['resources']} | {median(samples, 'wall_s'):.2f} s "
            f"| {median(samples, 'import_s'):.2f} s | {median(samples, 'synth_s'):.2f} s "
            f"| {median(samples, 'peak_mb'):.0f} MB |"
        )
    counts = list(regions)
    synth = [median(regions[c], "synth_s") for c in counts]
    wall = [median(regions[c], "wall_s") for c in counts]
    intercept, slope, r2 = fit([float(c) for c in counts], synth)
    ratio = wall[counts.index(30)] / wall[counts.index(3)] if 30 in counts and 3 in counts else 0
    synth_ratio = synth[counts.index(30)] / synth[counts.index(3)] if ratio else 0
    lines += [
        "",
        f"Growth: `synthesize` ≈ {intercept:.2f} s + {slope:.3f} s × regions "
        f"(least squares, R² = {r2:.3f}); 30 regions take {ratio:.1f}× the end-to-end time "
        f"of 3 ({synth_ratio:.1f}× inside `synthesize`).",
    ]
    return lines


def report(
    regions: dict[int, list[Sample]],
    commands: dict[str, list[Sample]],
    suite: Sample | None,
    repeat: int,
) -> str:
    lines = [f"Medians of {repeat} runs; {os.cpu_count()} CPUs; Python {sys.version.split()[0]}."]
    if regions:
        lines += _regions_report(regions)
    lines += [
        "",
        "| command | wall (median) | wall (fastest) | CPU (median) | peak RSS (largest process) |",
        "|---|--:|--:|--:|--:|",
    ]
    for name, label in (
        ("preview", "`scripts/preview prod`"),
        ("diff", "`scripts/preview --base HEAD prod --format json`"),
    ):
        runs = commands[name]
        lines.append(
            f"| {label} | {median(runs, 'wall_s'):.2f} s | {min(s.wall_s for s in runs):.2f} s "
            f"| {median(runs, 'cpu_s'):.2f} s | {median(runs, 'peak_mb'):.0f} MB |"
        )
    diff, preview = commands["diff"], commands["preview"]
    wall_ratio = median(diff, "wall_s") / median(preview, "wall_s")
    best_ratio = min(s.wall_s for s in diff) / min(s.wall_s for s in preview)
    cpu_ratio = median(diff, "cpu_s") / median(preview, "cpu_s")
    load = os.getloadavg()[0]
    lines += [
        "",
        f"Plan diff / preview ({repeat} interleaved runs each, load average {load:.1f} on "
        f"{os.cpu_count()} CPUs at the end): wall {wall_ratio:.2f}× (medians), "
        f"{best_ratio:.2f}× (fastest runs, the least contended), CPU {cpu_ratio:.2f}× "
        "(medians; the diff is two syntheses, in parallel: its wall time reaches one "
        "preview's only with a second core free).",
    ]
    if suite is not None:
        lines += [
            "",
            f"Test suite (`pytest -q -n 2`, as make test runs it): {suite.wall_s:.1f} s end to end, peak RSS "
            f"{suite.peak_mb:.0f} MB ({suite.detail['summary']}).",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/synthesis.py", description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--no-suite", action="store_true", help="skip timing the test suite")
    parser.add_argument(
        "--commands-only",
        action="store_true",
        help="only the preview / plan diff comparison (skips the region variants and the suite)",
    )
    args = parser.parse_args(argv)
    if args.commands_only:
        print("preview and plan diff:", file=sys.stderr)
        commands = bench_commands(args.repeat)
        print(report({}, commands, None, args.repeat))
        return 0
    print("synthesis by region count:", file=sys.stderr)
    regions = bench_regions(args.repeat)
    print("preview and plan diff:", file=sys.stderr)
    commands = bench_commands(args.repeat)
    suite = None
    if not args.no_suite:
        print("test suite:", file=sys.stderr)
        suite = bench_suite()
    print(report(regions, commands, suite, args.repeat))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
