"""The post-deploy smoke test: every region of the stack, four checks each.

- targets: every target of the region's target groups (found through the autoscaling group's
  TargetGroupARNs) is healthy, except those draining away after an instance refresh, and at
  least web.minSize are;
- capacity: the autoscaling group has at least web.minSize instances InService and Healthy;
- database: the region's RDS instance is available and has the role the config gives it (the
  primary in the home region, a replica of the primary elsewhere);
- replica lag: the newest ReplicaLag datapoint (CloudWatch, AWS/RDS) of a replica is below the
  threshold. The primary has no lag to check.

A check that cannot be answered (AWS unreachable, throttled, a resource missing) is an ERROR,
which fails the run like a FAIL does. When a region's endpoint is unreachable its remaining
checks are not attempted: each would spend the retries again on the same dead endpoint.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from infra import naming
from infra.config import StackConfig
from infra.ops.aws import (
    Aws,
    NotFoundError,
    OpsError,
    SetupError,
    ThrottledError,
    UnreachableError,
    aws_errors,
)

CHECKS = ("targets", "capacity", "database", "replica lag")
LAG_WINDOW = timedelta(minutes=10)
DEFAULT_MAX_LAG = 30.0


class Status(enum.Enum):
    OK = "ok"
    FAIL = "FAIL"
    ERROR = "ERROR"
    SKIPPED = "-"  # does not apply (replica lag of the primary)


@dataclass(frozen=True, kw_only=True)
class Result:
    region: str
    check: str
    status: Status
    summary: str  # what the table shows
    detail: str = ""  # what the operator needs to act on a failure

    @property
    def failed(self) -> bool:
        return self.status in (Status.FAIL, Status.ERROR)


def run(
    aws: Aws,
    cfg: StackConfig,
    *,
    regions: Sequence[str] | None = None,
    max_lag: float = DEFAULT_MAX_LAG,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> list[Result]:
    results: list[Result] = []
    for region in regions or cfg.region_names:
        results.extend(_region(aws, cfg, region, max_lag=max_lag, now=now))
    return results


def _region(
    aws: Aws, cfg: StackConfig, region: str, *, max_lag: float, now: Callable[[], datetime]
) -> list[Result]:
    home = region == cfg.home_region
    asg: dict[str, Any] | None = None
    unreachable: str | None = None
    results: list[Result] = []

    def error(check: str, summary: str, detail: str) -> None:
        results.append(
            Result(region=region, check=check, status=Status.ERROR, summary=summary, detail=detail)
        )

    def attempt(check: str, body: Callable[[], Result]) -> None:
        nonlocal unreachable
        if unreachable is not None:
            error(check, "unreachable", unreachable)
            return
        try:
            with aws_errors(region):
                results.append(body())
        except SetupError:
            raise  # bad credentials fail every region alike: stop, exit 2
        except UnreachableError as exc:
            unreachable = str(exc)
            error(check, "unreachable", unreachable)
        except ThrottledError as exc:
            error(check, "throttled", str(exc))
        except NotFoundError as exc:
            error(check, "missing", str(exc))
        except OpsError as exc:
            error(check, "error", str(exc))

    def load_asg() -> dict[str, Any]:
        nonlocal asg
        if asg is None:
            name = naming.asg_name(cfg.stack, region)
            groups = aws.client("autoscaling", region).describe_auto_scaling_groups(
                AutoScalingGroupNames=[name]
            )["AutoScalingGroups"]
            if not groups:
                raise NotFoundError(f"{region}: no autoscaling group {name!r}")
            asg = groups[0]
        return asg

    attempt("targets", lambda: _targets(aws, cfg, region, load_asg()))
    attempt("capacity", lambda: _capacity(cfg, region, load_asg()))
    attempt("database", lambda: _database(aws, cfg, region))
    if home:
        results.append(
            Result(region=region, check="replica lag", status=Status.SKIPPED, summary="- (primary)")
        )
    else:
        attempt("replica lag", lambda: _replica_lag(aws, cfg, region, max_lag, now()))
    return results


def _targets(aws: Aws, cfg: StackConfig, region: str, asg: dict[str, Any]) -> Result:
    arns = asg.get("TargetGroupARNs") or []
    if not arns:
        return Result(
            region=region,
            check="targets",
            status=Status.FAIL,
            summary="no target group",
            detail=f"{region}: {asg['AutoScalingGroupName']} has no target group",
        )
    elbv2 = aws.client("elbv2", region)
    healthy = 0
    counted = 0
    bad: list[str] = []
    for arn in arns:
        for target in elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]:
            health = target.get("TargetHealth", {})
            state = health.get("State", "unknown")
            if state == "draining":
                continue
            counted += 1
            if state == "healthy":
                healthy += 1
            else:
                reason = health.get("Reason") or health.get("Description") or "no reason given"
                bad.append(f"{target['Target']['Id']} {state} ({reason})")
    need = cfg.web.min_size
    ok = not bad and healthy >= need
    detail = ""
    if bad:
        detail = f"{region}: " + "; ".join(bad)
    elif healthy < need:
        detail = f"{region}: {healthy} healthy targets, web.minSize is {need}"
    return Result(
        region=region,
        check="targets",
        status=Status.OK if ok else Status.FAIL,
        summary=f"{healthy}/{counted} healthy",
        detail=detail,
    )


def _capacity(cfg: StackConfig, region: str, asg: dict[str, Any]) -> Result:
    instances = asg.get("Instances") or []
    in_service = [
        i
        for i in instances
        if i.get("LifecycleState") == "InService" and i.get("HealthStatus") == "Healthy"
    ]
    need = cfg.web.min_size
    ok = len(in_service) >= need
    notes: list[str] = []
    if not ok:
        notes.append(f"{len(in_service)} of web.minSize {need} InService and Healthy")
        notes += [
            f"{i['InstanceId']} {i.get('LifecycleState')}/{i.get('HealthStatus')}"
            for i in instances
            if i not in in_service
        ]
    if asg.get("MinSize") != need:
        # Drift between the config and the group: worth telling, not a failed deploy.
        notes.append(f"the group's MinSize is {asg.get('MinSize')}, web.minSize is {need}")
    detail = f"{region}: " + "; ".join(notes) if notes else ""
    return Result(
        region=region,
        check="capacity",
        status=Status.OK if ok else Status.FAIL,
        summary=f"{len(in_service)} in service (min {need})",
        detail=detail,
    )


def _database(aws: Aws, cfg: StackConfig, region: str) -> Result:
    db_id = naming.db_identifier(cfg.stack, region)
    try:
        with aws_errors(region):
            db = aws.client("rds", region).describe_db_instances(DBInstanceIdentifier=db_id)[
                "DBInstances"
            ][0]
    except NotFoundError:
        raise NotFoundError(f"{region}: no database {db_id!r}") from None
    status = db.get("DBInstanceStatus", "unknown")
    source = db.get("ReadReplicaSourceDBInstanceIdentifier")
    role = "replica" if source else "primary"
    problems: list[str] = []
    if status != "available":
        problems.append(f"{db_id} is {status!r}")
    primary_id = naming.db_identifier(cfg.stack, cfg.home_region)
    if region == cfg.home_region and source:
        problems.append(f"{db_id} is a replica of {source}, but {region} is the home region")
    elif region != cfg.home_region and not source:
        problems.append(f"{db_id} is not a replica (promoted?); homeRegion is {cfg.home_region}")
    elif source and region != cfg.home_region and source.rsplit(":", 1)[-1] != primary_id:
        problems.append(f"{db_id} replicates {source}, not the primary {primary_id}")
    return Result(
        region=region,
        check="database",
        status=Status.FAIL if problems else Status.OK,
        summary=f"{status} ({role})",
        detail=f"{region}: " + "; ".join(problems) if problems else "",
    )


def _replica_lag(aws: Aws, cfg: StackConfig, region: str, max_lag: float, now: datetime) -> Result:
    db_id = naming.db_identifier(cfg.stack, region)
    lag = replica_lag(aws, region, db_id, now)
    if lag is None:
        return Result(
            region=region,
            check="replica lag",
            status=Status.FAIL,
            summary="no data",
            detail=f"{region}: no ReplicaLag datapoint for {db_id} in the last "
            f"{int(LAG_WINDOW.total_seconds() // 60)} minutes",
        )
    if lag < 0:
        # RDS reports -1 while replication is not running.
        return Result(
            region=region,
            check="replica lag",
            status=Status.FAIL,
            summary="not replicating",
            detail=f"{region}: ReplicaLag of {db_id} is {lag:g}: replication is stopped",
        )
    ok = lag < max_lag
    return Result(
        region=region,
        check="replica lag",
        status=Status.OK if ok else Status.FAIL,
        summary=f"{lag:g}s (< {max_lag:g}s)" if ok else f"{lag:g}s (>= {max_lag:g}s)",
        detail="" if ok else f"{region}: {db_id} is {lag:g}s behind the primary",
    )


def replica_lag(aws: Aws, region: str, db_id: str, now: datetime) -> float | None:
    """The newest one-minute maximum of ReplicaLag (seconds) within LAG_WINDOW, or None."""
    answer = aws.client("cloudwatch", region).get_metric_data(
        MetricDataQueries=[
            {
                "Id": "lag",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/RDS",
                        "MetricName": "ReplicaLag",
                        "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": db_id}],
                    },
                    "Period": 60,
                    "Stat": "Maximum",
                },
            }
        ],
        StartTime=now - LAG_WINDOW,
        EndTime=now,
        ScanBy="TimestampDescending",
    )
    for series in answer.get("MetricDataResults", []):
        points = sorted(
            zip(series.get("Timestamps", []), series.get("Values", []), strict=False), reverse=True
        )
        if points:
            return float(points[0][1])
    return None


def render(cfg: StackConfig, results: Sequence[Result]) -> str:
    """One table, a row per region and a column per check, then what failed and why."""
    regions = list(dict.fromkeys(r.region for r in results))
    by_key = {(r.region, r.check): r for r in results}
    header = ["region", *CHECKS]
    rows: list[list[str]] = []
    for region in regions:
        label = f"{region} (home)" if region == cfg.home_region else region
        cells = [label]
        for check in CHECKS:
            result = by_key.get((region, check))
            if result is None:
                cells.append("")
            elif result.status is Status.SKIPPED:
                cells.append(result.summary)
            else:
                cells.append(f"{result.status.value} {result.summary}")
        rows.append(cells)
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    out = [line([h.upper() for h in header]), line(["-" * w for w in widths])]
    out += [line(row) for row in rows]
    failed = [r for r in results if r.failed]
    counted = [r for r in results if r.status is not Status.SKIPPED]
    out.append("")
    if failed:
        out.append("failed:")
        out += [f"  {r.region} {r.check}: {_detail(r)}" for r in failed]
        out.append("")
        out.append(f"{len(failed)} of {len(counted)} checks failed.")
    else:
        out.append(f"All {len(counted)} checks passed.")
    notes = [r for r in results if not r.failed and r.detail]
    if notes:
        out.append("notes:")
        out += [f"  {r.region} {r.check}: {_detail(r)}" for r in notes]
    return "\n".join(out)


def _detail(result: Result) -> str:
    # Details name their region for use on their own; in the table's list it is said already.
    return (result.detail or result.summary).removeprefix(f"{result.region}: ")
