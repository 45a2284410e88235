"""AWS for the operations scripts' tests: moto's in-process `mock_aws`, no fake clients.

`deploy(cfg)` creates what the Pulumi program would have created for a stack, under the names
`infra.naming` gives it, in every region of the stack config: a VPC with two subnets, a target
group, an autoscaling group of web.desiredCapacity instances registered in it, the primary
database in the home region and a cross-region read replica (ReplicateSourceDb = the primary's
ARN) in every other region, and a ReplicaLag datapoint per replica.

States moto does not produce (a snapshot still creating, a target failing health checks,
throttling, a region whose endpoint does not answer) are made with botocore's own event system:
`hooks.on(event, handler)` registers handlers on every session the scripts open, exactly where
botocore's own customizations run. Time is a `FakeClock`: waiting costs nothing and stays exact.

Test modules import the `fixture_*` functions; pytest knows them by their `name`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.loaders
import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError
from botocore.retries.standard import ExponentialBackoff
from moto import mock_aws
from moto.core.botocore_stubber import MockRawResponse

from infra import naming
from infra.config import StackConfig
from infra.ops import aws, waiting
from infra.review.stackfile import load_stack_config

MAX_ATTEMPTS = 3
# moto does not validate AMI ids unless told to; describing its catalogue costs seconds.
IMAGE_ID = "ami-12c6146b"


class _ParsedOnce(botocore.loaders.JSONFileLoader):  # type: ignore[misc]
    """botocore's JSON model files, parsed once per test run instead of once per session (a
    third of a second per script run otherwise). The parsed models are read-only to botocore."""

    def __init__(self) -> None:
        self._parsed: dict[str, Any] = {}

    def load_file(self, file_path: str) -> Any:
        if file_path not in self._parsed:
            self._parsed[file_path] = super().load_file(file_path)
        return self._parsed[file_path]


_FILES = _ParsedOnce()


def new_session(profile: str | None = None) -> Any:
    """A real boto3 session (profile and credentials resolved as usual) sharing parsed models."""
    core = botocore.session.Session()
    core.register_component("data_loader", botocore.loaders.Loader(file_loader=_FILES))
    return boto3.Session(profile_name=profile, botocore_session=core)


@dataclass
class FakeClock:
    """`sleep` advances `now` instead of waiting; `sleeps` records every wait."""

    time: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.time += seconds


@dataclass
class Hooks:
    """botocore event handlers for every session the scripts open (see `aws.new_session`)."""

    handlers: list[tuple[str, Callable[..., Any], bool]] = field(default_factory=list)

    def on(self, event: str, handler: Callable[..., Any], *, first: bool = False) -> None:
        self.handlers.append((event, handler, first))

    def install(self, session: Any) -> Any:
        for event, handler, first in self.handlers:
            if first:
                session.events.register_first(event, handler)
            else:
                session.events.register(event, handler)
        return session


@pytest.fixture(name="aws_env")
def fixture_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeClock:
    """Fake credentials, no AWS config of the developer's, no metadata service, no backoff."""
    # AWS_ENDPOINT_URL would send the tests' calls to a developer's endpoint.
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ENDPOINT_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", str(MAX_ATTEMPTS))
    # moto loads ~1300 AMIs into every region's EC2 backend otherwise; nothing here needs one.
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    # The retries stay real (botocore's standard mode decides and counts them); only the
    # jittered sleep between attempts is taken out.
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)
    monkeypatch.setattr(aws, "new_session", new_session)
    clock = FakeClock()
    monkeypatch.setattr(waiting, "CLOCK", waiting.Clock(now=clock.now, sleep=clock.sleep))
    return clock


@pytest.fixture(name="mocked")
def fixture_mocked(aws_env: FakeClock) -> Iterator[FakeClock]:
    with mock_aws():
        yield aws_env


@pytest.fixture(name="hooks")
def fixture_hooks(monkeypatch: pytest.MonkeyPatch, aws_env: FakeClock) -> Hooks:
    installed = Hooks()
    real = aws.new_session
    monkeypatch.setattr(aws, "new_session", lambda profile: installed.install(real(profile)))
    return installed


@pytest.fixture(name="prod_cfg", scope="session")
def fixture_prod_cfg() -> StackConfig:
    return load_stack_config("prod")


@dataclass
class Deployed:
    cfg: StackConfig
    endpoint_url: str | None
    primary_arn: str
    target_groups: dict[str, str]  # region -> target group ARN
    instances: dict[str, list[str]]  # region -> the ASG's instance ids

    def client(self, service: str, region: str) -> Any:
        return _client(service, region, self.endpoint_url)

    def db(self, region: str) -> dict[str, Any]:
        ident = naming.db_identifier(self.cfg.stack, region)
        found = self.client("rds", region).describe_db_instances(DBInstanceIdentifier=ident)
        return found["DBInstances"][0]  # type: ignore[no-any-return]

    def snapshot_ids(self, region: str | None = None) -> set[str]:
        region = region or self.cfg.home_region
        ident = naming.db_identifier(self.cfg.stack, region)
        snaps = self.client("rds", region).describe_db_snapshots(DBInstanceIdentifier=ident)
        return {s["DBSnapshotIdentifier"] for s in snaps["DBSnapshots"]}


def deploy(
    cfg: StackConfig,
    *,
    web: bool = True,
    replicas: bool | Mapping[str, bool] = True,
    lag: Mapping[str, float | None] | None = None,
    endpoint_url: str | None = None,
    regions: Sequence[str] | None = None,
) -> Deployed:
    """Create the stack's resources in moto. `web=False` skips the web tiers (the database
    scripts don't look at them, and they cost most of the time); `replicas[region] = False`
    leaves a region without its replica; `lag[region]` is the ReplicaLag datapoint put for it
    (None: no datapoint); `regions` limits the web tiers and replicas to those regions."""
    lag = lag or {}
    wanted_regions = tuple(regions or cfg.region_names)

    def client(service: str, region: str) -> Any:
        return _client(service, region, endpoint_url)

    target_groups: dict[str, str] = {}
    instances: dict[str, list[str]] = {}
    for name in wanted_regions if web else ():
        target_groups[name], instances[name] = _web(cfg, name, client)

    home = cfg.home_region
    primary = client("rds", home).create_db_instance(
        DBInstanceIdentifier=naming.db_identifier(cfg.stack, home),
        Engine="postgres",
        EngineVersion=cfg.database.engine_version,
        DBInstanceClass=cfg.database.instance_class,
        AllocatedStorage=cfg.database.allocated_storage_gb,
        MasterUsername="pythondotorg",
        # The program uses ManageMasterUserPassword; the scripts never read the password, and
        # moto makes an RSA key for the managed secret's KMS key (0.2 s) on every run.
        MasterUserPassword="not-a-secret",
        BackupRetentionPeriod=cfg.database.backup_retention_days,
        CopyTagsToSnapshot=True,
        Tags=[{"Key": "stack", "Value": cfg.stack}],
    )["DBInstance"]
    now = datetime.now(UTC)
    for region in wanted_regions:
        wanted = replicas if isinstance(replicas, bool) else replicas.get(region, True)
        if region == home or not wanted:
            continue
        ident = naming.db_identifier(cfg.stack, region)
        client("rds", region).create_db_instance_read_replica(
            DBInstanceIdentifier=ident,
            SourceDBInstanceIdentifier=primary["DBInstanceArn"],
            DBInstanceClass=cfg.database.instance_class,
        )
        seconds = lag.get(region, 2.0)
        if seconds is not None:
            put_replica_lag(client("cloudwatch", region), ident, seconds, now)
    return Deployed(
        cfg=cfg,
        endpoint_url=endpoint_url,
        primary_arn=primary["DBInstanceArn"],
        target_groups=target_groups,
        instances=instances,
    )


_SESSION = new_session()
_CLIENTS: dict[tuple[str, str, str | None], Any] = {}


def _client(service: str, region: str, endpoint_url: str | None) -> Any:
    """The tests' own clients, made once: moto's stubber is in every session's handlers and
    serves whichever `mock_aws` is active, and making a client costs more than most calls."""
    key = (service, region, endpoint_url)
    if key not in _CLIENTS:
        _CLIENTS[key] = _SESSION.client(service, region_name=region, endpoint_url=endpoint_url)
    return _CLIENTS[key]


def put_replica_lag(cloudwatch: Any, ident: str, seconds: float, now: datetime) -> None:
    cloudwatch.put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": "ReplicaLag",
                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": ident}],
                "Value": seconds,
                "Unit": "Seconds",
                "Timestamp": now - timedelta(minutes=1),
            }
        ],
    )


def _web(cfg: StackConfig, region: str, client: Callable[[str, str], Any]) -> tuple[str, list[str]]:
    ec2 = client("ec2", region)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{region}{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in enumerate("ab")
    ]
    target_group = client("elbv2", region).create_target_group(
        Name=naming.load_balancer_name(cfg.stack, region),
        Protocol="HTTP",
        Port=cfg.web.app_port,
        VpcId=vpc,
        TargetType="instance",
        HealthCheckPath=cfg.web.health_check_path,
    )["TargetGroups"][0]["TargetGroupArn"]
    template = f"{naming.asg_name(cfg.stack, region)}-lt"
    ec2.create_launch_template(
        LaunchTemplateName=template,
        LaunchTemplateData={"ImageId": IMAGE_ID, "InstanceType": cfg.web.instance_type},
    )
    autoscaling = client("autoscaling", region)
    name = naming.asg_name(cfg.stack, region)
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=name,
        MinSize=cfg.web.min_size,
        MaxSize=cfg.web.max_size,
        DesiredCapacity=cfg.web.desired_capacity,
        LaunchTemplate={"LaunchTemplateName": template},
        VPCZoneIdentifier=",".join(subnets),
        TargetGroupARNs=[target_group],
        HealthCheckType="ELB",
    )
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])
    ids = [i["InstanceId"] for i in group["AutoScalingGroups"][0]["Instances"]]
    return target_group, ids


# --- states moto does not produce, made with botocore events ---------------------------------


def error_response(request: Any, status: int, code: str, message: str) -> AWSResponse:
    """An AWS query-protocol error answer, as AWS sends it (RDS, ELBv2, autoscaling...)."""
    body = (
        "<ErrorResponse><Error><Type>Sender</Type>"
        f"<Code>{code}</Code><Message>{message}</Message>"
        "</Error><RequestId>ops-test</RequestId></ErrorResponse>"
    )
    return AWSResponse(request.url, status, {}, MockRawResponse(body))


def throttle(counter: list[str]) -> Callable[..., AWSResponse]:
    """before-send handler: AWS answers every attempt with Throttling."""

    def handler(request: Any, **_: Any) -> AWSResponse:
        counter.append(request.url)
        return error_response(request, 400, "Throttling", "Rate exceeded")

    return handler


def region_down(region: str, counter: list[str]) -> Callable[..., None]:
    """before-send handler: nothing answers at `region`'s endpoints (as in a regional outage)."""
    pattern = re.compile(rf"//[a-z0-9.-]*\b{re.escape(region)}\b")

    def handler(request: Any, **_: Any) -> None:
        if pattern.search(request.url):
            counter.append(request.url)
            raise EndpointConnectionError(endpoint_url=request.url)

    return handler


def region_of(http_response: Any) -> str | None:
    """The region a call went to, from the URL it was sent to."""
    url = str(getattr(http_response, "url", "") or "")
    match = re.search(r"\.([a-z]{2}-[a-z]+-\d)\.", url)
    return match.group(1) if match else None
