"""`scripts/preview`: the offline preview of a stack (the README's first command), and the plan
diff of a pull request.

Without `--base`: synthesize the stack(s) in-process under Pulumi's mock runtime and print what
they declare (`--project bootstrap`: the bootstrap project's stacks instead of the website's;
`--format urns`: every URN, one a line, for `pulumi up --target`). With `--base REF`: synthesize
the stack(s) at REF (a temporary `git worktree`) and in the working tree, in two subprocesses at
once (`infra.review.revisions`), and print what would change, dangers first.

The diff compares both revisions as applied (computed values answered by the mocks, the same on
both sides for a resource that did not change), as `pulumi preview` compares a program with the
stack's state: a change inside a computed value (user data, a policy) shows, and what comes from
a resource the change creates or replaces is `(known after apply)`. Both subprocesses get one
random key for the run (on stdin: never in argv, the environment or a file), under which they
record a keyed hash of each secret value, so that a changed secret shows as `changed (secret)`.

Exit status: 0 done; 2 a stack does not synthesize, or bad arguments; 3 `--fail-on-danger` and a
danger was found.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from infra.review.graph import Graph

EXIT_ERROR = 2
EXIT_DANGER = 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/preview",
        description=(
            "Synthesize a stack in-process under Pulumi's mock runtime (same program, same "
            "config; no CLI, no credentials) and print what it declares, grouped by region "
            "and component. With --base, print what would change since a git revision."
        ),
        epilog=(
            "examples:\n"
            "  scripts/preview                      # prod, as a tree\n"
            "  scripts/preview staging --graph staging.svg\n"
            "  scripts/preview --base origin/main --all --format markdown\n"
            "  scripts/preview --base HEAD~1 --fail-on-danger --fail-on-outage\n"
            "  scripts/preview --project bootstrap   # the CI roles and state backend\n"
            "exit status: 0 ok, 2 a stack does not synthesize, 3 --fail-on-danger found one"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "stacks", nargs="*", metavar="STACK", help="stack names (default: prod; bootstrap: account)"
    )
    parser.add_argument("--all", action="store_true", help="every Pulumi.<stack>.yaml")
    parser.add_argument(
        "--project",
        choices=("website", "bootstrap"),
        default="website",
        help="the Pulumi project: the website (the repository root, default) or the bootstrap "
        "(bootstrap/: GitHub OIDC, the CI roles, the state backend)",
    )
    parser.add_argument(
        "--format",
        choices=("tree", "markdown", "json", "urns"),
        default="tree",
        help="output format (default: tree; markdown is a pull-request comment; urns lists "
        "every resource's URN, for `pulumi up --target`)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="list every resource")
    parser.add_argument(
        "--mocked-values",
        action="store_true",
        help="resolve computed values with the mocks' answers instead of leaving them unknown "
        "(a diff with --base always does: it compares both revisions as applied)",
    )
    parser.add_argument(
        "--base",
        metavar="REF",
        help="diff against this git revision (branch, tag, commit, HEAD~1, origin/main)",
    )
    parser.add_argument(
        "--fail-on-danger",
        action="store_true",
        help=f"with --base: exit {EXIT_DANGER} on data loss (a stateful resource deleted or "
        "replaced), a safeguard removed (protect, retainOnDelete, deletion protection, final "
        "snapshot, force-destroy) or exposure (open ingress, public bucket or policy)",
    )
    parser.add_argument(
        "--fail-on-outage",
        action="store_true",
        help=f"with --base: exit {EXIT_DANGER} if a serving resource is replaced in production "
        "(VPC, subnet, NAT, load balancer, target group, autoscaling group, Cloudflare pool)",
    )
    parser.add_argument(
        "--graph",
        metavar="FILE",
        type=Path,
        help="also draw the stack (regions, components, dependencies) with Graphviz: "
        "FILE.svg, .png, ... or .dot for the source; several stacks get -STACK in the name",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if (args.fail_on_danger or args.fail_on_outage) and not args.base:
        parser.error("--fail-on-danger and --fail-on-outage need --base (dangers are changes)")
    if args.all and args.stacks:
        parser.error("give stack names or --all, not both")
    if args.base and args.project != "website":
        parser.error("--base diffs the website's stacks only")
    if args.base and args.format == "urns":
        parser.error("--format urns lists one revision's resources: drop --base")
    try:
        status = _diff(args) if args.base else _preview(args)
    except BrokenPipeError:
        # The reader went away (`| head`): not a failure. Point stdout at /dev/null so that the
        # interpreter's final flush does not fail again (the recipe of Python's signal docs).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 0
    return status


# --- one revision, in-process -----------------------------------------------------------------


def _preview(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    from infra.config import ConfigError
    from infra.projects import PROJECTS
    from infra.review import plan
    from infra.review.synth import synthesize

    project = PROJECTS[args.project]
    known = project.stack_names()
    stacks = known if args.all else (args.stacks or [project.default_stack])
    graphs = []
    for stack in stacks:
        try:
            graphs.append(synthesize(stack, preview=not args.mocked_values, project=project))
        except ConfigError as exc:  # a NoSuchStackError names the stacks there are
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_ERROR
    if args.format == "urns":
        # Everything the program declares (components and providers too): with the old home
        # region gone from the config, these are the targets of the runbook's `pulumi up`.
        for graph in graphs:
            print("\n".join(sorted(graph.resources)))
        return 0
    if args.format == "json":
        summaries = [plan.summary(g) for g in graphs]
        print(
            json.dumps(summaries[0] if len(summaries) == 1 else summaries, indent=2, sort_keys=True)
        )
    elif args.format == "markdown":
        for graph in graphs:
            print(f"<details><summary>Offline preview of {graph.stack}</summary>\n\n```")
            print(plan.render_tree(graph, verbose=args.verbose).replace("```", "`\u200b``"))
            print("```\n\n</details>\n")
    else:
        for graph in graphs:
            print(plan.render_tree(graph, verbose=args.verbose, color=sys.stdout.isatty()))
        print(f"\nSynthesized in {time.perf_counter() - started:.1f}s.")
    return _draw(args.graph, graphs)


def _draw(target: Path | None, graphs: list[Graph]) -> int:
    if target is None:
        return 0
    from infra.review.diagram import DiagramError, render, to_dot

    for graph in graphs:
        path = target
        if len(graphs) > 1:
            path = target.with_name(f"{target.stem}-{graph.stack}{target.suffix}")
        try:
            render(to_dot(graph), path)
        except DiagramError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_ERROR
        print(f"Diagram of {graph.stack}: {path}", file=sys.stderr)
    return 0


# --- two revisions: infra.review.revisions ----------------------------------------------------


def _diff(args: argparse.Namespace) -> int:
    from infra.review import render_diff, revisions

    started = time.perf_counter()
    # A cancelled CI job sends SIGTERM: unwind so that the worktree is removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    stacks = None if args.all else (args.stacks or ["prod"])
    try:
        diffs, graphs = revisions.diff_revisions(args.base, stacks, preview=False)
    except revisions.DiffError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    command = "scripts/preview --base " + args.base + (" --all" if args.all else "")
    command += "".join(f" {s}" for s in args.stacks)
    if args.format == "json":
        print(render_diff.render_json(diffs))
    elif args.format == "markdown":
        print(render_diff.render_markdown(diffs, command=command), end="")
    else:
        color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
        print(render_diff.render_tree(diffs, color=color, verbose=args.verbose), end="")
        print(f"\nDiffed in {time.perf_counter() - started:.1f}s.")
    status = _draw(args.graph, list(graphs.values()))
    if any(d.error for d in diffs):
        return EXIT_ERROR
    from infra.review.diff import FAILING_CLASSES, DangerClass

    for flag, classes in (
        ("--fail-on-danger", FAILING_CLASSES),
        ("--fail-on-outage", (DangerClass.OUTAGE,)),
    ):
        count = sum(len(d.dangers(*classes)) for d in diffs)
        if getattr(args, flag[2:].replace("-", "_")) and count:
            print(f"error: {count} dangerous change(s), see above ({flag})", file=sys.stderr)
            return EXIT_DANGER
    return status
