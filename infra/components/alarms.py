"""Alarms: one region's CloudWatch alarms, declared from a table.

Each alarm is an `AlarmSpec`: what it watches (one metric, or metric math over several), when it
fires (threshold, comparison, how many of how many periods, what missing data means), and what it
means for on-call, with the section of docs/runbook-alarms.md to follow (the section is the
spec's `key`; the description links it). The builders are pure and elsewhere: the web tier's,
the database's, media replication's, the canary's and the backups' in infra/region_alarms.py, the
app's services' in infra/service_alarms.py; a new dependency adds a builder and its runbook
sections, nothing else.

Every alarm tells the region's topic when it fires and when it recovers (`alarm_actions` and
`ok_actions`). Alarm names are `<prefix>-<key>[-<suffix>]`, stable across deploys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.naming import tags

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
