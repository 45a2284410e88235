"""`scripts/restore_drill`: restore the latest backup into a scratch instance, time it, delete it."""

from __future__ import annotations

import argparse
import sys

from infra.config import StackConfig
from infra.ops import cli, restore
from infra.ops.aws import Aws
from infra.ops.waiting import duration


def build_parser() -> argparse.ArgumentParser:
    parser = cli.parser(
        "scripts/restore_drill",
        "Restore drill: find the newest AWS Backup recovery point of the stack's database in "
        "REGION (default: the backup copy region, python-org:backup.copyRegion), restore it into "
        "a scratch instance beside that region's database, wait until it is available, print "
        "how long the restore took, and delete it (also when the wait fails or times out).",
    )
    parser.add_argument(
        "--region", help="the home region or the copy region (default: the copy region)"
    )
    parser.add_argument(
        "--instance-class",
        metavar="CLASS",
        help="restore into this class (default: python-org:database.instanceClass, to time the "
        "real thing)",
    )
    cli.add_wait_options(parser, timeout=7200, interval=30)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def body(aws: Aws, cfg: StackConfig) -> int:
        region = restore.drill_region(cfg, args.region)
        print(f"Restore drill of stack {cfg.stack!r} in {region}", file=sys.stderr)
        result = restore.run_drill(
            aws,
            cfg,
            region,
            instance_class=args.instance_class,
            timeout=args.timeout,
            interval=args.poll_interval,
            log=lambda line: print(line, file=sys.stderr),
        )
        print(
            f"restored {result.recovery_point.snapshot_id} ({result.recovery_point.db_identifier}) "
            f"in {result.region} in {duration(result.seconds)}; scratch instance "
            f"{result.scratch_id} {'deleted' if result.deleted else 'NOT deleted: delete it by hand'}"
        )
        return 0 if result.deleted else 1

    return cli.run(args, body)
