"""Alarm specs for a region's web tier, database, media replication, canary and backups.

Pure: these builders turn what a region has (the web tier's load balancer, target group and
autoscaling group, the database and its role, media replication, the canary, the backup vault)
and the thresholds from config into `AlarmSpec`s (infra/components/alarms.py) that each region's
`Alarms` component declares, beside the app's services' (infra/service_alarms.py); every key has
its section in docs/runbook-alarms.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi

from infra.components.alarms import BREACHING, NOT_BREACHING, AlarmSpec, Metric
from infra.config import Thresholds

GIB = 1024**3
MIB = 1024**2


def web_alarms(
    t: Thresholds,
    *,
    load_balancer: pulumi.Input[str],  # arn_suffix: app/<name>/<id>
    target_group: pulumi.Input[str],  # arn_suffix: targetgroup/<name>/<id>
    autoscaling_group: str,
    min_size: int,
) -> list[AlarmSpec]:
    """AWS/ApplicationELB and AWS/AutoScaling (docs.aws.amazon.com/elasticloadbalancing/latest/
    application/load-balancer-cloudwatch-metrics.html)."""
    return [
        *_error_rate_alarms(t, load_balancer),
        *_target_alarms(t, load_balancer, target_group),
        _in_service_alarm(autoscaling_group, min_size),
    ]


def _elb(name: str, stat: str, dims: Mapping[str, pulumi.Input[str]]) -> Metric:
    return Metric(namespace="AWS/ApplicationELB", name=name, dimensions=dims, stat=stat)


def _error_rate_alarms(t: Thresholds, load_balancer: pulumi.Input[str]) -> list[AlarmSpec]:
    """The share of requests answered 5xx, by the app servers and by the load balancer."""
    lb = {"LoadBalancer": load_balancer}

    def rate(errors: str) -> str:
        # No requests, no rate: FILL keeps quiet minutes from looking like missing data.
        return f"IF(FILL(requests, 0) > 0, 100 * FILL({errors}, 0) / requests, 0)"

    return [
        AlarmSpec(
            key="target-5xx-rate",
            title="Application 5xx rate",
            means=f"more than {t.target_5xx_percent:g}% of requests get a 5xx from the app "
            "servers, for 3 of the last 5 minutes.",
            expression=rate("errors"),
            inputs={
                "errors": _elb("HTTPCode_Target_5XX_Count", "Sum", lb),
                "requests": _elb("RequestCount", "Sum", lb),
            },
            threshold=t.target_5xx_percent,
            comparison="GreaterThanThreshold",
            period=60,
            evaluation_periods=5,
            datapoints=3,
            missing=NOT_BREACHING,
        ),
        AlarmSpec(
            key="elb-5xx-rate",
            title="Load balancer 5xx rate",
            means=f"more than {t.elb_5xx_percent:g}% of requests get a 5xx from the load "
            "balancer itself (no healthy target, target timeouts), for 3 of the last 5 minutes.",
            expression=rate("errors"),
            inputs={
                "errors": _elb("HTTPCode_ELB_5XX_Count", "Sum", lb),
                "requests": _elb("RequestCount", "Sum", lb),
            },
            threshold=t.elb_5xx_percent,
            comparison="GreaterThanThreshold",
            period=60,
            evaluation_periods=5,
            datapoints=3,
            missing=NOT_BREACHING,
        ),
    ]


def _target_alarms(
    t: Thresholds, load_balancer: pulumi.Input[str], target_group: pulumi.Input[str]
) -> list[AlarmSpec]:
    """The app servers behind the load balancer: failing health checks, slow responses."""
    lb = {"LoadBalancer": load_balancer}
    tg = {"LoadBalancer": load_balancer, "TargetGroup": target_group}
    return [
        AlarmSpec(
            key="unhealthy-hosts",
            title="Unhealthy web servers",
            means=f"{t.unhealthy_hosts} or more targets fail the health check, for 3 minutes.",
            metric=_elb("UnHealthyHostCount", "Maximum", tg),
            threshold=t.unhealthy_hosts,
            comparison="GreaterThanOrEqualToThreshold",
            period=60,
            evaluation_periods=3,
            datapoints=3,
            missing=NOT_BREACHING,
        ),
        AlarmSpec(
            key="response-time-p95",
            title="Slow responses (p95)",
            means=f"the 95th percentile of the app servers' response time is above "
            f"{t.response_time_p95_seconds:g} s, for 5 minutes.",
            metric=_elb("TargetResponseTime", "p95", lb),
            threshold=t.response_time_p95_seconds,
            comparison="GreaterThanThreshold",
            period=60,
            evaluation_periods=5,
            datapoints=5,
            missing=NOT_BREACHING,
        ),
    ]


def _in_service_alarm(autoscaling_group: str, min_size: int) -> AlarmSpec:
    return AlarmSpec(
        key="in-service-below-min",
        title="Fewer web servers than web.minSize",
        means=f"fewer than {min_size} instances are in service in the autoscaling group, "
        "for 5 minutes (no data counts: the group reports every minute).",
        metric=Metric(
            namespace="AWS/AutoScaling",
            name="GroupInServiceInstances",
            dimensions={"AutoScalingGroupName": autoscaling_group},
            stat="Minimum",
        ),
        threshold=min_size,
        comparison="LessThanThreshold",
        period=60,
        evaluation_periods=5,
        datapoints=5,
        missing=BREACHING,
    )


def database_alarms(t: Thresholds, *, identifier: str, replica: bool) -> list[AlarmSpec]:
    """AWS/RDS (docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-metrics.html)."""

    def rds(name: str, stat: str) -> Metric:
        return Metric(
            namespace="AWS/RDS",
            name=name,
            dimensions={"DBInstanceIdentifier": identifier},
            stat=stat,
        )

    role = "replica" if replica else "primary"
    specs = [
        AlarmSpec(
            key="database-cpu",
            title=f"Database CPU ({role})",
            means=f"{identifier} averages more than {t.db_cpu_percent:g}% CPU for 15 minutes.",
            metric=rds("CPUUtilization", "Average"),
            threshold=t.db_cpu_percent,
            comparison="GreaterThanThreshold",
            period=300,
            evaluation_periods=3,
            datapoints=3,
            missing=NOT_BREACHING,
        ),
        AlarmSpec(
            key="database-free-storage",
            title=f"Database storage running out ({role})",
            means=f"{identifier} has less than {t.db_free_storage_gb} GiB free (storage "
            "autoscaling has not kept up, or has reached maxAllocatedStorageGb).",
            metric=rds("FreeStorageSpace", "Minimum"),
            threshold=t.db_free_storage_gb * GIB,
            comparison="LessThanThreshold",
            period=300,
            evaluation_periods=2,
            datapoints=2,
            missing=NOT_BREACHING,
        ),
        AlarmSpec(
            key="database-freeable-memory",
            title=f"Database memory low ({role})",
            means=f"{identifier} has less than {t.db_freeable_memory_mb} MiB freeable memory "
            "for 15 minutes.",
            metric=rds("FreeableMemory", "Average"),
            threshold=t.db_freeable_memory_mb * MIB,
            comparison="LessThanThreshold",
            period=300,
            evaluation_periods=3,
            datapoints=3,
            missing=NOT_BREACHING,
        ),
        AlarmSpec(
            key="database-connections",
            title=f"Database connections high ({role})",
            means=f"{identifier} has more than {t.db_connections} connections for 15 minutes.",
            metric=rds("DatabaseConnections", "Maximum"),
            threshold=t.db_connections,
            comparison="GreaterThanThreshold",
            period=300,
            evaluation_periods=3,
            datapoints=3,
            missing=NOT_BREACHING,
        ),
    ]
    if replica:
        specs.append(_replica_lag_alarm(t, identifier, rds("ReplicaLag", "Maximum")))
    return specs


def _replica_lag_alarm(t: Thresholds, identifier: str, lag: Metric) -> AlarmSpec:
    return AlarmSpec(
        key="replica-lag",
        title="Replica behind the primary",
        means=f"{identifier} is more than {t.replica_lag_seconds} s behind the primary "
        "for 5 minutes; no data counts (replication has stopped or the replica is gone). "
        "A failover now would lose that much.",
        metric=lag,
        threshold=t.replica_lag_seconds,
        comparison="GreaterThanThreshold",
        period=60,
        evaluation_periods=5,
        datapoints=5,
        missing=BREACHING,
    )


@dataclass(frozen=True, kw_only=True)
class ReplicationRule:
    source_bucket: pulumi.Input[str]
    destination_bucket: pulumi.Input[str]
    rule_id: str
    destination_region: str


def replication_alarms(rules: Sequence[ReplicationRule]) -> list[AlarmSpec]:
    """AWS/S3 replication metrics, published per rule once the rule enables them
    (docs.aws.amazon.com/AmazonS3/latest/userguide/repl-metrics.html)."""
    return [
        AlarmSpec(
            key="media-replication-failures",
            suffix=rule.destination_region,
            title=f"Media replication to {rule.destination_region} failing",
            means=f"objects uploaded in the home region failed to replicate to "
            f"{rule.destination_region} in the last 5 minutes.",
            metric=Metric(
                namespace="AWS/S3",
                name="OperationsFailedReplication",
                dimensions={
                    "SourceBucket": rule.source_bucket,
                    "DestinationBucket": rule.destination_bucket,
                    "RuleId": rule.rule_id,
                },
                stat="Sum",
            ),
            threshold=0,
            comparison="GreaterThanThreshold",
            period=300,
            evaluation_periods=1,
            datapoints=1,
            missing=NOT_BREACHING,
        )
        for rule in rules
    ]


def canary_alarms(t: Thresholds, *, canary_name: pulumi.Input[str]) -> list[AlarmSpec]:
    """CloudWatchSynthetics (docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/
    CloudWatch_Synthetics_Canaries_metrics.html)."""
    return [
        AlarmSpec(
            key="canary-failed",
            title="Synthetic check failing",
            means="two runs in a row of this region's canary failed: a public hostname, the "
            "region's origin hostname, the health path or a static file did not answer 200 "
            f"within {t.canary_latency_ms} ms. No data counts (the canary is not running).",
            metric=Metric(
                namespace="CloudWatchSynthetics",
                name="SuccessPercent",
                dimensions={"CanaryName": canary_name},
                stat="Average",
            ),
            threshold=100,
            comparison="LessThanThreshold",
            period=300,
            evaluation_periods=2,
            datapoints=2,
            missing=BREACHING,
        )
    ]


def backup_alarms(*, vault_name: pulumi.Input[str]) -> list[AlarmSpec]:
    """AWS/Backup job metrics by vault (docs.aws.amazon.com/aws-backup/latest/devguide/
    cloudwatch.html)."""
    return [
        AlarmSpec(
            key=key,
            title=title,
            means=means,
            metric=Metric(
                namespace="AWS/Backup",
                name=metric,
                dimensions={"BackupVaultName": vault_name},
                stat="Sum",
            ),
            threshold=0,
            comparison="GreaterThanThreshold",
            period=3600,
            evaluation_periods=1,
            datapoints=1,
            missing=NOT_BREACHING,
        )
        for key, title, metric, means in (
            (
                "backup-job-failed",
                "Backup failed",
                "NumberOfBackupJobsFailed",
                "an AWS Backup job of the database or the media bucket failed in the last hour.",
            ),
            (
                "backup-copy-failed",
                "Backup copy to the second region failed",
                "NumberOfCopyJobsFailed",
                "copying a recovery point to the second region's vault failed in the last hour.",
            ),
        )
    ]
