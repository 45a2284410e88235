"""`scripts/failover STACK --new-home REGION`: make REGION the home region of STACK.

REGION is the region that takes over (its read replica becomes the primary), never the region
that was lost: that one is the stack's current homeRegion.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import textwrap
from pathlib import Path

from infra.config import StackConfig
from infra.ops import cli, failover
from infra.ops.aws import Aws
from infra.ops.failover import Plan
from infra.ops.smoke import LAG_WINDOW
from infra.review.stackfile import ROOT

WIDTH = 100


def build_parser() -> argparse.ArgumentParser:
    parser = cli.parser(
        "scripts/failover",
        "Regional failover: make REGION (--new-home) the stack's home region by promoting its "
        "read replica to a standalone primary. The lost region is the stack's current "
        "homeRegion. A dry run unless --execute is given; refuses when REGION has no replica. "
        "Prints what it found (replica, its lag: the writes a promotion now would lose, the old "
        "primary), the config change to make next, the runbook's steps "
        "(docs/runbook-regional-failover.md) and the exact targeted `pulumi up` of the "
        "break-glass deploy.",
    )
    parser.add_argument(
        "--new-home",
        metavar="REGION",
        required=True,
        help="the region that becomes the home region (its replica is promoted)",
    )
    # The old interface took the region as a positional argument, which read as "the region
    # that is lost": refuse it with an explanation instead of guessing.
    parser.add_argument("old_positional", nargs="?", help=argparse.SUPPRESS)
    parser.add_argument(
        "--execute",
        action="store_true",
        help="promote for real (default: dry run, nothing is changed)",
    )
    parser.add_argument(
        "--break-glass-since",
        metavar="REF",
        help="offline, for the branch that has the config change: print the targeted deploy's "
        "URNs (one per line) computed against REF, the commit before the change; touches no AWS",
    )
    parser.add_argument(
        "--state-deletes",
        metavar="FILE",
        help="with --break-glass-since: write the URNs to drop from the state there, children "
        "first",
    )
    cli.add_wait_options(parser, timeout=1800, interval=15)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.old_positional is not None:
        parser.error(
            f"unexpected argument {args.old_positional!r}: name the region that takes over with "
            f"--new-home REGION (the region that was lost is the stack's current homeRegion)"
        )
    if args.break_glass_since:
        return _break_glass_since(args)
    if args.state_deletes:
        parser.error("--state-deletes goes with --break-glass-since")

    def body(aws: Aws, cfg: StackConfig) -> int:
        plan = failover.plan(aws, cfg, args.new_home)
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
        if not change.problems:
            _print_deploy(
                cfg.stack,
                plan.old_home,
                failover.break_glass_deploy(cfg.stack, plan.old_home, change),
            )
        return 0

    return cli.run(args, body)


def _break_glass_since(args: argparse.Namespace) -> int:
    from infra.config import ConfigError
    from infra.ops.aws import OpsError

    try:
        old_home, deploy = failover.break_glass_since(args.stack, args.break_glass_since)
    except (OpsError, ConfigError, subprocess.CalledProcessError) as exc:
        detail = exc.stderr.strip() if isinstance(exc, subprocess.CalledProcessError) else exc
        print(f"error: {detail}", file=sys.stderr)
        return 2
    cfg_home = failover.read_home(args.stack)
    if cfg_home != args.new_home:
        print(
            f"error: Pulumi.{args.stack}.yaml names {cfg_home} as the home region, not "
            f"{args.new_home}: run from the commit with the config change",
            file=sys.stderr,
        )
        return 2
    print("\n".join(deploy.targets))
    if args.state_deletes:
        Path(args.state_deletes).write_text("".join(f"{u}\n" for u in deploy.state_only))
    print(
        f"{len(deploy.targets)} targets; {len(deploy.state_only)} resources of {old_home} to "
        "drop from the state",
        file=sys.stderr,
    )
    return 0


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


def _print_deploy(stack: str, old_home: str, deploy: failover.Deploy) -> None:
    """The runbook's step 5, exactly: run from the branch with the config change, before it is
    merged (a merge starts an untargeted `pulumi up`)."""
    print(
        f"\nStep 5, the targeted deploy (from the branch with the config change; nothing in "
        f"{old_home} is targeted):"
    )
    lines = [f"pulumi preview --stack {stack} --policy-pack policy \\"]
    lines += [f"  --target '{urn}' \\" for urn in deploy.targets]
    lines[-1] = lines[-1].removesuffix(" \\")
    for line in lines:
        print(f"  {line}")
    print(
        "  then the same with `pulumi up` in place of `pulumi preview`. "
        f"({len(deploy.targets)} targets.)"
    )
    print(
        f"\nThen drop {old_home}'s resources from the state, children first (they stay in AWS, "
        f"retained; {len(deploy.state_only)} resources):"
    )
    for urn in deploy.state_only:
        print(f"  pulumi state delete --stack {stack} --force --yes '{urn}'")
    sys.stdout.flush()
