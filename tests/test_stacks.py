"""Whole stacks under the mocks: regions, providers, tags, outputs and stable URNs."""

from __future__ import annotations

import pytest

from infra.config import ConfigError
from infra.naming import REQUIRED_TAGS
from infra.review.graph import UNKNOWN, Graph, Resource
from infra.review.synth import synthesize
from stacks.website import build  # noqa: F401  (the program under test is importable)
from tests.conftest import SynthVariant
from tests.stacks_helpers import PROD_REGIONS, RDS


def aws_resources(g: Graph) -> list[Resource]:
    return [r for r in g if r.custom and r.type.startswith("aws:")]


def test_prod_declares_three_regions_and_staging_two(prod: Graph, staging: Graph) -> None:
    assert set(prod.outputs["regions"]) == set(PROD_REGIONS)
    assert set(staging.outputs["regions"]) == {"us-east-2", "eu-west-1"}
    assert {r.inputs["region"] for r in prod.of_type("pulumi:providers:aws")} == set(PROD_REGIONS)


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_every_aws_resource_is_pinned_to_its_regions_provider(
    stack: str, prod: Graph, staging: Graph
) -> None:
    g = prod if stack == "prod" else staging
    for res in aws_resources(g):
        assert res.provider, f"{res.urn} uses the default provider"
        provider = g.get(res.provider)
        assert provider.type == "pulumi:providers:aws"
        assert res.region == provider.inputs["region"]
        # Its Region component (if any) is the region it is pinned to.
        regions = [a.name for a in g.ancestors(res) if a.type == "python-org:region:Region"]
        assert regions in ([], [res.region]), res.urn


def test_resources_in_a_region_use_its_zones(prod: Graph) -> None:
    for subnet in prod.of_type("aws:ec2/subnet:Subnet"):
        assert subnet.region
        assert subnet.inputs["availabilityZone"].startswith(subnet.region)


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_everything_taggable_carries_the_required_tags(
    stack: str, prod: Graph, staging: Graph
) -> None:
    g = prod if stack == "prod" else staging
    tagged = [r for r in aws_resources(g) if "tags" in r.inputs]
    assert len(tagged) > 100 if stack == "prod" else len(tagged) > 60
    for res in tagged:
        tags = res.inputs["tags"]
        if isinstance(tags, list):  # autoscaling groups take a list of {key, value}
            tags = {t["key"]: t["value"] for t in tags}
        missing = [t for t in REQUIRED_TAGS if t not in tags]
        assert not missing, f"{res.urn} lacks {missing}"
        assert tags["stack"] == stack
        assert tags["region"] == res.region
        assert tags["managed-by"] == "pulumi"
        assert tags["project"] == "python-org"


def test_resources_that_accept_tags_are_given_them(prod: Graph) -> None:
    untaggable = {
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:kms/alias:Alias",
        "aws:lb/listener:Listener",
        "aws:acm/certificateValidation:CertificateValidation",
        "aws:autoscaling/policy:Policy",
        "aws:secretsmanager/secretVersion:SecretVersion",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:s3/bucketVersioning:BucketVersioning",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketPolicy:BucketPolicy",
        "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "aws:s3/bucketLogging:BucketLogging",
        "aws:sns/topicSubscription:TopicSubscription",
        "aws:backup/selection:Selection",
        "aws:cloudwatch/dashboard:Dashboard",
        "aws:cloudwatch/logResourcePolicy:LogResourcePolicy",
        "aws:iam/accessKey:AccessKey",
        "aws:iam/userPolicy:UserPolicy",
        "aws:sesv2/configurationSetEventDestination:ConfigurationSetEventDestination",
        "aws:sesv2/emailIdentityMailFromAttributes:EmailIdentityMailFromAttributes",
        "aws:sns/topicPolicy:TopicPolicy",
    }
    untagged = {r.type for r in aws_resources(prod) if "tags" not in r.inputs} - untaggable
    assert not untagged


def test_stateful_urns_are_stable(prod: Graph) -> None:
    """These URNs are the contract with production state: a change here is a replacement."""
    base = "urn:pulumi:prod::python-org::python-org:region:Region$"
    expected = {
        f"{base}python-org:database:Database$aws:rds/instance:Instance::us-east-2-db",
        f"{base}python-org:database:Database$aws:rds/instance:Instance::eu-west-1-db",
        f"{base}python-org:database:Database$aws:kms/key:Key::ap-southeast-1-db-key",
        f"{base}python-org:assets:Assets$aws:s3/bucket:Bucket::us-east-2-media",
        f"{base}python-org:assets:Assets$aws:s3/bucket:Bucket::eu-west-1-static",
    }
    assert expected <= set(prod.resources)


def test_outputs_per_region(prod: Graph) -> None:
    assert prod.outputs["region_order"] == list(PROD_REGIONS)
    for region, out in prod.outputs["regions"].items():
        assert out["load_balancer_dns_name"].endswith(f".{region}.elb.amazonaws.com")
        assert f".{region}.rds.amazonaws.com:5432" in out["database_endpoint"]
        assert out["static_bucket"].startswith(f"pyorg-prod-{region}-static-")
        assert out["media_bucket"].startswith(f"pyorg-prod-{region}-media-")
        assert out["database_role"] == ("primary" if region == "us-east-2" else "replica")


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_program_runs_in_preview_mode_with_unknowns(
    stack: str, prod_preview: Graph, staging_preview: Graph, prod: Graph, staging: Graph
) -> None:
    preview, applied = (prod_preview, prod) if stack == "prod" else (staging_preview, staging)
    assert set(preview.resources) == set(applied.resources)
    assert all(
        v == UNKNOWN for v in preview.outputs["regions"].values() for v in [v["database_endpoint"]]
    )
    replica = next(r for r in preview.of_type(RDS) if r.region != "us-east-2")
    assert replica.inputs["replicateSourceDb"] == UNKNOWN


def test_removing_a_region_changes_only_that_region(
    synth_variant: SynthVariant, prod: Graph
) -> None:
    def drop(raw: dict[str, object]) -> None:
        regions = raw["python-org:regions"]
        assert isinstance(regions, dict)
        del regions["ap-southeast-1"]
        edge = raw["python-org:edge"]
        assert isinstance(edge, dict)
        edge["poolRegions"] = {
            k: v for k, v in edge["poolRegions"].items() if v != "ap-southeast-1"
        }

    smaller = synth_variant("prod", drop)
    gone = set(prod.resources) - set(smaller.resources)
    assert gone
    assert all("ap-southeast-1" in urn or "replication" in urn or "media" in urn for urn in gone)
    assert set(smaller.resources) <= set(prod.resources)


def test_unknown_stack_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"^no such stack 'qa': there is no Pulumi\.qa\.yaml"):
        synthesize("qa")
