"""Whole stacks under the mocks: databases, buckets, access logs, keys and secrets."""

from __future__ import annotations

import json

from infra.components.mail import smtp_password
from infra.review import mocks
from infra.review.graph import SECRET, Graph, Resource
from infra.review.mocks import resources as mock_resources
from tests.conftest import SynthVariant
from tests.stacks_helpers import PROD_REGIONS, RDS, mocked_passwords

SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"


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
