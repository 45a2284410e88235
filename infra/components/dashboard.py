"""Dashboard: one CloudWatch dashboard per stack, every region side by side.

Declared in the home region; each widget draws its metrics from the region they belong to (a
metric's `region` rendering property: docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/
CloudWatch-Dashboard-Body-Structure.html). One row per signal (requests and 5xx, p95 latency,
healthy servers, database CPU, replica lag, the canary), one column per region, in stack order.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

WIDTH = 24  # the dashboard grid's width
HEIGHT = 6


@dataclass(frozen=True, kw_only=True)
class RegionPanel:
    region: str
    load_balancer: pulumi.Input[str]  # arn_suffix
    target_group: pulumi.Input[str]  # arn_suffix
    autoscaling_group: str
    database: str  # identifier
    replica: bool
    canary: pulumi.Input[str]


@dataclass(frozen=True, kw_only=True)
class DashboardArgs:
    dashboard_name: str
    regions: Sequence[RegionPanel]


class Dashboard(pulumi.ComponentResource):
    dashboard: aws.cloudwatch.Dashboard

    def __init__(
        self, name: str, args: DashboardArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("python-org:oncall:Dashboard", name, None, opts)
        values = pulumi.Output.all(
            *[pulumi.Output.all(p.load_balancer, p.target_group, p.canary) for p in args.regions]
        )
        self.dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=args.dashboard_name,
            dashboard_body=values.apply(lambda v: json.dumps(body(args.regions, v))),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"dashboard": self.dashboard.dashboard_name})


def body(panels: Sequence[RegionPanel], resolved: Sequence[Sequence[str]]) -> dict[str, Any]:
    width = WIDTH // max(1, len(panels))
    widgets: list[dict[str, Any]] = []
    for column, (panel, (lb, tg, canary)) in enumerate(zip(panels, resolved, strict=True)):
        elb = "AWS/ApplicationELB"
        rds = ("AWS/RDS", "DBInstanceIdentifier", panel.database)
        rows: list[tuple[str, list[list[Any]], str]] = [
            (
                "Requests and 5xx",
                [
                    [elb, "RequestCount", "LoadBalancer", lb],
                    [elb, "HTTPCode_Target_5XX_Count", "LoadBalancer", lb],
                    [elb, "HTTPCode_ELB_5XX_Count", "LoadBalancer", lb],
                ],
                "Sum",
            ),
            ("Response time p95 (s)", [[elb, "TargetResponseTime", "LoadBalancer", lb]], "p95"),
            (
                "Web servers",
                [
                    [elb, "HealthyHostCount", "TargetGroup", tg, "LoadBalancer", lb],
                    [elb, "UnHealthyHostCount", "TargetGroup", tg, "LoadBalancer", lb],
                    [
                        "AWS/AutoScaling",
                        "GroupInServiceInstances",
                        "AutoScalingGroupName",
                        panel.autoscaling_group,
                    ],
                ],
                "Minimum",
            ),
            (
                "Database CPU (%) and connections",
                [
                    [*rds[:1], "CPUUtilization", *rds[1:]],
                    [*rds[:1], "DatabaseConnections", *rds[1:]],
                ],
                "Average",
            ),
            (
                "Replica lag (s)" if panel.replica else "Database free storage (bytes)",
                [[*rds[:1], "ReplicaLag" if panel.replica else "FreeStorageSpace", *rds[1:]]],
                "Maximum" if panel.replica else "Minimum",
            ),
            (
                "Synthetic checks (% success)",
                [["CloudWatchSynthetics", "SuccessPercent", "CanaryName", canary]],
                "Average",
            ),
        ]
        for row, (title, metrics, stat) in enumerate(rows):
            widgets.append(
                {
                    "type": "metric",
                    "x": column * width,
                    "y": row * HEIGHT,
                    "width": width,
                    "height": HEIGHT,
                    "properties": {
                        "title": f"{panel.region}: {title}",
                        "region": panel.region,
                        "metrics": [[*m, {"region": panel.region}] for m in metrics],
                        "stat": stat,
                        "period": 300 if "Synthetic" in title else 60,
                        "view": "timeSeries",
                    },
                }
            )
    return {"widgets": widgets}
