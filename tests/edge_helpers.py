"""Helpers shared by the Cloudflare edge tests (tests/test_edge*.py): resource types and lookups of
pools and rulesets."""

from __future__ import annotations

from typing import Any

from infra.review.graph import Graph

LB = "cloudflare:index/loadBalancer:LoadBalancer"
MONITOR = "cloudflare:index/loadBalancerMonitor:LoadBalancerMonitor"
RECORD = "cloudflare:index/dnsRecord:DnsRecord"
RULESET = "cloudflare:index/ruleset:Ruleset"


def alb_dns(g: Graph, region: str) -> str:
    dns: str = g.outputs["regions"][region]["load_balancer_dns_name"]
    return dns


def _ruleset(g: Graph, phase: str) -> dict[str, Any]:
    (ruleset,) = [r for r in g.of_type(RULESET) if r.inputs["phase"] == phase]
    return ruleset.inputs


def _rule(g: Graph, phase: str, ref: str) -> dict[str, Any]:
    (rule,) = [r for r in _ruleset(g, phase)["rules"] if r["ref"] == f"pyorg_{g.stack}_{ref}"]
    found: dict[str, Any] = rule
    return found
