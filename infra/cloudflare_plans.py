"""What each Cloudflare plan allows: the limits the edge config is checked against.

Pure data, no resources. Every fact names the Cloudflare document it comes from (the docs'
own plan table is `src/content/plans/index.json` in cloudflare/cloudflare-docs, rendered on
each product page as "Availability"); `infra/config/edge.py` refuses, before any resource is
declared, what the stack's plan cannot have.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Plan(enum.Enum):
    FREE = "free"
    PRO = "pro"
    BUSINESS = "business"
    ENTERPRISE = "enterprise"


class AddOn(enum.Enum):
    """Paid add-ons a zone may have, on top of its plan."""

    # "Load Balancing: Paid add-on" on every plan (plans table, traffic.load_balancing).
    LOAD_BALANCING = "loadBalancing"
    # Per-hostname minimum TLS, Total TLS, custom cipher suites: "Included with Advanced
    # Certificate Manager" on every plan (plans table, ssl.minimum_tls.per_hostname).
    ADVANCED_CERTIFICATE_MANAGER = "advancedCertificateManager"


# The periods rate limiting rules accept, in seconds: "Supported period values in seconds:
# 10, 15, 20, 30, 40, 45, 60 (1 min), 90, 120 (2 min), 180 (3 min), 240 (4 min), 300 (5 min),
# 480, 600 (10 min), 900, 1200 (20 min), 1800, 2400, 3600 (1 h), 65535, 86400 (1 day). Not all
# values are available on all plans." (waf/rate-limiting-rules, "Availability").
RATE_LIMIT_PERIODS = (
    10, 15, 20, 30, 40, 45, 60, 90, 120, 180, 240, 300, 480, 600, 900, 1200, 1800, 2400, 3600,
    65535, 86400,
)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class PlanLimits:
    plan: Plan
    # WAF Managed Rules: the Cloudflare Managed Ruleset and the OWASP Core Ruleset are
    # "Available on paid plans" (plans table, security.waf_a_managed_rules).
    managed_waf: bool
    # Rate limiting rules (waf/rate-limiting-rules, "Availability"): number of rules, the
    # longest counting period, the longest mitigation timeout, and whether a rule's expression
    # may use the host ("Available fields in rule expression": Free has Path and Verified Bot
    # only; Pro and above add Host).
    rate_limit_rules: int
    rate_limit_max_period: int
    rate_limit_max_mitigation: int
    rate_limit_host_field: bool
    # "Minimum Edge Cache TTL": Free 2 hours, Pro 1 hour, Business and Enterprise 1 second
    # (plans table, cache.edge_cache_ttl).
    min_edge_ttl: int
    # Origin Rules "Override DNS records", "Override Host header" and "Override SNI": No, No,
    # No, Yes (plans table, rules.origin_rules).
    origin_dns_override: bool
    # "Subdomain zone setup: Enterprise-only" (plans table, dns.subdomain_setup).
    subdomain_zone: bool
    # "Cache by status code: Enterprise-only" (plans table, cache.cache_status_code): the
    # `status_code_ttl` of a cache rule's edge TTL.
    status_code_ttl: bool
    # Rules per phase for cache, configuration, origin, single redirect and transform rules:
    # 10, 25, 50, 300 (plans table, cache.cache_rules and rules.*.num_rules).
    rules_per_phase: int

    def allowed_periods(self) -> tuple[int, ...]:
        return tuple(p for p in RATE_LIMIT_PERIODS if p <= self.rate_limit_max_period)

    def allowed_mitigations(self) -> tuple[int, ...]:
        return tuple(p for p in RATE_LIMIT_PERIODS if p <= self.rate_limit_max_mitigation)


LIMITS: dict[Plan, PlanLimits] = {
    Plan.FREE: PlanLimits(
        plan=Plan.FREE,
        managed_waf=False,
        rate_limit_rules=1,
        rate_limit_max_period=10,
        rate_limit_max_mitigation=10,
        rate_limit_host_field=False,
        min_edge_ttl=7200,
        origin_dns_override=False,
        subdomain_zone=False,
        status_code_ttl=False,
        rules_per_phase=10,
    ),
    Plan.PRO: PlanLimits(
        plan=Plan.PRO,
        managed_waf=True,
        rate_limit_rules=2,
        rate_limit_max_period=60,
        rate_limit_max_mitigation=3600,
        rate_limit_host_field=True,
        min_edge_ttl=3600,
        origin_dns_override=False,
        subdomain_zone=False,
        status_code_ttl=False,
        rules_per_phase=25,
    ),
    Plan.BUSINESS: PlanLimits(
        plan=Plan.BUSINESS,
        managed_waf=True,
        rate_limit_rules=5,
        rate_limit_max_period=600,
        rate_limit_max_mitigation=86400,
        rate_limit_host_field=True,
        min_edge_ttl=1,
        origin_dns_override=False,
        subdomain_zone=False,
        status_code_ttl=False,
        rules_per_phase=50,
    ),
    # "Enterprise with app security": 100 rules (the exact number is the contract's), periods
    # up to 65,535 s, mitigation up to a day.
    Plan.ENTERPRISE: PlanLimits(
        plan=Plan.ENTERPRISE,
        managed_waf=True,
        rate_limit_rules=100,
        rate_limit_max_period=65535,
        rate_limit_max_mitigation=86400,
        rate_limit_host_field=True,
        min_edge_ttl=1,
        origin_dns_override=True,
        subdomain_zone=True,
        status_code_ttl=True,
        rules_per_phase=300,
    ),
}


def limits(plan: Plan) -> PlanLimits:
    return LIMITS[plan]


def duration(seconds: int) -> str:
    """A plan limit as Cloudflare's tables write it: 10 s, 1 min, 2 hours, 1 day."""
    for unit, size in (("day", 86400), ("hour", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}" + ("s" if n > 1 and unit != "min" else "")
    return f"{seconds} s"
