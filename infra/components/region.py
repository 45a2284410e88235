"""Region: everything python.org runs in one AWS region.

Composes Network, AccessLogs, Assets, Database (the primary in the home region, a read replica of it
elsewhere), Cache (Redis), Search (OpenSearch), WebTier, on-call's components and, in the home
region, Workers (Celery and its beat). The region's AWS provider arrives through `opts.providers` and reaches
every child through `parent`: nothing here falls back to the ambient default region.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pulumi

from infra import app_contract, instances, naming
from infra.aliases import inherited_aliases
from infra.components.access_logs import AccessLogs, AccessLogsArgs
from infra.components.app_logs import AppLogs, AppLogsArgs
from infra.components.assets import Assets, AssetsArgs
from infra.components.backups import BackupVault, BackupVaultArgs
from infra.components.cache import Cache, CacheArgs
from infra.components.canary import Canary, CanaryArgs, checks_for
from infra.components.database import (
    DB_NAME,
    PORT,
    Database,
    DatabaseArgs,
    DatabaseCredentials,
    Role,
)
from infra.components.network import Network, NetworkArgs
from infra.components.notifications import Notifications, NotificationsArgs
from infra.components.origin_auth import OriginCheck
from infra.components.search import Search, SearchArgs
from infra.components.web import DatabaseConnection, SettingsFor, WebTier, WebTierArgs
from infra.components.workers import Workers, WorkersArgs
from infra.config import Environment, RegionConfig, StackConfig


@dataclass(frozen=True, kw_only=True)
class HomeDatabase:
    """What other regions need of the home region's database."""

    arn: pulumi.Input[str]


@dataclass(frozen=True, kw_only=True)
class RegionArgs:
    stack: StackConfig
    region: RegionConfig
    certificate_arn: pulumi.Input[str]
    validation_record_fqdns: pulumi.Input[list[str]]
    ingress_ipv4_cidrs: pulumi.Input[list[str]]
    media_reader_cidrs: pulumi.Input[list[str]]  # who may read media from S3: Cloudflare
    app_secret: pulumi.Input[str]
    media_domain: str  # the public hostname media URLs use
    database_credentials: DatabaseCredentials
    home_database: HomeDatabase | None = None  # None in the home region itself
    origin_check: OriginCheck | None = None  # the edge's proof the listener requires
    paging_url: pulumi.Input[str] | None = None  # secret; python-org:pagingUrl

    def __post_init__(self) -> None:
        if self.region.is_home != (self.home_database is None):
            raise ValueError("the home region takes no home_database; every other region does")


@dataclass(frozen=True, kw_only=True)
class _App:
    """What the web tier and the workers of a region both run the app with."""

    settings: SettingsFor
    settings_inputs: dict[str, pulumi.Input[str]]
    database: DatabaseConnection


class Region(pulumi.ComponentResource):
    network: Network
    assets: Assets
    database: Database
    cache: Cache
    search: Search
    web: WebTier
    workers: Workers | None  # the home region only

    def __init__(
        self, name: str, args: RegionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("python-org:region:Region", name, None, opts)
        # Every child component is named `name`: one set of aliases carries a rename or move
        # of this region down to them, and from them to their stateful children.
        child = pulumi.ResourceOptions(parent=self, aliases=inherited_aliases(self, name))
        cfg, region = args.stack, args.region
        base = naming.base_tags(cfg.stack, region.name, cfg.environment.value)
        self._storage(name, args, base, child)
        self._database(name, args, base, child)
        self._services(name, args, base, child)
        app = self._app(args)
        self._web(name, args, base, child, app)
        self.workers = None
        if region.is_home:
            self._workers(name, args, base, child, app)
        self._oncall(name, args, base, child)
        static, media = self.assets.buckets["static"].bucket, self.assets.buckets["media"].bucket
        self.outputs = {
            "load_balancer_dns_name": self.web.load_balancer.dns_name,
            "database_endpoint": self.database.instance.endpoint,
            "database_role": "primary" if region.is_home else "replica",
            "static_bucket": static.bucket,
            "media_bucket": media.bucket,
            "alerts_topic": self.notifications.topic.arn,
            "app_log_group": self.app_logs.group.name,
            "canary": self.canary.canary.name,
            "redis_endpoint": self.cache.group.primary_endpoint_address,
            "search_endpoint": self.search.domain.endpoint,
        }
        self.register_outputs(self.outputs)

    def _storage(
        self, name: str, args: RegionArgs, base: dict[str, str], child: pulumi.ResourceOptions
    ) -> None:
        """The network, the region's access log bucket and its static and media buckets."""
        cfg, region = args.stack, args.region
        self.network = Network(
            name,
            NetworkArgs(
                region=region,
                nat_gateways=cfg.network.nat_gateways,
                flow_log_retention_days=cfg.network.flow_log_retention_days,
                base_tags=base,
            ),
            child,
        )
        self.access_logs = AccessLogs(
            name,
            AccessLogsArgs(
                region=region.name,
                physical_prefix=naming.prefix(cfg.stack, region.name),
                # Kept as long as the VPC flow logs: one retention for a region's records.
                retention_days=cfg.network.flow_log_retention_days,
                base_tags=base,
            ),
            child,
        )
        self.assets = Assets(
            name,
            AssetsArgs(
                physical_prefix=naming.prefix(cfg.stack, region.name),
                base_tags=base,
                access_log_bucket=self.access_logs.ready_bucket_name,
                media_reader_cidrs=args.media_reader_cidrs,
            ),
            child,
        )

    def _database(
        self, name: str, args: RegionArgs, base: dict[str, str], child: pulumi.ResourceOptions
    ) -> None:
        """The primary in the home region, a read replica of it elsewhere."""
        cfg, region = args.stack, args.region
        home = args.home_database
        self.database = Database(
            name,
            DatabaseArgs(
                role=Role.PRIMARY if home is None else Role.REPLICA,
                identifier=naming.db_identifier(cfg.stack, region.name),
                config=cfg.database,
                vpc_id=self.network.vpc.id,
                subnet_ids=self.network.private_subnet_ids,
                base_tags=base,
                credentials=args.database_credentials,
                source_db_arn=None if home is None else home.arn,
            ),
            child,
        )
        if home is None:
            home = HomeDatabase(arn=self.database.instance.arn)
        self.home_database = home

    def _services(
        self, name: str, args: RegionArgs, base: dict[str, str], child: pulumi.ResourceOptions
    ) -> None:
        """The app's log group, its cache (Redis) and its search domain (OpenSearch)."""
        cfg, region = args.stack, args.region
        self.app_logs = AppLogs(
            name,
            AppLogsArgs(
                region=region.name,
                physical_prefix=naming.prefix(cfg.stack, region.name),
                group_name=naming.app_log_group(cfg.stack, region.name),
                retention_days=cfg.oncall.logs.app_retention_days,
                base_tags=base,
            ),
            child,
        )
        retention = cfg.network.flow_log_retention_days
        self.cache = Cache(
            name,
            CacheArgs(
                replication_group_id=naming.redis_group_id(cfg.stack, region.name),
                config=cfg.redis,
                vpc_id=self.network.vpc.id,
                subnet_ids=self.network.private_subnet_ids,
                availability_zones=region.availability_zones,
                logs_key_arn=self.network.logs_key.arn,
                log_retention_days=retention,
                base_tags=base,
            ),
            child,
        )
        self.search = Search(
            name,
            SearchArgs(
                domain_name=naming.search_domain_name(cfg.stack, region.name),
                config=cfg.search,
                vpc_id=self.network.vpc.id,
                subnet_ids=self.network.private_subnet_ids,
                logs_key_arn=self.network.logs_key.arn,
                log_retention_days=retention,
                base_tags=base,
            ),
            child,
        )

    def _app(self, args: RegionArgs) -> _App:
        """What every instance of the app in this region is told (docs/app-contract.md); the
        rest comes from outputs the user data waits for (`settings_inputs`)."""
        cfg, region = args.stack, args.region
        settings = functools.partial(
            app_contract.Settings,
            region=region.name,
            home_region=cfg.home_region,
            # Every name Cloudflare sends as Host: the public names (through the load
            # balancer) and the region's origin name (writes pinned to the home region).
            allowed_hosts=(
                *cfg.hostnames,
                naming.origin_hostname(cfg.stack, region.name, cfg.domain),
            ),
            media_domain=args.media_domain,
            image=cfg.web.app_image,
            db_port=PORT,
            db_name=DB_NAME,
            cache_max_timeout=cfg.redis.cache_max_timeout,
            from_email=cfg.mail.from_address,
        )
        settings_inputs: dict[str, pulumi.Input[str]] = {
            "db_host": self.database.instance.address,
            "db_secret_id": self.database.secret.arn,
            "media_bucket": self.assets.buckets["media"].bucket.bucket,
            "cache_host": self.cache.group.primary_endpoint_address,
            "cache_secret_id": self.cache.secret.arn,
            "search_host": self.search.domain.endpoint,
            "search_secret_id": self.search.secret.arn,
        }
        database = DatabaseConnection(
            host=self.database.instance.address,
            port=PORT,
            name=DB_NAME,
            security_group_id=self.database.security_group.id,
            # This region's own copy: instances boot while the home region is down.
            secret_arn=self.database.secret.arn,
            secret_key_arn=self.database.kms_key.arn,
            primary=region.is_home,
        )
        return _App(settings=settings, settings_inputs=settings_inputs, database=database)

    def _web(
        self,
        name: str,
        args: RegionArgs,
        base: dict[str, str],
        child: pulumi.ResourceOptions,
        app: _App,
    ) -> None:
        """The web tier, admitted to the cache and the search domain."""
        cfg, region = args.stack, args.region
        grants = (
            instances.SecretGrant(arn=self.cache.secret.arn, kms_key_arn=self.cache.kms_key.arn),
            instances.SecretGrant(arn=self.search.secret.arn, kms_key_arn=self.search.kms_key.arn),
        )
        self.web = WebTier(
            name,
            WebTierArgs(
                region=region.name,
                config=cfg.web,
                settings=app.settings,
                settings_inputs=app.settings_inputs,
                secrets=grants,
                load_balancer_name=naming.load_balancer_name(cfg.stack, region.name),
                asg_name=naming.asg_name(cfg.stack, region.name),
                vpc_id=self.network.vpc.id,
                public_subnet_ids=self.network.public_subnet_ids,
                private_subnet_ids=self.network.private_subnet_ids,
                certificate_arn=args.certificate_arn,
                validation_record_fqdns=args.validation_record_fqdns,
                ingress_ipv4_cidrs=args.ingress_ipv4_cidrs,
                database=app.database,
                media_bucket_arn=self.assets.buckets["media"].bucket.arn,
                assets_key_arn=self.assets.kms_key.arn,
                app_secret=args.app_secret,
                access_log_bucket=self.access_logs.ready_bucket_name,
                deletion_protection=cfg.environment is Environment.PRODUCTION,
                base_tags=base,
                origin_check=args.origin_check,
                app_log_group_name=self.app_logs.group.name,
                app_log_group_arn=self.app_logs.group.arn,
            ),
            child,
        )
        self.cache.admit("web", self.web.instance_security_group.id)
        self.search.admit("web", self.web.instance_security_group.id)

    def _workers(
        self,
        name: str,
        args: RegionArgs,
        base: dict[str, str],
        child: pulumi.ResourceOptions,
        app: _App,
    ) -> None:
        """The home region's Celery workers and beat, admitted to the cache and search."""
        cfg, region = args.stack, args.region
        self.workers = Workers(
            name,
            WorkersArgs(
                config=cfg.workers,
                web=cfg.web,
                settings=app.settings,
                settings_inputs={
                    **app.settings_inputs,
                    "app_secret_id": self.web.app_secret_arn,
                },
                secrets=self.web.secret_grants,
                vpc_id=self.network.vpc.id,
                private_subnet_ids=self.network.private_subnet_ids,
                database=app.database,
                media_bucket_arn=self.assets.buckets["media"].bucket.arn,
                worker_group_name=naming.worker_asg_name(cfg.stack, region.name),
                beat_group_name=naming.beat_asg_name(cfg.stack, region.name),
                app_log_group_name=self.app_logs.group.name,
                app_log_group_arn=self.app_logs.group.arn,
                base_tags=base,
            ),
            child,
        )
        self.cache.admit("workers", self.workers.security_group.id)
        self.search.admit("workers", self.workers.security_group.id)

    def _oncall(
        self, name: str, args: RegionArgs, base: dict[str, str], child: pulumi.ResourceOptions
    ) -> None:
        """Who is told (the region's alert topic), what users see (the canary), and the region's
        backup vault if it holds the stack's backups (the home region) or their copies."""
        cfg, region = args.stack, args.region
        alerts = cfg.oncall.alerts
        self.notifications = Notifications(
            name,
            NotificationsArgs(
                physical_prefix=naming.prefix(cfg.stack, region.name),
                topic_name=naming.alerts_topic(cfg.stack, region.name),
                emails=alerts.emails,
                paging_url=args.paging_url,
                base_tags=base,
            ),
            child,
        )
        self.canary = Canary(
            name,
            CanaryArgs(
                region=region.name,
                canary_name=naming.canary_name(cfg.stack, region.name),
                checks=checks_for(
                    cfg.hostnames,
                    naming.origin_hostname(cfg.stack, region.name, cfg.domain),
                    cfg.web.health_check_path,
                ),
                latency_budget_ms=alerts.thresholds.canary_latency_ms,
                artifact_bucket=self.access_logs.bucket.bucket,
                artifact_bucket_arn=self.access_logs.bucket.arn,
                base_tags=base,
            ),
            child,
        )
        backup = cfg.oncall.backup
        self.backup_vault: BackupVault | None = None
        if region.is_home or region.name == backup.copy_region:
            self.backup_vault = BackupVault(
                name,
                BackupVaultArgs(
                    vault_name=naming.backup_vault(cfg.stack, region.name),
                    role="home" if region.is_home else "copy",
                    base_tags=base,
                ),
                child,
            )
