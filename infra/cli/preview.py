"""`scripts/preview`: the offline preview of a stack (the README's first command)."""

from __future__ import annotations

import argparse
import json
import sys
import time

from infra.config import ConfigError
from infra.stackfile import stack_names


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/preview",
        description=(
            "Synthesize a stack in-process under Pulumi's mock runtime (same program, same "
            "config; no CLI, no credentials) and print what it declares, grouped by region "
            "and component."
        ),
    )
    parser.add_argument("stack", nargs="?", default="prod", help="stack name (default: prod)")
    parser.add_argument(
        "--format", choices=("tree", "json"), default="tree", help="output format (default: tree)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="list every resource")
    parser.add_argument(
        "--mocked-values",
        action="store_true",
        help="resolve computed values with the mocks' answers instead of leaving them unknown",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    started = time.perf_counter()
    from infra import plan
    from infra.synth import synthesize

    try:
        graph = synthesize(args.stack, preview=not args.mocked_values)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if args.stack not in stack_names():
            print(f"stacks: {', '.join(stack_names())}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps(plan.summary(graph), indent=2, sort_keys=True))
    else:
        print(plan.render_tree(graph, verbose=args.verbose, color=sys.stdout.isatty()))
        print(f"\nSynthesized in {time.perf_counter() - started:.1f}s.")
    return 0
