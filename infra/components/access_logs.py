"""AccessLogs: one region's bucket for access logs (the load balancer's and the asset buckets').

What on-call reads after an incident: who asked the load balancer for what, and who touched
which object. The bucket is private, versioned, TLS-only and `protect`ed like every bucket, and
encrypted with SSE-S3, the only default encryption the load balancer's log delivery accepts.
Logs expire after `retention_days` (they are records, not site data). Its policy lets exactly
two writers in: the region's Elastic Load Balancing log delivery account, under `alb/`, and S3
server access logging from this account, under `s3/`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.aliases import inherited_aliases
from infra.naming import tags

ALB_PREFIX = "alb"
S3_PREFIX = "s3"


@dataclass(frozen=True, kw_only=True)
class AccessLogsArgs:
    physical_prefix: str
    retention_days: int
    base_tags: dict[str, str]


class AccessLogs(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    # The bucket's name once its policy exists: what writers must wait for (an ALB refuses a
    # log bucket it may not write to).
    ready_bucket_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: AccessLogsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("python-org:logs:AccessLogs", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        role = f"{name}-access-logs"
        self.bucket = aws.s3.Bucket(
            role,
            bucket_prefix=f"{args.physical_prefix}-logs-",
            force_destroy=False,
            tags=tags(args.base_tags, "logs", role),
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=True,
                retain_on_delete=True,
                aliases=inherited_aliases(self, role),
            ),
        )
        bucket_id = self.bucket.id
        aws.s3.BucketOwnershipControls(
            role,
            bucket=bucket_id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        aws.s3.BucketPublicAccessBlock(
            role,
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        versioning = aws.s3.BucketVersioning(
            role,
            bucket=bucket_id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"
            ),
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            role,
            bucket=bucket_id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        # Load balancer log delivery can't write to SSE-KMS buckets.
                        sse_algorithm="AES256",
                    ),
                )
            ],
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            role,
            bucket=bucket_id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-logs",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                        days=args.retention_days
                    ),
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=30
                    ),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=7
                    ),
                )
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
        )
        account = aws.get_caller_identity_output(opts=invoke).account_id
        elb = aws.elb.get_service_account_output(opts=invoke).arn
        policy = aws.s3.BucketPolicy(
            role,
            bucket=bucket_id,
            policy=pulumi.Output.all(self.bucket.arn, account, elb).apply(
                lambda v: json.dumps(log_bucket_policy(*v))
            ),
            opts=child,
        )
        self.ready_bucket_name = policy.bucket
        self.register_outputs({"bucket": self.bucket.bucket})


def log_bucket_policy(bucket_arn: str, account_id: str, elb_account_arn: str) -> dict[str, object]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Sid": "LoadBalancerAccessLogs",
                "Effect": "Allow",
                "Principal": {"AWS": elb_account_arn},
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/{ALB_PREFIX}/AWSLogs/{account_id}/*",
            },
            {
                "Sid": "S3ServerAccessLogs",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/{S3_PREFIX}/*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            },
        ],
    }
