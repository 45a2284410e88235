"""The storage rules: databases, buckets, keys, secrets and logs, and the data-loss guards.

One violating change per rule (tests/policy_variants.py), then the joins and details.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from infra.review.graph import UNKNOWN, Graph
from policy import tokens as tk
from tests.policy_variants import (
    ALB,
    DB,
    HOME,
    KEY,
    LOGS,
    MEDIA,
    PARAMS,
    SECRET_RES,
    Build,
    Case,
    Edit,
    add,
    assert_fails_on_its_change,
    change,
    change_all,
    nested,
    policy_doc,
    remove,
    setter,
    unsetter,
    violations,
    with_resources,
)


def _params_without(name: str) -> Edit:
    def edit(inputs: dict[str, Any]) -> None:
        inputs["parameters"] = [p for p in inputs["parameters"] if p["name"] != name]

    return edit


def _companion_each_bucket(type_: str, extra: dict[str, Any]) -> Build:
    def build(g: Graph) -> Graph:
        for bucket in g.of_type(tk.BUCKET):
            g = add(
                g,
                type_,
                bucket.name,
                {"bucket": bucket.outputs["bucket"], **extra},
                parent=bucket.parent,
                dependencies=(bucket.urn,),
            )
        return g

    return build


LIFECYCLE_RULES = {
    "rules": [
        {
            "id": "abort",
            "status": "Enabled",
            "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7},
        }
    ]
}

LOGGING = {"targetBucket": "pyorg-logs", "targetPrefix": "s3/"}


def _drop_companion(type_: str) -> Build:
    return lambda g: remove(g, type_, MEDIA)


def _untag_environment(inputs: dict[str, Any]) -> None:
    del inputs["tags"]["environment"]


CASES = [
    Case("database-encrypted", lambda g: change(g, *DB, setter(storageEncrypted=False))),
    Case("database-not-public", lambda g: change(g, *DB, setter(publiclyAccessible=True))),
    Case("database-multi-az-in-production", lambda g: change(g, *DB, setter(multiAz=False))),
    Case("database-backup-retention", lambda g: change(g, *DB, setter(backupRetentionPeriod=3))),
    Case(
        "database-deletion-protection-in-production",
        lambda g: change(g, *DB, setter(deletionProtection=False)),
    ),
    Case("database-final-snapshot", lambda g: change(g, *DB, setter(skipFinalSnapshot=True))),
    Case(
        "database-iam-auth",
        lambda g: change(g, *DB, setter(iamDatabaseAuthenticationEnabled=False)),
    ),
    Case(
        "database-logs-exported",
        lambda g: change(g, *DB, setter(enabledCloudwatchLogsExports=[])),
    ),
    Case(
        "database-enhanced-monitoring",
        lambda g: change(g, *DB, unsetter("monitoringInterval")),
        fix=lambda g: change_all(g, tk.RDS_INSTANCE, setter(monitoringInterval=60)),
    ),
    Case(
        "database-performance-insights",
        lambda g: change(g, *DB, unsetter("performanceInsightsKmsKeyId")),
    ),
    Case(
        "database-minor-upgrades", lambda g: change(g, *DB, setter(autoMinorVersionUpgrade=False))
    ),
    Case(
        "database-copy-tags-to-snapshot", lambda g: change(g, *DB, setter(copyTagsToSnapshot=False))
    ),
    Case("database-ca-cert", lambda g: change(g, *DB, setter(caCertIdentifier="rds-ca-2019"))),
    Case("database-tls-in-transit", lambda g: change(g, *PARAMS, _params_without("rds.force_ssl"))),
    Case(
        "database-query-logging",
        lambda g: change(g, *PARAMS, _params_without("log_min_duration_statement")),
    ),
    Case("bucket-encrypted", _drop_companion(tk.BUCKET_SSE)),
    Case(
        "bucket-kms-encrypted",
        lambda g: change(
            g,
            tk.BUCKET_SSE,
            MEDIA,
            nested(("rules", 0, "applyServerSideEncryptionByDefault", "sseAlgorithm"), "AES256"),
        ),
        # The baseline without the known gap: the access-log buckets' SSE-S3.
        fix=lambda g: change_all(
            g,
            tk.BUCKET_SSE,
            nested(("rules", 0, "applyServerSideEncryptionByDefault", "sseAlgorithm"), "aws:kms"),
        ),
    ),
    Case(
        "bucket-public-access-blocked",
        lambda g: change(
            g, tk.BUCKET_PUBLIC_ACCESS_BLOCK, MEDIA, setter(restrictPublicBuckets=False)
        ),
    ),
    Case(
        "bucket-versioning",
        lambda g: change(
            g,
            tk.BUCKET_VERSIONING,
            MEDIA,
            nested(("versioningConfiguration", "status"), "Suspended"),
        ),
    ),
    Case("bucket-no-public-acl", lambda g: change(g, tk.BUCKET, MEDIA, setter(acl="public-read"))),
    Case(
        "bucket-acls-disabled",
        lambda g: change(
            g, tk.BUCKET_OWNERSHIP, MEDIA, nested(("rule", "objectOwnership"), "ObjectWriter")
        ),
    ),
    Case(
        "bucket-tls-only",
        lambda g: change(
            g,
            tk.BUCKET_POLICY,
            MEDIA,
            setter(
                policy=policy_doc(
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::1:root"},
                        "Action": "s3:GetObject",
                        "Resource": "*",
                    }
                )
            ),
        ),
    ),
    Case(
        "bucket-policy-not-public",
        lambda g: change(
            g,
            tk.BUCKET_POLICY,
            MEDIA,
            setter(
                policy=policy_doc(
                    {
                        "Sid": "Public",
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": "*",
                    }
                )
            ),
        ),
    ),
    Case(
        "bucket-policy-no-lockout",
        lambda g: change(
            g,
            tk.BUCKET_POLICY,
            MEDIA,
            setter(
                policy=policy_doc(
                    {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}
                )
            ),
        ),
    ),
    Case(
        "bucket-access-logging",
        _drop_companion(tk.BUCKET_LOGGING),
        fix=_companion_each_bucket(tk.BUCKET_LOGGING, LOGGING),
    ),
    Case(
        "bucket-lifecycle",
        lambda g: change(g, tk.BUCKET_LIFECYCLE, MEDIA, nested(("rules", 0, "status"), "Disabled")),
        fix=_companion_each_bucket(tk.BUCKET_LIFECYCLE, LIFECYCLE_RULES),
    ),
    Case(
        "bucket-replication-encrypted",
        lambda g: change(
            g,
            tk.BUCKET_REPLICATION,
            MEDIA,
            nested(("rules", 0, "destination", "encryptionConfiguration"), {}),
        ),
    ),
    Case(
        "bucket-force-destroy-off", lambda g: change(g, tk.BUCKET, MEDIA, setter(forceDestroy=True))
    ),
    Case("stateful-protected", lambda g: change(g, tk.BUCKET, MEDIA, protect=False)),
    Case(
        "required-tags",
        lambda g: change(g, tk.VPC, f"{HOME}-vpc", _untag_environment),
    ),
    Case("kms-key-rotation", lambda g: change(g, *KEY, setter(enableKeyRotation=False))),
    Case("kms-key-enabled", lambda g: change(g, *KEY, setter(isEnabled=False))),
    Case(
        "kms-key-policy-no-wildcard-principal",
        lambda g: change(
            g,
            *KEY,
            setter(
                policy=policy_doc(
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "*"},
                        "Action": "kms:*",
                        "Resource": "*",
                    }
                )
            ),
        ),
    ),
    Case("kms-deletion-window", lambda g: change(g, *KEY, setter(deletionWindowInDays=7))),
    Case(
        "secret-cmk",
        lambda g: change(g, *SECRET_RES, unsetter("kmsKeyId")),
        fix=lambda g: change_all(g, tk.SM_SECRET, setter(kmsKeyId="arn:aws:kms:key")),
    ),
    Case(
        "secret-recovery-window", lambda g: change(g, *SECRET_RES, setter(recoveryWindowInDays=0))
    ),
    Case("log-group-retention", lambda g: change(g, *LOGS, unsetter("retentionInDays"))),
    Case(
        "log-group-retention-1y-in-production",
        lambda g: change(g, *LOGS, setter(retentionInDays=30)),
    ),
    Case(
        "log-group-kms",
        lambda g: change(g, *LOGS, unsetter("kmsKeyId")),
        fix=lambda g: change_all(g, tk.LOG_GROUP, setter(kmsKeyId="arn:aws:kms:key")),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.rule for c in CASES])
def test_rule_fails_on_a_violating_resource(case: Case, prod: Graph) -> None:
    assert_fails_on_its_change(case, prod)


# --- joins under preview ----------------------------------------------------------------------


def test_bucket_companions_join_by_dependency_when_names_are_unknown(prod_preview: Graph) -> None:
    media = prod_preview.one(tk.BUCKET, MEDIA)
    assert media.outputs.get("bucket") in (None, UNKNOWN)  # the name is generated at apply
    assert violations(prod_preview, "bucket-versioning") == []
    g = remove(prod_preview, tk.BUCKET_VERSIONING, MEDIA)
    assert [v.urn for v in violations(g, "bucket-versioning")] == [media.urn]


def test_a_known_bucket_name_wins_over_a_stray_dependency(prod: Graph) -> None:
    """The static bucket's versioning, made to depend on the media bucket too, still counts
    for the static bucket only: the media bucket without its own is caught."""
    media = prod.one(tk.BUCKET, MEDIA)
    g = remove(prod, tk.BUCKET_VERSIONING, MEDIA)
    static_versioning = g.one(tk.BUCKET_VERSIONING, f"{HOME}-static")
    g = with_resources(
        g, replace(static_versioning, dependencies=(*static_versioning.dependencies, media.urn))
    )
    assert [v.urn for v in violations(g, "bucket-versioning")] == [media.urn]


# --- production-only rules, tags, data-loss details -------------------------------------------


def test_production_rules_read_the_environment_tag(staging: Graph) -> None:
    (db, *_) = staging.of_type(tk.RDS_INSTANCE)
    assert db.inputs["multiAz"] is False
    assert violations(staging, "database-multi-az-in-production") == []

    def production(inputs: dict[str, Any]) -> None:
        inputs["tags"]["environment"] = "production"

    g = change(staging, tk.RDS_INSTANCE, db.name, production)
    assert violations(g, "database-multi-az-in-production")
    assert violations(g, "database-backup-retention")  # staging's 3 days


def test_a_misspelt_environment_fails_the_required_tags(prod: Graph) -> None:
    g = change(prod, *DB, lambda i: i["tags"].update(environment="prod"))
    (found,) = violations(g, "required-tags")
    assert "'prod'" in found.message
    # ... since the production rules would otherwise silently skip it.
    g = change(g, *DB, setter(multiAz=False))
    assert violations(g, "database-multi-az-in-production") == []


def test_a_taggable_resource_without_tags_fails(prod: Graph) -> None:
    assert violations(change(prod, *ALB, unsetter("tags")), "required-tags")
    # An untaggable type without tags is fine.
    assert not violations(
        change(prod, tk.BUCKET_VERSIONING, MEDIA, unsetter("tags")), "required-tags"
    )


def test_stateful_resources_must_also_be_retained_on_delete(prod: Graph) -> None:
    g = change(prod, *DB, retain_on_delete=False)
    (found,) = violations(g, "stateful-protected")
    assert "retain_on_delete" in found.message


def test_a_replica_without_final_snapshot_name_is_fine(prod: Graph) -> None:
    replica = prod.one(tk.RDS_INSTANCE, "eu-west-1-db")
    g = change(prod, tk.RDS_INSTANCE, replica.name, unsetter("finalSnapshotIdentifier"))
    assert violations(g, "database-final-snapshot") == []
    g = change(prod, *DB, unsetter("finalSnapshotIdentifier"))
    assert violations(g, "database-final-snapshot")
