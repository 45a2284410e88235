"""The Edge component's rulesets (part of `infra/components/edge.py`, declared as its children):
the zone's entry-point ruleset per phase and rules limited to the stack's hostnames. The rules
themselves are in edge_routing_rules.py, edge_security_rules.py and edge_cache_rules.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_cloudflare as cloudflare

if TYPE_CHECKING:
    from infra.components.edge import EdgeArgs

# Logical names of the phase rulesets: the first three kept from before (their URNs).
_PHASE_NAMES = {
    "http_request_origin": "origin",
    "http_response_compression": "compression",
    "http_request_cache_settings": "cache",
    "http_request_firewall_managed": "waf",
    "http_ratelimit": "rate-limits",
    "http_request_dynamic_redirect": "redirects",
    "http_config_settings": "config",
    "http_request_transform": "url-rewrites",
    "http_request_late_transform": "request-headers",
    "http_response_headers_transform": "response-headers",
}


# Every phase whose entry-point ruleset the edge may declare.
PHASES = tuple(_PHASE_NAMES)


class Rulesets:
    """Declares the edge's phase rulesets as children of `parent` (the Edge component)."""

    def __init__(self, parent: pulumi.Resource, name: str, args: EdgeArgs) -> None:
        self.parent = parent
        self._name = name
        self._args = args
        self.by_phase: dict[str, cloudflare.Ruleset] = {}  # phase -> the zone's ruleset

    def declare(
        self, phase: str, title: str, rules: Sequence[cloudflare.RulesetRuleArgs]
    ) -> cloudflare.Ruleset | None:
        """The zone's entry-point ruleset of `phase`: one per zone and phase, and its rules are
        the ones declared here (scripts/import_zone reports what a deploy would replace)."""
        if not rules:
            return None
        ruleset = cloudflare.Ruleset(
            f"{self._name}-{_PHASE_NAMES[phase]}",
            zone_id=self._args.zone_id,
            kind="zone",
            phase=phase,
            name=title,
            description=f"Managed by Pulumi (python-org-infra, stack {self._args.stack})",
            rules=list(rules),
            opts=pulumi.ResourceOptions(parent=self.parent),
        )
        self.by_phase[phase] = ruleset
        return ruleset

    def rule(
        self,
        ref: str,
        description: str,
        action: str,
        condition: str | None,
        hosts: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> cloudflare.RulesetRuleArgs:
        """A rule limited to the stack's hostnames (or `hosts` of them), with a stable `ref`
        (rules keep their ids across updates)."""
        return cloudflare.RulesetRuleArgs(
            ref=f"pyorg_{self._args.stack}_{ref}",
            description=description,
            expression=self._args.scope.scoped(condition, hosts),
            action=action,
            enabled=True,
            **kwargs,
        )


def paths_expression(paths: Sequence[str]) -> str:
    return " or ".join(f'starts_with(http.request.uri.path, "{p}")' for p in paths)


def slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text).strip("_") or "root"
