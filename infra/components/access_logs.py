"""AccessLogs: one region's bucket for access logs (the load balancer's and the asset buckets').

What on-call reads after an incident: who asked the load balancer for what, and who touched
which object. The bucket is private, versioned, TLS-only and `protect`ed like every bucket, and
encrypted with SSE-S3, the only default encryption the load balancer's log delivery accepts.
Logs expire after `retention_days` (they are records, not site data). Its policy lets exactly
two writers in: Elastic Load Balancing's log delivery for this region, under `alb/` (the
region's ELB account where AWS has one, the log delivery service principal in regions opened
since August 2022: `elb_log_writer`), and S3 server access logging for this account's buckets of
this region's prefix, under `s3/`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.aliases import inherited_aliases
from infra.buckets import private_bucket
from infra.naming import tags

ALB_PREFIX = "alb"
S3_PREFIX = "s3"


_ELB_LOG_DELIVERY = Path(__file__).resolve().parent.parent / "data" / "elb_log_delivery.json"


@cache
def _elb_log_delivery() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_ELB_LOG_DELIVERY.read_text())
    return data


def elb_log_writer(region: str) -> dict[str, str]:
    """The principal that writes a region's load balancer logs (infra/data/elb_log_delivery.json,
    from the AWS documentation and the provider's own table): `aws.elb.get_service_account`
    fails in regions that have no ELB account."""
    data = _elb_log_delivery()
    account = data["accounts"].get(region)
    if account is None:
        return {"Service": data["service_principal"]}
    return {"AWS": f"arn:aws:iam::{account}:root"}


@dataclass(frozen=True, kw_only=True)
class AccessLogsArgs:
    region: str
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
        invoke = pulumi.InvokeOutputOptions(parent=self)
        role = f"{name}-access-logs"
        account = aws.get_caller_identity_output(opts=invoke).account_id
        writer = elb_log_writer(args.region)
        # S3 server access logs come from this region's asset buckets, all named with the prefix.
        sources = f"arn:aws:s3:::{args.physical_prefix}-*"
        made = private_bucket(
            role,
            parent=self,
            bucket_opts=pulumi.ResourceOptions(
                parent=self,
                protect=True,
                retain_on_delete=True,
                aliases=inherited_aliases(self, role),
            ),
            bucket_prefix=f"{args.physical_prefix}-logs-",
            tags=tags(args.base_tags, "logs", role),
            encryption=aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    # Load balancer log delivery can't write to SSE-KMS buckets.
                    sse_algorithm="AES256",
                ),
            ),
            lifecycle_rules=[
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
            statements=lambda arn: pulumi.Output.all(arn, account).apply(
                lambda v: log_writers(v[0], v[1], writer, sources)
            ),
        )
        self.bucket = made.bucket
        self.ready_bucket_name = made.policy.bucket
        self.register_outputs({"bucket": self.bucket.bucket})


def log_writers(
    bucket_arn: str, account_id: str, elb_writer: dict[str, str], source_buckets: str
) -> list[dict[str, Any]]:
    """The two writers the log bucket lets in (beside the TLS-only statement every bucket has)."""
    return [
        {
            "Sid": "LoadBalancerAccessLogs",
            "Effect": "Allow",
            "Principal": elb_writer,
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/{ALB_PREFIX}/AWSLogs/{account_id}/*",
        },
        {
            # The conditions AWS documents for this grant ("Permissions for log delivery",
            # S3 User Guide): only this account's buckets, only those of this region's prefix.
            "Sid": "S3ServerAccessLogs",
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/{S3_PREFIX}/*",
            "Condition": {
                "ArnLike": {"aws:SourceArn": source_buckets},
                "StringEquals": {"aws:SourceAccount": account_id},
            },
        },
    ]
