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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_cloudflare as cloudflare

from infra.cloudflare_plans import AddOn
from infra.config import EdgeConfig, PathOrigin, Steering, WafRuleset, WritePinning
from infra.geo import by_distance
from infra.zone_scope import ZoneScope

# Cloudflare's managed WAF rulesets (IDs are fixed: developers.cloudflare.com/waf/managed-rules/).
CLOUDFLARE_MANAGED_RULESET = "efb7b8c949ac4650a09736fc376e9aee"
OWASP_CORE_RULESET = "4814384a9e5d4991b9815dcfc25d2f1f"
WAF_RULESETS = {
    WafRuleset.CLOUDFLARE_MANAGED: ("Cloudflare Managed Ruleset", CLOUDFLARE_MANAGED_RULESET),
    WafRuleset.OWASP_CORE: ("Cloudflare OWASP Core Ruleset", OWASP_CORE_RULESET),
}

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
    # declared as a compression rule instead (see `_compression`). HSTS is a response header
    # rule per hostname (see `_hsts`), so that it is the same whether or not the zone is ours.
}
# The SSL mode a configuration rule sets for the stack's hostnames, owned zone or not
# (Configuration Rules settings: "ssl" takes off, flexible, full, strict, origin_pull).
PER_HOST_SSL = "strict"
# Preferred response encodings, first match wins.
COMPRESSION = ("brotli", "gzip")

# CAA (RFC 8659) issuers for the stack's names. ACM: "amazon.com" (any of amazon.com,
# amazontrust.com, awstrust.com, amazonaws.com authorizes it: AWS Certificate Manager User Guide,
# "Certificate Authority Authorization (CAA)"). Cloudflare's edge certificates: the CAA record
# content per CA in developers.cloudflare.com/ssl/reference/certificate-authorities/ (Let's
# Encrypt and Google Trust Services for Universal and advanced certificates, SSL.com for
# advanced and backup certificates, Sectigo for backup certificates only); DigiCert is left out,
# "deprecating soon" there and used for none of the certificates Cloudflare issues anew.
CAA_ISSUERS = {
    "acm": "amazon.com",
    "letsencrypt": "letsencrypt.org",
    "google": "pki.goog; cansignhttpexchanges=yes",
    "sslcom": "ssl.com",
    "sectigo": "sectigo.com",
}
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


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


def paths_expression(paths: Sequence[str]) -> str:
    return " or ".join(f'starts_with(http.request.uri.path, "{p}")' for p in paths)


class Edge(pulumi.ComponentResource):
    monitor: cloudflare.LoadBalancerMonitor
    pools: dict[str, cloudflare.LoadBalancerPool]
    load_balancers: dict[str, cloudflare.LoadBalancer]
    rulesets: dict[str, cloudflare.Ruleset]  # phase -> the zone's entry-point ruleset
    dnssec: cloudflare.ZoneDnssec | None

    def __init__(
        self, name: str, args: EdgeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("python-org:edge:Edge", name, None, opts)
        self._name = name
        self._args = args
        self.rulesets = {}
        self._load_balancing(name, args)
        self._records(name, args)
        self._media_origin(name, args)
        self._caa(name, args)
        self.dnssec = None
        if args.config.dnssec:
            self.dnssec = cloudflare.ZoneDnssec(
                f"{name}-dnssec",
                zone_id=args.zone_id,
                status="active",
                opts=pulumi.ResourceOptions(parent=self),
            )
        if args.scope.owns_zone:
            self._zone_settings(name, args)
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
        self._redirects(args)
        self._config_rules(args)
        self._origin_rules(args)
        self._url_rewrites(args)
        self._request_headers(args)
        self._hsts(args)
        self._cache_rules(args)
        self._compression(args)
        self._waf(args)
        self.register_outputs(
            {
                "pools": {region: pool.id for region, pool in self.pools.items()},
                "monitor": self.monitor.id,
            }
        )

    # --- load balancing --------------------------------------------------------------------

    def _load_balancing(self, name: str, args: EdgeArgs) -> None:
        child = pulumi.ResourceOptions(parent=self)
        cfg = args.config
        headers: dict[str, pulumi.Input[list[str]]] = {"Host": [args.canonical]}
        if args.origin_secret is not None:
            # The monitor goes to the load balancers directly, past the edge's rules: it sends
            # the secret itself, or every region would look down.
            headers[args.origin_secret.header] = pulumi.Output.secret(
                pulumi.Output.from_input(args.origin_secret.value).apply(lambda v: [v])
            )
        self.monitor = cloudflare.LoadBalancerMonitor(
            f"{name}-health",
            account_id=args.account_id,
            description=f"python-org {args.stack}: {args.health_check_path} over HTTPS",
            type="https",
            method="GET",
            path=args.health_check_path,
            port=443,
            expected_codes="200",
            # A public name as Host (and SNI): the regional certificate covers it and the app
            # lists it in ALLOWED_HOSTS; never the load balancer's own DNS name.
            header=headers,
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
                check_regions=sorted(cfg.pool_regions) or None,
                enabled=True,
                opts=child,
            )
            for origin in args.origins
        }
        home_pool = self.pools[args.home_region].id
        # Cloudflare region -> AWS regions in the order their pools are tried.
        self.steering_map = {
            code: failover_order(region, args.home_region, self.pools)
            for code, region in sorted(cfg.pool_regions.items())
        }
        self.load_balancers = {
            host: cloudflare.LoadBalancer(
                f"{name}-{host}",
                zone_id=args.zone_id,
                name=host,
                description=f"python.org {args.stack}: {host} across regions",
                proxied=True,
                steering_policy=cfg.steering.value,
                default_pools=self._failover_order(args.home_region, args),
                fallback_pool=home_pool,
                region_pools={
                    code: self._failover_order(region, args)
                    for code, region in sorted(cfg.pool_regions.items())
                }
                if cfg.steering is Steering.GEO
                else None,
                adaptive_routing=cloudflare.LoadBalancerAdaptiveRoutingArgs(
                    failover_across_pools=True
                ),
                session_affinity="none",
                opts=child,
            )
            for host in args.served
        }

    def _failover_order(self, first: str, args: EdgeArgs) -> list[pulumi.Output[str]]:
        """Pool ids: `first`, then the home region, then the others nearest first."""
        return [self.pools[r].id for r in failover_order(first, args.home_region, self.pools)]

    # --- DNS --------------------------------------------------------------------------------

    def _records(self, name: str, args: EdgeArgs) -> None:
        home = next(o for o in args.origins if o.region == args.home_region)
        records = [
            (host, home.address, "Fallback; the load balancer of the same name takes precedence")
            if host in args.served
            else (host, home.address, f"Redirected to {args.canonical} at the edge")
            for host in args.scope.hostnames
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
                comment=f"{comment} (python-org-infra {args.stack})",
                opts=pulumi.ResourceOptions(parent=self),
            )

    def _serves_media(self, args: EdgeArgs) -> bool:
        """Whether the edge serves /media/ from the bucket: that takes an origin rule that
        overrides the DNS record and the Host, which only the Enterprise plan has."""
        if args.media is None:
            return False
        if not args.config.limits.origin_dns_override:
            pulumi.log.warn(
                f"the {args.config.plan.value} plan can't override an origin's DNS record and "
                "Host: /media/ is not routed to the media bucket, and the app's media URLs "
                "will not resolve (docs/app-contract.md, 'Media and static')",
                resource=self,
            )
            return False
        return True

    def _media_origin(self, name: str, args: EdgeArgs) -> None:
        media = args.media
        if media is None or not self._serves_media(args):
            return
        cloudflare.DnsRecord(
            f"{name}-media-origin",
            zone_id=args.zone_id,
            name=media.hostname,
            type="CNAME",
            content=media.bucket_host,
            # DNS-only: the media rule's target, never a site of its own (the bucket lets only
            # Cloudflare's addresses read).
            proxied=False,
            ttl=1,
            comment=f"The home region's media bucket: the /media/ origin rule's target "
            f"(python-org-infra {args.stack})",
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _caa(self, name: str, args: EdgeArgs) -> None:
        """CAA records for the stack's names. Not at the apex of a zone the stack does not own:
        a CA looks for CAA records at the name and then at each parent (RFC 8659 section 3), so
        one at the apex would govern every name in the zone without records of its own."""
        names = [h for h in args.scope.names if h != args.scope.zone or args.scope.owns_zone]
        entries = [(f"issue-{ca}", "issue", value) for ca, value in CAA_ISSUERS.items()]
        entries.append(("iodef", "iodef", args.config.caa_iodef))
        for host in names:
            for key, tag, value in entries:
                cloudflare.DnsRecord(
                    f"{name}-caa-{host}-{key}",
                    zone_id=args.zone_id,
                    name=host,
                    type="CAA",
                    data=cloudflare.DnsRecordDataArgs(flags=0, tag=tag, value=value),
                    ttl=3600,
                    comment=f"CAA (python-org-infra {args.stack})",
                    opts=pulumi.ResourceOptions(parent=self),
                )

    # --- zone-wide settings (owned zones only) -------------------------------------------

    def _zone_settings(self, name: str, args: EdgeArgs) -> None:
        for setting, value in ZONE_SETTINGS.items():
            cloudflare.ZoneSetting(
                f"{name}-{setting}",
                zone_id=args.zone_id,
                setting_id=setting,
                value=value,
                opts=pulumi.ResourceOptions(parent=self),
            )

    # --- rules --------------------------------------------------------------------------

    def _zone_ruleset(
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
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.rulesets[phase] = ruleset
        return ruleset

    def _rule(
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

    def _redirects(self, args: EdgeArgs) -> None:
        """Single Redirects (phase http_request_dynamic_redirect): the first match redirects."""
        rules = []
        target = args.config.canonical_hostname
        others = [h for h in args.scope.hostnames if h != target] if target else []
        if target and others:
            rules.append(
                self._rule(
                    "canonical",
                    f"{', '.join(others)} to https://{target}, path and query kept",
                    "redirect",
                    None,
                    others,
                    action_parameters=redirect_to(f'"https://{target}"', 301),
                )
            )
        if not args.scope.owns_zone:
            # The zone's Always Use HTTPS is the owners'; this is the same, for our names.
            rules.append(
                self._rule(
                    "https",
                    "HTTPS only",
                    "redirect",
                    "not ssl",
                    action_parameters=redirect_to('"https://", http.host', 301),
                )
            )
        if args.config.write_pinning is WritePinning.REDIRECT:
            home = self._home_hostname(args)
            rules.append(
                self._rule(
                    "writes",
                    f"Writes to the home region ({args.home_region}): 307 keeps method and body",
                    "redirect",
                    self._write_condition(args),
                    args.served,
                    action_parameters=redirect_to(f'"https://{home}"', 307),
                )
            )
        self._zone_ruleset("http_request_dynamic_redirect", "python.org redirects", rules)

    def _config_rules(self, args: EdgeArgs) -> None:
        self._zone_ruleset(
            "http_config_settings",
            "python.org configuration rules",
            [
                self._rule(
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

    def _home_hostname(self, args: EdgeArgs) -> str:
        return next(o.hostname for o in args.origins if o.region == args.home_region)

    def _write_condition(self, args: EdgeArgs) -> str:
        condition = write_condition(args.config.cache.bypass_paths)
        prefixes = [p.prefix for p in args.config.path_origins]
        return f"({condition}) and not ({paths_expression(prefixes)})" if prefixes else condition

    def _origin_rules(self, args: EdgeArgs) -> None:
        rules = []
        if args.config.write_pinning is WritePinning.ORIGIN_RULE:
            rules.append(
                self._rule(
                    "writes",
                    f"Writes to the home region ({args.home_region})",
                    "route",
                    self._write_condition(args),
                    args.served,
                    action_parameters=cloudflare.RulesetRuleActionParametersArgs(
                        # DNS override only: Host and SNI stay the public name, which the home
                        # region's certificate covers.
                        origin=cloudflare.RulesetRuleActionParametersOriginArgs(
                            host=self._home_hostname(args)
                        ),
                    ),
                )
            )
        for path in args.config.path_origins:
            rules.append(
                self._rule(
                    f"path_{_slug(path.prefix)}",
                    f"{path.prefix} from {path.host}",
                    "route",
                    paths_expression([path.prefix]),
                    args.served,
                    action_parameters=_route(path),
                )
            )
        if args.media is not None and self._serves_media(args):
            # GET/HEAD only (writes stay with the write rule above, which takes other methods).
            rules.append(
                self._rule(
                    "media",
                    "Media from the home region's bucket",
                    "route",
                    media_condition(),
                    args.served,
                    action_parameters=cloudflare.RulesetRuleActionParametersArgs(
                        # The Host override also sets SNI: S3's certificate covers the bucket.
                        host_header=args.media.bucket_host,
                        origin=cloudflare.RulesetRuleActionParametersOriginArgs(
                            host=args.media.hostname
                        ),
                    ),
                )
            )
        self._zone_ruleset("http_request_origin", "python.org origin rules", rules)

    def _url_rewrites(self, args: EdgeArgs) -> None:
        # The downloads origin gets no query string (and the cache key has none either).
        rules = [
            self._rule(
                f"path_{_slug(p.prefix)}_query",
                f"{p.prefix}: no query string",
                "rewrite",
                paths_expression([p.prefix]),
                args.served,
                action_parameters=cloudflare.RulesetRuleActionParametersArgs(
                    uri=cloudflare.RulesetRuleActionParametersUriArgs(
                        query=cloudflare.RulesetRuleActionParametersUriQueryArgs(value="")
                    )
                ),
            )
            for p in args.config.path_origins
        ]
        self._zone_ruleset("http_request_transform", "python.org URL rewrites", rules)

    def _request_headers(self, args: EdgeArgs) -> None:
        """Request header transform rules (phase http_request_late_transform)."""
        rules = []
        prefixes = [p.prefix for p in args.config.path_origins]
        if args.origin_secret is not None:
            secret = args.origin_secret
            rules.append(
                self._rule(
                    "origin_secret",
                    "The secret the load balancers require (never to a path origin)",
                    "rewrite",
                    f"not ({paths_expression(prefixes)})" if prefixes else None,
                    action_parameters=cloudflare.RulesetRuleActionParametersArgs(
                        headers={
                            secret.header: cloudflare.RulesetRuleActionParametersHeadersArgs(
                                operation="set", value=pulumi.Output.secret(secret.value)
                            )
                        }
                    ),
                )
            )
        for path in args.config.path_origins:
            # Cookies can be removed but not set ("Request Header Transform Rules", remarks).
            rules.append(
                self._rule(
                    f"path_{_slug(path.prefix)}_cookies",
                    f"{path.prefix}: no cookies",
                    "rewrite",
                    paths_expression([path.prefix]),
                    args.served,
                    action_parameters=cloudflare.RulesetRuleActionParametersArgs(
                        headers={
                            "cookie": cloudflare.RulesetRuleActionParametersHeadersArgs(
                                operation="remove"
                            )
                        }
                    ),
                )
            )
        self._zone_ruleset("http_request_late_transform", "python.org request headers", rules)

    def _hsts(self, args: EdgeArgs) -> None:
        """Strict-Transport-Security per hostname (response header transform rules)."""
        rules = [
            self._rule(
                f"hsts_{_slug(host)}",
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
        self._zone_ruleset("http_response_headers_transform", "python.org response headers", rules)

    def _cache_rules(self, args: EdgeArgs) -> None:
        cfg = args.config
        cache = cfg.cache
        static = paths_expression(cache.static_paths)
        prefixes = [p.prefix for p in cfg.path_origins]
        not_elsewhere = f" and not ({paths_expression(prefixes)})" if prefixes else ""
        enterprise = cfg.limits.status_code_ttl
        # Every matching cache rule applies and later rules override earlier ones: the
        # bypass rule comes last so that nothing can cache an authenticated page.
        rules = [
            self._rule(
                "html",
                "Anonymous HTML: as the origin's Cache-Control says (no-store is never kept)",
                "set_cache_settings",
                f'http.request.uri.path.extension in {{"" "html"}} '
                f'and not http.cookie contains "sessionid" and not ({static}){not_elsewhere}',
                args.served,
                action_parameters=cloudflare.RulesetRuleActionParametersArgs(
                    cache=True,
                    edge_ttl=cloudflare.RulesetRuleActionParametersEdgeTtlArgs(
                        mode="respect_origin"
                    ),
                    browser_ttl=cloudflare.RulesetRuleActionParametersBrowserTtlArgs(
                        mode="respect_origin"
                    ),
                ),
            ),
            self._rule(
                "static",
                "Static and media files: long edge TTL, 404s never kept"
                if cache.static_edge_ttl
                else "Static and media files: as the origin's Cache-Control says",
                "set_cache_settings",
                static,
                args.served,
                action_parameters=cloudflare.RulesetRuleActionParametersArgs(
                    cache=True, edge_ttl=_edge_ttl(cache.static_edge_ttl, enterprise)
                ),
            ),
        ]
        for path in cfg.path_origins:
            rules.append(
                self._rule(
                    f"path_{_slug(path.prefix)}",
                    f"{path.prefix}: long edge TTL, no query string or cookie in the key",
                    "set_cache_settings",
                    paths_expression([path.prefix]),
                    args.served,
                    action_parameters=cloudflare.RulesetRuleActionParametersArgs(
                        cache=True,
                        edge_ttl=_edge_ttl(path.edge_ttl, enterprise),
                        # "Ignore query string" is an Enterprise custom cache key (Cache Rules
                        # settings, Cache Key); the URL rewrite already emptied it.
                        cache_key=cloudflare.RulesetRuleActionParametersCacheKeyArgs(
                            custom_key=cloudflare.RulesetRuleActionParametersCacheKeyCustomKeyArgs(
                                query_string=cloudflare.RulesetRuleActionParametersCacheKeyCustomKeyQueryStringArgs(
                                    exclude=cloudflare.RulesetRuleActionParametersCacheKeyCustomKeyQueryStringExcludeArgs(
                                        all=True
                                    )
                                )
                            )
                        ),
                    ),
                )
            )
        rules.append(
            self._rule(
                "bypass",
                "Authenticated, admin and API paths: never cached",
                "set_cache_settings",
                f'{paths_expression(cache.bypass_paths)} or http.cookie contains "sessionid"',
                action_parameters=cloudflare.RulesetRuleActionParametersArgs(cache=False),
            )
        )
        self._zone_ruleset("http_request_cache_settings", "python.org cache rules", rules)

    def _compression(self, args: EdgeArgs) -> None:
        self._zone_ruleset(
            "http_response_compression",
            "python.org compression",
            [
                self._rule(
                    "compression",
                    "Brotli, else gzip",
                    "compress_response",
                    None,
                    action_parameters=cloudflare.RulesetRuleActionParametersArgs(
                        algorithms=[
                            cloudflare.RulesetRuleActionParametersAlgorithmArgs(name=a)
                            for a in COMPRESSION
                        ]
                    ),
                )
            ],
        )

    def _waf(self, args: EdgeArgs) -> None:
        self._zone_ruleset(
            "http_request_firewall_managed",
            "python.org managed WAF",
            [
                self._rule(
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
        self._zone_ruleset(
            "http_ratelimit",
            "python.org rate limits",
            [
                self._rule(
                    f"ratelimit_{_slug(limit.path)}",
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


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text).strip("_") or "root"


def redirect_to(prefix: str, status: int) -> cloudflare.RulesetRuleActionParametersArgs:
    """A dynamic redirect to `prefix` (a Rules-language expression) + the request's path, the
    query string kept (Single Redirects settings: preserve_query_string)."""
    return cloudflare.RulesetRuleActionParametersArgs(
        from_value=cloudflare.RulesetRuleActionParametersFromValueArgs(
            target_url=cloudflare.RulesetRuleActionParametersFromValueTargetUrlArgs(
                expression=f"concat({prefix}, http.request.uri.path)"
            ),
            status_code=status,
            preserve_query_string=True,
        )
    )


def _route(path: PathOrigin) -> cloudflare.RulesetRuleActionParametersArgs:
    return cloudflare.RulesetRuleActionParametersArgs(
        origin=cloudflare.RulesetRuleActionParametersOriginArgs(host=path.host, port=path.port),
        sni=cloudflare.RulesetRuleActionParametersSniArgs(value=path.sni) if path.sni else None,
    )


def _edge_ttl(
    ttl: int | None, status_code_ttl: bool
) -> cloudflare.RulesetRuleActionParametersEdgeTtlArgs:
    """`ttl` whatever the origin says, but never for a 404 (a missing file must not stay
    missing for a month); without an override, the origin's Cache-Control decides."""
    if ttl is None:
        return cloudflare.RulesetRuleActionParametersEdgeTtlArgs(mode="respect_origin")
    return cloudflare.RulesetRuleActionParametersEdgeTtlArgs(
        mode="override_origin",
        default=ttl,
        # -1: no-store (Cache Rules settings, Edge TTL, status code TTL; Enterprise only).
        status_code_ttls=[
            cloudflare.RulesetRuleActionParametersEdgeTtlStatusCodeTtlArgs(
                status_code=404, value=-1
            )
        ]
        if status_code_ttl
        else None,
    )


def failover_order(first: str, home: str, regions: Sequence[str] | Mapping[str, Any]) -> list[str]:
    """`first`, then the home region, then every other region nearest to `first` first (not
    by name: east-coast US fails over to Ireland before Singapore)."""
    rest = [r for r in regions if r not in (first, home)]
    return list(dict.fromkeys([first, home, *by_distance(first, rest)]))


def write_condition(write_paths: Sequence[str]) -> str:
    """Requests that write (or may write) go to the home region, where the primary is."""
    methods = "not (http.request.method in {" + " ".join(f'"{m}"' for m in SAFE_METHODS) + "})"
    return f"{methods} or {paths_expression(write_paths)}" if write_paths else methods


def media_condition() -> str:
    """GET/HEAD requests for the app's media (MEDIA_URL /media/)."""
    return 'http.request.method in {"GET" "HEAD"} and starts_with(http.request.uri.path, "/media/")'
