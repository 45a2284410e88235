"""StateBackend: the self-managed option for Pulumi's state, declared by the bootstrap project.

Pulumi Cloud is the repository's default backend; this is the alternative for a team that keeps
its state in its own account (`pulumi login s3://<bucket>`, see the README's "Repository
setup"):

- a KMS key for the bucket's default encryption (rotating, 30-day deletion window);
- a second KMS key for Pulumi's secrets provider (`--secrets-provider awskms://alias/...`),
  apart from the first, so that reading state files and decrypting config secrets are separate
  grants;
- the state bucket: versioned (every checkpoint Pulumi overwrites stays recoverable), SSE-KMS
  with the first key, every public access block on, ACLs off, a policy that refuses requests
  not over TLS, old versions kept (moved to infrequent access, never expired).

All three are `protect`ed and `retain_on_delete`: losing state means re-importing every
resource by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.buckets import abort_incomplete_uploads, private_bucket
from infra.naming import tags


@dataclass(frozen=True, kw_only=True)
class StateBackendArgs:
    physical_prefix: str  # python-org-pulumi: bucket prefix and key aliases
    base_tags: dict[str, str]


class StateBackend(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    bucket_key: aws.kms.Key
    secrets_key: aws.kms.Key
    secrets_key_alias: str

    def __init__(
        self, name: str, args: StateBackendArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("python-org:bootstrap:StateBackend", name, None, opts)
        keep = pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True)

        def t(role: str) -> dict[str, str]:
            return tags(args.base_tags, "state", f"{name}-{role}")

        self.bucket_key = aws.kms.Key(
            f"{name}-bucket-key",
            description=f"{args.physical_prefix}: default encryption of the Pulumi state bucket",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            tags=t("bucket-key"),
            opts=keep,
        )
        aws.kms.Alias(
            f"{name}-bucket-key",
            name=f"alias/{args.physical_prefix}-state",
            target_key_id=self.bucket_key.key_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.secrets_key = aws.kms.Key(
            f"{name}-secrets-key",
            description=f"{args.physical_prefix}: Pulumi secrets provider (awskms://)",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            tags=t("secrets-key"),
            opts=keep,
        )
        self.secrets_key_alias = f"alias/{args.physical_prefix}-secrets"
        aws.kms.Alias(
            f"{name}-secrets-key",
            name=self.secrets_key_alias,
            target_key_id=self.secrets_key.key_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        made = private_bucket(
            f"{name}-bucket",
            parent=self,
            bucket_opts=keep,
            bucket_prefix=f"{args.physical_prefix}-state-",
            tags=t("bucket"),
            encryption=aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="aws:kms",
                    kms_master_key_id=self.bucket_key.arn,
                ),
                bucket_key_enabled=True,
            ),
            lifecycle_rules=[
                abort_incomplete_uploads(),
                # Every overwritten checkpoint stays: a bad `pulumi up` or a corrupted state file
                # is undone by restoring an old version.
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
        self.bucket = made.bucket
        self.register_outputs(
            {
                "bucket": self.bucket.bucket,
                "bucket_key": self.bucket_key.arn,
                "secrets_key": self.secrets_key.arn,
            }
        )
