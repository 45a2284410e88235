"""Rules for the S3 buckets: encryption, public access, versioning, policies, logs, lifecycle.

A bucket's settings are companion resources (aws.s3.BucketVersioning, BucketPolicy, ...) that
name it in their `bucket`: most rules here are stack rules that join the bucket to them.
"""

from __future__ import annotations

from collections.abc import Iterator

from policy import tokens as tk
from policy.framework import ADVISORY, MANDATORY, Registry, Stack
from policy.view import (
    Res,
    dig,
    document,
    flag,
    is_unknown,
    items,
    known,
    principals,
    statements,
    strings,
)

rules = Registry()


def _bucket_companions(stack: Stack, bucket: Res, type_: str) -> list[Res]:
    return stack.companions(bucket, (type_,), "bucket")


@rules.stack(
    "bucket-encrypted",
    MANDATORY,
    checks="Every bucket has a default server-side encryption configuration",
    fix="declare an aws.s3.BucketServerSideEncryptionConfiguration for the bucket (aws:kms with "
    "the region's assets key, bucket_key_enabled=True)",
    sources=("CKV_AWS_19",),
)
def bucket_encrypted(stack: Stack) -> Iterator[tuple[str, str]]:
    for bucket in stack.of_type(*tk.BUCKETS):
        configs = _bucket_companions(stack, bucket, tk.BUCKET_SSE)
        if not configs:
            yield bucket.urn, "the bucket has no server-side encryption configuration"
        for config in configs:
            for rule in items(config.props.get("rules")):
                algorithm = dig(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm")
                if known(algorithm) and algorithm not in ("aws:kms", "aws:kms:dsse", "AES256"):
                    yield bucket.urn, f"unknown sse_algorithm {algorithm!r}"


@rules.stack(
    "bucket-kms-encrypted",
    ADVISORY,
    checks="Buckets are encrypted with a KMS key by default (not only SSE-S3)",
    fix="use sse_algorithm aws:kms with the region's key in the encryption configuration",
    sources=("CKV_AWS_145",),
)
def bucket_kms_encrypted(stack: Stack) -> Iterator[tuple[str, str]]:
    for bucket in stack.of_type(*tk.BUCKETS):
        for config in _bucket_companions(stack, bucket, tk.BUCKET_SSE):
            for rule in items(config.props.get("rules")):
                algorithm = dig(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm")
                if known(algorithm) and not str(algorithm).startswith("aws:kms"):
                    yield bucket.urn, f"default encryption is {algorithm}, not KMS"


PUBLIC_ACCESS_FLAGS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)


@rules.stack(
    "bucket-public-access-blocked",
    MANDATORY,
    checks="Every bucket has a public access block with all four settings on",
    fix="declare an aws.s3.BucketPublicAccessBlock for the bucket with block_public_acls, "
    "block_public_policy, ignore_public_acls and restrict_public_buckets all True",
    sources=(
        "CKV_AWS_53",
        "CKV_AWS_54",
        "CKV_AWS_55",
        "CKV_AWS_56",
        "CKV2_AWS_6",
        "AwsSolutions-S2",
    ),
)
def bucket_public_access_blocked(stack: Stack) -> Iterator[tuple[str, str]]:
    for bucket in stack.of_type(*tk.BUCKETS):
        blocks = _bucket_companions(stack, bucket, tk.BUCKET_PUBLIC_ACCESS_BLOCK)
        if not blocks:
            yield bucket.urn, "the bucket has no public access block"
        for block in blocks:
            off = [
                f
                for f in PUBLIC_ACCESS_FLAGS
                if not is_unknown(block.props.get(f)) and flag(block.props.get(f)) is not True
            ]
            if off:
                yield bucket.urn, f"its public access block leaves {', '.join(off)} off"


@rules.stack(
    "bucket-versioning",
    MANDATORY,
    checks="Every bucket has versioning enabled",
    fix='declare an aws.s3.BucketVersioning for the bucket with status "Enabled" (overwrites and '
    "deletes then keep the previous version)",
    sources=("CKV_AWS_21",),
)
def bucket_versioning(stack: Stack) -> Iterator[tuple[str, str]]:
    for bucket in stack.of_type(*tk.BUCKETS):
        configs = _bucket_companions(stack, bucket, tk.BUCKET_VERSIONING)
        if not configs:
            yield bucket.urn, "the bucket has no versioning configuration"
        for config in configs:
            status = dig(config.props, "versioningConfiguration", "status")
            if known(status) and status != "Enabled":
                yield bucket.urn, f"versioning status is {status!r}"


PUBLIC_ACLS = ("public-read", "public-read-write", "authenticated-read")
ALL_USERS_GROUPS = (
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
)


@rules.resource(
    "bucket-no-public-acl",
    MANDATORY,
    types=(*tk.BUCKETS, tk.BUCKET_ACL),
    checks="No bucket ACL grants access to everyone or to every AWS account",
    fix="remove the canned ACL / grant; with ACLs disabled (BucketOwnerEnforced) access is "
    "granted by policies only",
    sources=("CKV_AWS_20", "CKV_AWS_57", "CKV2_AWS_43", "CKV_AWS_375"),
)
def bucket_no_public_acl(res: Res) -> Iterator[str]:
    acl = res.props.get("acl")
    if acl in PUBLIC_ACLS:
        yield f"the canned ACL is {acl!r}"
    grants = dig(res.props, "accessControlPolicy", "grants")
    for grant in items(grants):
        uri = dig(grant, "grantee", "uri")
        if uri in ALL_USERS_GROUPS:
            yield f"a grant gives {dig(grant, 'permission')} to {uri.rsplit('/', 1)[-1]}"


@rules.stack(
    "bucket-acls-disabled",
    ADVISORY,
    checks="Object ownership is BucketOwnerEnforced (ACLs disabled)",
    fix='declare an aws.s3.BucketOwnershipControls with object_ownership "BucketOwnerEnforced"',
    sources=("CKV2_AWS_65",),
)
def bucket_acls_disabled(stack: Stack) -> Iterator[tuple[str, str]]:
    for bucket in stack.of_type(*tk.BUCKETS):
        controls = _bucket_companions(stack, bucket, tk.BUCKET_OWNERSHIP)
        if not controls:
            yield bucket.urn, "the bucket has no ownership controls (ACLs stay enabled)"
        for control in controls:
            ownership = dig(control.props, "rule", "objectOwnership")
            if known(ownership) and ownership != "BucketOwnerEnforced":
                yield bucket.urn, f"object ownership is {ownership!r}"


def _denies_insecure_transport(doc: dict[str, object]) -> bool:
    for statement in statements(doc):
        condition = statement.get("Condition")
        secure = dig(condition, "Bool", "aws:SecureTransport")
        deny_all = statement.get("Effect") == "Deny" and "*" in principals(statement)
        if deny_all and str(secure).lower() == "false":
            return True
    return False


@rules.stack(
    "bucket-tls-only",
    MANDATORY,
    checks="Every bucket's policy denies requests that are not over TLS",
    fix='add to the bucket policy a Deny of s3:* for Principal "*" with the condition '
    'Bool aws:SecureTransport = "false"',
    sources=("AwsSolutions-S10",),
)
def bucket_tls_only(stack: Stack) -> Iterator[tuple[str, str]]:
    for bucket in stack.of_type(*tk.BUCKETS):
        policies = _bucket_companions(stack, bucket, tk.BUCKET_POLICY)
        inline = document(bucket.props.get("policy"))
        if not policies and inline is None:
            yield bucket.urn, "the bucket has no policy, so plain HTTP requests are accepted"
            continue
        docs = [document(p.props.get("policy")) for p in policies] + [inline]
        readable = [d for d in docs if d is not None]
        unreadable = any(document(p.props.get("policy")) is None for p in policies)
        if not unreadable and not any(_denies_insecure_transport(d) for d in readable):
            yield bucket.urn, "no statement denies aws:SecureTransport = false"


def public_allow(statement: dict[str, object]) -> bool:
    """An Allow to principal "*" without a condition (bucket and key policies alike)."""
    return (
        statement.get("Effect") == "Allow"
        and "*" in principals(statement)
        and not statement.get("Condition")
    )


@rules.resource(
    "bucket-policy-not-public",
    MANDATORY,
    types=(tk.BUCKET_POLICY, *tk.BUCKETS),
    checks="No bucket policy allows any action to every principal without a condition",
    fix='name the principals (an IAM role ARN, a service) instead of "*", or add a condition '
    "that scopes it (aws:SourceArn, aws:PrincipalOrgID)",
    sources=("CKV_AWS_70",),
)
def bucket_policy_not_public(res: Res) -> Iterator[str]:
    for statement in statements(document(res.props.get("policy"))):
        if public_allow(statement):
            yield f"statement {statement.get('Sid', '(no Sid)')} allows {statement.get('Action')} to *"


@rules.resource(
    "bucket-policy-no-lockout",
    ADVISORY,
    types=(tk.BUCKET_POLICY, *tk.BUCKETS),
    checks="No bucket policy denies every action to every principal unconditionally",
    fix="give the Deny a condition (as the TLS-only statement does) or name the principals; an "
    "unconditional Deny * locks out everyone but the account root",
    sources=("CKV_AWS_93",),
)
def bucket_policy_no_lockout(res: Res) -> Iterator[str]:
    for statement in statements(document(res.props.get("policy"))):
        actions = strings(statement.get("Action"))
        if (
            statement.get("Effect") == "Deny"
            and "*" in principals(statement)
            and any(a in ("*", "s3:*") for a in actions)
            and not statement.get("Condition")
        ):
            yield f"statement {statement.get('Sid', '(no Sid)')} denies everything to everyone"


@rules.stack(
    "bucket-access-logging",
    ADVISORY,
    checks="Every bucket logs its requests (S3 server access logging)",
    fix="declare an aws.s3.BucketLogging for the bucket, targeting a log bucket in the same region",
    sources=("CKV_AWS_18", "AwsSolutions-S1"),
)
def bucket_access_logging(stack: Stack) -> Iterator[tuple[str, str]]:
    for bucket in stack.of_type(*tk.BUCKETS):
        if not _bucket_companions(stack, bucket, tk.BUCKET_LOGGING) and not bucket.props.get(
            "loggings"
        ):
            yield bucket.urn, "the bucket has no access logging"


@rules.stack(
    "bucket-lifecycle",
    ADVISORY,
    checks="Every bucket has a lifecycle configuration that aborts incomplete multipart uploads",
    fix="declare an aws.s3.BucketLifecycleConfiguration with an abort_incomplete_multipart_upload "
    "rule (and noncurrent-version expiry, since the bucket is versioned)",
    sources=("CKV2_AWS_61", "CKV_AWS_300"),
)
def bucket_lifecycle(stack: Stack) -> Iterator[tuple[str, str]]:
    for bucket in stack.of_type(*tk.BUCKETS):
        configs = _bucket_companions(stack, bucket, tk.BUCKET_LIFECYCLE)
        if not configs:
            yield bucket.urn, "the bucket has no lifecycle configuration"
            continue
        rule_lists = [config.props.get("rules") for config in configs]
        if any(is_unknown(r) for r in rule_lists):
            continue
        aborts = any(
            dig(rule, "abortIncompleteMultipartUpload", "daysAfterInitiation") is not None
            for rules_ in rule_lists
            for rule in items(rules_)
            if dig(rule, "status") == "Enabled"
        )
        if not aborts:
            yield bucket.urn, "no enabled rule aborts incomplete multipart uploads"


@rules.resource(
    "bucket-replication-encrypted",
    MANDATORY,
    types=(tk.BUCKET_REPLICATION,),
    checks="Replicated objects are re-encrypted with a KMS key in the destination region",
    fix="give every replication rule destination.encryption_configuration.replica_kms_key_id "
    "(the destination region's key) and source_selection_criteria.sse_kms_encrypted_objects",
    sources=(),
)
def bucket_replication_encrypted(res: Res) -> Iterator[str]:
    for rule in items(res.props.get("rules")):
        if dig(rule, "status") == "Disabled":
            continue
        key = dig(rule, "destination", "encryptionConfiguration", "replicaKmsKeyId")
        if key in (None, ""):
            yield f"rule {dig(rule, 'id')!r} replicates without a destination KMS key"


@rules.resource(
    "bucket-force-destroy-off",
    MANDATORY,
    types=tk.BUCKETS,
    checks="No bucket can be deleted with its objects (force_destroy)",
    fix="set force_destroy=False; empty a bucket deliberately before removing it",
    sources=(),
)
def bucket_force_destroy(res: Res) -> Iterator[str]:
    if flag(res.props.get("forceDestroy")) is True:
        yield "force_destroy is true: deleting the bucket would delete every object"
