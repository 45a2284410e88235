"""Assets: one region's buckets for static files and user-uploaded media.

Each bucket is versioned, encrypted with the region's assets KMS key (S3 Bucket Keys on, to
keep KMS request costs down), owned by the bucket owner (ACLs off), has every public access
block on, and refuses requests that are not over TLS. In pulumi-aws v7 each of these is a
resource of its own beside the bucket. Buckets and the key are `protect`ed and
`retain_on_delete`. Replication of media from the home region lives in `replication.py`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.aliases import inherited_aliases
from infra.components.access_logs import S3_PREFIX
from infra.naming import tags

KINDS = ("static", "media")


@dataclass(frozen=True, kw_only=True)
class AssetsArgs:
    physical_prefix: str
    base_tags: dict[str, str]
    access_log_bucket: pulumi.Input[str]  # the region's AccessLogs bucket


class Bucket:
    """A bucket and the companion resources that make it safe, as built by `Assets`."""

    def __init__(self, bucket: aws.s3.Bucket, versioning: aws.s3.BucketVersioning) -> None:
        self.bucket = bucket
        self.versioning = versioning


class Assets(pulumi.ComponentResource):
    kms_key: aws.kms.Key
    buckets: dict[str, Bucket]

    def __init__(
        self, name: str, args: AssetsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("python-org:assets:Assets", name, None, opts)

        def t(role: str) -> dict[str, str]:
            return tags(args.base_tags, "assets", f"{name}-{role}")

        self.kms_key = aws.kms.Key(
            f"{name}-assets-key",
            description=f"{args.physical_prefix}: static and media buckets, app secret",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            tags=t("assets-key"),
            opts=self._keep(f"{name}-assets-key"),
        )
        aws.kms.Alias(
            f"{name}-assets-key",
            name=f"alias/{args.physical_prefix}-assets",
            target_key_id=self.kms_key.key_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.buckets = {kind: self._bucket(name, kind, args, t) for kind in KINDS}
        self.register_outputs(
            {f"{kind}_bucket": b.bucket.bucket for kind, b in self.buckets.items()}
        )

    def _keep(self, child_name: str) -> pulumi.ResourceOptions:
        """Options of a child whose loss loses data: protected, retained on delete, and keeping
        its URN when this component is renamed or moved."""
        return pulumi.ResourceOptions(
            parent=self,
            protect=True,
            retain_on_delete=True,
            aliases=inherited_aliases(self, child_name),
        )

    def _bucket(self, name: str, kind: str, args: AssetsArgs, t: object) -> Bucket:
        assert callable(t)
        child = pulumi.ResourceOptions(parent=self)
        role = f"{name}-{kind}"
        bucket = aws.s3.Bucket(
            role,
            # A prefix, not a fixed name: bucket names are global, and the suffix Pulumi adds
            # keeps them unique; the name is a stack output.
            bucket_prefix=f"{args.physical_prefix}-{kind}-",
            force_destroy=False,
            tags=t(kind),
            opts=self._keep(role),
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
            role,
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="aws:kms",
                        kms_master_key_id=self.kms_key.arn,
                    ),
                    bucket_key_enabled=True,
                )
            ],
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            role,
            bucket=bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="abort-incomplete-uploads",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=7
                    ),
                ),
                # Old versions are what protects against a bad deploy or a deletion: they are
                # moved to cheaper storage, never expired.
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="noncurrent-versions-to-ia",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    noncurrent_version_transitions=[
                        aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionTransitionArgs(
                            noncurrent_days=30, storage_class="STANDARD_IA"
                        )
                    ],
                ),
            ],
            # Lifecycle rules on a versioned bucket need versioning to exist first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
        )
        aws.s3.BucketLogging(
            role,
            bucket=bucket.id,
            target_bucket=args.access_log_bucket,
            target_prefix=f"{S3_PREFIX}/{kind}/",
            opts=child,
        )
        aws.s3.BucketPolicy(
            role,
            bucket=bucket.id,
            policy=bucket.arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "DenyInsecureTransport",
                                "Effect": "Deny",
                                "Principal": "*",
                                "Action": "s3:*",
                                "Resource": [arn, f"{arn}/*"],
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        ],
                    }
                )
            ),
            opts=child,
        )
        return Bucket(bucket, versioning)
