"""The website stack's on-call part (stacks/website.py calls `oncall()` once every region and
the edge are declared): the alarms, the backup plan, the dashboard and Cloudflare's notifications,
and the stack outputs on-call reads.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from infra import naming, region_alarms, service_alarms
from infra.aliases import inherited_aliases
from infra.components.alarms import Alarms, AlarmsArgs, AlarmSpec
from infra.components.backups import BackupPlan, BackupPlanArgs
from infra.components.dashboard import Dashboard, DashboardArgs, RegionPanel
from infra.components.edge import Edge
from infra.components.edge_notifications import EdgeNotifications, EdgeNotificationsArgs
from infra.components.region import Region
from infra.components.replication import rule_id
from infra.config import RegionConfig, StackConfig
from infra.region_alarms import ReplicationRule


def oncall(
    cfg: StackConfig,
    regions: dict[str, Region],
    edge: Edge,
    account_id: pulumi.Input[str],
    paging_url: pulumi.Output[str] | None,
) -> dict[str, Any]:
    """What needs every region first: each region's alarms (media replication's are the home
    region's), the backup plan in the home region copying to the copy region's vault, the
    stack's dashboard, and Cloudflare's notifications for the pools."""
    media = {name: r.assets.buckets["media"].bucket.bucket for name, r in regions.items()}
    for r in cfg.regions:
        region = regions[r.name]
        Alarms(
            r.name,
            AlarmsArgs(
                physical_prefix=naming.prefix(cfg.stack, r.name),
                topic_arn=region.notifications.topic.arn,
                runbook_url=cfg.oncall.alerts.runbook_url,
                specs=_alarm_specs(cfg, r, region, media),
                base_tags=naming.base_tags(cfg.stack, r.name, cfg.environment.value),
            ),
            pulumi.ResourceOptions(parent=region, aliases=inherited_aliases(region, r.name)),
        )
    _backup_plan(cfg, regions)
    dashboard = _dashboard(cfg, regions)
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


def _alarm_specs(
    cfg: StackConfig,
    r: RegionConfig,
    region: Region,
    media: dict[str, pulumi.Output[str]],
) -> list[AlarmSpec]:
    """One region's alarm specs; the home region's also watch replication, backups, the workers
    and mail."""
    thresholds = cfg.oncall.alerts.thresholds
    specs = [
        *region_alarms.web_alarms(
            thresholds,
            load_balancer=region.web.load_balancer.arn_suffix,
            target_group=region.web.target_group.arn_suffix,
            autoscaling_group=naming.asg_name(cfg.stack, r.name),
            min_size=cfg.web.min_size,
        ),
        *region_alarms.database_alarms(
            thresholds,
            identifier=naming.db_identifier(cfg.stack, r.name),
            replica=not r.is_home,
        ),
        *region_alarms.canary_alarms(thresholds, canary_name=region.canary.canary.name),
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
        specs += region_alarms.replication_alarms(
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
        specs += region_alarms.backup_alarms(vault_name=region.backup_vault.vault.name)
        specs += service_alarms.worker_alarms(
            worker_group=naming.worker_asg_name(cfg.stack, r.name),
            beat_group=naming.beat_asg_name(cfg.stack, r.name),
            workers=cfg.workers.count,
        )
        specs += service_alarms.mail_alarms()  # SES sends from the home region
    return specs


def _backup_plan(cfg: StackConfig, regions: dict[str, Region]) -> None:
    """The home region's database and media, into the home vault, copied to the copy region's."""
    home = regions[cfg.home_region]
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


def _dashboard(cfg: StackConfig, regions: dict[str, Region]) -> Dashboard:
    """The stack's dashboard, every region side by side, in the home region."""
    return Dashboard(
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
        pulumi.ResourceOptions(parent=regions[cfg.home_region]),
    )
