"""Each component on its own, under the mocks, with hand-made args (no stack config)."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable
from dataclasses import replace

import pulumi
import pulumi_aws as aws
import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra import cidr, geo
from infra.components.assets import Assets, AssetsArgs
from infra.components.database import (
    Database,
    DatabaseArgs,
    DatabaseCredentials,
    Role,
    secret_fields,
)
from infra.components.edge import EdgeArgs, Origin
from infra.components.edge_load_balancing import failover_order
from infra.components.edge_routing_rules import write_condition
from infra.components.network import Network, NetworkArgs
from infra.config import DatabaseConfig, NatGateways, RegionConfig, aws_regions
from infra.geo import region_location
from infra.instances import fill_template
from infra.naming import base_tags
from infra.review.graph import SECRET, Graph
from infra.review.stackfile import load_stack_config
from infra.review.synth import synthesize
from infra.zone_scope import ZoneScope

TAGS = base_tags("unit", "eu-west-1", "staging")
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
BUCKET_SSE = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
DB = DatabaseConfig(
    instance_class="db.t4g.medium",
    engine_version="16",
    allocated_storage_gb=20,
    max_allocated_storage_gb=100,
    multi_az=False,
    backup_retention_days=3,
    app_user_generation=1,
)
CREDENTIALS = DatabaseCredentials(
    master_password=pulumi.Output.secret("master-password-for-tests"),
    app_user="pythondotorg_g1",
    app_password=pulumi.Output.secret("app-password-for-tests"),
)


def run(build: Callable[[pulumi.ResourceOptions], object], region: str = "eu-west-1") -> Graph:
    """Synthesize one component on a provider of `region`."""

    def program() -> None:
        provider = aws.Provider(f"aws-{region}", region=region)
        build(pulumi.ResourceOptions(providers={"aws": provider}))

    return synthesize("unit", raw_config={}, program=program)


def region_config(zones: tuple[str, ...]) -> RegionConfig:
    return RegionConfig(
        name="eu-west-1",
        vpc_cidr=ipaddress.IPv4Network("10.20.0.0/16"),
        availability_zones=zones,
        is_home=True,
    )


def network(nat: NatGateways, zones: tuple[str, ...]) -> Graph:
    args = NetworkArgs(
        region=region_config(zones), nat_gateways=nat, flow_log_retention_days=30, base_tags=TAGS
    )
    return run(lambda opts: Network("eu-west-1", args, opts))


ZONES = ("eu-west-1a", "eu-west-1b", "eu-west-1c")


def test_network_single_nat_serves_every_private_subnet() -> None:
    g = network(NatGateways.SINGLE, ZONES)
    (nat,) = g.of_type("aws:ec2/natGateway:NatGateway")
    private_rts = [r for r in g.of_type("aws:ec2/routeTable:RouteTable") if "-private-" in r.name]
    assert len(private_rts) == 3
    assert {rt.inputs["routes"][0]["natGatewayId"] for rt in private_rts} == {nat.outputs["id"]}


def test_network_nat_per_az_keeps_egress_in_its_zone() -> None:
    g = network(NatGateways.ONE_PER_AZ, ZONES)
    nats = {
        n.name.removeprefix("eu-west-1-nat-"): n for n in g.of_type("aws:ec2/natGateway:NatGateway")
    }
    subnets = {s.outputs["id"]: s for s in g.of_type("aws:ec2/subnet:Subnet")}
    assert set(nats) == set(ZONES)
    for zone, nat in nats.items():
        # The NAT gateway sits in the public subnet of its own zone...
        assert subnets[nat.inputs["subnetId"]].inputs["availabilityZone"] == zone
        # ...and the private route table of that zone uses it.
        rt = g.one("aws:ec2/routeTable:RouteTable", f"eu-west-1-private-{zone}")
        assert rt.inputs["routes"][0]["natGatewayId"] == nat.outputs["id"]


def test_network_children_all_use_the_given_provider() -> None:
    g = network(NatGateways.SINGLE, ZONES[:2])
    customs = [r for r in g if r.custom and not r.is_provider]
    assert customs
    assert all(r.region == "eu-west-1" for r in customs)
    assert all(r.parent and "python-org:network:Network" in r.parent for r in customs)


def test_adding_a_zone_leaves_existing_subnets_untouched() -> None:
    two, three = network(NatGateways.ONE_PER_AZ, ZONES[:2]), network(NatGateways.ONE_PER_AZ, ZONES)
    subnets_two = {s.urn: s.inputs["cidrBlock"] for s in two.of_type("aws:ec2/subnet:Subnet")}
    subnets_three = {s.urn: s.inputs["cidrBlock"] for s in three.of_type("aws:ec2/subnet:Subnet")}
    assert set(two.resources) < set(three.resources)  # nothing renamed, only additions
    assert all(subnets_three[urn] == block for urn, block in subnets_two.items())


@given(
    prefix=st.integers(min_value=16, max_value=24),
    zones=st.integers(min_value=2, max_value=6),
    base=st.sampled_from(["10.0.0.0", "172.16.0.0", "192.168.0.0"]),
)
def test_subnet_plan_is_disjoint_and_inside_the_vpc(prefix: int, zones: int, base: str) -> None:
    vpc = ipaddress.IPv4Network(f"{base}/{prefix}")
    plans = cidr.plan_subnets(vpc, tuple(f"z{i}" for i in range(zones)))
    nets = [n for p in plans for n in (p.public, p.private)]
    assert all(n.subnet_of(vpc) and n.prefixlen <= 28 for n in nets)
    assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])


def database(role: Role) -> Graph:
    args = DatabaseArgs(
        role=role,
        identifier="pyorg-unit-eu-west-1-db",
        config=DB,
        vpc_id="vpc-1",
        subnet_ids=["subnet-a", "subnet-b"],
        base_tags=TAGS,
        credentials=CREDENTIALS,
        source_db_arn=None if role is Role.PRIMARY else "arn:aws:rds:us-east-2:1:db:primary",
    )
    return run(lambda opts: Database("eu-west-1", args, opts))


def test_database_replica_takes_engine_and_users_from_its_source() -> None:
    g = database(Role.REPLICA)
    db = g.one("aws:rds/instance:Instance", "eu-west-1-db")
    assert db.inputs["replicateSourceDb"] == "arn:aws:rds:us-east-2:1:db:primary"
    for inherited in ("engine", "engineVersion", "dbName", "username", "allocatedStorage"):
        assert inherited not in db.inputs
    assert db.inputs["storageEncrypted"] is True
    key = g.one("aws:kms/key:Key", "eu-west-1-db-key")
    assert db.inputs["kmsKeyId"] == key.outputs["arn"]
    assert key.inputs["enableKeyRotation"] is True
    assert key.protect
    assert db.protect
    assert db.retain_on_delete


def test_a_replica_sets_only_what_a_postgresql_replica_accepts() -> None:
    # RDS: no automated backups on a PostgreSQL replica, no final snapshot when deleting one
    # (DeleteDBInstance requires SkipFinalSnapshot for a replica), and its password is its
    # source's; the provider: final_snapshot_identifier "must not be provided when deleting a
    # read replica".
    replica = database(Role.REPLICA).one("aws:rds/instance:Instance", "eu-west-1-db").inputs
    for refused in (
        "backupRetentionPeriod",
        "backupWindow",
        "finalSnapshotIdentifier",
        "deleteAutomatedBackups",
        "password",
        "manageMasterUserPassword",
    ):
        assert refused not in replica, refused
    assert replica["skipFinalSnapshot"] is True
    assert replica["parameterGroupName"]  # rds.force_ssl on the replica too
    primary = database(Role.PRIMARY).one("aws:rds/instance:Instance", "eu-west-1-db").inputs
    assert primary["backupRetentionPeriod"] == 3
    assert primary["skipFinalSnapshot"] is False
    assert primary["finalSnapshotIdentifier"] == "pyorg-unit-eu-west-1-db-final"
    assert primary["password"] == SECRET
    assert "manageMasterUserPassword" not in primary


def test_each_region_keeps_its_own_credentials_secret_on_its_own_key() -> None:
    for role in Role:
        g = database(role)
        secret = g.one("aws:secretsmanager/secret:Secret", "eu-west-1-db-credentials")
        key = g.one("aws:kms/key:Key", "eu-west-1-db-key")
        assert secret.inputs["kmsKeyId"] == key.outputs["arn"]
        assert secret.outputs["arn"].startswith("arn:aws:secretsmanager:eu-west-1:")
        version = g.one(
            "aws:secretsmanager/secretVersion:SecretVersion", "eu-west-1-db-credentials"
        )
        assert version.inputs["secretString"] == SECRET
    # Replica regions never hold the master password: only the home's release step uses it.
    assert set(secret_fields(CREDENTIALS, primary=False)) == {"username", "password"}
    assert set(secret_fields(CREDENTIALS, primary=True)) == {
        "username",
        "password",
        "master_username",
        "master_password",
    }


def test_primary_and_replica_share_child_names_so_promotion_is_an_update() -> None:
    primary, replica = database(Role.PRIMARY), database(Role.REPLICA)
    assert set(primary.resources) == set(replica.resources)


def test_database_parameters_force_tls() -> None:
    g = database(Role.PRIMARY)
    (params,) = g.of_type("aws:rds/parameterGroup:ParameterGroup")
    values = {p["name"]: p["value"] for p in params.inputs["parameters"]}
    assert values["rds.force_ssl"] == "1"
    assert params.inputs["family"] == "postgres16"


def test_database_args_reject_a_replica_without_source() -> None:
    with pytest.raises(ValueError, match="a replica needs source_db_arn"):
        DatabaseArgs(
            role=Role.REPLICA,
            identifier="x",
            config=DB,
            vpc_id="vpc-1",
            subnet_ids=[],
            base_tags=TAGS,
            credentials=CREDENTIALS,
        )


def test_assets_alone_build_two_safe_buckets() -> None:
    g = run(
        lambda opts: Assets(
            "eu-west-1",
            AssetsArgs(
                physical_prefix="pyorg-unit-eu-west-1",
                base_tags=TAGS,
                access_log_bucket="pyorg-unit-eu-west-1-logs",
                media_reader_cidrs=["198.51.100.0/24"],
            ),
            opts,
        )
    )
    buckets = g.of_type("aws:s3/bucket:Bucket")
    assert sorted(b.inputs["bucketPrefix"] for b in buckets) == [
        "pyorg-unit-eu-west-1-media-",
        "pyorg-unit-eu-west-1-static-",
    ]
    assert all(b.inputs["forceDestroy"] is False for b in buckets)
    policies = {p.name: json.loads(p.inputs["policy"]) for p in g.of_type(BUCKET_POLICY)}
    for policy in policies.values():
        assert '"aws:SecureTransport": "false"' in json.dumps(policy)
    # Media: readable by the edge's addresses only, objects under media/ only, SSE-S3 (S3
    # refuses anonymous reads of SSE-KMS objects); static: nobody but the account, KMS.
    (edge,) = [s for s in policies["eu-west-1-media"]["Statement"] if s["Effect"] == "Allow"]
    assert edge["Action"] == "s3:GetObject"
    assert edge["Resource"].endswith("/media/*")
    assert edge["Condition"] == {"IpAddress": {"aws:SourceIp": ["198.51.100.0/24"]}}
    assert [s["Effect"] for s in policies["eu-west-1-static"]["Statement"]] == ["Deny"]
    sse = {
        c.name: c.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"]
        for c in g.of_type(BUCKET_SSE)
    }
    assert sse == {"eu-west-1-media": "AES256", "eu-west-1-static": "aws:kms"}
    ownership = g.of_type("aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert {o.inputs["rule"]["objectOwnership"] for o in ownership} == {"BucketOwnerEnforced"}


def test_user_data_template_needs_every_value() -> None:
    with pytest.raises(ValueError, match=r"user data template needs \['image'\]"):
        fill_template("run {{image}} as {{user}}", user="app")


def test_edge_args_reject_a_home_region_without_origin() -> None:
    cfg = load_stack_config("prod")
    with pytest.raises(ValueError, match="home region us-east-2 has no origin"):
        EdgeArgs(
            stack="unit",
            zone_id="z",
            account_id="a",
            scope=ZoneScope(
                zone="python.org",
                hostnames=("python.org",),
                origin_hostnames=("origin.python.org",),
                owns_zone=False,
            ),
            home_region="us-east-2",
            origins=(Origin(region="eu-west-1", address="lb", hostname="origin.python.org"),),
            config=replace(cfg.edge, pool_regions={}),
            health_check_path="/",
        )


def test_failover_order_is_mapped_then_home_then_by_distance_not_name() -> None:
    regions = ["us-east-2", "eu-west-1", "ap-southeast-1", "sa-east-1"]
    # From Ireland after Ohio: São Paulo (~9,400 km) before Singapore (~11,200 km).
    assert failover_order("eu-west-1", "us-east-2", regions) == [
        "eu-west-1",
        "us-east-2",
        "sa-east-1",
        "ap-southeast-1",
    ]
    # East-coast US fails over to Ireland before Singapore (by name it was the other way).
    assert failover_order("us-east-2", "us-east-2", regions) == [
        "us-east-2",
        "eu-west-1",
        "sa-east-1",
        "ap-southeast-1",
    ]
    assert failover_order("ap-southeast-1", "us-east-2", [*regions, "ap-northeast-1"]) == [
        "ap-southeast-1",
        "us-east-2",
        "ap-northeast-1",
        "eu-west-1",
        "sa-east-1",
    ]


def test_every_region_botocore_knows_has_a_location() -> None:
    """So a region added to a stack gets a failover order, not a config error; and no entry of
    the place table is a typo (each is one botocore names)."""
    assert {r for r in aws_regions() if region_location(r) is None} == set()
    named = {re.search(r"\(([^)]+)\)", d).group(1) for d in geo._descriptions().values()}  # type: ignore[union-attr]
    assert set(geo.PLACES) <= named
    assert round(geo.distance_km(geo.PLACES["Ohio"], geo.PLACES["Ireland"])) in range(5500, 5800)


def test_write_condition_covers_methods_and_paths() -> None:
    assert write_condition(()) == 'not (http.request.method in {"GET" "HEAD" "OPTIONS"})'
    assert write_condition(("/admin/",)).endswith('starts_with(http.request.uri.path, "/admin/")')
