"""The python.org website stack: config in, regions and the edge out.

`main()` is the whole program (`__main__.py` calls it; the offline preview and the tests call the
very same function under the mock runtime). It reads and validates the stack config once, then
declares: an AWS provider per region, each region's certificate, mail (SES in the home region,
whose SMTP credentials go into every region's app secret), every region's resources (the home
region first, since the replicas need its primary), media replication from the home region,
and the Cloudflare edge in front of them; then on-call's part (stacks/website_oncall.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_cloudflare as cloudflare
import pulumi_random as random

from infra import app_contract, naming
from infra.components.certificate import SiteCertificate, SiteCertificateArgs
from infra.components.database import DatabaseCredentials
from infra.components.dns_validation import DnsValidation, DnsValidationArgs
from infra.components.edge import ZONE_SETTINGS, Edge, EdgeArgs, EdgeSecret, MediaOrigin, Origin
from infra.components.mail import Mail, MailArgs
from infra.components.origin_auth import OriginCheck, OriginSecret, OriginSecretArgs
from infra.components.region import HomeDatabase, Region, RegionArgs
from infra.components.replication import MediaReplication, MediaReplicationArgs, ReplicaBucket
from infra.config import (
    NAMESPACE,
    StackConfig,
    parse_config,
    raw_config_from_runtime,
    secret_keys_from_runtime,
)
from infra.zone_scope import ZoneScope
from infra.zones import check_zones
from stacks.website_oncall import oncall

# The options that place a resource in a region (its AWS provider).
InRegion = Callable[[str], pulumi.ResourceOptions]


def main() -> None:
    cfg = parse_config(
        pulumi.get_stack(), raw_config_from_runtime(), secret_keys=secret_keys_from_runtime()
    )
    for key, value in build(cfg).items():
        pulumi.export(key, value)


def build(cfg: StackConfig) -> dict[str, Any]:
    providers = _providers(cfg)
    check_zones(cfg, providers)  # the account's zones, before anything is placed in one

    def in_region(region: str) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(providers={"aws": providers[region]})

    origin_hosts = {
        r.name: naming.origin_hostname(cfg.stack, r.name, cfg.domain) for r in cfg.regions
    }
    certificates = _certificates(cfg, origin_hosts, in_region)
    zone = _zone(cfg)
    validation = DnsValidation(
        "acm-validation",
        DnsValidationArgs(
            zone_id=zone.id,
            hostnames=cfg.hostnames,
            home_region=cfg.home_region,
            certificates=certificates,
        ),
    )
    # Origin lock: the load balancers accept only Cloudflare's published ranges.
    cloudflare_ips = cloudflare.get_ip_ranges_output()
    # ...and, since every Cloudflare customer sends from those ranges, only requests that carry
    # this zone's secret header (docs/edge.md).
    auth = cfg.edge.origin_auth
    origin_secret = OriginSecret(
        "origin-secret",
        OriginSecretArgs(header=auth.header, active=auth.active, generations=auth.generations),
    )
    mail = Mail(
        cfg.home_region,
        MailArgs(
            stack=cfg.stack,
            region=cfg.home_region,
            config=cfg.mail,
            zone_id=zone.id,
            base_tags=naming.base_tags(cfg.stack, cfg.home_region, cfg.environment.value),
        ),
        in_region(cfg.home_region),
    )
    app_secret = _app_secret(cfg, mail)
    credentials = _database_credentials(cfg)
    paging_url = _paging_url(cfg)
    regions = _regions(
        cfg,
        in_region,
        certificates=certificates,
        validation=validation,
        cloudflare_ips=cloudflare_ips,
        app_secret=app_secret,
        credentials=credentials,
        origin_check=origin_secret.check,
        paging_url=paging_url,
    )
    _media_replication(cfg, regions, in_region)
    scope = ZoneScope(
        zone=cfg.domain,
        hostnames=cfg.hostnames,
        origin_hostnames=tuple(origin_hosts.values()),
        owns_zone=cfg.edge.owns_zone,
    )
    edge = _edge(
        cfg,
        zone,
        scope,
        regions,
        origin_hosts,
        EdgeSecret(header=auth.header, value=origin_secret.active),
    )
    on_call = oncall(cfg, regions, edge, zone.account.id, paging_url)
    return _outputs(cfg, zone, scope, edge, regions, on_call)


def _providers(cfg: StackConfig) -> dict[str, aws.Provider]:
    return {
        r.name: aws.Provider(
            f"aws-{r.name}",
            region=r.name,
            # Tags for anything a component forgets; components tag explicitly as well.
            default_tags=aws.ProviderDefaultTagsArgs(
                tags=naming.base_tags(cfg.stack, r.name, cfg.environment.value)
            ),
        )
        for r in cfg.regions
    }


def _certificates(
    cfg: StackConfig, origin_hosts: dict[str, str], in_region: InRegion
) -> dict[str, SiteCertificate]:
    return {
        r.name: SiteCertificate(
            r.name,
            SiteCertificateArgs(
                hostnames=cfg.hostnames,
                origin_hostname=origin_hosts[r.name],
                base_tags=naming.base_tags(cfg.stack, r.name, cfg.environment.value),
            ),
            in_region(r.name),
        )
        for r in cfg.regions
    }


def _zone(cfg: StackConfig) -> pulumi.Output[cloudflare.GetZoneResult]:
    return (
        cloudflare.get_zone_output(zone_id=cfg.edge.zone_id)
        if cfg.edge.zone_id
        else cloudflare.get_zone_output(
            filter=cloudflare.GetZoneFilterArgs(match="all", name=cfg.domain)
        )
    )


def _regions(
    cfg: StackConfig,
    in_region: InRegion,
    *,
    certificates: dict[str, SiteCertificate],
    validation: DnsValidation,
    cloudflare_ips: pulumi.Output[cloudflare.GetIpRangesResult],
    app_secret: pulumi.Output[str],
    credentials: DatabaseCredentials,
    origin_check: OriginCheck,
    paging_url: pulumi.Output[str] | None,
) -> dict[str, Region]:
    """Every region, the home region first: the others' replicas need its primary."""
    regions: dict[str, Region] = {}
    home: HomeDatabase | None = None
    for r in cfg.regions:  # the home region comes first
        regions[r.name] = Region(
            r.name,
            RegionArgs(
                stack=cfg,
                region=r,
                certificate_arn=certificates[r.name].certificate.arn,
                validation_record_fqdns=validation.record_fqdns(r.name),
                # IPv4 only: the load balancers are IPv4 (their DNS names have no AAAA record),
                # so Cloudflare reaches them over IPv4 and IPv6 rules would admit nothing.
                ingress_ipv4_cidrs=cloudflare_ips.ipv4_cidrs,
                media_reader_cidrs=pulumi.Output.all(
                    cloudflare_ips.ipv4_cidrs, cloudflare_ips.ipv6_cidrs
                ).apply(lambda v: [*v[0], *v[1]]),
                app_secret=app_secret,
                # The canonical public name: the others redirect there.
                media_domain=cfg.edge.canonical_hostname or cfg.hostnames[0],
                database_credentials=credentials,
                home_database=home,
                origin_check=origin_check,
                paging_url=paging_url,
            ),
            in_region(r.name),
        )
        home = regions[r.name].home_database
    return regions


def _media_replication(cfg: StackConfig, regions: dict[str, Region], in_region: InRegion) -> None:
    """Media from the home region's bucket to every other region's."""
    if len(cfg.regions) <= 1:
        return
    home_assets = regions[cfg.home_region].assets
    MediaReplication(
        cfg.home_region,
        MediaReplicationArgs(
            source_bucket_id=home_assets.buckets["media"].bucket.id,
            source_bucket_arn=home_assets.buckets["media"].bucket.arn,
            source_kms_key_arn=home_assets.kms_key.arn,
            source_versioning=home_assets.buckets["media"].versioning,
            destinations=tuple(
                ReplicaBucket(
                    region=name,
                    bucket_arn=region.assets.buckets["media"].bucket.arn,
                    kms_key_arn=region.assets.kms_key.arn,
                    versioning=region.assets.buckets["media"].versioning,
                )
                for name, region in regions.items()
                if name != cfg.home_region
            ),
            base_tags=naming.base_tags(cfg.stack, cfg.home_region, cfg.environment.value),
        ),
        in_region(cfg.home_region),
    )


def _edge(
    cfg: StackConfig,
    zone: pulumi.Output[cloudflare.GetZoneResult],
    scope: ZoneScope,
    regions: dict[str, Region],
    origin_hosts: dict[str, str],
    origin_secret: EdgeSecret,
) -> Edge:
    home_assets = regions[cfg.home_region].assets
    return Edge(
        "edge",
        EdgeArgs(
            stack=cfg.stack,
            zone_id=zone.id,
            account_id=zone.account.id,
            scope=scope,
            home_region=cfg.home_region,
            origins=tuple(
                Origin(
                    region=name,
                    address=region.web.load_balancer.dns_name,
                    hostname=origin_hosts[name],
                )
                for name, region in regions.items()
            ),
            config=cfg.edge,
            health_check_path=cfg.web.health_check_path,
            origin_secret=origin_secret,
            # /media/ from the home region's bucket (docs/app-contract.md, "Media and static").
            media=MediaOrigin(
                hostname=naming.media_origin_hostname(cfg.stack, cfg.domain),
                bucket_host=home_assets.buckets["media"].bucket.bucket_regional_domain_name,
            ),
        ),
    )


def _outputs(
    cfg: StackConfig,
    zone: pulumi.Output[cloudflare.GetZoneResult],
    scope: ZoneScope,
    edge: Edge,
    regions: dict[str, Region],
    oncall: dict[str, Any],
) -> dict[str, Any]:
    return {
        "oncall": oncall,
        # What on-call needs at a glance: which pool serves whom, and the zone's TLS posture.
        "edge": {
            "zone_id": zone.id,
            "steering": cfg.edge.steering.value,
            "pools": {r: p.name for r, p in edge.pools.items()},
            "region_pools": edge.steering_map,
            "fallback_pool": cfg.home_region,
            "plan": cfg.edge.plan.value,
            # What the stack changes zone-wide: nothing unless it owns the zone.
            "owns_zone": cfg.edge.owns_zone,
            "zone_settings": ZONE_SETTINGS if cfg.edge.owns_zone else {},
            "hostnames": list(scope.names),
            # For the registrar (or the parent zone): the DS record of the signed zone.
            **({"dnssec_ds": edge.dnssec.ds} if edge.dnssec is not None else {}),
        },
        "home_region": cfg.home_region,
        # The regions in config order, home first: mappings lose their order on the way.
        "region_order": list(cfg.region_names),
        "regions": {name: region.outputs for name, region in regions.items()},
    }


def _database_credentials(cfg: StackConfig) -> DatabaseCredentials:
    """The database's credentials, this program's own (a read replica can't be made of a source
    whose password RDS manages). The master password never changes by itself; the app's user is
    new for each `database.appUserGeneration` (rotation: docs/app-contract.md)."""
    generation = cfg.database.app_user_generation
    # Letters and digits only: RDS refuses "/", "@", '"' and spaces in a master password, and
    # the app's URL needs no quoting rules to get right.
    master = random.RandomPassword("db-master-password", length=40, special=False)
    app = random.RandomPassword(
        "db-app-password", length=40, special=False, keepers={"generation": str(generation)}
    )
    return DatabaseCredentials(
        master_password=master.result,
        app_user=app_contract.app_user(generation),
        app_password=app.result,
    )


def _paging_url(cfg: StackConfig) -> pulumi.Output[str] | None:
    if cfg.oncall.alerts.paging_url is None:
        return None
    return pulumi.Config(NAMESPACE).require_secret("pagingUrl")


def _app_secret(cfg: StackConfig, mail: Mail) -> pulumi.Output[str]:
    """The application's settings secret: a generated Django SECRET_KEY (one for all regions,
    so sessions survive a failover), the Sentry DSN from config and the SES SMTP credentials,
    as one JSON secret."""
    secret_key = random.RandomPassword("django-secret-key", length=64, special=False)
    sentry: pulumi.Input[str] = ""
    if cfg.sentry_dsn is not None:
        sentry = pulumi.Config(NAMESPACE).require_secret("sentryDsn")
    return pulumi.Output.secret(
        pulumi.Output.all(secret_key.result, sentry, mail.smtp_username, mail.smtp_password).apply(
            lambda v: json.dumps(
                {
                    "secret_key": v[0],
                    "sentry_dsn": v[1],
                    "smtp_username": v[2],
                    "smtp_password": v[3],
                },
                sort_keys=True,
            )
        )
    )
