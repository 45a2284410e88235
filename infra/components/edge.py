"""Edge: python.org's front door on Cloudflare, in a zone the stack may share with others.

python.org is one Cloudflare zone for many services; this stack owns a few names in it (its
`ZoneScope`). Everything here changes only those names (docs/edge.md lists what is changed and
what is never touched):

- load balancing across the regions: an HTTPS health monitor on the site's health path (it sends
  the public Host and the origin secret, as the edge would), one origin pool per region (its
  origin is that region's load balancer), and a proxied load balancer per served hostname that
  steers by geography (each Cloudflare region to the pool of the AWS region mapped in config,
  then the home region, then the rest by distance) or by latency, the home region as fallback;
- DNS: proxied records for the public hostnames (the answer if a load balancer is ever disabled)
  and one per region for its origin hostname (`origin-<stack>-<region>`); CAA records allowing
  exactly the CAs that issue for those names (ACM and Cloudflare's edge CAs), with an iodef
  contact; DNSSEC when the stack owns the zone, its DS record an output for the registrar;
- rules, each in the zone's entry-point ruleset of its phase and each limited to the stack's
  hostnames (`http.host in {...}`): the apex's 301 to the canonical hostname (path and query
  kept), HTTPS-only, SSL full (strict) and HTTPS rewrites per host (configuration rules), writes
  pinned to the home region (an origin rule on Enterprise, a 307 to the home region's own
  hostname elsewhere), path origins such as /ftp/ (another origin, no cookies, no query string,
  long TTL), media from the home region's media bucket (an origin rule with the bucket's name as
  Host and SNI, resolving a DNS-only `media-origin-<stack>` CNAME of the zone: the app's media
  URLs are on the public hostname, docs/app-contract.md "Media and static"), the origin secret
  header, HSTS per host (response header rules), cache rules, Brotli, the managed WAF rulesets
  and rate limits;
- zone-wide settings (TLS versions, HTTP/3, 0-RTT, always-HTTPS) only when the stack owns the
  zone (`edge.ownsZone`); otherwise the zone's owners keep them.

Adding a region to the config adds its pool and its steering entries; nothing here names a
region.

The component is one class here; its parts, declared as its children (so names and URNs are the
component's), are in helper modules: edge_load_balancing.py (monitor, pools, load balancers),
edge_dns.py (records, CAA, DNSSEC), edge_rulesets.py (the phase rulesets) with
edge_routing_rules.py, edge_security_rules.py and edge_cache_rules.py (their rules).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_cloudflare as cloudflare

from infra.cloudflare_plans import AddOn
from infra.components import (
    edge_cache_rules,
    edge_dns,
    edge_load_balancing,
    edge_routing_rules,
    edge_security_rules,
)
from infra.components.edge_rulesets import Rulesets
from infra.config import EdgeConfig
from infra.zone_scope import ZoneScope

# Zone-wide settings, declared only by a stack that owns the zone (setting id -> value).
ZONE_SETTINGS: dict[str, Any] = {
    "ssl": "strict",  # full (strict): Cloudflare verifies the origin certificate
    "min_tls_version": "1.2",
    "tls_1_3": "on",
    "always_use_https": "on",
    "automatic_https_rewrites": "on",
    "http3": "on",
    "0rtt": "off",  # 0-RTT data can be replayed
    # No "brotli" setting: Cloudflare retired it (API end of life 2024-06-14); Brotli is
    # declared as a compression rule instead (see `edge_cache_rules.compression`). HSTS is a
    # response header rule per hostname (see `edge_security_rules.hsts`), so that it is the same
    # whether or not the zone is ours.
}


@dataclass(frozen=True, kw_only=True)
class Origin:
    region: str
    address: pulumi.Input[str]  # the region's load balancer DNS name
    hostname: str  # the proxied name that reaches this region alone


@dataclass(frozen=True, kw_only=True)
class MediaOrigin:
    """Where the edge reads /media/: the home region's media bucket."""

    hostname: str  # a DNS-only name of the zone, CNAME to the bucket (the resolve override)
    bucket_host: pulumi.Input[str]  # <bucket>.s3.<region>.amazonaws.com (Host and SNI)


@dataclass(frozen=True, kw_only=True)
class EdgeSecret:
    """The header the edge adds so that the load balancers know a request came through it."""

    header: str
    value: pulumi.Input[str]  # secret


@dataclass(frozen=True, kw_only=True)
class EdgeArgs:
    stack: str
    zone_id: pulumi.Input[str]
    account_id: pulumi.Input[str]
    scope: ZoneScope
    home_region: str
    origins: tuple[Origin, ...]
    config: EdgeConfig
    health_check_path: str
    origin_secret: EdgeSecret | None = None
    media: MediaOrigin | None = None

    def __post_init__(self) -> None:
        regions = {o.region for o in self.origins}
        if self.home_region not in regions:
            raise ValueError(f"home region {self.home_region} has no origin")
        unmapped = set(self.config.pool_regions.values()) - regions
        if unmapped:
            raise ValueError(f"pool regions map to regions without an origin: {unmapped}")
        if set(self.scope.origin_hostnames) != {o.hostname for o in self.origins}:
            raise ValueError("the scope's origin hostnames must be the origins' hostnames")

    @property
    def canonical(self) -> str:
        """The hostname the monitor and the apex redirect use."""
        return self.config.canonical_hostname or self.scope.hostnames[0]

    @property
    def served(self) -> tuple[str, ...]:
        """Public hostnames that serve (the rest redirect to the canonical one)."""
        if self.config.canonical_hostname is None:
            return self.scope.hostnames
        return (self.config.canonical_hostname,)


class Edge(pulumi.ComponentResource):
    monitor: cloudflare.LoadBalancerMonitor
    pools: dict[str, cloudflare.LoadBalancerPool]
    steering_map: dict[str, list[str]]  # Cloudflare region -> AWS regions, in failover order
    load_balancers: dict[str, cloudflare.LoadBalancer]
    rulesets: dict[str, cloudflare.Ruleset]  # phase -> the zone's entry-point ruleset
    dnssec: cloudflare.ZoneDnssec | None

    def __init__(
        self, name: str, args: EdgeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("python-org:edge:Edge", name, None, opts)
        self.monitor = edge_load_balancing.health_monitor(self, name, args)
        self.pools = edge_load_balancing.origin_pools(self, name, args, self.monitor)
        self.steering_map = edge_load_balancing.steering_map(args, self.pools)
        self.load_balancers = edge_load_balancing.load_balancers(self, name, args, self.pools)
        edge_dns.records(self, name, args)
        edge_dns.media_origin(self, name, args)
        edge_dns.caa(self, name, args)
        self.dnssec = edge_dns.dnssec(self, name, args)
        self._tls_settings(name, args)
        rules = Rulesets(self, name, args)
        self.rulesets = rules.by_phase
        edge_routing_rules.redirects(rules, args)
        edge_security_rules.config_rules(rules, args)
        edge_routing_rules.origin_rules(rules, args)
        edge_routing_rules.url_rewrites(rules, args)
        edge_routing_rules.request_headers(rules, args)
        edge_security_rules.hsts(rules, args)
        edge_cache_rules.cache_rules(rules, args)
        edge_cache_rules.compression(rules, args)
        edge_security_rules.waf(rules, args)
        self.register_outputs(
            {
                "pools": {region: pool.id for region, pool in self.pools.items()},
                "monitor": self.monitor.id,
            }
        )

    def _tls_settings(self, name: str, args: EdgeArgs) -> None:
        """The zone-wide settings when the stack owns the zone; otherwise, with Advanced
        Certificate Manager, the minimum TLS version of the stack's own names."""
        if args.scope.owns_zone:
            for setting, value in ZONE_SETTINGS.items():
                cloudflare.ZoneSetting(
                    f"{name}-{setting}",
                    zone_id=args.zone_id,
                    setting_id=setting,
                    value=value,
                    opts=pulumi.ResourceOptions(parent=self),
                )
        elif AddOn.ADVANCED_CERTIFICATE_MANAGER in args.config.add_ons:
            # The zone's minimum TLS is its owners'; with Advanced Certificate Manager ("Minimum
            # TLS Version: per-hostname", plans table) the stack's names get their own.
            for host in args.scope.names:
                cloudflare.HostnameTlsSetting(
                    f"{name}-min-tls-{host}",
                    zone_id=args.zone_id,
                    hostname=host,
                    setting_id="min_tls_version",
                    value=ZONE_SETTINGS["min_tls_version"],
                    opts=pulumi.ResourceOptions(parent=self),
                )
