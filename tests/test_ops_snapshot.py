"""scripts/snapshot_db against moto: the snapshot, the wait, retention, and its failures."""

from __future__ import annotations

import re
from typing import Any

import pytest

from infra import naming
from infra.cli.snapshot_db import main
from infra.config import StackConfig
from infra.ops.snapshot import OWNER, OWNER_KEY, own_prefix
from tests.ops_fixtures import (
    MAX_ATTEMPTS,
    Deployed,
    FakeClock,
    Hooks,
    deploy,
    fixture_aws_env,  # noqa: F401 (fixture)
    fixture_hooks,  # noqa: F401 (fixture)
    fixture_mocked,  # noqa: F401 (fixture)
    fixture_prod_cfg,  # noqa: F401 (fixture)
    throttle,
)

pytestmark = pytest.mark.usefixtures("mocked")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["prod", *args])
    out, err = capsys.readouterr()
    return code, out, err


def make_snapshot(d: Deployed, ident: str, tags: dict[str, str]) -> None:
    d.client("rds", d.cfg.home_region).create_db_snapshot(
        DBSnapshotIdentifier=ident,
        DBInstanceIdentifier=naming.db_identifier(d.cfg.stack, d.cfg.home_region),
        Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
    )


def test_snapshot_prints_its_id_and_prunes_only_its_own(
    prod_cfg: StackConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    d = deploy(prod_cfg, web=False, replicas=False)
    db_id = naming.db_identifier("prod", prod_cfg.home_region)
    ours = {"managed-by": OWNER}
    old = [f"{own_prefix(db_id)}2024010{day}-030000" for day in range(1, 6)]
    for ident in old:
        make_snapshot(d, ident, ours)
    # Lookalikes retention must leave alone: our prefix without our tag, our tag without our
    # prefix, somebody's manual snapshot; moto made the automated one when the DB was created.
    make_snapshot(d, f"{own_prefix(db_id)}20200101-000000", {"managed-by": "someone"})
    make_snapshot(d, "pre-migration-by-hand", ours)
    make_snapshot(d, "before-upgrade", {})
    automated = {s for s in d.snapshot_ids() if s.startswith("rds:")}
    assert automated

    code, out, err = run(capsys, "--keep", "3")

    assert code == 0, err
    new = out.strip()
    assert re.fullmatch(rf"{re.escape(own_prefix(db_id))}\d{{8}}-\d{{6}}", new)
    assert out == f"{new}\n"  # the id alone on stdout, for $(scripts/snapshot_db prod)
    assert d.snapshot_ids() == {
        new,
        old[4],
        old[3],
        f"{own_prefix(db_id)}20200101-000000",
        "pre-migration-by-hand",
        "before-upgrade",
        *automated,
    }
    for ident in old[:3]:
        assert f"deleted old pre-deploy snapshot {ident}" in err
    assert f"✓ snapshot {new}: available" in err
    assert "kept 3 pre-deploy snapshot(s), deleted 3" in err
    snap = d.client("rds", "us-east-2").describe_db_snapshots(DBSnapshotIdentifier=new)
    tags = {t["Key"]: t["Value"] for t in snap["DBSnapshots"][0]["TagList"]}
    assert tags[OWNER_KEY] == OWNER
    assert tags["stack"] == "prod"
    assert tags["environment"] == "production"


def still_creating(calls: list[int], polls_until_available: int | None) -> Any:
    """after-call handler: the snapshot reports `creating` (moto's are available at once)."""

    def handler(parsed: dict[str, Any], **_: Any) -> None:
        calls.append(1)
        if polls_until_available is not None and len(calls) > polls_until_available:
            return
        for snap in parsed.get("DBSnapshots", []):
            if snap["DBSnapshotIdentifier"].startswith("pre-deploy-"):
                snap["Status"] = "creating"
                snap["PercentProgress"] = 10 * len(calls)

    return handler


def test_snapshot_waits_while_creating_with_progress(
    prod_cfg: StackConfig, hooks: Hooks, mocked: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy(prod_cfg, web=False, replicas=False)
    calls: list[int] = []
    hooks.on("after-call.rds.DescribeDBSnapshots", still_creating(calls, 3))

    code, out, err = run(capsys, "--poll-interval", "20", "--timeout", "600")

    assert code == 0, err
    snapshot_id = out.strip()
    assert err.splitlines()[1:5] == [
        f"… snapshot {snapshot_id}: creating 10% (0s)",
        f"… snapshot {snapshot_id}: creating 20% (20s)",
        f"… snapshot {snapshot_id}: creating 30% (40s)",
        f"✓ snapshot {snapshot_id}: available (1m00s)",
    ]
    assert mocked.sleeps == [20, 20, 20]


def test_snapshot_that_never_becomes_available_times_out(
    prod_cfg: StackConfig, hooks: Hooks, mocked: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    d = deploy(prod_cfg, web=False, replicas=False)
    db_id = naming.db_identifier("prod", prod_cfg.home_region)
    old = f"{own_prefix(db_id)}20240101-030000"
    make_snapshot(d, old, {"managed-by": OWNER})
    calls: list[int] = []
    hooks.on("after-call.rds.DescribeDBSnapshots", still_creating(calls, None))

    code, out, err = run(capsys, "--keep", "1", "--timeout", "60", "--poll-interval", "15")

    assert code == 1
    assert out == ""
    assert "timed out after 1m00s waiting for snapshot pre-deploy-" in err
    assert "(last: creating 50%)" in err
    assert "no old snapshot was deleted" in err
    assert "Traceback" not in err
    assert mocked.sleeps == [15, 15, 15, 15]
    assert len(calls) == 5
    assert old in d.snapshot_ids()  # retention never ran


def test_missing_primary_is_a_clear_failure(
    prod_cfg: StackConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys)

    assert code == 1
    assert out == ""
    assert err.strip() == (
        "error: us-east-2: no database 'pyorg-prod-us-east-2-db', the primary of stack 'prod' "
        "(homeRegion in Pulumi.prod.yaml)"
    )


def test_throttling_that_outlasts_the_retries(
    prod_cfg: StackConfig, hooks: Hooks, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy(prod_cfg, web=False, replicas=False)
    attempts: list[str] = []
    hooks.on("before-send.rds.DescribeDBInstances", throttle(attempts), first=True)

    code, out, err = run(capsys)

    assert code == 1
    assert out == ""
    assert err.strip() == (
        f"error: us-east-2: DescribeDBInstances was throttled (Throttling) on all {MAX_ATTEMPTS} "
        "attempts; try again later or raise AWS_MAX_ATTEMPTS"
    )
    assert len(attempts) == MAX_ATTEMPTS  # botocore's standard mode retried


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--keep", "0"], "argument --keep: '0' is less than 1"),
        (["--timeout", "-1"], "argument --timeout: '-1' is negative"),
    ],
)
def test_bad_options_are_usage_errors(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["prod", *args])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err
