"""Alarm specs for the app's own services: Redis, search, the Celery workers and beat, mail.

Pure: these builders return `AlarmSpec`s (infra/components/alarms.py) that each region's
`Alarms` component declares beside the web tier's and the database's; every key has its section in
docs/runbook-alarms.md. The thresholds are fixed here, each with its reason: they watch for
saturation and failure, not for load that config would tune per stack.
"""

from __future__ import annotations

import pulumi

from infra.components.alarms import BREACHING, NOT_BREACHING, AlarmSpec, Metric

# Redis: ElastiCache names a replication group's member clusters <group>-001, -002, ...
# (the node that is the primary moves on a failover, so every node is watched).
REDIS_CPU_PERCENT = 80  # EngineCPUUtilization: Redis is single-threaded; above this it queues
REDIS_MEMORY_PERCENT = 85  # DatabaseMemoryUsagePercentage: next come evictions
# Search (AWS/ES): JVM memory pressure over 85% precedes circuit breaker rejections, and below a
# quarter of free storage OpenSearch is close to its disk watermarks.
SEARCH_JVM_PERCENT = 85
SEARCH_CPU_PERCENT = 80
SEARCH_FREE_STORAGE_SHARE = 0.25
# SES suspends sending above 10% bounces and 0.5% complaints; these warn at half of that.
SES_BOUNCE_RATE = 0.05
SES_COMPLAINT_RATE = 0.001


def _spec(key: str, title: str, means: str, metric: Metric, **when: object) -> AlarmSpec:
    defaults: dict[str, object] = {
        "comparison": "GreaterThanThreshold",
        "period": 300,
        "evaluation_periods": 3,
        "datapoints": 3,
        "missing": NOT_BREACHING,
    }
    return AlarmSpec(key=key, title=title, means=means, metric=metric, **{**defaults, **when})  # type: ignore[arg-type]


def redis_alarms(*, replication_group_id: str, nodes: int, home: bool) -> list[AlarmSpec]:
    """AWS/ElastiCache host and engine metrics, per node (docs.aws.amazon.com/AmazonElastiCache/
    latest/dg/CacheMetrics.Redis.html)."""
    specs: list[AlarmSpec] = []
    for n in range(1, nodes + 1):
        node = f"{replication_group_id}-{n:03d}"

        def metric(name: str, stat: str, node: str = node) -> Metric:
            dims = {"CacheClusterId": node}
            return Metric(namespace="AWS/ElastiCache", name=name, dimensions=dims, stat=stat)

        specs += [
            _spec(
                "redis-cpu",
                f"Redis CPU ({node})",
                f"Redis on {node} uses more than {REDIS_CPU_PERCENT}% of its one core for 15 "
                "minutes: requests queue behind each other.",
                metric("EngineCPUUtilization", "Average"),
                threshold=REDIS_CPU_PERCENT,
                suffix=f"{n:03d}",
            ),
            _spec(
                "redis-memory",
                f"Redis memory ({node})",
                f"{node} holds more than {REDIS_MEMORY_PERCENT}% of its memory for 15 minutes: "
                "it will start evicting.",
                metric("DatabaseMemoryUsagePercentage", "Maximum"),
                threshold=REDIS_MEMORY_PERCENT,
                suffix=f"{n:03d}",
            ),
        ]
        if home:
            # The home group is also Celery's broker: an evicted key is a lost task.
            specs.append(
                _spec(
                    "redis-evictions",
                    f"Redis evicting keys ({node})",
                    f"{node} evicted keys in the last 5 minutes; in the home region that can "
                    "drop queued Celery tasks.",
                    metric("Evictions", "Sum"),
                    threshold=0,
                    evaluation_periods=1,
                    datapoints=1,
                    suffix=f"{n:03d}",
                )
            )
    return specs


def search_alarms(
    *, domain_name: str, account_id: pulumi.Input[str], volume_size_gb: int
) -> list[AlarmSpec]:
    """AWS/ES (OpenSearch Service) cluster metrics (docs.aws.amazon.com/opensearch-service/
    latest/developerguide/managedomains-cloudwatchmetrics.html, recommended alarms)."""

    def metric(name: str, stat: str) -> Metric:
        dims = {"DomainName": domain_name, "ClientId": account_id}
        return Metric(namespace="AWS/ES", name=name, dimensions=dims, stat=stat)

    free_mb = volume_size_gb * 1024 * SEARCH_FREE_STORAGE_SHARE
    return [
        _spec(
            "search-red",
            "Search cluster red",
            f"{domain_name} has a primary shard unassigned for 5 minutes: search misses data.",
            metric("ClusterStatus.red", "Maximum"),
            threshold=1,
            comparison="GreaterThanOrEqualToThreshold",
            period=60,
            evaluation_periods=5,
            datapoints=5,
        ),
        _spec(
            "search-writes-blocked",
            "Search refuses writes",
            f"{domain_name} blocks index writes (disk or memory): the indexer's updates fail.",
            metric("ClusterIndexWritesBlocked", "Maximum"),
            threshold=1,
            comparison="GreaterThanOrEqualToThreshold",
            period=300,
            evaluation_periods=1,
            datapoints=1,
        ),
        _spec(
            "search-free-storage",
            "Search storage running out",
            f"a node of {domain_name} has less than {SEARCH_FREE_STORAGE_SHARE:.0%} of its "
            f"{volume_size_gb} GiB volume free.",
            metric("FreeStorageSpace", "Minimum"),
            threshold=free_mb,
            comparison="LessThanThreshold",
            evaluation_periods=1,
            datapoints=1,
        ),
        _spec(
            "search-jvm-pressure",
            "Search memory pressure",
            f"{domain_name}'s JVM memory pressure is above {SEARCH_JVM_PERCENT}% for 15 minutes.",
            metric("JVMMemoryPressure", "Maximum"),
            threshold=SEARCH_JVM_PERCENT,
        ),
        _spec(
            "search-cpu",
            "Search CPU",
            f"{domain_name} averages more than {SEARCH_CPU_PERCENT}% CPU for 15 minutes.",
            metric("CPUUtilization", "Average"),
            threshold=SEARCH_CPU_PERCENT,
        ),
        _spec(
            "search-snapshot-failed",
            "Search automated snapshot failed",
            f"{domain_name}'s automated snapshot failed.",
            metric("AutomatedSnapshotFailure", "Maximum"),
            threshold=1,
            comparison="GreaterThanOrEqualToThreshold",
            period=3600,
            evaluation_periods=1,
            datapoints=1,
        ),
    ]


def worker_alarms(*, worker_group: str, beat_group: str, workers: int) -> list[AlarmSpec]:
    """AWS/AutoScaling group metrics of the home region's worker and beat groups (both publish
    GroupInServiceInstances every minute)."""

    def in_service(group: str, stat: str) -> Metric:
        dims = {"AutoScalingGroupName": group}
        return Metric(
            namespace="AWS/AutoScaling", name="GroupInServiceInstances", dimensions=dims, stat=stat
        )

    every_minute: dict[str, object] = {
        "period": 60,
        "evaluation_periods": 10,
        "datapoints": 10,
        "missing": BREACHING,
    }
    return [
        _spec(
            "workers-below-count",
            "Fewer Celery workers than workers.count",
            f"fewer than {workers} worker instances are in service for 10 minutes: background "
            "tasks queue up.",
            in_service(worker_group, "Minimum"),
            threshold=workers,
            comparison="LessThanThreshold",
            **every_minute,
        ),
        _spec(
            "beat-missing",
            "No Celery beat",
            "the beat group has had no instance in service for 10 minutes: scheduled tasks "
            "do not run.",
            in_service(beat_group, "Minimum"),
            threshold=1,
            comparison="LessThanThreshold",
            **every_minute,
        ),
        _spec(
            "beat-twice",
            "Two Celery beats",
            "the beat group has had more than one instance in service for 10 minutes: every "
            "scheduled task may run twice (the advisory lock keeps the second beat waiting; "
            "find out why there are two).",
            in_service(beat_group, "Maximum"),
            threshold=1,
            comparison="GreaterThanThreshold",
            **{**every_minute, "missing": NOT_BREACHING},
        ),
    ]


def mail_alarms() -> list[AlarmSpec]:
    """AWS/SES reputation metrics of the account in the sending region (docs.aws.amazon.com/ses/
    latest/dg/reputation-dashboard-dg.html: review above 5% bounces or 0.1% complaints; sending
    paused above 10% and 0.5%)."""

    def metric(name: str) -> Metric:
        return Metric(namespace="AWS/SES", name=name, dimensions={}, stat="Maximum")

    return [
        _spec(
            "mail-bounce-rate",
            "Mail bounce rate high",
            f"more than {SES_BOUNCE_RATE:.0%} of the site's mail bounces: SES reviews the "
            "account, and pauses sending at 10%.",
            metric("Reputation.BounceRate"),
            threshold=SES_BOUNCE_RATE,
            period=3600,
            evaluation_periods=1,
            datapoints=1,
        ),
        _spec(
            "mail-complaint-rate",
            "Mail complaint rate high",
            f"more than {SES_COMPLAINT_RATE:.1%} of the site's mail is reported as spam: SES "
            "reviews the account, and pauses sending at 0.5%.",
            metric("Reputation.ComplaintRate"),
            threshold=SES_COMPLAINT_RATE,
            period=3600,
            evaluation_periods=1,
            datapoints=1,
        ),
    ]
