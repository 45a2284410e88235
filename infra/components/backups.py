"""Backups: AWS Backup of the primary database and the media bucket, copied to a second region.

`BackupVault` is a region's vault under a customer-managed key of its own (the home region's,
where the daily backups land, and the copy region's, `python-org:backup.copyRegion`, which
receives a copy of each). Vault and key are `protect`ed and `retain_on_delete`: deleting either
loses every recovery point. `BackupPlan` lives in the home region: one daily rule (schedule and
retention from `python-org:backup`) that backs up the selected resources into the home vault and
copies every recovery point to the copy vault with the same retention, and the role AWS Backup
assumes to do it, with AWS's own policies for backing up and restoring RDS and S3
(docs.aws.amazon.com/aws-backup/latest/devguide/iam-service-roles.html; S3 backups need bucket
versioning, which every bucket here has: docs.aws.amazon.com/aws-backup/latest/devguide/
s3-backups.html).

The plan follows `homeRegion`: after a failover it is declared in the new home region, for the
new primary; the vaults keep what they hold.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.aliases import inherited_aliases
from infra.naming import tags

# AWS-managed policies for the AWS Backup service role (policy/iam.py allowlists them).
BACKUP_POLICIES = (
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
    "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Backup",
    "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Restore",
)
RULE_NAME = "daily"


@dataclass(frozen=True, kw_only=True)
class BackupVaultArgs:
    vault_name: str
    role: str  # "home" or "copy", for the descriptions
    base_tags: dict[str, str]


class BackupVault(pulumi.ComponentResource):
    kms_key: aws.kms.Key
    vault: aws.backup.Vault

    def __init__(
        self, name: str, args: BackupVaultArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("python-org:backup:BackupVault", name, None, opts)

        def keep(child_name: str) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(
                parent=self,
                protect=True,
                retain_on_delete=True,
                aliases=inherited_aliases(self, child_name),
            )

        # The default key policy (the account, through IAM): AWS Backup's service role policies
        # grant what the service needs, only through the backup service.
        self.kms_key = aws.kms.Key(
            f"{name}-backup-key",
            description=f"{args.vault_name}: recovery points ({args.role} vault)",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            tags=tags(args.base_tags, "backup", f"{name}-backup-key"),
            opts=keep(f"{name}-backup-key"),
        )
        self.vault = aws.backup.Vault(
            f"{name}-backups",
            name=args.vault_name,
            kms_key_arn=self.kms_key.arn,
            force_destroy=False,
            tags=tags(args.base_tags, "backup", f"{name}-backups", role=args.role),
            opts=keep(f"{name}-backups"),
        )
        self.register_outputs({"vault": self.vault.name})


@dataclass(frozen=True, kw_only=True)
class BackupPlanArgs:
    plan_name: str
    vault_name: pulumi.Input[str]  # the home region's vault
    copy_vault_arn: pulumi.Input[str] | None  # the copy region's vault
    resources: Sequence[pulumi.Input[str]]  # ARNs: the primary database, the media bucket
    schedule: str
    retention_days: int
    base_tags: dict[str, str]


class BackupPlan(pulumi.ComponentResource):
    plan: aws.backup.Plan

    def __init__(
        self, name: str, args: BackupPlanArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("python-org:backup:BackupPlan", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        lifecycle = aws.backup.PlanRuleLifecycleArgs(delete_after=args.retention_days)
        copies = (
            [
                aws.backup.PlanRuleCopyActionArgs(
                    destination_vault_arn=args.copy_vault_arn,
                    lifecycle=aws.backup.PlanRuleCopyActionLifecycleArgs(
                        delete_after=args.retention_days
                    ),
                )
            ]
            if args.copy_vault_arn is not None
            else None
        )
        self.plan = aws.backup.Plan(
            f"{name}-backup",
            name=args.plan_name,
            rules=[
                aws.backup.PlanRuleArgs(
                    rule_name=RULE_NAME,
                    target_vault_name=args.vault_name,
                    schedule=args.schedule,
                    start_window=60,
                    completion_window=360,
                    lifecycle=lifecycle,
                    copy_actions=copies,
                    recovery_point_tags=args.base_tags,
                )
            ],
            tags=tags(args.base_tags, "backup", f"{name}-backup"),
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-backup",
            description=f"{args.plan_name}: AWS Backup",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "backup.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
            tags=tags(args.base_tags, "backup", f"{name}-backup-role"),
            opts=child,
        )
        attachments = [
            aws.iam.RolePolicyAttachment(
                f"{name}-backup-{arn.rsplit('/', 1)[1]}",
                role=role.name,
                policy_arn=arn,
                opts=child,
            )
            for arn in BACKUP_POLICIES
        ]
        aws.backup.Selection(
            f"{name}-backup",
            name=f"{args.plan_name}-data",
            plan_id=self.plan.id,
            iam_role_arn=role.arn,
            resources=list(args.resources),
            opts=pulumi.ResourceOptions(parent=self, depends_on=attachments),
        )
        self.register_outputs({"plan": self.plan.name})
