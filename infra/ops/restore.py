"""The restore drill: prove that the latest backup of the primary database restores.

AWS Backup keeps RDS recovery points as RDS snapshots of type `awsbackup` (in the home region's
vault, and the copy in `python-org:backup.copyRegion`'s vault), which RDS restores like any other
(docs.aws.amazon.com/aws-backup/latest/devguide/restoring-rds.html;
RDS DescribeDBSnapshots, SnapshotType `awsbackup`). The drill:

1. finds the newest available `awsbackup` snapshot of a database of the stack in the region
   (by default the copy region: restoring the copy proves the backup and the copy at once);
2. restores it into a scratch instance beside the region's own database (its subnet group and
   security group: private, reachable by nobody but the web tier), not Multi-AZ, no deletion
   protection, tagged as the drill's;
3. waits until RDS reports it `available`, and reports how long that took (the restore part of
   the RTO);
4. deletes it (no final snapshot, no automated backups kept), whatever happened in 3, so a
   failed or timed-out drill leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from infra import naming
from infra.config import StackConfig
from infra.ops import waiting
from infra.ops.aws import Aws, NotFoundError, OpsError, SetupError, aws_errors
from infra.ops.waiting import Progress, TimedOutError, wait_until

OWNER = "scripts/restore_drill"
SNAPSHOT_TYPE = "awsbackup"
PREFIX = "drill-"
FAILED_STATUSES = frozenset(
    {"failed", "incompatible-restore", "incompatible-parameters", "incompatible-network"}
)


@dataclass(frozen=True, kw_only=True)
class RecoveryPoint:
    snapshot_id: str
    snapshot_arn: str
    db_identifier: str  # the database it was taken of
    created: datetime | None


@dataclass(frozen=True, kw_only=True)
class DrillResult:
    region: str
    recovery_point: RecoveryPoint
    scratch_id: str
    seconds: float  # from the restore request until the instance was available
    deleted: bool


def drill_region(cfg: StackConfig, region: str | None) -> str:
    """The region to restore in: the copy region by default, else the home region."""
    allowed = [
        cfg.home_region,
        *([cfg.oncall.backup.copy_region] if cfg.oncall.backup.copy_region else []),
    ]
    if region is None:
        return allowed[-1]
    if region not in allowed:
        raise SetupError(
            f"region {region!r} holds no backup vault of stack {cfg.stack!r} "
            f"(vaults: {', '.join(allowed)})"
        )
    return region


def latest_recovery_point(aws: Aws, cfg: StackConfig, region: str) -> RecoveryPoint:
    """The newest available AWS Backup snapshot of one of the stack's databases in `region`."""
    rds = aws.client("rds", region)
    stack_dbs = {naming.db_identifier(cfg.stack, r) for r in cfg.region_names}
    found: list[dict[str, Any]] = []
    with aws_errors(region):
        pages = rds.get_paginator("describe_db_snapshots").paginate(SnapshotType=SNAPSHOT_TYPE)
        for page in pages:
            found.extend(
                s
                for s in page["DBSnapshots"]
                if s.get("Status") == "available" and s.get("DBInstanceIdentifier") in stack_dbs
            )
    if not found:
        raise NotFoundError(
            f"{region}: no available AWS Backup recovery point of stack {cfg.stack!r} "
            f"(RDS snapshots of type {SNAPSHOT_TYPE} of {', '.join(sorted(stack_dbs))}); has the "
            f"backup plan run yet? (aws backup list-recovery-points-by-backup-vault --region "
            f"{region} --backup-vault-name {naming.backup_vault(cfg.stack, region)})"
        )
    newest = max(
        found, key=lambda s: s.get("SnapshotCreateTime") or datetime.min.replace(tzinfo=UTC)
    )
    return RecoveryPoint(
        snapshot_id=str(newest["DBSnapshotIdentifier"]),
        snapshot_arn=str(newest.get("DBSnapshotArn") or newest["DBSnapshotIdentifier"]),
        db_identifier=str(newest["DBInstanceIdentifier"]),
        created=newest.get("SnapshotCreateTime"),
    )


def scratch_identifier(db_identifier: str, when: datetime) -> str:
    return f"{PREFIX}{db_identifier}-{when.astimezone(UTC):%Y%m%d%H%M%S}"


def run_drill(
    aws: Aws,
    cfg: StackConfig,
    region: str,
    *,
    instance_class: str | None,
    timeout: float,
    interval: float,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    progress: Progress | None = None,
    log: Callable[[str], None] = lambda _line: None,
) -> DrillResult:
    point = latest_recovery_point(aws, cfg, region)
    log(
        f"recovery point {point.snapshot_id} of {point.db_identifier}, taken {_when(point.created, now())}"
    )
    rds = aws.client("rds", region)
    subnet_group, groups = _placement(rds, cfg, region)
    scratch = scratch_identifier(point.db_identifier, now())
    tags = {
        **naming.base_tags(cfg.stack, region, cfg.environment.value),
        "managed-by": OWNER,
        "purpose": "restore-drill",
    }
    request: dict[str, Any] = {
        "DBInstanceIdentifier": scratch,
        "DBSnapshotIdentifier": point.snapshot_arn,
        "DBInstanceClass": instance_class or cfg.database.instance_class,
        "PubliclyAccessible": False,
        "MultiAZ": False,
        "DeletionProtection": False,
        "CopyTagsToSnapshot": False,
        "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
    }
    if subnet_group:
        request["DBSubnetGroupName"] = subnet_group
    if groups:
        request["VpcSecurityGroupIds"] = groups
    with aws_errors(region):
        rds.restore_db_instance_from_db_snapshot(**request)
    log(f"restoring into {scratch} ({request['DBInstanceClass']}, subnet group {subnet_group})")
    seconds = _wait_available(
        rds, region, scratch, timeout=timeout, interval=interval, progress=progress, log=log
    )
    deleted = _delete(rds, region, scratch, log)
    return DrillResult(
        region=region, recovery_point=point, scratch_id=scratch, seconds=seconds, deleted=deleted
    )


def _placement(rds: Any, cfg: StackConfig, region: str) -> tuple[str | None, list[str]]:
    """The subnet group and security groups of the region's own database, which the scratch
    instance is placed beside."""
    home_of_region = naming.db_identifier(cfg.stack, region)
    try:
        with aws_errors(region):
            neighbour = rds.describe_db_instances(DBInstanceIdentifier=home_of_region)[
                "DBInstances"
            ][0]
    except NotFoundError:
        raise NotFoundError(
            f"{region}: no database {home_of_region!r} to place the scratch instance beside "
            "(its subnet group and security group)"
        ) from None
    subnet_group = (neighbour.get("DBSubnetGroup") or {}).get("DBSubnetGroupName")
    groups = [g["VpcSecurityGroupId"] for g in neighbour.get("VpcSecurityGroups") or []]
    return subnet_group, groups


def _wait_available(
    rds: Any,
    region: str,
    scratch: str,
    *,
    timeout: float,
    interval: float,
    progress: Progress | None,
    log: Callable[[str], None],
) -> float:
    """Seconds until the scratch instance is available; when it fails or the wait times out,
    it is deleted before the error propagates."""
    started = waiting.CLOCK.now()  # read at call time: tests replace the clock

    def poll() -> tuple[bool, str]:
        with aws_errors(region):
            found = rds.describe_db_instances(DBInstanceIdentifier=scratch)["DBInstances"]
        status = str(found[0].get("DBInstanceStatus", "unknown")) if found else "missing"
        if status in FAILED_STATUSES or status == "missing":
            raise OpsError(f"{region}: the restore into {scratch} is {status!r}, not available")
        return status == "available", status

    try:
        wait_until(
            poll,
            what=f"restore of {scratch}",
            timeout=timeout,
            interval=interval,
            progress=progress,
        )
        return waiting.CLOCK.now() - started
    except TimedOutError as exc:
        deleted = _delete(rds, region, scratch, log)
        left = "deleted it" if deleted else f"could not delete it: delete {scratch} by hand"
        raise OpsError(f"{exc}; the drill failed, and {left}") from exc
    except BaseException:
        _delete(rds, region, scratch, log)
        raise


def _delete(rds: Any, region: str, scratch: str, log: Callable[[str], None]) -> bool:
    """Delete the scratch instance (it holds a copy of production data); True once requested."""
    try:
        with aws_errors(region):
            rds.delete_db_instance(
                DBInstanceIdentifier=scratch, SkipFinalSnapshot=True, DeleteAutomatedBackups=True
            )
    except NotFoundError:
        return True
    except OpsError as exc:
        log(f"could not delete {scratch}: {exc}")
        return False
    log(f"deleted scratch instance {scratch} (no final snapshot)")
    return True


def _when(created: datetime | None, now: datetime) -> str:
    if created is None:
        return "at an unknown time"
    hours = (now - created).total_seconds() / 3600
    return f"{created.astimezone(UTC):%Y-%m-%d %H:%M}Z ({hours:.0f}h ago)"
