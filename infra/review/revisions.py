"""Two revisions of the program synthesized side by side, for the plan diff of
`scripts/preview --base REF`: REF checked out in a temporary `git worktree` and the working
tree, each in a subprocess of its own (a fresh interpreter importing that tree's `infra`), at
once; then each stack's `diff_graphs` from REF to the working tree.

Both subprocesses get one random key for the run on stdin (never in argv, the environment or a
file), under which they record a keyed hash of each secret value; the results, digests
included, live in a temporary directory only while the run does.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from infra.review.diff import StackDiff
    from infra.review.graph import Graph

# The repository (infra/review/revisions.py -> ../..). Not imported from infra.review.stackfile:
# that pulls in the config model and the Pulumi SDK, which the plan diff's own process never needs.
ROOT = Path(__file__).resolve().parents[2]


def stack_names(root: Path = ROOT) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


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
            raise DiffError(f"synthesis of the {self.label} failed:\n{tail}")
        data: dict[str, Any] = json.loads(self.out.read_text())
        return data

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


class DiffError(Exception):
    """The diff cannot be made (an unknown revision, git or a synthesis failed): why."""


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
        raise DiffError(f"git {' '.join(args)}: {proc.stderr.strip() or 'failed'}")
    return proc.stdout.strip()


def _resolve(ref: str) -> str:
    try:
        return _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except DiffError:
        raise DiffError(f"unknown git revision {ref!r}") from None


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
        except DiffError:
            continue
    else:
        raise DiffError(
            f"{ref} ({sha[:7]}) predates the in-process synthesis (infra/review/synth.py, "
            "infra/synth.py before the layout split): pick a later base revision"
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
