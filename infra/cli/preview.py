"""`scripts/preview`: the offline preview of a stack (the README's first command), and the plan
diff of a pull request.

Without `--base`: synthesize the stack(s) in-process under Pulumi's mock runtime and print what
they declare (`--project bootstrap`: the bootstrap project's stacks instead of the website's;
`--format urns`: every URN, one a line, for `pulumi up --target`). With `--base REF`: synthesize
the stack(s) at REF (a temporary `git worktree`) and in the working tree, in two subprocesses at
once, and print what would change, dangers first.

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
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from infra.review.diff import StackDiff
    from infra.review.graph import Graph

EXIT_ERROR = 2
EXIT_DANGER = 3
# The repository (infra/cli/preview.py -> ../..). Not imported from infra.review.stackfile: that pulls
# in the config model and the Pulumi SDK, which the plan diff's own process never needs.
ROOT = Path(__file__).resolve().parents[2]


def stack_names(root: Path = ROOT) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


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


# --- two revisions, two subprocesses ----------------------------------------------------------

# Runs in a fresh interpreter with cwd = the tree to synthesize: it imports that tree's `infra`
# (the base revision's own program and synthesis), never this process's. It writes JSON to the
# file named by argv[1]: {stack: {"graph": Graph.to_json()} | {"missing": true} | {"error": str}}.
# Its first line of stdin is the run's secret-digest key (hex); a revision whose synthesis
# predates secret digests is synthesized without (its secrets then compare as unchanged).
_DRIVER = r"""
import inspect, json, sys
from pathlib import Path

out, mode, stacks = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
key = bytes.fromhex(sys.stdin.readline().strip())
root = Path.cwd()
sys.path.insert(0, str(root))
result = {}
try:
    try:
        from infra.review.synth import synthesize
    except ModuleNotFoundError:  # a revision before the tooling moved to infra/review/
        from infra.synth import synthesize
except Exception as exc:
    result = {s: {"error": f"cannot import the synthesis: {type(exc).__name__}: {exc}"} for s in stacks}
else:
    options = {}
    if key and "secret_digest_key" in inspect.signature(synthesize).parameters:
        options["secret_digest_key"] = key
    for stack in stacks:
        if not (root / f"Pulumi.{stack}.yaml").is_file():
            result[stack] = {"missing": True}
            continue
        try:
            graph = synthesize(stack, preview=mode == "preview", root=root, **options)
        except BaseException as exc:
            result[stack] = {"error": f"{type(exc).__name__}: {exc}"}
        else:
            result[stack] = {"graph": graph.to_json()}
out.write_text(json.dumps(result))
# The result is written: skip the interpreter's teardown (over a second of garbage collection
# of the Pulumi SDKs' objects).
import os
os._exit(0)
"""


@dataclass
class _Run:
    """One synthesis subprocess."""

    label: str
    proc: subprocess.Popen[str]
    out: Path

    def result(self) -> dict[str, Any]:
        _, stderr = self.proc.communicate()
        if self.proc.returncode != 0 or not self.out.is_file():
            tail = "\n".join(stderr.strip().splitlines()[-15:])
            raise _DiffError(f"synthesis of the {self.label} failed:\n{tail}")
        data: dict[str, Any] = json.loads(self.out.read_text())
        return data

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


class _DiffError(Exception):
    pass


def _start(label: str, tree: Path, stacks: list[str], preview: bool, out: Path, key: bytes) -> _Run:
    proc = subprocess.Popen(
        [sys.executable, "-c", _DRIVER, str(out), "preview" if preview else "mocked", *stacks],
        cwd=tree,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None
    with proc.stdin:
        proc.stdin.write(key.hex() + "\n")
    proc.stdin = None  # written and closed: `communicate` has only stderr to read
    return _Run(label, proc, out)


def _git(*args: str, cwd: Path = ROOT) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise _DiffError(f"git {' '.join(args)}: {proc.stderr.strip() or 'failed'}")
    return proc.stdout.strip()


def _resolve(ref: str) -> str:
    try:
        return _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except _DiffError:
        raise _DiffError(f"unknown git revision {ref!r}") from None


def _base_stacks(sha: str) -> list[str]:
    names = _git("ls-tree", "--name-only", sha).splitlines()
    return [
        n[len("Pulumi.") : -len(".yaml")]
        for n in names
        if n.startswith("Pulumi.") and n.endswith(".yaml") and n != "Pulumi.yaml"
    ]


def synthesize_revisions(
    ref: str, stacks: list[str] | None, *, preview: bool = False
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Synthesize `stacks` (None: every stack of either side) at `ref` and in the working tree,
    in parallel, under one fresh secret-digest key. Returns the commit and both sides' driver
    results (graphs with secret digests: for the diff only, never to be written or printed)."""
    sha = _resolve(ref)
    # The in-process synthesis lives in infra/review/ since the layout split, in infra/ before.
    for path in ("infra/review/synth.py", "infra/synth.py"):
        try:
            _git("cat-file", "-e", f"{sha}:{path}")
            break
        except _DiffError:
            continue
    else:
        raise _DiffError(
            f"{ref} ({sha[:7]}) predates infra/synth.py, the in-process synthesis: pick a later "
            "base revision"
        )
    if stacks is None:
        stacks = sorted(set(stack_names()) | set(_base_stacks(sha)))
    runs: list[_Run] = []
    key = secrets.token_bytes(32)  # this run's only: dies with it
    # The results (with the digests) live in this directory only while the run does.
    with tempfile.TemporaryDirectory(prefix="preview-base-") as tmp:
        worktree = Path(tmp) / "base"
        try:
            # The working tree starts first: it runs while the worktree is checked out.
            runs.append(_start("working tree", ROOT, stacks, preview, Path(tmp) / "head.json", key))
            _git("worktree", "add", "--detach", "--quiet", str(worktree), sha)
            runs.append(_start(f"{ref}", worktree, stacks, preview, Path(tmp) / "base.json", key))
            head, base = runs[0].result(), runs[1].result()
        finally:
            for run in runs:
                run.stop()
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(worktree)],
                cwd=ROOT,
                capture_output=True,
                check=False,
            )
            subprocess.run(["git", "worktree", "prune"], cwd=ROOT, capture_output=True, check=False)
    return sha, base, head


def diff_revisions(
    ref: str, stacks: list[str] | None, *, preview: bool = False
) -> tuple[list[StackDiff], dict[str, Graph]]:
    """The plan diff of every stack from `ref` to the working tree, and the working tree's graphs."""
    from infra.review.diff import StackDiff, diff_graphs

    sha, base, head = synthesize_revisions(ref, stacks, preview=preview)
    # `main (1a2b3c4)`; a commit given by its hash is just the short hash.
    base_label = sha[:7] if sha.startswith(ref) else f"{ref} ({sha[:7]})"
    head_label = "working tree"
    diffs: list[StackDiff] = []
    graphs: dict[str, Graph] = {}
    for stack in head:
        old, new = base.get(stack, {"missing": True}), head[stack]
        error = None
        if "error" in new:
            error = new["error"]
        elif "error" in old:
            error = f"at {base_label}: {old['error']}"
        elif old.get("missing") and new.get("missing"):
            error = f"no Pulumi.{stack}.yaml at {base_label} nor in the working tree"
        if error is not None:
            diffs.append(StackDiff(stack=stack, base=base_label, head=head_label, error=error))
            continue
        old_graph = _graph(stack, old, preview)
        new_graph = _graph(stack, new, preview)
        if not new.get("missing"):
            graphs[stack] = new_graph
        diffs.append(diff_graphs(old_graph, new_graph, base=base_label, head=head_label))
    return diffs, graphs


def _graph(stack: str, side: dict[str, Any], preview: bool) -> Graph:
    from infra.review.graph import Graph

    if side.get("missing"):
        return Graph(project="python-org", stack=stack, resources={}, outputs={}, preview=preview)
    return Graph.from_json(side["graph"])


def _diff(args: argparse.Namespace) -> int:
    from infra.review import render_diff

    started = time.perf_counter()
    # A cancelled CI job sends SIGTERM: unwind so that the worktree is removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    stacks = None if args.all else (args.stacks or ["prod"])
    try:
        diffs, graphs = diff_revisions(args.base, stacks, preview=False)
    except _DiffError as exc:
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
