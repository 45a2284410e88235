"""The pre-deploy snapshot: a manual snapshot of the primary, and retention of our own.

A snapshot this module takes is recognisable twice over: its identifier starts with
`pre-deploy-<db identifier>-` and it carries the tag `managed-by=scripts/snapshot_db`. Retention
only ever considers snapshots with both, so automated snapshots, the program's final snapshots
and anybody's hand-made ones are never touched. The identifier ends with the UTC time of
creation (`YYYYMMDD-HHMMSS`), so sorting identifiers sorts snapshots by age.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from infra import naming
from infra.config import StackConfig
from infra.ops.aws import Aws, NotFoundError, OpsError, aws_errors
from infra.ops.waiting import Progress, TimedOutError, wait_until

PREFIX = "pre-deploy-"
OWNER_KEY = "managed-by"
OWNER = "scripts/snapshot_db"
# Statuses a snapshot never leaves for "available".
FAILED_STATUSES = frozenset({"failed", "deleting", "deleted", "error"})


@dataclass(frozen=True, kw_only=True)
class SnapshotResult:
    snapshot_id: str
    db_identifier: str
    region: str
    kept: tuple[str, ...]  # ours, newest first, including the new one
    deleted: tuple[str, ...]


def own_prefix(db_identifier: str) -> str:
    return f"{PREFIX}{db_identifier}-"


def snapshot_identifier(db_identifier: str, when: datetime) -> str:
    return f"{own_prefix(db_identifier)}{when.astimezone(UTC):%Y%m%d-%H%M%S}"


def snapshot_tags(cfg: StackConfig) -> list[dict[str, str]]:
    # Explicit tags stop RDS from copying the instance's (copy_tags_to_snapshot), so the base
    # tags are repeated here; managed-by names the script, since Pulumi does not manage these.
    base = naming.base_tags(cfg.stack, cfg.home_region, cfg.environment.value)
    tags = {**base, OWNER_KEY: OWNER, "purpose": "pre-deploy"}
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def is_own(snapshot: dict[str, Any], db_identifier: str) -> bool:
    tags = {t.get("Key"): t.get("Value") for t in snapshot.get("TagList") or []}
    return (
        snapshot.get("SnapshotType") == "manual"
        and str(snapshot.get("DBSnapshotIdentifier", "")).startswith(own_prefix(db_identifier))
        and tags.get(OWNER_KEY) == OWNER
    )


def take_snapshot(
    aws: Aws,
    cfg: StackConfig,
    *,
    keep: int,
    timeout: float,
    interval: float,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    progress: Progress | None = None,
    log: Callable[[str], None] = lambda _line: None,
) -> SnapshotResult:
    """Snapshot the home region's database, wait until the snapshot is available, then delete
    our own pre-deploy snapshots beyond the newest `keep`."""
    if keep < 1:
        raise ValueError("keep must be at least 1: the new snapshot is kept")
    region = cfg.home_region
    db_id = naming.db_identifier(cfg.stack, region)
    rds = aws.client("rds", region)
    _check_primary(rds, cfg, db_id)

    snapshot_id = snapshot_identifier(db_id, now())
    with aws_errors(region):
        rds.create_db_snapshot(
            DBSnapshotIdentifier=snapshot_id, DBInstanceIdentifier=db_id, Tags=snapshot_tags(cfg)
        )
    log(f"started snapshot {snapshot_id} of {db_id} in {region}")

    def poll() -> tuple[bool, str]:
        with aws_errors(region):
            found = rds.describe_db_snapshots(DBSnapshotIdentifier=snapshot_id)["DBSnapshots"]
        if not found:
            raise NotFoundError(
                f"{region}: snapshot {snapshot_id} disappeared while it was created"
            )
        status = str(found[0].get("Status", "unknown"))
        if status in FAILED_STATUSES:
            raise OpsError(f"{region}: snapshot {snapshot_id} is {status!r}, not available")
        percent = found[0].get("PercentProgress")
        shown = f"{status} {percent}%" if percent is not None and status != "available" else status
        return status == "available", shown

    try:
        wait_until(
            poll,
            what=f"snapshot {snapshot_id}",
            timeout=timeout,
            interval=interval,
            progress=progress,
        )
    except TimedOutError as exc:
        raise OpsError(
            f"{exc}; RDS keeps working on it, and no old snapshot was deleted "
            f"(check: aws rds describe-db-snapshots --region {region} "
            f"--db-snapshot-identifier {snapshot_id})"
        ) from exc

    kept, deleted = _prune(rds, region, db_id, keep=keep, log=log)
    return SnapshotResult(
        snapshot_id=snapshot_id, db_identifier=db_id, region=region, kept=kept, deleted=deleted
    )


def _check_primary(rds: Any, cfg: StackConfig, db_id: str) -> None:
    region = cfg.home_region
    try:
        with aws_errors(region):
            instance = rds.describe_db_instances(DBInstanceIdentifier=db_id)["DBInstances"][0]
    except NotFoundError:
        raise NotFoundError(
            f"{region}: no database {db_id!r}, the primary of stack {cfg.stack!r} "
            f"(homeRegion in Pulumi.{cfg.stack}.yaml)"
        ) from None
    if instance.get("ReadReplicaSourceDBInstanceIdentifier"):
        # After a failover the config must name the promoted region: snapshotting a replica
        # here would protect the wrong database.
        raise OpsError(
            f"{region}: {db_id} is a read replica, not the primary; after a failover set "
            f"python-org:homeRegion in Pulumi.{cfg.stack}.yaml to the promoted region"
        )


def own_snapshots(rds: Any, region: str, db_id: str) -> list[dict[str, Any]]:
    """Our pre-deploy snapshots of `db_id`, newest first."""
    found: list[dict[str, Any]] = []
    with aws_errors(region):
        pages = rds.get_paginator("describe_db_snapshots").paginate(
            DBInstanceIdentifier=db_id, SnapshotType="manual"
        )
        for page in pages:
            found.extend(s for s in page["DBSnapshots"] if is_own(s, db_id))
    return sorted(found, key=lambda s: str(s["DBSnapshotIdentifier"]), reverse=True)


def _prune(
    rds: Any, region: str, db_id: str, *, keep: int, log: Callable[[str], None]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    ours = own_snapshots(rds, region, db_id)
    kept = [s["DBSnapshotIdentifier"] for s in ours[:keep]]
    deleted: list[str] = []
    for snap in ours[keep:]:
        sid = snap["DBSnapshotIdentifier"]
        if snap.get("Status") != "available":
            # RDS refuses to delete a snapshot in progress; the next run catches it.
            log(f"kept {sid} for now: it is {snap.get('Status')!r}")
            kept.append(sid)
            continue
        with aws_errors(region):
            rds.delete_db_snapshot(DBSnapshotIdentifier=sid)
        log(f"deleted old pre-deploy snapshot {sid}")
        deleted.append(sid)
    return tuple(kept), tuple(deleted)
