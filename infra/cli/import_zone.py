"""`scripts/import_zone STACK`: what the live zone already has of what the stack declares.

Reads the zone through Cloudflare's API (token from CLOUDFLARE_API_TOKEN; read calls only: the
client refuses anything else), compares it with the program synthesized offline, and writes a
`pulumi import --file` document for the records and entry-point rulesets that exist already,
plus a report of the existing rules a deploy would replace. Run it before the first deploy of a
stack into a zone that has content (README, "Deploying"). Exit 0 when done, 1 on an API or
config error, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from infra.config import ConfigError, NoSuchStackError
from infra.review.stackfile import ROOT, load_stack_config, stack_names

EXIT_FAILED = 1
EXIT_USAGE = 2
TOKEN_ENV = "CLOUDFLARE_API_TOKEN"  # noqa: S105 (the variable's name, not a token)
# What the token needs (Cloudflare API token permissions), read-only.
PERMISSIONS = "Zone:Read, DNS:Read and the rulesets' Read permissions (Zone WAF, Transform Rules, Cache Rules, Config Rules, Origin Rules, Single Redirect, Rate Limiting)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/import_zone",
        description=(
            "Find what the stack's zone already holds of what the stack declares; write a "
            "`pulumi import --file` document and report the rules a deploy would replace. "
            f"Reads only. The API token comes from ${TOKEN_ENV}."
        ),
    )
    parser.add_argument("stack", metavar="STACK", help="the stack (Pulumi.<STACK>.yaml)")
    parser.add_argument(
        "--out",
        type=Path,
        help="where to write the import document (default: import-<STACK>.json)",
    )
    parser.add_argument(
        "--api-url",
        default=os.environ.get("CLOUDFLARE_BASE_URL"),
        help="the Cloudflare API base URL (default: Cloudflare's, or $CLOUDFLARE_BASE_URL)",
    )
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.stack not in stack_names(args.root):
        known = stack_names(args.root)
        print(
            f"import_zone: {NoSuchStackError(args.stack, f'Pulumi.{args.stack}.yaml', known)}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    token = os.environ.get(TOKEN_ENV)
    if not token:
        print(f"import_zone: set {TOKEN_ENV} to an API token with {PERMISSIONS}", file=sys.stderr)
        return EXIT_USAGE
    try:
        cfg = load_stack_config(args.stack, args.root)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_FAILED

    import cloudflare

    from infra.components.edge_rulesets import PHASES
    from infra.ops import zone_import
    from infra.review.synth import synthesize

    client = zone_import.client(token, args.api_url)
    try:
        zone_id = cfg.edge.zone_id or zone_import.find_zone_id(client, cfg.domain)
        zone = zone_import.read_zone(client, zone_id, cfg.domain, PHASES)
    except (cloudflare.AuthenticationError, cloudflare.PermissionDeniedError) as exc:
        print(
            f"import_zone: Cloudflare refused the token ({exc.status_code}: {_errors(exc)}); "
            f"it needs {PERMISSIONS} on zone {cfg.domain}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    except cloudflare.APIStatusError as exc:
        print(
            f"import_zone: Cloudflare answered {exc.status_code}: {_errors(exc)}", file=sys.stderr
        )
        return EXIT_FAILED
    except (cloudflare.APIConnectionError, LookupError) as exc:
        print(f"import_zone: {exc}", file=sys.stderr)
        return EXIT_FAILED
    # The very program `pulumi up` runs, offline: what it would declare in the zone.
    want = zone_import.wanted(synthesize(args.stack, root=args.root))
    result = zone_import.plan(want, zone)
    out = args.out or Path(f"import-{args.stack}.json")
    out.write_text(json.dumps(result.document(), indent=2) + "\n")
    sys.stdout.write(zone_import.report(result))
    print(f"\nWrote {out}: run `pulumi import --file {out}` on stack {args.stack}, then preview.")
    return 0


def _errors(exc: object) -> str:
    body = getattr(exc, "body", None)
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors:
        return "; ".join(
            f"{e.get('code')} {e.get('message')}" for e in errors if isinstance(e, dict)
        )
    return str(exc)
