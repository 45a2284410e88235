"""Alarms: one region's CloudWatch alarms, declared from a table.

Each alarm is an `AlarmSpec`: what it watches (one metric, or metric math over several), when it
fires (threshold, comparison, how many of how many periods, what missing data means), and what it
means for on-call, with the section of docs/runbook-alarms.md to follow (the section is the
spec's `key`; the description links it). The builders below turn what a region has (the web
tier's load balancer, target group and autoscaling group, the database and its role, media
replication, the canary, the backup vault) and the thresholds from config into specs; a new
dependency (cache, search, workers) adds a builder and its runbook sections, nothing else.

Every alarm tells the region's topic when it fires and when it recovers (`alarm_actions` and
`ok_actions`). Alarm names are `<prefix>-<key>[-<suffix>]`, stable across deploys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.config import Thresholds
from infra.naming import tags

GIB = 1024**3
MIB = 1024**2
# treat_missing_data values (docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/
# AlarmThatSendsEmail.html#alarms-and-missing-data)
BREACHING = "breaching"
NOT_BREACHING = "notBreaching"


@dataclass(frozen=True, kw_only=True)
class Metric:
    namespace: str
    name: str
    dimensions: Mapping[str, pulumi.Input[str]]
    stat: str  # Sum, Average, Minimum, Maximum, or a percentile such as p95


@dataclass(frozen=True, kw_only=True)
class AlarmSpec:
    key: str  # the runbook section (docs/runbook-alarms.md, "## <key>")
    title: str
    means: str  # one sentence for whoever is paged
    threshold: float
    comparison: str  # GreaterThanOrEqualToThreshold, LessThanThreshold, ...
    period: int  # seconds
    evaluation_periods: int
    datapoints: int  # of evaluation_periods, breaching to fire
    missing: str
    metric: Metric | None = None
    # Metric math: the expression and the metrics it names (id -> metric).
    expression: str | None = None
    inputs: Mapping[str, Metric] = field(default_factory=dict)
    suffix: str = ""  # tells apart alarms of one key (one per replication destination)

    def __post_init__(self) -> None:
        if (self.metric is None) == (self.expression is None):
            raise ValueError(f"alarm {self.key}: give a metric or an expression, not both")

    def name(self, prefix: str) -> str:
        return "-".join(p for p in (prefix, self.key, self.suffix) if p)


@dataclass(frozen=True, kw_only=True)
class AlarmsArgs:
    physical_prefix: str
    topic_arn: pulumi.Input[str]
    runbook_url: str
    specs: Sequence[AlarmSpec]
    base_tags: dict[str, str]

    def __post_init__(self) -> None:
        names = [s.name(self.physical_prefix) for s in self.specs]
        if len(set(names)) != len(names):
            raise ValueError(f"two alarms share a name: {sorted(names)}")


def description(spec: AlarmSpec, runbook_url: str) -> str:
    return f"{spec.title}: {spec.means} Runbook: {runbook_url}#{spec.key}"


class Alarms(pulumi.ComponentResource):
    alarms: dict[str, aws.cloudwatch.MetricAlarm]

    def __init__(
        self, name: str, args: AlarmsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("python-org:oncall:Alarms", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.alarms = {}
        for spec in args.specs:
            alarm_name = spec.name(args.physical_prefix)
            logical = "-".join(p for p in (name, spec.key, spec.suffix) if p)
            metric: dict[str, Any] = {}
            if spec.metric is not None:
                metric = {
                    "namespace": spec.metric.namespace,
                    "metric_name": spec.metric.name,
                    "dimensions": dict(spec.metric.dimensions),
                    "period": spec.period,
                    **_statistic(spec.metric.stat),
                }
            else:
                metric = {"metric_queries": _queries(spec)}
            self.alarms[alarm_name] = aws.cloudwatch.MetricAlarm(
                logical,
                name=alarm_name,
                alarm_description=description(spec, args.runbook_url),
                comparison_operator=spec.comparison,
                threshold=spec.threshold,
                evaluation_periods=spec.evaluation_periods,
                datapoints_to_alarm=spec.datapoints,
                treat_missing_data=spec.missing,
                alarm_actions=[args.topic_arn],
                ok_actions=[args.topic_arn],
                actions_enabled=True,
                tags=tags(args.base_tags, "oncall", logical),
                opts=child,
                **metric,
            )
        self.register_outputs({"alarms": sorted(self.alarms)})


def _statistic(stat: str) -> dict[str, str]:
    # Percentiles are "extended statistics" in the PutMetricAlarm API.
    return {"extended_statistic": stat} if stat.startswith("p") else {"statistic": stat}


def _queries(spec: AlarmSpec) -> list[aws.cloudwatch.MetricAlarmMetricQueryArgs]:
    assert spec.expression is not None
    queries = [
        aws.cloudwatch.MetricAlarmMetricQueryArgs(
            id="result", expression=spec.expression, label=spec.title, return_data=True
        )
    ]
    for query_id, m in spec.inputs.items():
        queries.append(
            aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id=query_id,
                return_data=False,
                metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                    namespace=m.namespace,
                    metric_name=m.name,
                    dimensions=dict(m.dimensions),
                    period=spec.period,
                    stat=m.stat,
                ),
            )
        )
    return queries


# --- the table: what each part of a region is watched for -----------------------------------


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
    lb = {"LoadBalancer": load_balancer}
    tg = {"LoadBalancer": load_balancer, "TargetGroup": target_group}

    def elb(name: str, stat: str, dims: Mapping[str, pulumi.Input[str]] = lb) -> Metric:
        return Metric(namespace="AWS/ApplicationELB", name=name, dimensions=dims, stat=stat)

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
                "errors": elb("HTTPCode_Target_5XX_Count", "Sum"),
                "requests": elb("RequestCount", "Sum"),
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
                "errors": elb("HTTPCode_ELB_5XX_Count", "Sum"),
                "requests": elb("RequestCount", "Sum"),
            },
            threshold=t.elb_5xx_percent,
            comparison="GreaterThanThreshold",
            period=60,
            evaluation_periods=5,
            datapoints=3,
            missing=NOT_BREACHING,
        ),
        AlarmSpec(
            key="unhealthy-hosts",
            title="Unhealthy web servers",
            means=f"{t.unhealthy_hosts} or more targets fail the health check, for 3 minutes.",
            metric=elb("UnHealthyHostCount", "Maximum", tg),
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
            metric=elb("TargetResponseTime", "p95"),
            threshold=t.response_time_p95_seconds,
            comparison="GreaterThanThreshold",
            period=60,
            evaluation_periods=5,
            datapoints=5,
            missing=NOT_BREACHING,
        ),
        AlarmSpec(
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
        ),
    ]


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
        specs.append(
            AlarmSpec(
                key="replica-lag",
                title="Replica behind the primary",
                means=f"{identifier} is more than {t.replica_lag_seconds} s behind the primary "
                "for 5 minutes; no data counts (replication has stopped or the replica is gone). "
                "A failover now would lose that much.",
                metric=rds("ReplicaLag", "Maximum"),
                threshold=t.replica_lag_seconds,
                comparison="GreaterThanThreshold",
                period=60,
                evaluation_periods=5,
                datapoints=5,
                missing=BREACHING,
            )
        )
    return specs


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
