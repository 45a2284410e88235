"""`scripts/extract_app_settings`: rewrite infra/data/app_settings.json from the app's source.

A maintainer's tool, run when python/pythondotorg changes its settings, Procfile or production
Dockerfile: it reads a git directory of that repository (a clone, or the mirror the search tool
fetches) at a commit and writes what the app needs, with the commit, for the tests to hold the
program to. It changes nothing else.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from infra.maintain import appsettings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/extract_app_settings",
        description="Read python/pythondotorg's production settings, Procfile and Dockerfile "
        "into infra/data/app_settings.json.",
    )
    parser.add_argument(
        "--repo",
        type=Path,
        required=True,
        help="git directory of python/pythondotorg (a clone's .git, or a bare mirror)",
    )
    parser.add_argument("--commit", default="HEAD", help="commit to read (default: HEAD)")
    parser.add_argument(
        "--output", type=Path, default=appsettings.DATA, help="where to write the JSON"
    )
    args = parser.parse_args(argv)
    try:
        facts = appsettings.extract(args.repo, args.commit)
    except subprocess.CalledProcessError as exc:
        print(f"error: git could not read {args.repo} at {args.commit}: {exc.stderr.strip()}",
              file=sys.stderr)  # fmt: skip
        return 2
    appsettings.write(facts, args.output)
    required = sorted(n for n, v in facts["variables"].items() if v["required"])
    print(
        f"wrote {args.output}: {len(facts['variables'])} variables "
        f"({len(required)} required), from {facts['source']['repository']}@"
        f"{facts['source']['commit'][:12]}"
    )
    return 0
