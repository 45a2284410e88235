"""Edge: python.org's global front door on Cloudflare.

Builds, for the zone:
- load balancing across the regions: an HTTPS health monitor on the site's health path, one
  origin pool per region (its origin is that region's load balancer), and a proxied load
  balancer per public hostname that steers by geography (each Cloudflare region to the pool of
  the AWS region mapped in config, then the home region, then the rest) or by latency, with the
  home region as fallback pool;
- writes pinned to the home region, where the database primary is: an origin rule sends
  non-GET/HEAD/OPTIONS requests and the admin and account paths to the home region's origin
  hostname. (Not a load balancer rule: Cloudflare ignores those under geo steering.)
- proxied DNS records for every public hostname (pointing at the home region's load balancer:
  the answer if a load balancer is ever disabled; while one exists it takes precedence), and
  one per region for its origin hostname (`origin-<stack>-<region>`), which reaches that region
  alone: the target of the write rule, and on-call's way to test one region;
- TLS and zone settings: SSL full (strict), minimum TLS 1.2, TLS 1.3, always HTTPS, HSTS,
  HTTP/3; Brotli as a compression rule (the old zone setting is retired);
- cache rules (long edge TTL for static and media, a short one for anonymous HTML, bypass for
  authenticated and admin paths), the Cloudflare managed WAF rulesets, and rate limits.

Adding a region to the config adds its pool and its steering entries; nothing here names a
region.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_cloudflare as cloudflare

from infra.config import CacheConfig, RateLimit, Steering

# Cloudflare's managed WAF rulesets (IDs are fixed: developers.cloudflare.com/waf/managed-rules/).
CLOUDFLARE_MANAGED_RULESET = "efb7b8c949ac4650a09736fc376e9aee"
OWASP_CORE_RULESET = "4814384a9e5d4991b9815dcfc25d2f1f"

# Values of the zone settings this component declares (setting id -> value).
ZONE_SETTINGS: dict[str, Any] = {
    "ssl": "strict",  # full (strict): Cloudflare verifies the origin certificate
    "min_tls_version": "1.2",
    "tls_1_3": "on",
    "always_use_https": "on",
    "automatic_https_rewrites": "on",
    "http3": "on",
    "0rtt": "off",  # 0-RTT data can be replayed
    # No "brotli" setting: Cloudflare retired it (API end of life 2024-06-14); Brotli is
    # declared as a compression rule instead (see `_compression`).
}
HSTS_PRELOAD_MIN_AGE = 31536000
# Preferred response encodings, first match wins.
COMPRESSION = ("brotli", "gzip")


@dataclass(frozen=True, kw_only=True)
class Origin:
    region: str
    address: pulumi.Input[str]  # the region's load balancer DNS name
    hostname: str  # the proxied name that reaches this region alone


@dataclass(frozen=True, kw_only=True)
class EdgeArgs:
    stack: str
    zone_id: pulumi.Input[str]
    account_id: pulumi.Input[str]
    hostnames: tuple[str, ...]
    home_region: str
    origins: tuple[Origin, ...]
    steering: Steering
    pool_regions: Mapping[str, str]  # Cloudflare region code -> AWS region
    health_check_path: str
    cache: CacheConfig
    rate_limits: tuple[RateLimit, ...]
    hsts_max_age: int

    def __post_init__(self) -> None:
        regions = {o.region for o in self.origins}
        if self.home_region not in regions:
            raise ValueError(f"home region {self.home_region} has no origin")
        unmapped = set(self.pool_regions.values()) - regions
        if unmapped:
            raise ValueError(f"pool regions map to regions without an origin: {unmapped}")


def _paths_expression(paths: Sequence[str]) -> str:
    return " or ".join(f'starts_with(http.request.uri.path, "{p}")' for p in paths)


class Edge(pulumi.ComponentResource):
    monitor: cloudflare.LoadBalancerMonitor
    pools: dict[str, cloudflare.LoadBalancerPool]
    load_balancers: dict[str, cloudflare.LoadBalancer]

    def __init__(
        self, name: str, args: EdgeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("python-org:edge:Edge", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        primary_host = args.hostnames[0]

        self.monitor = cloudflare.LoadBalancerMonitor(
            f"{name}-health",
            account_id=args.account_id,
            description=f"python-org {args.stack}: {args.health_check_path} over HTTPS",
            type="https",
            method="GET",
            path=args.health_check_path,
            port=443,
            expected_codes="200",
            # The regional certificate is for the public names: send one as Host (and SNI).
            header={"Host": [primary_host]},
            allow_insecure=False,
            follow_redirects=False,
            interval=60,
            timeout=5,
            retries=2,
            consecutive_down=2,
            consecutive_up=2,
            opts=child,
        )
        self.pools = {
            origin.region: cloudflare.LoadBalancerPool(
                f"{name}-{origin.region}",
                account_id=args.account_id,
                name=f"python-org-{args.stack}-{origin.region}",
                description=f"python.org {args.stack}: the {origin.region} load balancer",
                origins=[
                    cloudflare.LoadBalancerPoolOriginArgs(
                        name=origin.region,
                        address=origin.address,
                        enabled=True,
                        weight=1,
                        # No Host header override: requests keep the public Host (which the
                        # regional certificate covers), and a load balancer header override
                        # would take precedence over the write-pinning origin rule.
                    )
                ],
                monitor=self.monitor.id,
                minimum_origins=1,
                # Probe from where the users of this stack are.
                check_regions=sorted(args.pool_regions) or None,
                enabled=True,
                opts=child,
            )
            for origin in args.origins
        }
        home_pool = self.pools[args.home_region].id
        # Cloudflare region -> AWS regions in the order their pools are tried.
        self.steering_map = {
            code: failover_order(region, args.home_region, self.pools)
            for code, region in sorted(args.pool_regions.items())
        }
        self.load_balancers = {
            host: cloudflare.LoadBalancer(
                f"{name}-{host}",
                zone_id=args.zone_id,
                name=host,
                description=f"python.org {args.stack}: {host} across regions",
                proxied=True,
                steering_policy=args.steering.value,
                default_pools=self._failover_order(args.home_region, args),
                fallback_pool=home_pool,
                region_pools={
                    code: self._failover_order(region, args)
                    for code, region in sorted(args.pool_regions.items())
                }
                if args.steering is Steering.GEO
                else None,
                adaptive_routing=cloudflare.LoadBalancerAdaptiveRoutingArgs(
                    failover_across_pools=True
                ),
                session_affinity="none",
                opts=child,
            )
            for host in args.hostnames
        }
        home = next(o for o in args.origins if o.region == args.home_region)
        records = [
            (host, home.address, "Fallback; the load balancer of the same name takes precedence")
            for host in args.hostnames
        ] + [
            (o.hostname, o.address, f"The {o.region} load balancer alone, bypassing steering")
            for o in args.origins
        ]
        for host, address, comment in records:
            cloudflare.DnsRecord(
                f"{name}-{host}",
                zone_id=args.zone_id,
                name=host,
                type="CNAME",
                content=address,
                proxied=True,
                ttl=1,  # automatic: required for proxied records
                comment=comment,
                opts=child,
            )
        self._pin_writes(name, args, home.hostname)
        self._zone_settings(name, args)
        self._compression(name, args)
        self._cache_rules(name, args)
        self._waf(name, args)
        self.register_outputs(
            {
                "pools": {region: pool.id for region, pool in self.pools.items()},
                "monitor": self.monitor.id,
            }
        )

    def _failover_order(self, first: str, args: EdgeArgs) -> list[pulumi.Output[str]]:
        """Pool ids: `first`, then the home region, then every other region by name."""
        return [self.pools[r].id for r in failover_order(first, args.home_region, self.pools)]

    def _zone_settings(self, name: str, args: EdgeArgs) -> None:
        child = pulumi.ResourceOptions(parent=self)
        for setting, value in ZONE_SETTINGS.items():
            cloudflare.ZoneSetting(
                f"{name}-{setting}",
                zone_id=args.zone_id,
                setting_id=setting,
                value=value,
                opts=child,
            )
        cloudflare.ZoneSetting(
            f"{name}-security_header",
            zone_id=args.zone_id,
            setting_id="security_header",
            value={
                "strict_transport_security": {
                    "enabled": True,
                    "max_age": args.hsts_max_age,
                    "include_subdomains": True,
                    # The browsers' preload list takes only max-ages of a year or more.
                    "preload": args.hsts_max_age >= HSTS_PRELOAD_MIN_AGE,
                    "nosniff": True,
                }
            },
            opts=child,
        )

    def _zone_ruleset(
        self,
        resource_name: str,
        args: EdgeArgs,
        *,
        phase: str,
        title: str,
        rules: Sequence[cloudflare.RulesetRuleArgs],
    ) -> cloudflare.Ruleset:
        """The zone's entry-point ruleset of `phase` (one per zone and phase: this stack owns
        the zone, see the stack files)."""
        return cloudflare.Ruleset(
            resource_name,
            zone_id=args.zone_id,
            kind="zone",
            phase=phase,
            name=title,
            description="Managed by Pulumi (python-org-infra)",
            rules=list(rules),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _pin_writes(self, name: str, args: EdgeArgs, home_hostname: str) -> None:
        """Only the home region can write: its database is the primary."""
        self._zone_ruleset(
            f"{name}-origin",
            args,
            phase="http_request_origin",
            title="python.org origin rules",
            rules=[
                cloudflare.RulesetRuleArgs(
                    description=f"Writes to the home region ({args.home_region})",
                    expression=write_condition(args.cache.bypass_paths),
                    action="route",
                    action_parameters=cloudflare.RulesetRuleActionParametersArgs(
                        # DNS override only: Host and SNI stay the public name, which the
                        # home region's certificate covers.
                        origin=cloudflare.RulesetRuleActionParametersOriginArgs(host=home_hostname),
                    ),
                    enabled=True,
                )
            ],
        )

    def _compression(self, name: str, args: EdgeArgs) -> None:
        self._zone_ruleset(
            f"{name}-compression",
            args,
            phase="http_response_compression",
            title="python.org compression",
            rules=[
                cloudflare.RulesetRuleArgs(
                    description="Brotli, else gzip",
                    expression="true",
                    action="compress_response",
                    action_parameters=cloudflare.RulesetRuleActionParametersArgs(
                        algorithms=[
                            cloudflare.RulesetRuleActionParametersAlgorithmArgs(name=a)
                            for a in COMPRESSION
                        ]
                    ),
                    enabled=True,
                )
            ],
        )

    def _cache_rules(self, name: str, args: EdgeArgs) -> None:
        cache = args.cache
        bypass = _paths_expression(cache.bypass_paths)
        static = _paths_expression(cache.static_paths)
        # Every matching cache rule applies and later rules override earlier ones: the
        # bypass rule comes last so that nothing can cache an authenticated page.
        rules = [
            cloudflare.RulesetRuleArgs(
                description="Anonymous HTML: short edge TTL",
                expression=(
                    f'http.request.uri.path.extension in {{"" "html"}} '
                    f'and not http.cookie contains "sessionid" and not ({static})'
                ),
                action="set_cache_settings",
                action_parameters=cloudflare.RulesetRuleActionParametersArgs(
                    cache=True,
                    edge_ttl=cloudflare.RulesetRuleActionParametersEdgeTtlArgs(
                        mode="override_origin", default=cache.html_edge_ttl
                    ),
                    browser_ttl=cloudflare.RulesetRuleActionParametersBrowserTtlArgs(
                        mode="respect_origin"
                    ),
                ),
                enabled=True,
            ),
            cloudflare.RulesetRuleArgs(
                description="Static and media files: long edge TTL",
                expression=static,
                action="set_cache_settings",
                action_parameters=cloudflare.RulesetRuleActionParametersArgs(
                    cache=True,
                    edge_ttl=cloudflare.RulesetRuleActionParametersEdgeTtlArgs(
                        mode="override_origin", default=cache.static_edge_ttl
                    ),
                ),
                enabled=True,
            ),
            cloudflare.RulesetRuleArgs(
                description="Authenticated and admin paths: never cached",
                expression=f'{bypass} or http.cookie contains "sessionid"',
                action="set_cache_settings",
                action_parameters=cloudflare.RulesetRuleActionParametersArgs(cache=False),
                enabled=True,
            ),
        ]
        self._zone_ruleset(
            f"{name}-cache",
            args,
            phase="http_request_cache_settings",
            title="python.org cache rules",
            rules=rules,
        )

    def _waf(self, name: str, args: EdgeArgs) -> None:
        self._zone_ruleset(
            f"{name}-waf",
            args,
            phase="http_request_firewall_managed",
            title="python.org managed WAF",
            rules=[
                cloudflare.RulesetRuleArgs(
                    description=description,
                    expression="true",
                    action="execute",
                    action_parameters=cloudflare.RulesetRuleActionParametersArgs(id=ruleset),
                    enabled=True,
                )
                for description, ruleset in (
                    ("Cloudflare Managed Ruleset", CLOUDFLARE_MANAGED_RULESET),
                    ("Cloudflare OWASP Core Ruleset", OWASP_CORE_RULESET),
                )
            ],
        )
        self._zone_ruleset(
            f"{name}-rate-limits",
            args,
            phase="http_ratelimit",
            title="python.org rate limits",
            rules=[
                cloudflare.RulesetRuleArgs(
                    description=f"Rate limit {limit.path}",
                    expression=_paths_expression([limit.path]),
                    action="block",
                    ratelimit=cloudflare.RulesetRuleRatelimitArgs(
                        # Per client IP, counted in each Cloudflare data centre.
                        characteristics=["cf.colo.id", "ip.src"],
                        period=limit.period_seconds,
                        requests_per_period=limit.requests,
                        mitigation_timeout=limit.mitigation_seconds,
                    ),
                    enabled=True,
                )
                for limit in args.rate_limits
            ],
        )


def failover_order(first: str, home: str, regions: Sequence[str] | Mapping[str, Any]) -> list[str]:
    """`first`, then the home region, then every other region by name."""
    return list(dict.fromkeys([first, home, *sorted(regions)]))


def write_condition(write_paths: Sequence[str]) -> str:
    """Requests that write (or may write) go to the home region, where the primary is."""
    methods = 'not (http.request.method in {"GET" "HEAD" "OPTIONS"})'
    return f"{methods} or {_paths_expression(write_paths)}" if write_paths else methods
