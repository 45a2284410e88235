"""What the operations CLIs share: the stack and AWS options, and one way to end.

Every expected failure ends the same way: one line on stderr, no traceback, and the exit code
of its kind (0 ok, 1 a check or an operation failed, 2 usage, config or credentials). Anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError

from infra.config import ConfigError, NoSuchStackError, StackConfig
from infra.ops.aws import Aws, OpsError, connect, explain
from infra.review.stackfile import load_stack_config, stack_names

EPILOG = (
    "AWS credentials and profile are found the standard boto3 way (--profile or AWS_PROFILE, "
    "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ~/.aws, SSO, instance roles); AWS_MAX_ATTEMPTS "
    "sets the attempts of botocore's standard retry mode. "
    "Exit codes: 0 ok, 1 a check or an operation failed, 2 usage, config or credentials."
)


def parser(prog: str, description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=description, epilog=EPILOG)
    p.add_argument("stack", help=f"stack name ({', '.join(stack_names()) or 'none found'})")
    p.add_argument("--profile", help="AWS profile (default: AWS_PROFILE or the default chain)")
    p.add_argument(
        "--endpoint-url",
        metavar="URL",
        help="send every AWS call to this AWS-compatible endpoint (moto_server, LocalStack)",
    )
    return p


def add_wait_options(p: argparse.ArgumentParser, *, timeout: float, interval: float) -> None:
    p.add_argument(
        "--timeout",
        type=non_negative,
        default=timeout,
        metavar="SECONDS",
        help=f"give up waiting after this long (default: {timeout:g})",
    )
    p.add_argument(
        "--poll-interval",
        type=non_negative,
        default=interval,
        metavar="SECONDS",
        help=f"time between status checks (default: {interval:g})",
    )


def non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is less than 1")
    return value


def run(args: argparse.Namespace, body: Callable[[Aws, StackConfig], int]) -> int:
    """Load the stack's config, open AWS, run `body`; turn expected failures into exit codes."""
    try:
        cfg = load_stack_config(args.stack)
        aws = connect(args.profile, args.endpoint_url)
        return body(aws, cfg)
    except NoSuchStackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        problems = "\n".join(f"  - {p}" for p in exc.problems)
        print(
            f"error: invalid config for stack {exc.stack!r} (Pulumi.{exc.stack}.yaml), "
            f"nothing was done:\n{problems}",
            file=sys.stderr,
        )
        return 2
    except OpsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except (ClientError, BotoCoreError) as exc:
        failure = explain(exc)
        print(f"error: {failure}", file=sys.stderr)
        return failure.exit_code
    except KeyboardInterrupt:
        print("interrupted: anything already requested from AWS carries on", file=sys.stderr)
        return 130
