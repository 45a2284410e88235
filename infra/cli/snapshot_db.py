"""`scripts/snapshot_db`: the pre-deploy snapshot of the stack's primary database."""

from __future__ import annotations

import argparse
import sys

from infra.config import StackConfig
from infra.ops import cli, snapshot
from infra.ops.aws import Aws

DEFAULT_KEEP = 5


def build_parser() -> argparse.ArgumentParser:
    parser = cli.parser(
        "scripts/snapshot_db",
        "Before a deploy: take a manual snapshot of the stack's primary database (in its "
        "homeRegion), wait until it is available and print its identifier on stdout. Then "
        "delete this script's own pre-deploy snapshots beyond the newest --keep; automated "
        "snapshots and any other manual snapshot are never deleted.",
    )
    parser.add_argument(
        "--keep",
        type=cli.positive_int,
        default=DEFAULT_KEEP,
        metavar="N",
        help=f"pre-deploy snapshots to keep, the new one included (default: {DEFAULT_KEEP})",
    )
    cli.add_wait_options(parser, timeout=3600, interval=15)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def body(aws: Aws, cfg: StackConfig) -> int:
        result = snapshot.take_snapshot(
            aws,
            cfg,
            keep=args.keep,
            timeout=args.timeout,
            interval=args.poll_interval,
            log=lambda line: print(line, file=sys.stderr),
        )
        print(
            f"kept {len(result.kept)} pre-deploy snapshot(s), deleted {len(result.deleted)}",
            file=sys.stderr,
        )
        # stdout carries the identifier alone, for `id=$(scripts/snapshot_db prod)`.
        print(result.snapshot_id)
        return 0

    return cli.run(args, body)
