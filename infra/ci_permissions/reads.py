"""The read-only statement both CI roles hold: what `pulumi preview` and the provider read."""

from __future__ import annotations

from collections.abc import Iterable

from infra.ci_permissions.statements import Statement, statement

# What `pulumi preview` and the provider's reads need, per service. `Describe*`/`List*` carry no
# data; the `Get*` actions are named, so that no read of objects, secret values or parameters
# slips in (s3:GetObject, secretsmanager:GetSecretValue are data, not configuration).
_READS: dict[str, tuple[str, ...]] = {
    "acm": ("acm:DescribeCertificate", "acm:ListCertificates", "acm:ListTagsForCertificate"),
    "autoscaling": ("autoscaling:Describe*",),
    "backup": (
        "backup:DescribeBackupVault",
        "backup:GetBackupPlan",
        "backup:GetBackupSelection",
        "backup:GetBackupVaultAccessPolicy",
        "backup:GetBackupVaultNotifications",
        "backup:ListBackupPlans",
        "backup:ListBackupSelections",
        "backup:ListBackupVaults",
        "backup:ListTags",
    ),
    "cloudwatch": (
        "cloudwatch:DescribeAlarms",
        "cloudwatch:GetDashboard",
        "cloudwatch:ListDashboards",
        "cloudwatch:ListTagsForResource",
    ),
    "ec2": ("ec2:Describe*", "ec2:GetLaunchTemplateData", "ec2:GetManagedPrefixListEntries"),
    "elasticloadbalancing": ("elasticloadbalancing:Describe*",),
    "iam": (
        "iam:GetRole",
        "iam:GetRolePolicy",
        "iam:GetInstanceProfile",
        "iam:GetPolicy",
        "iam:GetPolicyVersion",
        "iam:GetOpenIDConnectProvider",
        "iam:ListRolePolicies",
        "iam:ListAttachedRolePolicies",
        "iam:ListInstanceProfilesForRole",
        "iam:ListRoleTags",
        "iam:ListInstanceProfileTags",
        "iam:ListOpenIDConnectProviders",
    ),
    "kms": (
        "kms:DescribeKey",
        "kms:GetKeyPolicy",
        "kms:GetKeyRotationStatus",
        "kms:ListAliases",
        "kms:ListKeys",
        "kms:ListResourceTags",
    ),
    "logs": ("logs:DescribeLogGroups", "logs:ListTagsForResource", "logs:ListTagsLogGroup"),
    "rds": ("rds:Describe*", "rds:ListTagsForResource"),
    "elasticache": ("elasticache:Describe*", "elasticache:ListTagsForResource"),
    "es": ("es:DescribeDomain", "es:DescribeDomainConfig", "es:DescribeDomains", "es:ListTags"),
    "ses": (
        "ses:GetEmailIdentity",
        "ses:GetConfigurationSet",
        "ses:GetConfigurationSetEventDestinations",
        "ses:ListEmailIdentities",
        "ses:ListConfigurationSets",
        "ses:ListTagsForResource",
    ),
    "s3": (
        "s3:GetBucket*",
        "s3:GetEncryptionConfiguration",
        "s3:GetLifecycleConfiguration",
        "s3:GetReplicationConfiguration",
        "s3:GetAccelerateConfiguration",
        "s3:ListAllMyBuckets",
    ),
    "secretsmanager": (
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetResourcePolicy",
        "secretsmanager:ListSecrets",
    ),
    "sns": (
        "sns:GetSubscriptionAttributes",
        "sns:GetTopicAttributes",
        "sns:ListSubscriptionsByTopic",
        "sns:ListTagsForResource",
        "sns:ListTopics",
    ),
    "synthetics": (
        "synthetics:DescribeCanaries",
        "synthetics:DescribeRuntimeVersions",
        "synthetics:GetCanary",
        "synthetics:ListTagsForResource",
        "lambda:GetFunction",
        "lambda:GetFunctionConfiguration",
        "lambda:GetLayerVersion",
        "lambda:GetLayerVersionByArn",
    ),
}


def reads(services: Iterable[str]) -> Statement:
    actions = sorted(a for s in sorted(services) for a in _READS[s])
    return statement(
        "ReadConfiguration",
        actions,
        ["*"],
        why="Describe/List calls take no resource ARN (IAM only authorizes them on *); the Get "
        "actions read configuration, never object contents or secret values",
    )
