"""`scripts/smoke_test`: the post-deploy smoke test of every region of a stack."""

from __future__ import annotations

import argparse

from infra.config import StackConfig
from infra.ops import cli, smoke
from infra.ops.aws import Aws, SetupError


def build_parser() -> argparse.ArgumentParser:
    parser = cli.parser(
        "scripts/smoke_test",
        "After a deploy, check every region of the stack: load balancer targets healthy, the "
        "autoscaling group has at least web.minSize instances in service, the database (the "
        "primary or a replica) available in its role, and replica lag below a threshold "
        "(CloudWatch ReplicaLag). Prints one table, region by check; exits 1 if any check "
        "fails or cannot be answered.",
    )
    parser.add_argument(
        "--region",
        action="append",
        dest="regions",
        metavar="REGION",
        help="check only this region of the stack (repeatable; default: all of them)",
    )
    parser.add_argument(
        "--max-replica-lag",
        type=cli.non_negative,
        default=smoke.DEFAULT_MAX_LAG,
        metavar="SECONDS",
        help=f"highest acceptable ReplicaLag (default: {smoke.DEFAULT_MAX_LAG:g})",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def body(aws: Aws, cfg: StackConfig) -> int:
        unknown = [r for r in args.regions or () if r not in cfg.region_names]
        if unknown:
            raise SetupError(
                f"region {', '.join(unknown)} is not in stack {cfg.stack!r} "
                f"(regions: {', '.join(cfg.region_names)})"
            )
        results = smoke.run(aws, cfg, regions=args.regions, max_lag=args.max_replica_lag)
        print(f"Smoke test of stack {cfg.stack!r} (home region {cfg.home_region}):\n")
        print(smoke.render(cfg, results))
        return 1 if any(r.failed for r in results) else 0

    return cli.run(args, body)
