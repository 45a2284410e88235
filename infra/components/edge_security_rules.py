"""The Edge component's security rules (part of `infra/components/edge.py`, declared as its
children through `Rulesets`): SSL full (strict) and HTTPS rewrites per hostname (configuration
rules), HSTS per hostname (response header rules), the managed WAF rulesets and rate limits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi_cloudflare as cloudflare

from infra.components.edge_rulesets import Rulesets, paths_expression, slug
from infra.config import WafRuleset

if TYPE_CHECKING:
    from infra.components.edge import EdgeArgs

# Cloudflare's managed WAF rulesets (IDs are fixed: developers.cloudflare.com/waf/managed-rules/).
CLOUDFLARE_MANAGED_RULESET = "efb7b8c949ac4650a09736fc376e9aee"
OWASP_CORE_RULESET = "4814384a9e5d4991b9815dcfc25d2f1f"
WAF_RULESETS = {
    WafRuleset.CLOUDFLARE_MANAGED: ("Cloudflare Managed Ruleset", CLOUDFLARE_MANAGED_RULESET),
    WafRuleset.OWASP_CORE: ("Cloudflare OWASP Core Ruleset", OWASP_CORE_RULESET),
}
# The SSL mode a configuration rule sets for the stack's hostnames, owned zone or not
# (Configuration Rules settings: "ssl" takes off, flexible, full, strict, origin_pull).
PER_HOST_SSL = "strict"


def config_rules(rules: Rulesets, args: EdgeArgs) -> None:
    rules.declare(
        "http_config_settings",
        "python.org configuration rules",
        [
            rules.rule(
                "settings",
                "SSL full (strict) and HTTPS rewrites",
                "set_config",
                None,
                action_parameters=cloudflare.RulesetRuleActionParametersArgs(
                    ssl=PER_HOST_SSL, automatic_https_rewrites=True
                ),
            )
        ],
    )


def hsts(rules: Rulesets, args: EdgeArgs) -> None:
    """Strict-Transport-Security per hostname (response header transform rules)."""
    declared = [
        rules.rule(
            f"hsts_{slug(host)}",
            f"HSTS for {host}",
            "rewrite",
            None,
            [host],
            action_parameters=cloudflare.RulesetRuleActionParametersArgs(
                headers={
                    "Strict-Transport-Security": (
                        cloudflare.RulesetRuleActionParametersHeadersArgs(
                            operation="set", value=policy.header()
                        )
                    )
                }
            ),
        )
        for host, policy in sorted(args.config.hsts.items())
    ]
    rules.declare("http_response_headers_transform", "python.org response headers", declared)


def waf(rules: Rulesets, args: EdgeArgs) -> None:
    """The managed WAF rulesets, then the rate limits per path."""
    rules.declare(
        "http_request_firewall_managed",
        "python.org managed WAF",
        [
            rules.rule(
                f"waf_{ruleset.value}",
                WAF_RULESETS[ruleset][0],
                "execute",
                None,
                action_parameters=cloudflare.RulesetRuleActionParametersArgs(
                    id=WAF_RULESETS[ruleset][1]
                ),
            )
            for ruleset in args.config.waf
        ],
    )
    rules.declare(
        "http_ratelimit",
        "python.org rate limits",
        [
            rules.rule(
                f"ratelimit_{slug(limit.path)}",
                f"Rate limit {limit.path}",
                "block",
                paths_expression([limit.path]),
                ratelimit=cloudflare.RulesetRuleRatelimitArgs(
                    # Per client IP, counted in each Cloudflare data centre.
                    characteristics=["cf.colo.id", "ip.src"],
                    period=limit.period_seconds,
                    requests_per_period=limit.requests,
                    mitigation_timeout=limit.mitigation_seconds,
                ),
            )
            for limit in args.config.rate_limits
        ],
    )
