"""Assets: one region's buckets for static files and user-uploaded media.

Each bucket is versioned, owned by the bucket owner (ACLs off), has every public access block
on, and refuses requests that are not over TLS. The static bucket is encrypted with the region's
assets KMS key (S3 Bucket Keys on, to keep KMS request costs down). The media bucket is encrypted
with SSE-S3 and lets Cloudflare's addresses read `media/*`: the edge serves /media/ from it
(docs/app-contract.md, "Media and static"), and S3 refuses anonymous reads of SSE-KMS objects
("Requests specifying Server Side Encryption with AWS KMS managed keys require AWS Signature
Version 4"). A policy that grants to a set of CIDRs with aws:SourceIp is not public to S3, so
the public access block stays on ("The meaning of public", S3 User Guide). In pulumi-aws v7 each of these is a
resource of its own beside the bucket. Buckets and the key are `protect`ed and
`retain_on_delete`. Replication of media from the home region lives in `replication.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.aliases import inherited_aliases
from infra.buckets import PrivateBucket, abort_incomplete_uploads, private_bucket
from infra.components.access_logs import S3_PREFIX
from infra.naming import tags

KINDS = ("static", "media")


@dataclass(frozen=True, kw_only=True)
class AssetsArgs:
    physical_prefix: str
    base_tags: dict[str, str]
    access_log_bucket: pulumi.Input[str]  # the region's AccessLogs bucket
    media_reader_cidrs: pulumi.Input[list[str]]  # Cloudflare's ranges: the edge reads media


class Assets(pulumi.ComponentResource):
    kms_key: aws.kms.Key
    buckets: dict[str, PrivateBucket]

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

    def _bucket(self, name: str, kind: str, args: AssetsArgs, t: object) -> PrivateBucket:
        assert callable(t)
        role = f"{name}-{kind}"
        media = kind == "media"
        encryption = (
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256"
                ),
            )
            if media
            else aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="aws:kms",
                    kms_master_key_id=self.kms_key.arn,
                ),
                bucket_key_enabled=True,
            )
        )

        def edge_reads(arn: pulumi.Output[str]) -> pulumi.Output[list[dict[str, Any]]]:
            return pulumi.Output.all(arn, args.media_reader_cidrs).apply(
                lambda v: [media_read_statement(v[0], v[1])]
            )

        made = private_bucket(
            role,
            parent=self,
            bucket_opts=self._keep(role),
            bucket_prefix=f"{args.physical_prefix}-{kind}-",
            tags=t(kind),
            encryption=encryption,
            statements=edge_reads if media else None,
            lifecycle_rules=[
                abort_incomplete_uploads(),
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
        )
        aws.s3.BucketLogging(
            role,
            bucket=made.bucket.id,
            target_bucket=args.access_log_bucket,
            target_prefix=f"{S3_PREFIX}/{kind}/",
            opts=pulumi.ResourceOptions(parent=self),
        )
        return made


def media_read_statement(bucket_arn: str, cidrs: list[str]) -> dict[str, Any]:
    """Anyone at one of `cidrs` (Cloudflare) may read media objects; nothing else."""
    return {
        "Sid": "EdgeReadsMedia",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"{bucket_arn}/media/*",
        "Condition": {"IpAddress": {"aws:SourceIp": sorted(cidrs)}},
    }
