"""scripts/restore_drill against moto: the drill, a missing recovery point, a restore that never
becomes available (timeout, clean error, nothing left behind)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.rds.models import rds_backends

from infra.cli.restore_drill import main
from infra.config import StackConfig
from infra.ops.restore import OWNER, PREFIX
from tests.ops_fixtures import (
    Deployed,
    FakeClock,
    Hooks,
    deploy,
    fixture_aws_env,  # noqa: F401 (fixture)
    fixture_hooks,  # noqa: F401 (fixture)
    fixture_mocked,  # noqa: F401 (fixture)
    fixture_prod_cfg,  # noqa: F401 (fixture)
)

COPY = "eu-west-1"  # python-org:backup.copyRegion of prod


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["prod", *args])
    out, err = capsys.readouterr()
    return code, out, err


BACKUPS: set[str] = set()


def backup_snapshot(d: Deployed, region: str, ident: str, age: timedelta) -> None:
    """A recovery point as AWS Backup leaves it: an RDS snapshot of type `awsbackup`, `age` old.
    moto's API makes manual snapshots only (and restores only manual and automated ones), so
    the snapshot is made manual, its time set on moto's record, and `awsbackup_type` (below)
    gives it the type AWS Backup's snapshots have."""
    db = "pyorg-prod-us-east-2-db" if region == d.cfg.home_region else f"pyorg-prod-{region}-db"
    d.client("rds", region).create_db_snapshot(DBSnapshotIdentifier=ident, DBInstanceIdentifier=db)
    snap = rds_backends[DEFAULT_ACCOUNT_ID][region].database_snapshots[ident]
    snap.created = datetime.now(UTC) - age
    BACKUPS.add(ident)


@pytest.fixture(autouse=True)
def awsbackup_type(hooks: Hooks) -> None:
    """DescribeDBSnapshots with SnapshotType=awsbackup as RDS answers it: only AWS Backup's
    snapshots (moto knows no such type: the request asks moto for manual ones, and the answer
    keeps those made by `backup_snapshot`, typed awsbackup)."""
    BACKUPS.clear()
    asked: list[bool] = []

    def before(params: dict[str, Any], **_: Any) -> None:
        asked[:] = [params.get("SnapshotType") == "awsbackup"]
        if asked[0]:
            params["SnapshotType"] = "manual"

    def after(parsed: dict[str, Any], **_: Any) -> None:
        if asked and asked[0]:
            parsed["DBSnapshots"] = [
                {**s, "SnapshotType": "awsbackup"}
                for s in parsed.get("DBSnapshots", [])
                if s["DBSnapshotIdentifier"] in BACKUPS
            ]

    hooks.on("before-parameter-build.rds.DescribeDBSnapshots", before)
    hooks.on("after-call.rds.DescribeDBSnapshots", after)


def drills(region: str) -> list[str]:
    return [i for i in rds_backends[DEFAULT_ACCOUNT_ID][region].databases if i.startswith(PREFIX)]


def creating_for(polls: int | None) -> Any:
    """after-call handler: RDS's view of a restore in progress (moto's are available at once)."""
    seen: list[int] = []

    def handler(parsed: dict[str, Any], **_: Any) -> None:
        for db in parsed.get("DBInstances", []):
            if db["DBInstanceIdentifier"].startswith(PREFIX):
                seen.append(1)
                if polls is None or len(seen) <= polls:
                    db["DBInstanceStatus"] = "creating"

    return handler


def test_the_drill_restores_the_newest_copy_times_it_and_deletes_it(
    prod_cfg: StackConfig, hooks: Hooks, mocked: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    d = deploy(prod_cfg, web=False, lag={})
    # Made in the other order: the newest by its time is the one restored.
    backup_snapshot(d, COPY, "awsbackup-copyjob-new", timedelta(hours=5))
    backup_snapshot(d, COPY, "awsbackup-copyjob-old", timedelta(days=2))
    # A newer manual snapshot is not a recovery point of the plan.
    d.client("rds", COPY).create_db_snapshot(
        DBSnapshotIdentifier="by-hand", DBInstanceIdentifier="pyorg-prod-eu-west-1-db"
    )
    hooks.on("after-call.rds.DescribeDBInstances", creating_for(polls=2))
    restored: list[dict[str, Any]] = []
    hooks.on(
        "before-parameter-build.rds.RestoreDBInstanceFromDBSnapshot",
        lambda params, **_: restored.append(params),
    )

    code, out, err = run(capsys, "--poll-interval", "30")

    assert code == 0, err
    (request,) = restored
    assert request["DBSnapshotIdentifier"].endswith(":snapshot:awsbackup-copyjob-new")
    assert request["PubliclyAccessible"] is False
    assert request["MultiAZ"] is False
    assert request["DBInstanceClass"] == prod_cfg.database.instance_class
    tags = {t["Key"]: t["Value"] for t in request["Tags"]}
    assert tags["managed-by"] == OWNER
    assert tags["environment"] == "production"
    scratch = request["DBInstanceIdentifier"]
    assert scratch.startswith(f"{PREFIX}pyorg-prod-eu-west-1-db-")
    assert out.strip() == (
        f"restored awsbackup-copyjob-new (pyorg-prod-eu-west-1-db) in {COPY} in 1m00s; "
        f"scratch instance {scratch} deleted"
    )
    assert f"✓ restore of {scratch}: available (1m00s)" in err
    assert mocked.sleeps == [30, 30]
    assert drills(COPY) == []  # nothing left behind


def test_the_home_region_can_be_drilled_too(
    prod_cfg: StackConfig, hooks: Hooks, mocked: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    d = deploy(prod_cfg, web=False, replicas=False)
    backup_snapshot(d, "us-east-2", "awsbackup-job-1", timedelta(hours=1))

    code, out, err = run(capsys, "--region", "us-east-2", "--instance-class", "db.t4g.medium")

    assert code == 0, err
    assert "restored awsbackup-job-1 (pyorg-prod-us-east-2-db) in us-east-2 in 0s" in out
    assert drills("us-east-2") == []


def test_no_recovery_point_is_a_clear_failure(
    prod_cfg: StackConfig, hooks: Hooks, mocked: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    d = deploy(prod_cfg, web=False, lag={})
    # Only a manual snapshot: not a recovery point.
    d.client("rds", COPY).create_db_snapshot(
        DBSnapshotIdentifier="by-hand", DBInstanceIdentifier="pyorg-prod-eu-west-1-db"
    )

    code, out, err = run(capsys)

    assert code == 1
    assert out == ""
    assert err.splitlines()[-1].startswith(
        f"error: {COPY}: no available AWS Backup recovery point of stack 'prod' (RDS snapshots "
        "of type awsbackup of"
    )
    assert "Traceback" not in err
    assert drills(COPY) == []


def test_a_restore_that_never_becomes_available_times_out_and_leaves_nothing(
    prod_cfg: StackConfig, hooks: Hooks, mocked: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    d = deploy(prod_cfg, web=False, lag={})
    backup_snapshot(d, COPY, "awsbackup-copyjob-1", timedelta(hours=3))
    hooks.on("after-call.rds.DescribeDBInstances", creating_for(polls=None))
    deletes: list[dict[str, Any]] = []
    hooks.on(
        "before-parameter-build.rds.DeleteDBInstance", lambda params, **_: deletes.append(params)
    )

    code, out, err = run(capsys, "--timeout", "600", "--poll-interval", "120")

    assert code == 1
    assert out == ""
    last = err.splitlines()[-1]
    assert last.startswith("error: timed out after 10m00s waiting for restore of drill-pyorg-prod")
    assert "(last: creating); the drill failed, and deleted it" in last
    assert "Traceback" not in err
    assert mocked.sleeps == [120] * 5
    (delete,) = deletes
    assert delete["SkipFinalSnapshot"] is True
    assert delete["DeleteAutomatedBackups"] is True
    assert drills(COPY) == []


def test_a_region_without_a_vault_is_a_usage_error(
    prod_cfg: StackConfig, hooks: Hooks, mocked: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--region", "ap-southeast-1")
    assert out == ""

    assert code == 2
    assert err.strip() == (
        "error: region 'ap-southeast-1' holds no backup vault of stack 'prod' "
        "(vaults: us-east-2, eu-west-1)"
    )
