"""The CloudWatch Synthetics canary of one region (runtime syn-python-selenium-*, packaged as
python/pyorg_canary.py; handler `pyorg_canary.handler`).

It requests each URL in CANARY_CHECKS (JSON: [{"name", "url"}]) and fails the run (raises, which
Synthetics counts against SuccessPercent) unless every one answers 200 within
CANARY_LATENCY_MS. Only the standard library: the HTTP checks need no browser. Written to be run
and tested anywhere (tests/test_oncall.py runs it against a local server).
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from typing import Any

USER_AGENT = "python-org-infra canary (CloudWatch Synthetics)"


def check(name: str, url: str, budget_ms: int, timeout_s: float) -> str | None:
    """None if `url` answered 200 within the budget, else what went wrong."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})  # noqa: S310
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError) as exc:
        return f"{name}: {url} did not answer ({exc})"
    elapsed_ms = (time.monotonic() - started) * 1000
    if status != 200:
        return f"{name}: {url} answered {status}, not 200"
    if elapsed_ms > budget_ms:
        return f"{name}: {url} took {elapsed_ms:.0f} ms (budget {budget_ms} ms)"
    print(f"ok {name}: {url} {status} in {elapsed_ms:.0f} ms")
    return None


def run(environ: dict[str, str]) -> str:
    checks = json.loads(environ["CANARY_CHECKS"])
    budget_ms = int(environ["CANARY_LATENCY_MS"])
    timeout_s = max(1.0, 2 * budget_ms / 1000)
    failures = [f for c in checks if (f := check(c["name"], c["url"], budget_ms, timeout_s))]
    if failures:
        raise RuntimeError("; ".join(failures))
    return f"{len(checks)} checks passed"


def handler(event: Any, context: Any) -> str:
    return run(dict(os.environ))
