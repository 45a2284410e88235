"""python-org:edge: Cloudflare's plan, load balancing, write pinning, WAF, DNS and origin lock.
The cache, rate limit, HSTS and path origin rules are read in `edge_rules`."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra.cloudflare_plans import AddOn, Plan, PlanLimits
from infra.cloudflare_plans import limits as plan_limits
from infra.config.catalog import registered_domain
from infra.config.edge_rules import (
    CacheConfig,
    HstsPolicy,
    PathOrigin,
    RateLimit,
    _cache,
    _hsts,
    _path_origins,
    _rate_limits,
)
from infra.config.reader import _HOSTNAME, _MISSING, _Reader
from infra.geo import region_location


class Steering(enum.Enum):
    """Cloudflare load balancer steering policy."""

    GEO = "geo"  # each Cloudflare region to the pool mapped in edge.poolRegions
    DYNAMIC_LATENCY = "dynamic_latency"  # the pool with the lowest measured RTT
    OFF = "off"  # fallback order only (the home region first)


# Cloudflare load balancer region codes (developers.cloudflare.com/load-balancing/reference/region-mapping-api).
CLOUDFLARE_REGIONS = frozenset(
    {"WNAM", "ENAM", "WEU", "EEU", "NSAM", "SSAM", "OC", "ME", "NAF", "SAF", "SAS", "SEAS", "NEAS"}
)


class WritePinning(enum.Enum):
    """How writes reach the home region, where the database primary is."""

    # An origin rule overrides the DNS record for writes (Enterprise: "Override DNS records").
    ORIGIN_RULE = "originRule"
    # Writes are redirected (307, method and body kept) to the home region's own hostname.
    REDIRECT = "redirect"


class WafRuleset(enum.Enum):
    CLOUDFLARE_MANAGED = "cloudflareManaged"
    OWASP_CORE = "owaspCore"


@dataclass(frozen=True, kw_only=True)
class OriginAuthConfig:
    """The secret header the edge adds and the load balancers require (docs/edge.md)."""

    header: str
    active: str  # "a" or "b": the secret the edge sends; the load balancers accept both
    generations: Mapping[str, int]  # bump one (while the other is active) to rotate it


@dataclass(frozen=True, kw_only=True)
class EdgeConfig:
    zone_id: str | None  # None: looked up by the domain name
    plan: Plan
    add_ons: frozenset[AddOn]
    owns_zone: bool  # zone-wide settings (TLS, DNSSEC) are this stack's to change
    steering: Steering
    pool_regions: Mapping[str, str]  # Cloudflare region code -> AWS region
    cache: CacheConfig
    rate_limits: tuple[RateLimit, ...]
    hsts: Mapping[str, HstsPolicy]  # public hostname -> its Strict-Transport-Security
    canonical_hostname: str | None  # the other public hostnames redirect (301) to it
    path_origins: tuple[PathOrigin, ...]
    write_pinning: WritePinning
    waf: tuple[WafRuleset, ...]
    caa_iodef: str  # where CAs report refused certificate requests (RFC 8659 section 4.4)
    dnssec: bool
    origin_auth: OriginAuthConfig

    @property
    def limits(self) -> PlanLimits:
        return plan_limits(self.plan)


def _edge(
    top: _Reader,
    regions: list[str] | None,
    home_region: str | None,
    domain: str | None,
    hostnames: tuple[str, ...] | None,
) -> EdgeConfig | None:
    """python-org:edge. `regions` (the stack's), `domain` and `hostnames` are None when they
    are bad: the checks against them are skipped, the bad value is reported where it is."""
    s = top.section("edge")
    if s is None:
        return None
    plan = s.choice("plan", Plan)
    limits = plan_limits(plan) if plan is not None else None
    _subdomain_zone(top, domain, limits)
    for region in regions or ():
        if region_location(region) is None:
            top.fail(
                "regions",
                region,
                "has no known location (infra/geo.py), needed to order failover by distance",
            )
    owns_zone = s.boolean("ownsZone", default=False)
    steering = s.choice("steering", Steering, default=Steering.GEO)
    parts: dict[str, Any] = {
        "zone_id": s.string(
            "zoneId", None, pattern=r"[0-9a-f]{32}", allowed="a 32-character hex zone id"
        ),
        "plan": plan,
        "add_ons": _add_ons(s),
        "owns_zone": owns_zone,
        "steering": steering,
        "pool_regions": _pool_regions(s, steering, regions),
        "cache": _cache(s, limits),
        "rate_limits": _rate_limits(s, limits),
        "hsts": _hsts(s, hostnames, domain, owns_zone),
        "canonical_hostname": _canonical_hostname(s, hostnames),
        "path_origins": _path_origins(s, limits, hostnames),
        "write_pinning": _write_pinning(s, limits),
        "waf": _waf(s, limits),
        "caa_iodef": s.string(
            "caaIodef",
            pattern=r"(mailto:[^@\s]+@[a-z0-9.-]+\.[a-z]{2,63}|https://[a-z0-9.-]+\.[a-z]{2,63}(/\S*)?)",
            allowed="a mailto: or https: URL for CAA iodef reports (RFC 8659 section 4.4)",
        ),
        "dnssec": _dnssec(s, owns_zone),
        "origin_auth": _origin_auth(s),
    }
    s.finish()
    optional = {"zone_id": "zoneId", "canonical_hostname": "canonicalHostname"}
    if any(parts[f] is None and key in s.data for f, key in optional.items()):
        return None
    if any(v is None for f, v in parts.items() if f not in optional):
        return None
    return EdgeConfig(**parts)


def _subdomain_zone(top: _Reader, domain: str | None, limits: PlanLimits | None) -> None:
    if limits is None or domain is None or limits.subdomain_zone:
        return
    parent = registered_domain(domain)
    if parent != domain:
        top.fail(
            "domain",
            domain,
            f"is a subdomain zone (under {parent}), which the {limits.plan.value} plan cannot "
            "have: subdomain zone setup is Enterprise-only; use the parent zone "
            "(edge.ownsZone: false) or edge.plan: enterprise",
        )


def _add_ons(s: _Reader) -> frozenset[AddOn] | None:
    raw = s.str_list("addOns", [])
    if raw is None:
        return None
    known = {a.value: a for a in AddOn}
    bad = [a for a in raw if a not in known]
    if bad:
        s.fail("addOns", bad[0], f"unknown add-on (allowed: {', '.join(sorted(known))})")
        return None
    if AddOn.LOAD_BALANCING.value not in raw:
        s.fail(
            "addOns",
            sorted(raw),
            "must include loadBalancing: the stack's load balancers need Cloudflare's Load "
            "Balancing, a paid add-on on every plan",
        )
        return None
    return frozenset(known[a] for a in raw)


def _pool_regions(
    s: _Reader, steering: Steering | None, regions: list[str] | None
) -> dict[str, str] | None:
    """Cloudflare region code -> AWS region; with `regions` None (bad), only the codes."""
    raw_pools = s.get("poolRegions", {} if steering is not Steering.GEO else _MISSING)
    if raw_pools is _MISSING:
        return None
    if not isinstance(raw_pools, dict):
        s.fail("poolRegions", raw_pools, "must map Cloudflare region codes to AWS regions")
        return None
    pool_regions: dict[str, str] = {}
    for code, region in raw_pools.items():
        if code not in CLOUDFLARE_REGIONS:
            s.fail(
                "poolRegions",
                code,
                f"unknown Cloudflare region (allowed: {', '.join(sorted(CLOUDFLARE_REGIONS))})",
            )
        elif regions is not None and region not in regions:
            s.fail(
                f"poolRegions.{code}",
                region,
                f"must be a deployed region ({', '.join(regions) or 'none deployed'})",
            )
        else:
            pool_regions[code] = region
    ok = regions is not None and len(pool_regions) == len(raw_pools)
    return pool_regions if ok else None


def _canonical_hostname(s: _Reader, hostnames: tuple[str, ...] | None) -> str | None:
    canonical = s.string("canonicalHostname", None, pattern=_HOSTNAME, allowed="a hostname")
    if canonical is not None and hostnames is not None and canonical not in hostnames:
        s.fail("canonicalHostname", canonical, f"must be one of hostnames ({', '.join(hostnames)})")
        return None
    return canonical


def _write_pinning(s: _Reader, limits: PlanLimits | None) -> WritePinning | None:
    override = limits is None or limits.origin_dns_override
    write = s.choice(
        "writePinning",
        WritePinning,
        default=WritePinning.ORIGIN_RULE if override else WritePinning.REDIRECT,
    )
    if write is WritePinning.ORIGIN_RULE and limits is not None and not override:
        s.fail(
            "writePinning",
            write.value,
            f"needs an origin rule that overrides the DNS record, which the {limits.plan.value} "
            "plan cannot have (Override DNS records is Enterprise-only): use redirect",
        )
        return None
    return write  # type: ignore[no-any-return]


def _dnssec(s: _Reader, owns_zone: bool | None) -> bool | None:
    dnssec = s.boolean("dnssec", default=False)
    if dnssec and owns_zone is False:
        s.fail(
            "dnssec",
            dnssec,
            "DNSSEC is zone-wide: only a stack that owns the zone (edge.ownsZone: true) may "
            "turn it on",
        )
        return None
    return dnssec


def _waf(edge: _Reader, limits: PlanLimits | None) -> tuple[WafRuleset, ...] | None:
    raw = edge.str_list("waf", [w.value for w in WafRuleset])
    if raw is None:
        return None
    known = {w.value: w for w in WafRuleset}
    bad = [w for w in raw if w not in known]
    if bad:
        edge.fail("waf", bad[0], f"unknown managed ruleset (allowed: {', '.join(known)})")
        return None
    if raw and limits is not None and not limits.managed_waf:
        edge.fail(
            "waf",
            raw,
            f"the {limits.plan.value} plan has neither the Cloudflare Managed nor the OWASP Core "
            "ruleset (pro and above): set waf: []",
        )
        return None
    return tuple(known[w] for w in raw)


def _origin_auth(edge: _Reader) -> OriginAuthConfig | None:
    s = edge.section("originAuth", {})
    if s is None:
        return None
    # ALB header conditions: names up to 40 characters of RFC 7230 token characters.
    header = s.string(
        "header", "X-Python-Org-Edge", pattern=r"[A-Za-z0-9-]{1,40}",
        allowed="an HTTP header name of up to 40 letters, digits and dashes",
    )  # fmt: skip
    if header is not None and header.lower().startswith(("cf-", "x-cf-", "x-forwarded-")):
        s.fail("header", header, "must not start with cf-, x-cf- or x-forwarded- (Cloudflare's)")
        header = None
    active = s.string("active", "a", pattern="[ab]", allowed="a or b")
    generations: dict[str, int] = {}
    g = s.section("generations", {"a": 1, "b": 1})
    if g is not None:
        for key in ("a", "b"):
            value = g.integer(key, 1, 1_000_000, default=1)
            if value is not None:
                generations[key] = value
        g.finish()
    s.finish()
    if header is None or active is None or len(generations) != 2:
        return None
    return OriginAuthConfig(header=header, active=active, generations=generations)
