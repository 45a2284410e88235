"""`scripts/validate`: check every stack the way CI does, offline.

For each `Pulumi.<stack>.yaml` of every project (the website at the repository root, the
bootstrap in `bootstrap/`; or the project `--project` names, or the stacks named): the config
validates, the program synthesizes under the mock runtime both as a preview (computed values
unknown) and as applied (computed values mocked), and the policies pass (`policy.runner.evaluate` on the applied graph:
mandatory violations fail the stack, advisory ones are warnings). One report line per stack and
per problem; exit 1 if any stack fails, with the reason.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.config import ConfigError
from infra.projects import PROJECTS, WEBSITE, Project
from infra.review.plan import component_label, short_type
from infra.review.stackfile import ROOT, read_stack_file

if TYPE_CHECKING:
    from infra.review.graph import Graph

EXIT_FAILED = 1
EXIT_USAGE = 2


@dataclass
class StackReport:
    stack: str
    file: str = ""  # the stack file as people write it (bootstrap/Pulumi.account.yaml)
    problems: list[str] = field(default_factory=list)  # each fails the stack
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/validate",
        description=(
            "Validate every stack offline: config, synthesis (preview and applied) and "
            "policies. Exit status 1 if any stack fails."
        ),
    )
    parser.add_argument(
        "stacks", nargs="*", metavar="STACK", help="default: every stack file of every project"
    )
    parser.add_argument(
        "--project",
        choices=sorted(PROJECTS),
        help="only this project's stacks (default: all; a STACK is looked up in each)",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=ROOT,
        help="directory holding the Pulumi.<stack>.yaml files (default: the repository)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    root: Path = args.root.resolve()
    projects = [PROJECTS[args.project]] if args.project else list(PROJECTS.values())
    if args.stacks:
        # A stack belongs to the first project that has its file (the website's otherwise, whose
        # missing file is then the report).
        chosen = [
            (
                next((p for p in projects if s in p.stack_names(root)), projects[0]),
                s,
            )
            for s in args.stacks
        ]
    else:
        chosen = [(p, s) for p in projects for s in p.stack_names(root)]
    if not chosen:
        print(f"error: no Pulumi.<stack>.yaml in {root}", file=sys.stderr)
        return EXIT_USAGE
    evaluate = _policy_runner()
    reports = [validate_stack(stack, root, evaluate, project) for project, stack in chosen]
    for report in reports:
        _print(report, root)
    failed = [_label(r) for r in reports if not r.ok]
    print()
    if failed:
        print(f"FAILED: {len(failed)} of {len(reports)} stacks ({', '.join(failed)})")
        return EXIT_FAILED
    print(f"OK: {len(reports)} stacks valid ({', '.join(_label(r) for r in reports)})")
    return 0


Evaluate = Callable[["Graph"], list[Any]]


def _policy_runner() -> Evaluate | None:
    """`policy.runner.evaluate`, or None while that module does not exist."""
    # Imported by name: the module is written in parallel, and this must work before it lands.
    try:
        module = importlib.import_module("policy.runner")
    except ModuleNotFoundError as exc:
        if exc.name not in ("policy", "policy.runner"):
            raise  # the runner exists but is broken: that is a failure, not a skip
        return None
    runner: Evaluate = module.evaluate
    return runner


def validate_stack(
    stack: str, root: Path, evaluate: Evaluate | None, project: Project = WEBSITE
) -> StackReport:
    from infra.review.synth import synthesize

    started = time.perf_counter()
    report = StackReport(stack, file=project.stack_file(stack))
    try:
        raw, secret_keys = read_stack_file(stack, root, project)
        project.parse_config(stack, raw)
    except ConfigError as exc:
        report.problems += [f"config: {p}" for p in exc.problems]
        report.seconds = time.perf_counter() - started
        return report

    applied = None
    for preview in (True, False):
        mode = "preview" if preview else "applied"
        try:
            graph = synthesize(
                stack,
                preview=preview,
                project=project,
                root=root,
                raw_config=raw,
                secret_keys=secret_keys,
            )
        except ConfigError as exc:
            report.problems += [f"synthesis ({mode}): {p}" for p in exc.problems]
            break
        except Exception as exc:  # noqa: BLE001 (any failure of the program is the report)
            report.problems.append(f"synthesis ({mode}): {_describe(exc)}")
            break
        report.notes.append(f"{mode}: {sum(1 for r in graph if r.custom)} resources")
        applied = graph

    if applied is not None and report.ok:
        _policies(report, applied, evaluate)
    report.seconds = time.perf_counter() - started
    return report


def _policies(report: StackReport, graph: Graph, evaluate: Evaluate | None) -> None:
    if evaluate is None:
        report.notes.append("policies: skipped (policy/runner.py not there yet)")
        return
    try:
        violations = evaluate(graph)
    except Exception as exc:  # noqa: BLE001
        report.problems.append(f"policies: the runner failed: {_describe(exc)}")
        return
    mandatory = 0
    for v in violations:
        fix = getattr(v, "fix", None)
        message = v.message + (f" (fix: {fix})" if fix else "")
        where = resource_label(graph, v.urn)
        if v.severity == "mandatory":
            mandatory += 1
            report.problems.append(f"policy [{v.rule}] {where}: {message}")
        else:
            report.warnings.append(f"policy (advisory) [{v.rule}] {where}: {message}")
    report.notes.append(
        f"policies: {mandatory} mandatory, {len(violations) - mandatory} advisory violations"
    )


def resource_label(graph: Graph, urn: str) -> str:
    """`rds.Instance us-east-2-db (Database us-east-2)`: a resource by its component and name,
    not by its URN (which runs to 250 characters)."""
    res = graph.resources.get(urn)
    if res is None:
        return urn.rsplit("::", 1)[-1]
    return f"{short_type(res.type)} {res.name} ({component_label(graph, res)})"


def _describe(exc: BaseException) -> str:
    """The error and where in this project it came from (not the SDK's frames)."""
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if f.filename.startswith(str(ROOT)) and "/.venv/" not in f.filename
    ]
    where = ""
    if frames:
        last = frames[-1]
        where = f" (at {Path(last.filename).relative_to(ROOT)}:{last.lineno})"
    return f"{type(exc).__name__}: {exc}{where}"


def _print(report: StackReport, root: Path) -> None:
    status = "ok" if report.ok else "FAILED"
    notes = "; ".join(report.notes)
    label = _label(report)
    print(f"{label}: {status} in {report.seconds:.1f}s" + (f" ({notes})" if notes else ""))
    annotate = os.environ.get("GITHUB_ACTIONS") == "true"
    for problem in report.problems:
        print(f"  error: {problem}")
        if annotate:
            print(f"::error file={report.file},title=stack {label}::{_escape(problem)}")
    for warning in report.warnings:
        print(f"  warning: {warning}")
        if annotate:
            print(f"::warning file={report.file},title=stack {label}::{_escape(warning)}")


def _label(report: StackReport) -> str:
    """`prod`; a stack of a project in a subdirectory as `bootstrap/account`."""
    directory = report.file.rpartition("/")[0]
    return f"{directory}/{report.stack}" if directory else report.stack


def _escape(text: str) -> str:
    """GitHub workflow commands take one line: newlines and % are escaped."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
