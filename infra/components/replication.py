"""MediaReplication: S3 replication of the home region's media bucket to every other region.

Uploaded media are written once, in the home region, and copied to each region's media bucket,
so that every region has them and a promoted region serves them. Media are SSE-S3 objects (the
edge reads them anonymously: assets.py), which replication copies as SSE-S3; objects under KMS
would need the destination's key, so the rules still name it for any that appear. Deletes (delete markers) are replicated too; object versions are not deleted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.naming import tags


@dataclass(frozen=True, kw_only=True)
class ReplicaBucket:
    region: str
    bucket_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    versioning: pulumi.Resource  # replication requires versioning on both ends


@dataclass(frozen=True, kw_only=True)
class MediaReplicationArgs:
    source_bucket_id: pulumi.Input[str]
    source_bucket_arn: pulumi.Input[str]
    source_kms_key_arn: pulumi.Input[str]
    source_versioning: pulumi.Resource
    destinations: tuple[ReplicaBucket, ...]
    base_tags: dict[str, str]


class MediaReplication(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: MediaReplicationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("python-org:assets:MediaReplication", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-replication",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "s3.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
            tags=tags(args.base_tags, "assets", f"{name}-replication"),
            opts=child,
        )
        dests = args.destinations
        aws.iam.RolePolicy(
            f"{name}-replication",
            role=role.id,
            policy=pulumi.Output.all(
                args.source_bucket_arn,
                args.source_kms_key_arn,
                [d.bucket_arn for d in dests],
                [d.kms_key_arn for d in dests],
            ).apply(lambda v: json.dumps(_policy(*v))),
            opts=child,
        )
        aws.s3.BucketReplicationConfig(
            f"{name}-media",
            bucket=args.source_bucket_id,
            role=role.arn,
            rules=[
                aws.s3.BucketReplicationConfigRuleArgs(
                    id=rule_id(d.region),
                    status="Enabled",
                    priority=priority,
                    filter=aws.s3.BucketReplicationConfigRuleFilterArgs(prefix=""),
                    delete_marker_replication=aws.s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs(
                        status="Enabled"
                    ),
                    source_selection_criteria=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs(
                        sse_kms_encrypted_objects=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs(
                            status="Enabled"
                        )
                    ),
                    destination=aws.s3.BucketReplicationConfigRuleDestinationArgs(
                        bucket=d.bucket_arn,
                        storage_class="STANDARD",
                        encryption_configuration=aws.s3.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs(
                            replica_kms_key_id=d.kms_key_arn
                        ),
                        # Replication metrics (OperationsFailedReplication, for the alarms) without
                        # Replication Time Control. No event threshold: S3 refuses one without
                        # RTC ("Metrics cannot contain an event threshold when ReplicationTime is
                        # not specified or Disabled", pulumi/pulumi-aws#5806).
                        metrics=aws.s3.BucketReplicationConfigRuleDestinationMetricsArgs(
                            status="Enabled"
                        ),
                    ),
                )
                # Priority by region name, not list position: adding a region never
                # renumbers the rules of the others.
                for priority, d in enumerate(sorted(dests, key=lambda d: d.region), start=1)
            ],
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[args.source_versioning, *(d.versioning for d in dests)]
            ),
        )
        self.register_outputs({})


def rule_id(destination_region: str) -> str:
    """The id of the replication rule to a region (the alarms' RuleId dimension)."""
    return f"media-to-{destination_region}"


def _policy(
    source: str, source_key: str, dest_buckets: list[str], dest_keys: list[str]
) -> dict[str, object]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                "Resource": source,
            },
            {
                "Effect": "Allow",
                "Action": [
                    "s3:GetObjectVersionForReplication",
                    "s3:GetObjectVersionAcl",
                    "s3:GetObjectVersionTagging",
                ],
                "Resource": f"{source}/*",
            },
            {
                "Effect": "Allow",
                "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                "Resource": [f"{b}/*" for b in dest_buckets],
            },
            {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": source_key},
            {"Effect": "Allow", "Action": "kms:Encrypt", "Resource": dest_keys},
        ],
    }
