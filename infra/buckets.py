"""Private buckets: a bucket and the companion resources that make it safe.

In pulumi-aws v7 a bucket's ownership, public access block, versioning, encryption, lifecycle and
policy are resources of their own. Every bucket here gets all of them, from this one function:
ACLs off (bucket owner enforced), every public access block on, versioning on, the given default
encryption and lifecycle rules, and a policy that refuses requests not over TLS (plus whatever
statements the caller adds). Companions are named after the bucket's logical name and parented
like it, so their URNs do not depend on which component calls this.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

Statements = Callable[[pulumi.Output[str]], pulumi.Output[list[dict[str, Any]]]]


@dataclass(frozen=True)
class PrivateBucket:
    bucket: aws.s3.Bucket
    versioning: aws.s3.BucketVersioning
    policy: aws.s3.BucketPolicy


def deny_insecure_transport(bucket_arn: str) -> dict[str, Any]:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def private_bucket(
    role: str,
    *,
    parent: pulumi.Resource,
    bucket_opts: pulumi.ResourceOptions,
    bucket_prefix: str,
    tags: dict[str, str],
    encryption: aws.s3.BucketServerSideEncryptionConfigurationRuleArgs,
    lifecycle_rules: Sequence[aws.s3.BucketLifecycleConfigurationRuleArgs],
    statements: Statements | None = None,
) -> PrivateBucket:
    """Declare bucket `role` (options `bucket_opts`: the caller decides protection and aliases)
    and its companions under `parent`."""
    child = pulumi.ResourceOptions(parent=parent)
    bucket = aws.s3.Bucket(
        role,
        # A prefix, not a fixed name: bucket names are global, and the suffix Pulumi adds keeps
        # them unique; the name is a stack output.
        bucket_prefix=bucket_prefix,
        force_destroy=False,
        tags=tags,
        opts=bucket_opts,
    )
    aws.s3.BucketOwnershipControls(
        role,
        bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        opts=child,
    )
    aws.s3.BucketPublicAccessBlock(
        role,
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=child,
    )
    versioning = aws.s3.BucketVersioning(
        role,
        bucket=bucket.id,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
            status="Enabled"
        ),
        opts=child,
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        role, bucket=bucket.id, rules=[encryption], opts=child
    )
    aws.s3.BucketLifecycleConfiguration(
        role,
        bucket=bucket.id,
        rules=list(lifecycle_rules),
        # Lifecycle rules on a versioned bucket need versioning to exist first.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[versioning]),
    )
    extra = statements(bucket.arn) if statements else pulumi.Output.from_input([])
    policy = aws.s3.BucketPolicy(
        role,
        bucket=bucket.id,
        policy=pulumi.Output.all(bucket.arn, extra).apply(
            lambda v: json.dumps(
                {"Version": "2012-10-17", "Statement": [deny_insecure_transport(v[0]), *v[1]]}
            )
        ),
        opts=child,
    )
    return PrivateBucket(bucket, versioning, policy)


def abort_incomplete_uploads(days: int = 7) -> aws.s3.BucketLifecycleConfigurationRuleArgs:
    return aws.s3.BucketLifecycleConfigurationRuleArgs(
        id="abort-incomplete-uploads",
        status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
        abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
            days_after_initiation=days
        ),
    )
