"""Whole stacks under the mocks: the properties that matter, on every region."""

from __future__ import annotations

import ipaddress
import json
import re

import pytest

from infra.components.mail import smtp_password
from infra.config import ConfigError
from infra.instances import decode_user_data
from infra.naming import REQUIRED_TAGS
from infra.review import mocks
from infra.review.graph import SECRET, UNKNOWN, Graph, Resource
from infra.review.mocks import CLOUDFLARE_IPV4
from infra.review.mocks import resources as mock_resources
from infra.review.synth import synthesize
from stacks.website import build  # noqa: F401  (the program under test is importable)
from tests.conftest import SynthVariant

PROD_REGIONS = ("us-east-2", "eu-west-1", "ap-southeast-1")
RDS = "aws:rds/instance:Instance"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"


def mocked_password() -> str:
    """The value the mocks generate for the Django secret key."""
    return mock_resources._random_password("django-secret-key", {"length": 64}, "")[1]["result"]  # type: ignore[no-any-return]


def mocked_passwords() -> list[str]:
    """Every password the mocks generate: the Django key and the database's two."""
    db = [
        mock_resources._random_password(name, {"length": 40}, "")[1]["result"]
        for name in ("db-master-password", "db-app-password")
    ]
    return [mocked_password(), *db]


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


# --- network --------------------------------------------------------------------------------


@pytest.mark.parametrize(("stack", "nats_per_region"), [("prod", 3), ("staging", 1)])
def test_network_subnets_per_az_and_nat_per_config(
    stack: str, nats_per_region: int, prod: Graph, staging: Graph
) -> None:
    g = prod if stack == "prod" else staging
    for region in g.outputs["regions"]:
        subnets = [s for s in g.of_type("aws:ec2/subnet:Subnet") if s.region == region]
        public = [s for s in subnets if s.inputs["tags"]["tier"] == "public"]
        private = [s for s in subnets if s.inputs["tags"]["tier"] == "private"]
        assert len(public) == len(private) >= 2
        assert len({s.inputs["availabilityZone"] for s in private}) == len(private)
        assert not any(s.inputs["mapPublicIpOnLaunch"] for s in subnets)
        vpc = next(v for v in g.of_type("aws:ec2/vpc:Vpc") if v.region == region)
        vpc_net = ipaddress.ip_network(vpc.inputs["cidrBlock"])
        nets = [ipaddress.ip_network(s.inputs["cidrBlock"]) for s in subnets]
        assert all(n.subnet_of(vpc_net) for n in nets)  # type: ignore[arg-type]
        assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])
        nats = [n for n in g.of_type("aws:ec2/natGateway:NatGateway") if n.region == region]
        assert len(nats) == nats_per_region


def test_private_subnets_route_through_nat_and_public_through_igw(prod: Graph) -> None:
    for rt in prod.of_type("aws:ec2/routeTable:RouteTable"):
        (route,) = rt.inputs["routes"]
        assert route["cidrBlock"] == "0.0.0.0/0"
        if rt.name.endswith("-public-rt"):
            assert "gatewayId" in route
            assert "natGatewayId" not in route
        else:
            assert "natGatewayId" in route
            assert "gatewayId" not in route


def test_default_security_group_is_closed_and_flow_logs_on(prod: Graph) -> None:
    for sg in prod.of_type("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"):
        assert sg.inputs.get("ingress", []) == []
        assert sg.inputs.get("egress", []) == []
    logs = prod.of_type("aws:ec2/flowLog:FlowLog")
    assert {f.region for f in logs} == set(PROD_REGIONS)
    assert all(f.inputs["trafficType"] == "ALL" for f in logs)
    assert all(f.inputs["logDestination"].startswith(f"arn:aws:logs:{f.region}:") for f in logs)


# --- web tier -------------------------------------------------------------------------------


def test_https_listener_uses_validated_certificate_and_modern_tls(prod: Graph) -> None:
    listeners = prod.of_type("aws:lb/listener:Listener")
    https = [x for x in listeners if x.inputs["protocol"] == "HTTPS"]
    assert len(https) == 3
    for listener in https:
        assert listener.inputs["port"] == 443
        assert listener.inputs["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
        assert listener.inputs["certificateArn"].startswith(f"arn:aws:acm:{listener.region}:")
        (action,) = listener.inputs["defaultActions"]
        # Only requests with the edge's secret are forwarded (tests/test_edge.py).
        assert action["type"] == "fixed-response"
        assert action["fixedResponse"]["statusCode"] == "403"
    validations = prod.of_type("aws:acm/certificateValidation:CertificateValidation")
    assert {v.region for v in validations} == set(PROD_REGIONS)


def test_no_plain_http_listener(prod: Graph) -> None:
    # Cloudflare's "Full (strict)" SSL mode connects to the origin on 443 only, and redirects
    # plain HTTP at the edge: a port-80 listener would only be one more way in.
    listeners = prod.of_type("aws:lb/listener:Listener")
    assert {x.inputs["protocol"] for x in listeners} == {"HTTPS"}
    assert {x.inputs["port"] for x in listeners} == {443}


def test_certificate_covers_every_public_hostname(prod: Graph) -> None:
    for cert in prod.of_type("aws:acm/certificate:Certificate"):
        names = {cert.inputs["domainName"], *cert.inputs.get("subjectAlternativeNames", [])}
        assert names == {"python.org", "www.python.org", f"origin-prod-{cert.region}.python.org"}
        assert cert.inputs["validationMethod"] == "DNS"


def test_launch_template_requires_imdsv2_and_encrypts_root_volume(prod: Graph) -> None:
    for lt in prod.of_type("aws:ec2/launchTemplate:LaunchTemplate"):
        assert lt.inputs["metadataOptions"]["httpTokens"] == "required"
        (device,) = lt.inputs["blockDeviceMappings"]
        assert device["ebs"]["encrypted"] == "true"
        assert lt.inputs["imageId"].startswith("resolve:ssm:/aws/service/ami-amazon-linux-latest/")
        assert lt.inputs["instanceType"] == "m7g.large"


def test_user_data_starts_the_app_without_secrets_inline(prod: Graph) -> None:
    for lt in prod.of_type("aws:ec2/launchTemplate:LaunchTemplate"):
        script = decode_user_data(lt.inputs["userData"])
        assert "systemctl enable --now pythondotorg.service" in script
        assert "ghcr.io/python/pythondotorg@sha256:" in script
        assert not re.search(r"{{\w+}}", script)  # every placeholder filled ({{.ID}} is Docker's)
        assert not any(p in script for p in mocked_passwords())
        assert re.search(r"secretsmanager\W{1,6}get-secret-value", script)
        # Every secret it names is in its own region: boots while the home region is down.
        arns = re.findall(r"arn:aws:secretsmanager:([a-z0-9-]+):", script)
        assert arns
        assert set(arns) == {lt.region}


def test_autoscaling_group_in_private_subnets_with_config_sizes(prod: Graph) -> None:
    private_ids = {
        s.outputs.get("id", None)
        for s in prod.of_type("aws:ec2/subnet:Subnet")
        if s.inputs["tags"]["tier"] == "private"
    }
    web = [a for a in prod.of_type("aws:autoscaling/group:Group") if a.name.endswith("-web")]
    assert len(web) == 3
    for asg in web:
        assert (asg.inputs["minSize"], asg.inputs["desiredCapacity"], asg.inputs["maxSize"]) == (
            2,
            3,
            9,
        )
        assert asg.inputs["instanceRefresh"]["strategy"] == "Rolling"
        assert asg.inputs["healthCheckType"] == "ELB"
        assert len(asg.inputs["vpcZoneIdentifiers"]) == 3
        assert asg.inputs["name"] == f"pyorg-prod-{asg.region}-web"
        assert "desiredCapacity" in asg.ignore_changes
        assert private_ids  # subnets exist; their ids are provider-assigned


def test_target_group_health_checks_the_health_path(prod: Graph) -> None:
    for tg in prod.of_type("aws:lb/targetGroup:TargetGroup"):
        assert tg.inputs["healthCheck"]["path"] == "/_health/"
        assert tg.inputs["healthCheck"]["matcher"] == "200"
        assert tg.inputs["port"] == 8000


def _sg(g: Graph, name: str) -> Resource:
    return g.one("aws:ec2/securityGroup:SecurityGroup", name)


def test_load_balancer_accepts_only_cloudflare_and_nothing_from_the_world(prod: Graph) -> None:
    for region in PROD_REGIONS:
        sg = _sg(prod, f"{region}-web-alb")
        ports = sorted(rule["fromPort"] for rule in sg.inputs["ingress"])
        assert ports == [443]
        for rule in sg.inputs["ingress"]:
            assert rule["cidrBlocks"] == CLOUDFLARE_IPV4
            assert "0.0.0.0/0" not in rule["cidrBlocks"]
            # The load balancer is IPv4-only: IPv6 rules would admit nothing.
            assert not rule.get("ipv6CidrBlocks")
        (egress,) = sg.inputs["egress"]
        assert egress["fromPort"] == egress["toPort"] == 8000
        assert egress.get("cidrBlocks") in (None, [])


def test_instances_accept_only_the_load_balancer_and_db_only_the_instances(prod: Graph) -> None:
    ingress = prod.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert not any("cidrIpv4" in r.inputs or "cidrIpv6" in r.inputs for r in ingress)
    for region in PROD_REGIONS:
        alb, web, db = (
            _sg(prod, f"{region}-web-alb"),
            _sg(prod, f"{region}-web-instances"),
            _sg(prod, f"{region}-db"),
        )
        assert "ingress" not in web.inputs
        assert "ingress" not in db.inputs
        alb_id, web_id, db_id = (s.outputs["id"] for s in (alb, web, db))
        to_web = [r for r in ingress if r.inputs["securityGroupId"] == web_id]
        to_db = [r for r in ingress if r.inputs["securityGroupId"] == db_id]
        assert [(r.inputs["referencedSecurityGroupId"], r.inputs["fromPort"]) for r in to_web] == [
            (alb_id, 8000)
        ]
        # The web servers everywhere; the Celery workers too in the home region (they write).
        clients = {web_id} | (
            {_sg(prod, f"{region}-workers").outputs["id"]} if region == "us-east-2" else set()
        )
        assert {(r.inputs["referencedSecurityGroupId"], r.inputs["fromPort"]) for r in to_db} == {
            (c, 5432) for c in clients
        }


# --- database -------------------------------------------------------------------------------


def _db(g: Graph, region: str) -> Resource:
    return g.one(RDS, f"{region}-db")


def test_primary_in_home_region_is_encrypted_multi_az_and_kept(prod: Graph) -> None:
    db = _db(prod, "us-east-2")
    i = db.inputs
    assert db.region == "us-east-2"
    assert "replicateSourceDb" not in i
    assert i["engine"] == "postgres"
    assert i["storageEncrypted"] is True
    assert i["kmsKeyId"].startswith("arn:aws:kms:us-east-2:")
    assert i["multiAz"] is True
    assert i["backupRetentionPeriod"] >= 7
    assert i["deletionProtection"] is True
    assert i["skipFinalSnapshot"] is False
    assert i["finalSnapshotIdentifier"] == "pyorg-prod-us-east-2-db-final"
    assert i["deleteAutomatedBackups"] is False
    assert i["publiclyAccessible"] is False
    # The program's own password (a replica can't be made of a source whose password RDS
    # manages), secret in the state.
    assert "manageMasterUserPassword" not in i
    assert i["password"] == SECRET
    assert i["identifier"] == "pyorg-prod-us-east-2-db"
    assert db.protect
    assert db.retain_on_delete


def test_replicas_follow_the_primary_from_their_own_region(prod: Graph) -> None:
    primary = _db(prod, "us-east-2")
    for region in ("eu-west-1", "ap-southeast-1"):
        db = _db(prod, region)
        assert db.region == region
        assert db.inputs["replicateSourceDb"] == primary.outputs["arn"]
        assert db.inputs["storageEncrypted"] is True
        assert db.inputs["kmsKeyId"].startswith(f"arn:aws:kms:{region}:")
        assert "password" not in db.inputs
        assert "manageMasterUserPassword" not in db.inputs
        assert db.inputs["publiclyAccessible"] is False
        assert db.protect
        assert db.retain_on_delete


def test_database_subnets_are_private(prod: Graph) -> None:
    private_ids = {
        s.outputs["id"]
        for s in prod.of_type("aws:ec2/subnet:Subnet")
        if s.inputs["tags"]["tier"] == "private"
    }
    for group in prod.of_type("aws:rds/subnetGroup:SubnetGroup"):
        assert set(group.inputs["subnetIds"]) <= private_ids


def test_staging_database_is_single_az(staging: Graph) -> None:
    assert all(not db.inputs["multiAz"] for db in staging.of_type(RDS))


# --- assets ---------------------------------------------------------------------------------


def test_buckets_are_versioned_encrypted_private_and_kept(prod: Graph) -> None:
    buckets = prod.of_type("aws:s3/bucket:Bucket")
    assert len(buckets) == 9  # static, media and access logs in each region
    assert all(b.protect and b.retain_on_delete for b in buckets)
    ids = {b.outputs["bucket"] for b in buckets}

    def companions(type_: str) -> dict[str, Resource]:
        return {r.inputs["bucket"]: r for r in prod.of_type(type_)}

    versioning = companions("aws:s3/bucketVersioning:BucketVersioning")
    sse = companions(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    pab = companions("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert set(versioning) == set(sse) == set(pab) == ids
    for bucket_id in ids:
        assert versioning[bucket_id].inputs["versioningConfiguration"]["status"] == "Enabled"
        (rule,) = sse[bucket_id].inputs["rules"]
        # The access-log buckets: SSE-S3, the only one load balancer log delivery accepts. The
        # media buckets: SSE-S3, which the edge can read anonymously (SSE-KMS it can't).
        expected = "AES256" if "-logs-" in bucket_id or "-media-" in bucket_id else "aws:kms"
        assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == expected
        flags = (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
        assert all(pab[bucket_id].inputs[f] is True for f in flags)


def test_buckets_abort_stale_uploads_and_never_expire_old_versions(prod: Graph) -> None:
    configs = prod.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    assert {c.inputs["bucket"] for c in configs} == {
        b.outputs["bucket"] for b in prod.of_type("aws:s3/bucket:Bucket")
    }
    for config in configs:
        if "-logs-" in config.inputs["bucket"]:
            # Logs are records, not site data: they expire with the flow logs' retention.
            (rule,) = config.inputs["rules"]
            assert rule["expiration"] == {"days": 365}
            continue
        rules = {r["id"]: r for r in config.inputs["rules"]}
        assert rules["abort-incomplete-uploads"]["abortIncompleteMultipartUpload"] == {
            "daysAfterInitiation": 7
        }
        assert all(
            "expiration" not in r and "noncurrentVersionExpiration" not in r for r in rules.values()
        )


def test_databases_publish_enhanced_monitoring(prod: Graph) -> None:
    roles = {r.outputs["arn"]: r for r in prod.of_type("aws:iam/role:Role")}
    for db in prod.of_type(RDS):
        assert db.inputs["monitoringInterval"] == 60
        role = roles[db.inputs["monitoringRoleArn"]]
        assert "monitoring.rds.amazonaws.com" in role.inputs["assumeRolePolicy"]


def test_access_logs_of_load_balancers_and_buckets_land_in_the_regions_log_bucket(
    prod: Graph,
) -> None:
    from infra.review.mocks import ELB_LOG_ACCOUNTS

    logs = {
        b.region: b
        for b in prod.of_type("aws:s3/bucket:Bucket")
        if "-logs-" in b.inputs["bucketPrefix"]
    }
    assert set(logs) == set(PROD_REGIONS)
    assert all(b.protect and b.retain_on_delete for b in logs.values())
    for lb in prod.of_type("aws:lb/loadBalancer:LoadBalancer"):
        assert lb.region
        assert lb.inputs["accessLogs"] == {
            "bucket": logs[lb.region].outputs["bucket"],
            "prefix": "alb",
            "enabled": True,
        }
    targets = {
        r.inputs["bucket"]: r.inputs["targetBucket"]
        for r in prod.of_type("aws:s3/bucketLogging:BucketLogging")
    }
    for bucket in prod.of_type("aws:s3/bucket:Bucket"):
        if bucket in logs.values():
            assert bucket.outputs["bucket"] not in targets  # a log bucket doesn't log itself
        else:
            assert bucket.region
            assert targets[bucket.outputs["bucket"]] == logs[bucket.region].outputs["bucket"]
    for policy in prod.of_type("aws:s3/bucketPolicy:BucketPolicy"):
        if policy.inputs["bucket"] in {b.outputs["bucket"] for b in logs.values()}:
            assert policy.region
            elb = f"arn:aws:iam::{ELB_LOG_ACCOUNTS[policy.region]}:root"
            assert f'"AWS": "{elb}"' in policy.inputs["policy"]
            assert "logging.s3.amazonaws.com" in policy.inputs["policy"]


def test_secrets_and_flow_logs_use_keys_of_their_region(prod: Graph) -> None:
    for secret in prod.of_type("aws:secretsmanager/secret:Secret"):
        assert secret.inputs["kmsKeyId"].startswith(f"arn:aws:kms:{secret.region}:")
    keys = {k.outputs["arn"]: k for k in prod.of_type("aws:kms/key:Key")}
    for group in prod.of_type("aws:cloudwatch/logGroup:LogGroup"):
        key = keys[group.inputs["kmsKeyId"]]
        assert key.region == group.region
        assert f"logs.{group.region}.amazonaws.com" in key.inputs["policy"]
        assert key.protect


def test_media_replicates_from_home_to_every_other_region(prod: Graph) -> None:
    (config,) = prod.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    assert config.region == "us-east-2"
    media = {b.region: b for b in prod.of_type("aws:s3/bucket:Bucket") if "-media" in b.name}
    assert config.inputs["bucket"] == media["us-east-2"].outputs["bucket"]
    destinations = {r["destination"]["bucket"] for r in config.inputs["rules"]}
    assert destinations == {media[r].outputs["arn"] for r in ("eu-west-1", "ap-southeast-1")}
    for rule in config.inputs["rules"]:
        region = rule["id"].removeprefix("media-to-")
        key = rule["destination"]["encryptionConfiguration"]["replicaKmsKeyId"]
        assert key.startswith(f"arn:aws:kms:{region}:")


# --- names, outputs, secrets, preview --------------------------------------------------------


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


def test_generated_secret_never_appears_in_state_or_outputs(prod: Graph) -> None:
    (version, *_) = prod.of_type("aws:secretsmanager/secretVersion:SecretVersion")
    assert version.inputs["secretString"] == SECRET
    passwords = prod.of_type("random:index/randomPassword:RandomPassword")
    # The Django key, the database's, and the edge's two origin secrets (docs/edge.md).
    assert {p.name for p in passwords} == {
        "django-secret-key",
        "db-master-password",
        "db-app-password",
        "origin-secret-a",
        "origin-secret-b",
        *(f"{r}-redis-auth-token" for r in PROD_REGIONS),
        *(f"{r}-search-master-password" for r in PROD_REGIONS),
        *(f"{r}-search-app-password" for r in PROD_REGIONS),
    }
    assert all(p.outputs["result"] == SECRET for p in passwords)
    assert all(v.inputs["secretString"] == SECRET for v in prod.of_type(SECRET_VERSION))
    generated = [
        mock_resources._random_password(p.name, {"length": p.inputs["length"]}, "")[1]["result"]
        for p in passwords
    ]
    # The SES SMTP user's secret access key and the SMTP password derived from it.
    (key,) = prod.of_type("aws:iam/accessKey:AccessKey")
    secret_key = mock_resources._access_key(key.name, {}, "us-east-2")[1]["secret"]
    assert key.outputs["secret"] == SECRET
    generated += [secret_key, smtp_password(secret_key, "us-east-2")]
    state = prod.to_json()
    assert not any(p in state for p in [*mocked_passwords(), *generated])


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


# --- deployable for real (issue 10) -----------------------------------------------------------


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_instance_refresh_launches_before_it_terminates(
    stack: str, request: pytest.FixtureRequest
) -> None:
    g: Graph = request.getfixturevalue(stack)
    for asg in g.of_type("aws:autoscaling/group:Group"):
        if asg.name.endswith("-beat"):
            continue  # the one group that must terminate first: test_exactly_one_beat
        prefs = asg.inputs["instanceRefresh"]["preferences"]
        # Staging runs one instance: 90% of 1 is 0, and the refresh would terminate it first.
        assert prefs["minHealthyPercentage"] == 100
        assert 100 < prefs["maxHealthyPercentage"] <= 200


def test_alb_log_writer_follows_what_aws_documents_per_region() -> None:
    from infra.components.access_logs import elb_log_writer
    from infra.config import aws_regions

    # Regions before August 2022 have an ELB account; newer ones only the service principal.
    assert elb_log_writer("us-east-2") == {"AWS": "arn:aws:iam::033677994240:root"}
    assert elb_log_writer("ap-southeast-1") == {"AWS": "arn:aws:iam::114774131450:root"}
    for newer in ("ca-west-1", "ap-southeast-5", "mx-central-1", "il-central-1"):
        assert newer in aws_regions()
        assert elb_log_writer(newer) == {
            "Service": "logdelivery.elasticloadbalancing.amazonaws.com"
        }


def test_a_region_opened_after_august_2022_gets_a_working_log_bucket(
    synth_variant: SynthVariant,
) -> None:
    def add_calgary(raw: dict[str, object]) -> None:
        regions = raw["python-org:regions"]
        assert isinstance(regions, dict)
        regions["ca-west-1"] = {
            "vpcCidr": "10.130.0.0/16",
            "availabilityZones": ["ca-west-1a", "ca-west-1b"],
        }

    g = synth_variant("staging", add_calgary)
    policy = g.one("aws:s3/bucketPolicy:BucketPolicy", "ca-west-1-access-logs")
    (alb,) = [
        s
        for s in json.loads(policy.inputs["policy"])["Statement"]
        if s["Sid"] == "LoadBalancerAccessLogs"
    ]
    assert alb["Principal"] == {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}


def test_s3_access_log_grant_is_scoped_to_this_accounts_buckets_of_the_region(prod: Graph) -> None:
    for region in PROD_REGIONS:
        policy = prod.one("aws:s3/bucketPolicy:BucketPolicy", f"{region}-access-logs")
        (grant,) = [
            s
            for s in json.loads(policy.inputs["policy"])["Statement"]
            if s["Sid"] == "S3ServerAccessLogs"
        ]
        assert grant["Condition"]["StringEquals"] == {"aws:SourceAccount": mocks.ACCOUNT_ID}
        assert grant["Condition"]["ArnLike"] == {
            "aws:SourceArn": f"arn:aws:s3:::pyorg-prod-{region}-*"
        }


def test_every_vpc_routes_s3_through_a_gateway_endpoint(prod: Graph) -> None:
    for region in PROD_REGIONS:
        endpoint = prod.one("aws:ec2/vpcEndpoint:VpcEndpoint", f"{region}-s3")
        assert endpoint.inputs["serviceName"] == f"com.amazonaws.{region}.s3"
        assert endpoint.inputs["vpcEndpointType"] == "Gateway"
        private = {
            rt.outputs["id"]
            for rt in prod.of_type("aws:ec2/routeTable:RouteTable")
            if rt.region == region and "-private-" in rt.name
        }
        assert set(endpoint.inputs["routeTableIds"]) == private


def test_flow_log_role_is_what_aws_documents_and_scoped_to_this_account(prod: Graph) -> None:
    for region in PROD_REGIONS:
        role = prod.one("aws:iam/role:Role", f"{region}-flow-logs")
        (trust,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
        assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": mocks.ACCOUNT_ID}
        assert trust["Condition"]["ArnLike"]["aws:SourceArn"].startswith(f"arn:aws:ec2:{region}:")
        policy = prod.one("aws:iam/rolePolicy:RolePolicy", f"{region}-flow-logs")
        statements = json.loads(policy.inputs["policy"])["Statement"]
        actions = {
            a
            for s in statements
            for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        }
        assert actions == {
            "logs:CreateLogGroup",
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "logs:DescribeLogGroups",
            "logs:DescribeLogStreams",
        }
