"""`scripts/failover`: promote a region's read replica to the stack's primary."""

from __future__ import annotations

import argparse
import textwrap

from infra.config import StackConfig
from infra.ops import cli, failover
from infra.ops.aws import Aws
from infra.ops.failover import Plan
from infra.ops.smoke import LAG_WINDOW
from infra.stackfile import ROOT

WIDTH = 100


def build_parser() -> argparse.ArgumentParser:
    parser = cli.parser(
        "scripts/failover",
        "Regional failover: promote the read replica of REGION to a standalone primary. A dry "
        "run unless --execute is given; refuses when REGION has no replica. Prints what it "
        "found (replica, its lag: the writes a promotion now would lose, the old primary), "
        "then the config change to make next and the runbook's steps "
        "(docs/runbook-regional-failover.md).",
    )
    parser.add_argument("region", help="the region whose replica becomes the primary")
    parser.add_argument(
        "--execute",
        action="store_true",
        help="promote for real (default: dry run, nothing is changed)",
    )
    cli.add_wait_options(parser, timeout=1800, interval=15)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def body(aws: Aws, cfg: StackConfig) -> int:
        plan = failover.plan(aws, cfg, args.region)
        print(f"Failover of stack {cfg.stack!r} to {plan.region} (home region: {plan.old_home})\n")
        for label, text in _facts(plan):
            print(
                textwrap.fill(
                    text, WIDTH, initial_indent=f"  {label:<11}  ", subsequent_indent=" " * 15
                )
            )
        print()
        if not args.execute:
            print(
                f"DRY RUN: would promote {plan.replica_id} to a standalone primary "
                f"(automated backups kept {plan.backup_retention_days} days).\n"
                "Nothing was changed; run again with --execute to promote."
            )
        else:
            status = failover.promote(aws, plan, timeout=args.timeout, interval=args.poll_interval)
            print(
                f"PROMOTED: {plan.replica_id} is a standalone primary in {plan.region} ({status})."
            )
        change = failover.config_change(cfg.stack, plan.region)
        print(f"\nNext, change Pulumi.{cfg.stack}.yaml, then `pulumi up` (runbook):")
        for line in change.lines:
            print(f"  {line}")
        for problem in change.problems:
            print(f"  ! the changed config would not validate: {problem}")
        steps = failover.runbook_steps(plan)
        print(f"\nRunbook ({failover.RUNBOOK.relative_to(ROOT)}):")
        for step in steps or ["(the runbook has no numbered steps: read it)"]:
            print(f"  {step}")
        return 0

    return cli.run(args, body)


def _facts(plan: Plan) -> list[tuple[str, str]]:
    if plan.lag_seconds is None:
        minutes = int(LAG_WINDOW.total_seconds() // 60)
        lag = (
            f"unknown (no ReplicaLag datapoint in the last {minutes} minutes): the writes a "
            "promotion would lose cannot be estimated"
        )
    else:
        lag = (
            f"{plan.lag_seconds:g}s at the last datapoint: up to that many seconds of the "
            "primary's last writes are not in the replica (the RPO of this failover)"
        )
    facts = [
        ("replica", f"{plan.replica_id} ({plan.replica_status})"),
        ("follows", plan.source),
        ("replica lag", lag),
        ("old primary", plan.primary_state),
    ]
    if plan.primary_available:
        facts.append(
            (
                "WARNING",
                "the old primary is available: stop writes to it before promoting, or the "
                "writes made after the promotion are lost to the new primary",
            )
        )
    facts += [
        (
            "also",
            f"the replica in {region} follows the old primary: it stops receiving changes "
            "and must be rebuilt from the new primary (runbook)",
        )
        for region in plan.other_replicas
    ]
    return facts
