"""scripts/smoke_test against moto: every region, every check, and the ways they fail.

Also the failures every script shares (credentials, profile, stack, --help), once per script.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from moto import mock_aws
from moto.server import ThreadedMotoServer

from infra import naming
from infra.cli import failover, smoke_test, snapshot_db
from infra.config import StackConfig
from tests.ops_fixtures import (
    MAX_ATTEMPTS,
    FakeClock,
    Hooks,
    deploy,
    error_response,
    fixture_aws_env,  # noqa: F401 (fixture)
    fixture_hooks,  # noqa: F401 (fixture)
    fixture_mocked,  # noqa: F401 (fixture)
    fixture_prod_cfg,  # noqa: F401 (fixture)
    region_down,
    region_of,
)

REGIONS = ("us-east-2", "eu-west-1", "ap-southeast-1")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = smoke_test.main(["prod", *args])
    out, err = capsys.readouterr()
    return code, out, err


def row(out: str, region: str) -> str:
    """The table row of a region."""
    return next(line for line in out.splitlines() if line.startswith(region))


def cells(out: str, region: str) -> list[str]:
    """The cells of a region's row (columns are at least two spaces apart)."""
    return re.split(r"\s{2,}", row(out, region))


def test_healthy_stack_passes_every_check(
    prod_cfg: StackConfig, mocked: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    assert prod_cfg.region_names == REGIONS
    deploy(prod_cfg, lag={"eu-west-1": 1.5, "ap-southeast-1": 4.0})

    code, out, err = run(capsys)

    assert code == 0, out + err
    lines = out.splitlines()
    assert lines[0] == "Smoke test of stack 'prod' (home region us-east-2):"
    assert re.split(r"\s{2,}", lines[2]) == [
        "REGION",
        "TARGETS",
        "CAPACITY",
        "DATABASE",
        "REPLICA LAG",
    ]
    assert cells(out, "us-east-2") == [
        "us-east-2 (home)",
        "ok 3/3 healthy",
        "ok 3 in service (min 2)",
        "ok available (primary)",
        "- (primary)",
    ]
    assert cells(out, "eu-west-1") == [
        "eu-west-1",
        "ok 3/3 healthy",
        "ok 3 in service (min 2)",
        "ok available (replica)",
        "ok 1.5s (< 30s)",
    ]
    assert cells(out, "ap-southeast-1")[4] == "ok 4s (< 30s)"
    assert lines[-1] == "All 11 checks passed."
    assert err == ""


def test_unhealthy_target_fails_its_region_only(
    prod_cfg: StackConfig, hooks: Hooks, capsys: pytest.CaptureFixture[str], mocked: FakeClock
) -> None:
    d = deploy(prod_cfg)
    sick = d.instances["eu-west-1"][0]

    # moto reports every registered, running target healthy: the ALB's verdict is made here.
    def failing_health_checks(http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        if region_of(http_response) != "eu-west-1":
            return
        for target in parsed["TargetHealthDescriptions"]:
            if target["Target"]["Id"] == sick:
                target["TargetHealth"] = {
                    "State": "unhealthy",
                    "Reason": "Target.ResponseCodeMismatch",
                    "Description": "Health checks failed with these codes: [502]",
                }

    hooks.on("after-call.elastic-load-balancing-v2.DescribeTargetHealth", failing_health_checks)

    code, out, _ = run(capsys)

    assert code == 1
    assert "FAIL 2/3 healthy" in row(out, "eu-west-1")
    assert "ok 3/3 healthy" in row(out, "us-east-2")
    assert "ok 3/3 healthy" in row(out, "ap-southeast-1")
    assert f"  eu-west-1 targets: {sick} unhealthy (Target.ResponseCodeMismatch)" in out
    assert out.rstrip().endswith("1 of 11 checks failed.")


def test_stopped_instance_and_unhealthy_group_members(
    prod_cfg: StackConfig, capsys: pytest.CaptureFixture[str], mocked: FakeClock
) -> None:
    """States moto produces itself: a stopped target is `unused`, and autoscaling keeps the
    health an instance was given."""
    d = deploy(prod_cfg)
    region = "ap-southeast-1"
    stopped, *others = d.instances[region]
    d.client("ec2", region).stop_instances(InstanceIds=[stopped])
    for instance in others:
        d.client("autoscaling", region).set_instance_health(
            InstanceId=instance, HealthStatus="Unhealthy"
        )
    d.client("autoscaling", region).update_auto_scaling_group(
        AutoScalingGroupName=naming.asg_name("prod", region), MinSize=1
    )

    code, out, _ = run(capsys, "--region", region)

    assert code == 1
    assert "FAIL 2/3 healthy" in row(out, region)
    assert "FAIL 1 in service (min 2)" in row(out, region)
    assert f"{stopped} unused (Target.InvalidState)" in out
    assert f"{others[0]} InService/Unhealthy" in out
    assert "the group's MinSize is 1, web.minSize is 2" in out  # drift from the config
    assert "us-east-2" not in out.split("\n", 1)[1]  # only the region asked for
    assert out.rstrip().endswith("2 of 4 checks failed.")


def test_missing_replica_and_lag(
    prod_cfg: StackConfig, capsys: pytest.CaptureFixture[str], mocked: FakeClock
) -> None:
    deploy(prod_cfg, replicas={"eu-west-1": False}, lag={"ap-southeast-1": 95.0})

    code, out, _ = run(capsys)

    assert code == 1
    eu = row(out, "eu-west-1")
    assert "ERROR missing" in eu
    assert "FAIL no data" in eu
    assert "FAIL 95s (>= 30s)" in row(out, "ap-southeast-1")
    assert "  eu-west-1 database: no database 'pyorg-prod-eu-west-1-db'" in out
    assert "  ap-southeast-1 replica lag: pyorg-prod-ap-southeast-1-db is " in out
    assert out.rstrip().endswith("3 of 11 checks failed.")
    code, out, _ = run(capsys, "--region", "ap-southeast-1", "--max-replica-lag", "120")
    assert code == 0
    assert "ok 95s (< 120s)" in out


def test_one_region_down_is_a_partial_failure(
    prod_cfg: StackConfig, hooks: Hooks, capsys: pytest.CaptureFixture[str], mocked: FakeClock
) -> None:
    deploy(prod_cfg)
    attempts: list[str] = []
    hooks.on("before-send", region_down("eu-west-1", attempts), first=True)

    code, out, err = run(capsys)

    assert code == 1
    assert cells(out, "eu-west-1") == ["eu-west-1", *["ERROR unreachable"] * 4]
    assert "ok 3/3 healthy" in row(out, "us-east-2")
    assert "ok available (replica)" in row(out, "ap-southeast-1")
    assert "eu-west-1 targets: unreachable after the retries: Could not connect" in out
    assert out.rstrip().endswith("4 of 11 checks failed.")
    # One call spent botocore's retries; the region's other checks did not try again.
    assert len(attempts) == MAX_ATTEMPTS
    assert "Traceback" not in err


def test_credentials_aws_rejects_stop_the_run(
    prod_cfg: StackConfig, hooks: Hooks, capsys: pytest.CaptureFixture[str], mocked: FakeClock
) -> None:
    deploy(prod_cfg, web=False, replicas=False)
    calls: list[str] = []

    def expired(request: Any, **_: Any) -> Any:
        calls.append(request.url)
        message = "The security token included in the request is expired"
        return error_response(request, 403, "ExpiredToken", message)

    hooks.on("before-send", expired, first=True)

    code, out, err = run(capsys)

    assert code == 2
    assert out == ""
    assert err == (
        "error: us-east-2: AWS rejected the credentials (ExpiredToken: The security token "
        "included in the request is expired)\n"
    )
    assert len(calls) == 1  # not retried, and no other region tried


def test_endpoint_url_against_moto_server(
    prod_cfg: StackConfig, aws_env: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        with mock_aws():  # only for its reset of moto's state before and after
            deploy(prod_cfg, endpoint_url=url, regions=["us-east-2", "eu-west-1"])
            code, out, err = run(capsys, "--endpoint-url", url, "--region", "eu-west-1")
    finally:
        server.stop()

    assert code == 0, out + err
    assert cells(out, "eu-west-1") == [
        "eu-west-1",
        "ok 3/3 healthy",
        "ok 3 in service (min 2)",
        "ok available (replica)",
        "ok 2s (< 30s)",
    ]
    assert out.rstrip().endswith("All 4 checks passed.")


def test_unknown_region_is_a_usage_error(
    prod_cfg: StackConfig, capsys: pytest.CaptureFixture[str], mocked: FakeClock
) -> None:
    code, out, err = run(capsys, "--region", "us-west-2")

    assert code == 2
    assert out == ""
    assert err.strip() == (
        "error: region us-west-2 is not in stack 'prod' "
        "(regions: us-east-2, eu-west-1, ap-southeast-1)"
    )


# --- what every script shares ----------------------------------------------------------------

Main = Callable[[list[str] | None], int]
SCRIPTS: dict[str, tuple[Main, list[str]]] = {
    "snapshot_db": (snapshot_db.main, ["prod"]),
    "smoke_test": (smoke_test.main, ["prod"]),
    "failover": (failover.main, ["prod", "--new-home", "eu-west-1"]),
}


@pytest.fixture(params=sorted(SCRIPTS))
def script(request: pytest.FixtureRequest) -> tuple[Main, list[str]]:
    return SCRIPTS[request.param]


@pytest.fixture
def no_credentials(aws_env: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")


@pytest.mark.usefixtures("no_credentials")
def test_missing_credentials_exit_2_before_any_call(
    script: tuple[Main, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    main, args = script

    code = main(args)

    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.startswith("error: no AWS credentials found: pass --profile, set AWS_PROFILE")
    assert len(err.splitlines()) == 1


@pytest.mark.usefixtures("aws_env")
def test_unknown_profile_exit_2(
    script: tuple[Main, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    main, args = script

    code = main([*args, "--profile", "nobody"])

    assert code == 2
    assert capsys.readouterr().err == "error: AWS profile 'nobody' is not in the AWS config files\n"


def test_unknown_stack_exit_2(
    script: tuple[Main, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    main, args = script

    code = main(["nope", *args[1:]])

    assert code == 2
    err = capsys.readouterr().err
    # Once, with the stacks there are; not "invalid config" (nothing is wrong with any config).
    assert err == (
        "error: no such stack 'nope': there is no Pulumi.nope.yaml (stacks here: prod, staging)\n"
    )


def test_help(script: tuple[Main, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    main, _ = script

    with pytest.raises(SystemExit) as exit_:
        main(["--help"])

    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: scripts/")
    assert "--endpoint-url URL" in out
    assert "--profile PROFILE" in out
    assert "Exit codes: 0 ok, 1 a check or an operation failed, 2 usage, config or" in out
