"""The Cloudflare edge rules: TLS, HSTS, WAF, proxied origins, host-scoped rules.

One violating change per rule (tests/policy_variants.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from infra.review.graph import Graph
from policy import tokens as tk
from tests.policy_variants import (
    HOME,
    Build,
    Case,
    Edit,
    add,
    assert_fails_on_its_change,
    change,
    remove,
    setter,
)


def _zone_setting(setting: str, value: Any) -> Build:
    """Prod does not own its zone (no settings): the violating setting is added to it."""

    def build(g: Graph) -> Graph:
        zone = g.outputs["edge"]["zone_id"]
        inputs = {"zoneId": zone, "settingId": setting, "value": value}
        return add(g, tk.ZONE_SETTING, f"edge-{setting}", inputs)

    return build


def _rules(edit: Callable[[list[dict[str, Any]]], None]) -> Edit:
    def apply(inputs: dict[str, Any]) -> None:
        edit(inputs["rules"])

    return apply


def _ssl_full(rules: list[dict[str, Any]]) -> None:
    rules[0]["actionParameters"]["ssl"] = "full"


def _drop_https_redirect(rules: list[dict[str, Any]]) -> None:
    rules[:] = [r for r in rules if "not ssl" not in r["expression"]]


def _short_preload(rules: list[dict[str, Any]]) -> None:
    rules[0]["actionParameters"]["headers"]["Strict-Transport-Security"]["value"] = (
        "max-age=86400; preload"
    )


def _match_everything(rules: list[dict[str, Any]]) -> None:
    rules[0]["expression"] = "true"


def _forward_https(inputs: dict[str, Any]) -> None:
    inputs["defaultActions"] = [{"type": "forward", "targetGroupArn": "arn:aws:tg"}]


CASES = [
    Case(
        "cloudflare-ssl-strict",
        lambda g: change(g, tk.RULESET, "edge-config", _rules(_ssl_full)),
    ),
    Case("cloudflare-min-tls", _zone_setting("min_tls_version", "1.0")),
    Case(
        "cloudflare-always-use-https",
        lambda g: change(g, tk.RULESET, "edge-redirects", _rules(_drop_https_redirect)),
    ),
    Case("cloudflare-tls-1-3", _zone_setting("tls_1_3", "off")),
    Case(
        "cloudflare-hsts",
        lambda g: change(g, tk.RULESET, "edge-response-headers", _rules(_short_preload)),
    ),
    Case(
        "cloudflare-origin-proxied",
        lambda g: change(g, tk.DNS_RECORD, "edge-python.org", setter(proxied=False)),
    ),
    Case(
        "cloudflare-rules-host-scoped",
        lambda g: change(g, tk.RULESET, "edge-compression", _rules(_match_everything)),
    ),
    Case("cloudflare-waf-managed", lambda g: remove(g, tk.RULESET, "edge-waf")),
    Case(
        "https-listener-requires-edge-secret",
        lambda g: change(g, tk.LISTENER, f"{HOME}-https", _forward_https),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.rule for c in CASES])
def test_rule_fails_on_a_violating_resource(case: Case, prod: Graph) -> None:
    assert_fails_on_its_change(case, prod)
