"""python-org:edge's rules: cache, rate limits, HSTS per hostname, path origins; each limited by
what the Cloudflare plan has (infra/cloudflare_plans.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from infra.cloudflare_plans import RATE_LIMIT_PERIODS, PlanLimits, duration
from infra.config.reader import _HOSTNAME, _MISSING, _PATH_PREFIX, _Reader


@dataclass(frozen=True, kw_only=True)
class CacheConfig:
    """Cloudflare cache rules, TTLs in seconds."""

    static_paths: tuple[str, ...]
    # None: the origin's Cache-Control decides (no override, so a 404 is never kept long).
    static_edge_ttl: int | None
    bypass_paths: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class RateLimit:
    path: str
    requests: int
    period_seconds: int
    mitigation_seconds: int


HSTS_PRELOAD_MIN_AGE = 31536000  # the preload list's minimum max-age (hstspreload.org)


@dataclass(frozen=True, kw_only=True)
class HstsPolicy:
    max_age: int
    include_subdomains: bool
    preload: bool

    def header(self) -> str:
        """The Strict-Transport-Security value (RFC 6797 section 6.1)."""
        parts = [f"max-age={self.max_age}"]
        if self.include_subdomains:
            parts.append("includeSubDomains")
        if self.preload:
            parts.append("preload")
        return "; ".join(parts)


@dataclass(frozen=True, kw_only=True)
class PathOrigin:
    """Requests under `prefix` go to another origin (e.g. the /ftp/ downloads server)."""

    prefix: str
    host: str  # a hostname on the same Cloudflare account (a DNS record override)
    port: int | None  # a destination port override
    sni: str | None  # the TLS server name to send instead of the request's host
    edge_ttl: int


def _paths(reader: _Reader, name: str, default: Any) -> tuple[str, ...] | None:
    paths = reader.str_list(name, default)
    if paths is None:
        return None
    for path in paths:
        if not re.fullmatch(_PATH_PREFIX, path):
            reader.fail(name, path, "every entry must be a URL path prefix such as /static/")
            return None
    return paths


def _edge_ttl(
    reader: _Reader, name: str, limits: PlanLimits | None, default: Any = _MISSING
) -> int | None:
    """An edge cache TTL: at least the plan's minimum, at most a year."""
    ttl = reader.integer(name, 1, 31536000, default)
    if ttl is not None and limits is not None and ttl < limits.min_edge_ttl:
        reader.fail(
            name,
            ttl,
            f"is below the {limits.plan.value} plan's minimum edge cache TTL "
            f"({duration(limits.min_edge_ttl)}; 1 second needs business or enterprise)",
        )
        return None
    return ttl


def _cache(edge: _Reader, limits: PlanLimits | None) -> CacheConfig | None:
    s = edge.section("cache", {})
    if s is None:
        return None
    static_paths = _paths(s, "staticPaths", ["/static/", "/media/"])
    bypass = _paths(s, "bypassPaths", ["/admin/", "/api/", "/accounts/", "/users/"])
    # Overriding the origin's TTL would also keep a static file's 404 for that long; exempting
    # 404s needs Cache by status code, which only Enterprise has. Elsewhere the origin decides.
    status_ttl = limits is None or limits.status_code_ttl
    static_ttl = _edge_ttl(s, "staticEdgeTtlSeconds", limits, 2592000 if status_ttl else None)
    if static_ttl is not None and not status_ttl and limits is not None:
        s.fail(
            "staticEdgeTtlSeconds",
            static_ttl,
            f"overriding the origin's TTL would cache static 404s too, and keeping them out needs "
            f"Cache by status code, which the {limits.plan.value} plan cannot have (Enterprise "
            "only): leave it unset to let the origin's Cache-Control decide",
        )
        s.finish()
        return None
    s.finish()
    if None in (static_paths, bypass) or ("staticEdgeTtlSeconds" in s.data and static_ttl is None):
        return None
    assert static_paths is not None
    assert bypass is not None
    return CacheConfig(static_paths=static_paths, static_edge_ttl=static_ttl, bypass_paths=bypass)


_DEFAULT_RATE_LIMITS = [
    {"path": "/accounts/login/", "requests": 10, "periodSeconds": 60, "mitigationSeconds": 600},
    {"path": "/uploads/", "requests": 30, "periodSeconds": 60, "mitigationSeconds": 600},
]


def _rate_limits(edge: _Reader, limits: PlanLimits | None) -> tuple[RateLimit, ...] | None:
    raw = edge.get("rateLimits", _DEFAULT_RATE_LIMITS)
    if not isinstance(raw, list):
        edge.fail("rateLimits", raw, "must be a list of {path, requests, periodSeconds, ...}")
        return None
    if limits is not None and raw and not limits.rate_limit_host_field:
        edge.fail(
            "rateLimits",
            raw,
            f"the {limits.plan.value} plan's rate limiting rules can match the path only, not "
            "the host, so they cannot be limited to this stack's hostnames in a shared zone "
            "(pro and above): set rateLimits: []",
        )
        return None
    if limits is not None and len(raw) > limits.rate_limit_rules:
        edge.fail(
            "rateLimits",
            f"{len(raw)} rules",
            f"the {limits.plan.value} plan allows {limits.rate_limit_rules} rate limiting "
            f"rule{'s' if limits.rate_limit_rules > 1 else ''}",
        )
        return None
    periods = limits.allowed_periods() if limits else RATE_LIMIT_PERIODS
    mitigations = limits.allowed_mitigations() if limits else RATE_LIMIT_PERIODS
    on = f" on the {limits.plan.value} plan" if limits else ""
    out: list[RateLimit] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            edge.fail(f"rateLimits[{i}]", item, "must be a mapping")
            continue
        r = _Reader(edge.problems, f"{edge.path}.rateLimits[{i}]", item)
        path = r.string("path", pattern=_PATH_PREFIX, allowed="a URL path prefix")
        requests = r.integer("requests", 1, 1_000_000)
        period = r.integer("periodSeconds", 10, 86400)
        if period is not None and period not in periods:
            r.fail("periodSeconds", period, f"must be one of {_seconds(periods)}{on}")
            period = None
        mitigation = r.integer("mitigationSeconds", 10, 86400, default=min(600, mitigations[-1]))
        if mitigation is not None and mitigation not in mitigations:
            r.fail("mitigationSeconds", mitigation, f"must be one of {_seconds(mitigations)}{on}")
            mitigation = None
        r.finish()
        if path and requests and period and mitigation:
            out.append(
                RateLimit(
                    path=path,
                    requests=requests,
                    period_seconds=period,
                    mitigation_seconds=mitigation,
                )
            )
    return tuple(out) if len(out) == len(raw) else None


def _seconds(values: tuple[int, ...]) -> str:
    return ", ".join(str(v) for v in values)


def _hsts(
    edge: _Reader, hostnames: tuple[str, ...] | None, domain: str | None, owns_zone: bool | None
) -> dict[str, HstsPolicy] | None:
    s = edge.section("hsts")
    if s is None or hostnames is None:
        return None
    ok = True
    policies: dict[str, HstsPolicy] = {}
    for host in s.data:
        if host not in hostnames:
            s.fail(host, s.data[host], f"is not one of hostnames ({', '.join(hostnames)})")
            ok = False
    for host in hostnames:
        entry = s.section(host)
        if entry is None:
            ok = False
            continue
        # Two years is the longest the preload list asks for; the apex of python.org sends ten.
        age = entry.integer("maxAgeSeconds", 0, 315360000)
        subdomains = entry.boolean("includeSubdomains", default=False)
        preload = entry.boolean("preload", default=False)
        if preload and age is not None and age < HSTS_PRELOAD_MIN_AGE:
            entry.fail(
                "preload",
                preload,
                f"needs maxAgeSeconds >= {HSTS_PRELOAD_MIN_AGE} (one year), the preload list's "
                f"minimum; it is {age}",
            )
            preload = None
        if subdomains and host == domain and not owns_zone:
            entry.fail(
                "includeSubdomains",
                subdomains,
                f"on the zone apex would force HTTPS on every name under {domain}, most of "
                "them not this stack's: only a stack that owns the zone (edge.ownsZone: true) "
                "may set it",
            )
            subdomains = None
        entry.finish()
        if age is None or subdomains is None or preload is None:
            ok = False
            continue
        policies[host] = HstsPolicy(max_age=age, include_subdomains=subdomains, preload=preload)
    return policies if ok else None


def _path_origins(
    edge: _Reader, limits: PlanLimits | None, hostnames: tuple[str, ...] | None
) -> tuple[PathOrigin, ...] | None:
    s = edge.section("pathOrigins", {})
    if s is None:
        return None
    if s.data and limits is not None and not limits.origin_dns_override:
        edge.fail(
            "pathOrigins",
            s.data,
            f"sending a path to another origin needs an origin rule that overrides the DNS "
            f"record, which the {limits.plan.value} plan cannot have (Enterprise only)",
        )
        return None
    out: list[PathOrigin] = []
    for prefix in s.data:
        if not re.fullmatch(_PATH_PREFIX, prefix) or not prefix.endswith("/"):
            s.fail(prefix, s.data[prefix], "must be keyed by a URL path prefix such as /ftp/")
            continue
        entry = s.section(prefix)
        if entry is None:
            continue
        host = entry.string(
            "host", pattern=_HOSTNAME, allowed="a hostname (a DNS record on the same Cloudflare "
            "account, the origin rule's DNS record override)",
        )  # fmt: skip
        if host is not None and hostnames is not None and host in hostnames:
            entry.fail("host", host, "must be another origin, not one of this stack's hostnames")
            host = None
        port = entry.integer("port", 1, 65535, None)
        sni = entry.string("sni", None, pattern=_HOSTNAME, allowed="a hostname")
        ttl = _edge_ttl(entry, "edgeTtlSeconds", limits, 2592000)
        entry.finish()
        bad = ("port" in entry.data and port is None) or ("sni" in entry.data and sni is None)
        if host is not None and ttl is not None and not bad:
            out.append(PathOrigin(prefix=prefix, host=host, port=port, sni=sni, edge_ttl=ttl))
    return tuple(out) if len(out) == len(s.data) else None
