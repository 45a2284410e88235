"""The python.org website stack: config in, regions and the edge out.

`main()` is the whole program (`__main__.py` calls it; the offline preview and the tests call the
very same function under the mock runtime). It reads and validates the stack config once, then
declares: an AWS provider per region, each region's certificate, mail (SES in the home region,
whose SMTP credentials go into every region's app secret), every region's resources (the home
region first, since the replicas need its primary), media replication from the home region,
and the Cloudflare edge in front of them.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_cloudflare as cloudflare
import pulumi_random as random

from infra import app_contract, naming, service_alarms
from infra.aliases import inherited_aliases
from infra.components import alarms
from infra.components.alarms import Alarms, AlarmsArgs, ReplicationRule
from infra.components.backups import BackupPlan, BackupPlanArgs
from infra.components.certificate import SiteCertificate, SiteCertificateArgs
from infra.components.dashboard import Dashboard, DashboardArgs, RegionPanel
from infra.components.database import DatabaseCredentials
from infra.components.dns_validation import DnsValidation, DnsValidationArgs
from infra.components.edge import ZONE_SETTINGS, Edge, EdgeArgs, EdgeSecret, MediaOrigin, Origin
from infra.components.edge_notifications import EdgeNotifications, EdgeNotificationsArgs
from infra.components.mail import Mail, MailArgs
from infra.components.origin_auth import OriginSecret, OriginSecretArgs
from infra.components.region import HomeDatabase, Region, RegionArgs
from infra.components.replication import (
    MediaReplication,
    MediaReplicationArgs,
    ReplicaBucket,
    rule_id,
)
from infra.config import (
    NAMESPACE,
    StackConfig,
    parse_config,
    raw_config_from_runtime,
    secret_keys_from_runtime,
)
from infra.zone_scope import ZoneScope
from infra.zones import check_zones


def main() -> None:
    cfg = parse_config(
        pulumi.get_stack(), raw_config_from_runtime(), secret_keys=secret_keys_from_runtime()
    )
    for key, value in build(cfg).items():
        pulumi.export(key, value)


def build(cfg: StackConfig) -> dict[str, Any]:
    providers = {
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
    check_zones(cfg, providers)  # the account's zones, before anything is placed in one

    def in_region(region: str) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(providers={"aws": providers[region]})

    origin_hosts = {
        r.name: naming.origin_hostname(cfg.stack, r.name, cfg.domain) for r in cfg.regions
    }
    certificates = {
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
    zone = (
        cloudflare.get_zone_output(zone_id=cfg.edge.zone_id)
        if cfg.edge.zone_id
        else cloudflare.get_zone_output(
            filter=cloudflare.GetZoneFilterArgs(match="all", name=cfg.domain)
        )
    )
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
                origin_check=origin_secret.check,
                paging_url=paging_url,
            ),
            in_region(r.name),
        )
        home = regions[r.name].home_database

    home_assets = regions[cfg.home_region].assets
    if len(cfg.regions) > 1:
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

    scope = ZoneScope(
        zone=cfg.domain,
        hostnames=cfg.hostnames,
        origin_hostnames=tuple(origin_hosts.values()),
        owns_zone=cfg.edge.owns_zone,
    )
    edge = Edge(
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
            origin_secret=EdgeSecret(header=auth.header, value=origin_secret.active),
            # /media/ from the home region's bucket (docs/app-contract.md, "Media and static").
            media=MediaOrigin(
                hostname=naming.media_origin_hostname(cfg.stack, cfg.domain),
                bucket_host=home_assets.buckets["media"].bucket.bucket_regional_domain_name,
            ),
        ),
    )
    oncall = _oncall(cfg, regions, edge, zone.account.id, paging_url)
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


def _oncall(
    cfg: StackConfig,
    regions: dict[str, Region],
    edge: Edge,
    account_id: pulumi.Input[str],
    paging_url: pulumi.Output[str] | None,
) -> dict[str, Any]:
    """What needs every region first: each region's alarms (media replication's are the home
    region's), the backup plan in the home region copying to the copy region's vault, the
    stack's dashboard, and Cloudflare's notifications for the pools."""
    thresholds = cfg.oncall.alerts.thresholds
    home = regions[cfg.home_region]
    media = {name: r.assets.buckets["media"].bucket.bucket for name, r in regions.items()}
    for r in cfg.regions:
        region = regions[r.name]
        specs = [
            *alarms.web_alarms(
                thresholds,
                load_balancer=region.web.load_balancer.arn_suffix,
                target_group=region.web.target_group.arn_suffix,
                autoscaling_group=naming.asg_name(cfg.stack, r.name),
                min_size=cfg.web.min_size,
            ),
            *alarms.database_alarms(
                thresholds,
                identifier=naming.db_identifier(cfg.stack, r.name),
                replica=not r.is_home,
            ),
            *alarms.canary_alarms(thresholds, canary_name=region.canary.canary.name),
            *service_alarms.redis_alarms(
                replication_group_id=naming.redis_group_id(cfg.stack, r.name),
                nodes=cfg.redis.nodes,
                home=r.is_home,
            ),
            *service_alarms.search_alarms(
                domain_name=naming.search_domain_name(cfg.stack, r.name),
                account_id=aws.get_caller_identity_output(
                    opts=pulumi.InvokeOutputOptions(parent=region)
                ).account_id,
                volume_size_gb=cfg.search.volume_size_gb,
            ),
        ]
        if r.is_home:
            specs += alarms.replication_alarms(
                [
                    ReplicationRule(
                        source_bucket=media[r.name],
                        destination_bucket=media[other],
                        rule_id=rule_id(other),
                        destination_region=other,
                    )
                    for other in cfg.region_names
                    if other != r.name
                ]
            )
            assert region.backup_vault is not None
            specs += alarms.backup_alarms(vault_name=region.backup_vault.vault.name)
            specs += service_alarms.worker_alarms(
                worker_group=naming.worker_asg_name(cfg.stack, r.name),
                beat_group=naming.beat_asg_name(cfg.stack, r.name),
                workers=cfg.workers.count,
            )
            specs += service_alarms.mail_alarms()  # SES sends from the home region
        Alarms(
            r.name,
            AlarmsArgs(
                physical_prefix=naming.prefix(cfg.stack, r.name),
                topic_arn=region.notifications.topic.arn,
                runbook_url=cfg.oncall.alerts.runbook_url,
                specs=specs,
                base_tags=naming.base_tags(cfg.stack, r.name, cfg.environment.value),
            ),
            pulumi.ResourceOptions(parent=region, aliases=inherited_aliases(region, r.name)),
        )

    backup = cfg.oncall.backup
    home_vault = home.backup_vault
    assert home_vault is not None
    copy_vault = regions[backup.copy_region].backup_vault if backup.copy_region else None
    BackupPlan(
        cfg.home_region,
        BackupPlanArgs(
            plan_name=naming.backup_vault(cfg.stack, cfg.home_region),
            vault_name=home_vault.vault.name,
            copy_vault_arn=copy_vault.vault.arn if copy_vault else None,
            resources=[
                home.database.instance.arn,
                home.assets.buckets["media"].bucket.arn,
            ],
            schedule=backup.schedule,
            retention_days=backup.retention_days,
            base_tags=naming.base_tags(cfg.stack, cfg.home_region, cfg.environment.value),
        ),
        pulumi.ResourceOptions(parent=home, aliases=inherited_aliases(home, cfg.home_region)),
    )
    dashboard = Dashboard(
        cfg.home_region,
        DashboardArgs(
            dashboard_name=naming.dashboard(cfg.stack),
            regions=[
                RegionPanel(
                    region=r.name,
                    load_balancer=regions[r.name].web.load_balancer.arn_suffix,
                    target_group=regions[r.name].web.target_group.arn_suffix,
                    autoscaling_group=naming.asg_name(cfg.stack, r.name),
                    database=naming.db_identifier(cfg.stack, r.name),
                    replica=not r.is_home,
                    canary=regions[r.name].canary.canary.name,
                )
                for r in cfg.regions
            ],
        ),
        pulumi.ResourceOptions(parent=home),
    )
    alerts = cfg.oncall.alerts
    if alerts.emails or paging_url is not None:
        EdgeNotifications(
            "edge",
            EdgeNotificationsArgs(
                stack=cfg.stack,
                account_id=account_id,
                pools={name: pool.id for name, pool in edge.pools.items()},
                emails=alerts.emails,
                paging_url=paging_url,
            ),
        )
    return {
        "dashboard": dashboard.dashboard.dashboard_name,
        "alert_topics": {name: r.notifications.topic.arn for name, r in regions.items()},
        "backup_vaults": {
            name: r.backup_vault.vault.name for name, r in regions.items() if r.backup_vault
        },
    }


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
