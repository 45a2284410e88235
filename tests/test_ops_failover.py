"""scripts/failover against moto: the dry run, the promotion, the refusals, the runbook."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.rds.models import rds_backends

from infra import naming
from infra.cli.failover import main
from infra.config import StackConfig
from infra.ops import failover as failover_module
from infra.ops.aws import OpsError
from infra.ops.failover import (
    RUNBOOK,
    Plan,
    _decoded,
    break_glass_deploy,
    config_change,
    runbook_steps,
)
from infra.review.graph import Graph
from tests.ops_fixtures import (
    FakeClock,
    Hooks,
    deploy,
    fixture_aws_env,  # noqa: F401 (fixture)
    fixture_hooks,  # noqa: F401 (fixture)
    fixture_mocked,  # noqa: F401 (fixture)
    fixture_prod_cfg,  # noqa: F401 (fixture)
    region_down,
)

REPLICA = "pyorg-prod-eu-west-1-db"


@pytest.fixture(autouse=True)
def _reuse_the_session_graphs(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """The break-glass deploy synthesizes the stack as it is and as changed; the first is the
    session's graph already (the suite stays fast), the second is synthesized once."""
    real = failover_module._synthesized

    def synthesized(stack: str, root: Any, raw: str | None) -> Any:
        if raw is None and stack in ("prod", "staging"):
            return request.getfixturevalue(stack)
        return real(stack, root, raw)

    monkeypatch.setattr(failover_module, "_synthesized", synthesized)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["prod", *args])
    out, err = capsys.readouterr()
    return code, out, err


def moto_instance(region: str, ident: str) -> Any:
    return rds_backends[DEFAULT_ACCOUNT_ID][region].databases[ident]


def count_calls(hooks: Hooks, event: str) -> list[int]:
    calls: list[int] = []
    hooks.on(event, lambda **_: calls.append(1))
    return calls


def promotion_completes(after_polls: int = 0) -> Any:
    """after-call handler for DescribeDBInstances: RDS's view of a promotion in progress.

    moto promotes at once but keeps ReadReplicaSourceDBInstanceIdentifier on the promoted
    instance, where RDS drops it when the promotion completes. This reports `modifying` for
    the first `after_polls` answers after the promotion, then drops the stale field, reading
    moto's own record (`is_replica`) of whether the instance is still a replica."""
    seen: list[int] = []

    def handler(parsed: dict[str, Any], **_: Any) -> None:
        for db in parsed.get("DBInstances", []):
            ident = db["DBInstanceIdentifier"]
            region = db["DBInstanceArn"].split(":")[3]
            stale = "ReadReplicaSourceDBInstanceIdentifier" in db
            if not stale or moto_instance(region, ident).is_replica:
                continue
            seen.append(1)
            if len(seen) <= after_polls:
                db["DBInstanceStatus"] = "modifying"
            else:
                db.pop("ReadReplicaSourceDBInstanceIdentifier", None)

    return handler


def test_dry_run_changes_nothing_and_says_what_to_do(
    prod_cfg: StackConfig, hooks: Hooks, mocked: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    d = deploy(prod_cfg, web=False, lag={"eu-west-1": 3.0})
    promotions = count_calls(hooks, "before-call.rds.PromoteReadReplica")

    code, out, err = run(capsys, "--new-home", "eu-west-1")

    assert code == 0, err
    assert promotions == []
    assert moto_instance("eu-west-1", REPLICA).is_replica
    assert d.db("eu-west-1")["ReadReplicaSourceDBInstanceIdentifier"] == d.primary_arn
    lines = out.splitlines()
    assert lines[0] == "Failover of stack 'prod' to eu-west-1 (home region: us-east-2)"
    assert f"  replica      {REPLICA} (available)" in lines
    assert f"  follows      {d.primary_arn}" in lines
    assert "  replica lag  3s at the last datapoint: up to that many seconds" in out
    assert "  old primary  pyorg-prod-us-east-2-db in us-east-2: available" in lines
    assert "WARNING      the old primary is available: stop writes to it" in out
    assert "also         the replica in ap-southeast-1 follows the old primary" in out
    assert f"DRY RUN: would promote {REPLICA} to a standalone primary" in out
    assert "Nothing was changed; run again with --execute to promote." in out
    assert "  python-org:homeRegion: us-east-2 -> eu-west-1" in lines
    assert "  python-org:regions: remove us-east-2 (re-add it later as a new replica" in out
    assert "  python-org:edge.poolRegions: ENAM, NSAM, SSAM, WNAM: us-east-2 -> eu-west-1" in lines
    assert "would not validate" not in out
    assert "  3. Promote: scripts/failover prod --new-home eu-west-1 --execute." in lines
    assert "  4. Change Pulumi.prod.yaml as the script prints, on a branch." in lines
    runbook = out.split("Runbook (docs/runbook-regional-failover.md):")[1].split("Step 5")[0]
    assert "<" not in runbook
    # The break-glass deploy: the exact targeted preview/up, and what leaves the state.
    assert "  python-org:backup.copyRegion: eu-west-1 -> ap-southeast-1" in lines
    step5 = out.split("Step 5, the targeted deploy")[1]
    targets = re.findall(r"--target '([^']+)'", step5)
    assert targets, step5[:400]
    assert lines[lines.index(next(x for x in lines if "Step 5, the targeted" in x)) + 1] == (
        "  pulumi preview --stack prod --policy-pack policy \\"
    )
    deletes = re.findall(r"pulumi state delete --stack prod --force --yes '([^']+)'", step5)
    assert deletes


def test_execute_promotes_and_waits_until_it_is_a_primary(
    prod_cfg: StackConfig, hooks: Hooks, mocked: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    d = deploy(prod_cfg, web=False)
    hooks.on("after-call.rds.DescribeDBInstances", promotion_completes(after_polls=2))

    code, out, err = run(capsys, "--new-home", "eu-west-1", "--execute", "--poll-interval", "30")

    assert code == 0, err
    assert not moto_instance("eu-west-1", REPLICA).is_replica
    promoted = d.db("eu-west-1")
    assert promoted["BackupRetentionPeriod"] == prod_cfg.database.backup_retention_days
    assert f"PROMOTED: {REPLICA} is a standalone primary in eu-west-1 (available)." in out
    assert "DRY RUN" not in out
    assert err.splitlines() == [
        f"… promotion of {REPLICA}: modifying, still a replica (0s)",
        f"✓ promotion of {REPLICA}: available (1m00s)",
    ]
    assert mocked.sleeps == [30, 30]
    # The replica is no longer one: a second run refuses.
    code, _, err = run(capsys, "--new-home", "eu-west-1", "--execute")
    assert code == 1
    assert "is not a read replica (already promoted?)" in err


def test_promotion_that_does_not_finish_times_out(
    prod_cfg: StackConfig, hooks: Hooks, mocked: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy(prod_cfg, web=False)
    hooks.on("after-call.rds.DescribeDBInstances", promotion_completes(after_polls=1000))

    code, out, err = run(
        capsys, "--new-home", "eu-west-1", "--execute", "--timeout", "300", "--poll-interval", "60"
    )

    assert code == 1
    assert "PROMOTED" not in out
    last = err.splitlines()[-1]
    assert last.startswith(
        f"error: timed out after 5m00s waiting for promotion of {REPLICA} "
        "(last: modifying, still a replica); the promotion was requested"
    )
    assert "do not run --execute again" in last
    assert mocked.sleeps == [60] * 5


@pytest.mark.parametrize(
    ("region", "replicas", "message"),
    [
        (
            "us-east-2",
            True,
            "error: refusing: us-east-2 is the home region of stack 'prod', its database is "
            "the primary and there is no replica to promote (replica regions: eu-west-1, "
            "ap-southeast-1)",
        ),
        (
            "eu-west-1",
            {"eu-west-1": False},
            "error: refusing: eu-west-1 has no database 'pyorg-prod-eu-west-1-db', so no "
            "replica to promote",
        ),
    ],
)
def test_refuses_a_region_without_a_replica(
    prod_cfg: StackConfig,
    mocked: FakeClock,
    capsys: pytest.CaptureFixture[str],
    region: str,
    replicas: Any,
    message: str,
) -> None:
    deploy(prod_cfg, web=False, replicas=replicas)

    code, out, err = run(capsys, "--new-home", region, "--execute")

    assert code == 1
    assert out == ""
    assert err.strip() == message


def test_refuses_a_standalone_instance(
    prod_cfg: StackConfig, mocked: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    d = deploy(prod_cfg, web=False, replicas={"eu-west-1": False})
    d.client("rds", "eu-west-1").create_db_instance(
        DBInstanceIdentifier=REPLICA,
        Engine="postgres",
        DBInstanceClass="db.r7g.large",
        AllocatedStorage=20,
        MasterUsername="someone",
        MasterUserPassword="not-a-secret",
    )

    code, _, err = run(capsys, "--new-home", "eu-west-1", "--execute")

    assert code == 1
    assert err.strip() == (
        f"error: refusing: {REPLICA} in eu-west-1 is not a read replica (already promoted?); "
        "there is nothing to promote"
    )


def test_unknown_region_is_a_usage_error(
    prod_cfg: StackConfig, mocked: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--new-home", "us-west-2")

    assert code == 2
    assert out == ""
    assert err.strip() == (
        "error: region 'us-west-2' is not in stack 'prod' "
        "(regions: us-east-2, eu-west-1, ap-southeast-1)"
    )


def test_home_region_down_still_fails_over(
    prod_cfg: StackConfig, hooks: Hooks, mocked: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy(prod_cfg, web=False, lag={"eu-west-1": None})
    hooks.on("after-call.rds.DescribeDBInstances", promotion_completes())
    attempts: list[str] = []
    hooks.on("before-send", region_down("us-east-2", attempts), first=True)

    code, out, err = run(capsys, "--new-home", "eu-west-1", "--execute")

    assert code == 0, err
    assert not moto_instance("eu-west-1", REPLICA).is_replica
    assert "  old primary  pyorg-prod-us-east-2-db in us-east-2: not answering (us-east-2: " in out
    assert "WARNING" not in out
    assert "replica lag  unknown (no ReplicaLag datapoint in the last 10 minutes)" in out
    assert attempts  # the old primary was asked, and did not answer


def test_the_region_is_named_as_the_new_home_region(
    mocked: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """The old interface (`scripts/failover prod eu-west-1`) read as "eu-west-1 is lost"."""
    with pytest.raises(SystemExit) as exit_:
        main(["prod", "eu-west-1"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "the following arguments are required: --new-home" in err
    with pytest.raises(SystemExit):
        main(["prod", "eu-west-1", "--new-home", "eu-west-1"])
    err = capsys.readouterr().err
    assert "unexpected argument 'eu-west-1': name the region that takes over with --new-home" in err


def test_the_break_glass_deploy_leaves_the_lost_region_alone(staging: Graph) -> None:
    """Targets: the changed program, plus the edge entries of the lost region (to delete them);
    never a resource of the lost region, which leaves the state instead, its data first."""
    change = config_change("staging", "eu-west-1")
    deploy = break_glass_deploy("staging", "us-east-2", change)
    old_home = {r.urn for r in staging if r.custom and r.region == "us-east-2"}
    assert old_home
    assert not old_home & set(deploy.targets)
    assert old_home <= set(deploy.state_only)
    # The lost region's pool and its origin record are targeted: the deploy deletes them.
    pool = staging.one("cloudflare:index/loadBalancerPool:LoadBalancerPool", "edge-us-east-2")
    assert pool.urn in deploy.targets
    # No targeted component holds a resource of the lost region: the engine takes a targeted
    # component's children in with it (pulumi/pulumi#7605) and would delete the whole region.
    for urn in deploy.targets:
        res = staging.resources.get(urn)  # None: a resource the change creates
        if res is not None and not res.custom:
            below = [r.urn for r in staging if res in staging.ancestors(r)]
            assert not old_home & set(below), urn
    # A component of the lost region that also holds Cloudflare records (its Mail: DKIM, MAIL
    # FROM) leaves the state after its children; its records are targeted, to be deleted.
    mail = staging.one("python-org:mail:Mail", "us-east-2")
    assert mail.urn not in deploy.targets
    assert mail.urn in deploy.state_only
    records = [
        r.urn for r in staging if mail in staging.ancestors(r) and r.type.startswith("cloudflare:")
    ]
    assert records
    assert set(records) <= set(deploy.targets)
    # The promoted replica is targeted (it becomes the primary), under its unchanged URN.
    assert staging.one("aws:rds/instance:Instance", "eu-west-1-db").urn in deploy.targets
    # Children leave the state before their parents; the region's component and provider last.
    order = {urn: i for i, urn in enumerate(deploy.state_only)}
    for urn in deploy.state_only:
        res = staging.get(urn)
        if res.parent in order:
            assert order[urn] < order[res.parent], urn
    # staging keeps no copy region once eu-west-1 is its only region.
    assert (
        "python-org:backup.copyRegion: remove eu-west-1 (no other region is left)" in change.lines
    )


def test_the_break_glass_deploy_from_the_changed_branch_is_the_same(tmp_path: Path) -> None:
    """The workflow's second half runs on the branch that already has the config change: the
    deploy computed there against the commit before (scripts/failover --break-glass-since) is
    the one `scripts/failover` printed before the change."""
    import subprocess

    from infra.ops.failover import break_glass_since
    from infra.review.stackfile import ROOT

    clone = tmp_path / "repo"
    subprocess.run(["git", "clone", "--quiet", "--shared", str(ROOT), str(clone)], check=True)
    # The working tree as it is (uncommitted changes included), committed in the clone.
    subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", "-B", "here"], check=True)
    for path in ("Pulumi.staging.yaml", "infra", "stacks", "policy"):
        subprocess.run(["cp", "-r", str(ROOT / path), str(clone / Path(path).parent)], check=True)
    git = ["git", "-C", str(clone), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "--quiet", "--allow-empty", "-m", "before"], check=True)
    change = config_change("staging", "eu-west-1", root=clone)
    text = yaml.safe_dump({"config": {k: _decoded(v) for k, v in change.raw.items()}})
    (clone / "Pulumi.staging.yaml").write_text(text)
    subprocess.run([*git, "commit", "--quiet", "-am", "fail over to eu-west-1"], check=True)

    old_home, since = break_glass_since("staging", "HEAD~1", root=clone)
    assert old_home == "us-east-2"
    # The same as printed from the working tree before the change (cached from the test above).
    before = break_glass_deploy("staging", "us-east-2", config_change("staging", "eu-west-1"))
    assert since == before
    with pytest.raises(OpsError, match="must name the commit before the config change"):
        break_glass_since("staging", "HEAD", root=clone)


def test_the_config_change_validates_for_every_stack() -> None:
    prod = config_change("prod", "ap-southeast-1")
    assert prod.problems == ()
    assert prod.lines[0] == "python-org:homeRegion: us-east-2 -> ap-southeast-1"
    staging = config_change("staging", "eu-west-1")
    assert staging.problems == ()
    assert "python-org:regions: remove us-east-2" in staging.lines[1]


def test_runbook_steps_come_from_the_runbook() -> None:
    plan = Plan(
        stack="prod",
        region="eu-west-1",
        old_home="us-east-2",
        replica_id=naming.db_identifier("prod", "eu-west-1"),
        replica_status="available",
        source="",
        lag_seconds=None,
        primary_state="",
        primary_available=False,
        backup_retention_days=14,
        other_replicas=(),
    )
    steps = runbook_steps(plan)
    text = RUNBOOK.read_text()
    assert len(steps) == text.split("## Steps", 1)[1].count("**\n")
    assert [s.split(".", 1)[0] for s in steps] == [str(n) for n in range(1, len(steps) + 1)]
    assert steps[1] == "2. Dry run: scripts/failover prod --new-home eu-west-1."
    assert all("<" not in s for s in steps)
    for heading in (
        "### RPO",
        "### RTO",
        "### Every region boots on its own secrets",
        "### The old primary",
    ):
        assert heading in text
