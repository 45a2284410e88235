"""What the CI roles may do in the AWS account: the IAM policies of the bootstrap project.

Three kinds of role assume these (`infra/components/ci_access.py` declares them):

- the **preview role** (pull requests): reads what `pulumi preview` reads, nothing else;
- a **deploy role per GitHub environment** (`staging`, `production`): creates, changes and deletes
  what the website program declares, and runs the operations around a deploy
  (`scripts/snapshot_db`, `scripts/smoke_test`, `scripts/failover`).

The services come from the website program itself: `WEBSITE_SERVICES` is the set of IAM service
prefixes of the resource types the program declares, and `tests/test_bootstrap.py` derives the
same set from the synthesized prod and staging graphs (`service_of` each type) and fails when
they differ, naming the type that needs a grant here. (The bootstrap program cannot synthesize
the website while `pulumi up` runs it, so the derived set is checked in, and kept honest by that
test.) Each service gets the write verbs its resources need; reads are `Describe*`/`List*`/
named `Get*` actions. Actions that expose data or escalate privileges (`iam:PassRole`,
`kms:Decrypt`, `secretsmanager:GetSecretValue`, `s3:GetObject`, ...) are never granted on `*`:
each names the resources or carries a condition (the policy pack's `iam-no-privilege-escalation`
rule checks it on the synthesized bootstrap).

Every statement that still applies to every resource of a service (`Resource: *`, or a verb
wildcard such as `ec2:Create*`) says why in its `why`: `statement()` refuses a broad one
without a reason, so the reason is in code next to it.

Sources: the IAM Service Authorization Reference (docs.aws.amazon.com/service-authorization/
latest/reference/) for action names and resource types; the Terraform AWS provider behind
pulumi-aws for which calls each resource makes (it reads with Describe*/List*/Get* and tags in
the create call).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# pulumi-aws modules whose IAM service prefix is not the module name.
_MODULE_SERVICES = {
    "lb": "elasticloadbalancing",
    "alb": "elasticloadbalancing",
    "vpc": "ec2",  # aws.vpc.SecurityGroupIngressRule and friends are EC2 API calls
    "ebs": "ec2",
    "opensearch": "es",  # OpenSearch Service's IAM prefix is still es
    "sesv2": "ses",
}
# Types whose service differs from their module's.
_TYPE_SERVICES = {
    "aws:cloudwatch/logGroup:LogGroup": "logs",
    "aws:cloudwatch/logStream:LogStream": "logs",
    "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter": "logs",
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": "logs",
}


def service_of(type_token: str) -> str | None:
    """The IAM service prefix of a pulumi-aws resource type; None for non-AWS types."""
    package, _, rest = type_token.partition(":")
    if package != "aws":
        return None
    if type_token in _TYPE_SERVICES:
        return _TYPE_SERVICES[type_token]
    module = rest.partition(":")[0].partition("/")[0]
    return _MODULE_SERVICES.get(module, module)


# The IAM services of every AWS resource type the website declares (prod and staging), as
# `service_of` derives them from the synthesized graphs; tests/test_bootstrap.py checks it.
WEBSITE_SERVICES = frozenset(
    {
        "acm",
        "autoscaling",
        "backup",
        "cloudwatch",
        "ec2",
        "elasticache",
        "elasticloadbalancing",
        "es",
        "iam",
        "kms",
        "logs",
        "rds",
        "s3",
        "secretsmanager",
        "ses",
        "sns",
        "synthetics",
    }
)

# AWS-managed policies the website attaches to its roles (infra/components/web.py,
# database.py); the deploy role may attach these and no other (tests check the graph).
ATTACHABLE_MANAGED_POLICIES = (
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
    # The AWS Backup service role (infra/components/backups.py).
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
    "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Backup",
    "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Restore",
)
# The services the website's roles are for (EC2 instance profiles, VPC flow logs, RDS Enhanced
# Monitoring, S3 replication): the only services the deploy role may pass a role to.
PASSED_TO_SERVICES = (
    "ec2.amazonaws.com",
    "vpc-flow-logs.amazonaws.com",
    "monitoring.rds.amazonaws.com",
    "s3.amazonaws.com",
    "backup.amazonaws.com",  # the backup plan's selection role
    "lambda.amazonaws.com",  # a Synthetics canary runs as a Lambda function with its role
)
# The website's physical names start with this (infra/naming.py: pyorg-<stack>-<region>...).
NAME_PREFIX = "pyorg"


@dataclass(frozen=True)
class Statement:
    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    why: str = ""  # required when the statement is broad (see `broad`)
    condition: Mapping[str, Mapping[str, Any]] | None = None
    effect: str = "Allow"

    @property
    def broad(self) -> bool:
        """Applies to every resource (`*`) or grants a verb family (`ec2:Create*`)."""
        return "*" in self.resources or any(a.endswith("*") for a in self.actions)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "Sid": self.sid,
            "Effect": self.effect,
            "Action": sorted(self.actions),
            "Resource": list(self.resources) if len(self.resources) > 1 else self.resources[0],
        }
        if self.condition:
            doc["Condition"] = {k: dict(v) for k, v in self.condition.items()}
        return doc


def statement(
    sid: str,
    actions: Iterable[str],
    resources: Iterable[str],
    *,
    why: str = "",
    condition: Mapping[str, Mapping[str, Any]] | None = None,
    effect: str = "Allow",
) -> Statement:
    made = Statement(sid, tuple(actions), tuple(resources), why, condition, effect)
    if not made.actions or not made.resources:
        raise ValueError(f"statement {sid}: needs actions and resources")
    if made.effect == "Allow" and made.broad and not why:
        raise ValueError(f"statement {sid} is broad ({made.actions}, {made.resources}): say why")
    return made


def document(statements: Sequence[Statement]) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [s.to_json() for s in statements]}, indent=1
    )


@dataclass(frozen=True, kw_only=True)
class StateAccess:
    """The self-managed state backend, when the bootstrap declares it."""

    bucket_arn: str
    key_arns: tuple[str, ...]  # the bucket's key and the secrets provider's key


@dataclass(frozen=True, kw_only=True)
class Scope:
    account: str
    # Stacks this role deploys, and the stacks of the other environments, whose data it must
    # not touch (the explicit Deny): physical names carry the stack (infra/naming.py).
    stacks: tuple[str, ...] = ()
    other_stacks: tuple[str, ...] = ()
    state: StateAccess | None = None
    protected_roles: tuple[str, ...] = field(default=())  # the CI roles and OIDC provider ARNs


# --- reads ------------------------------------------------------------------------------------

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


# --- writes, per service ----------------------------------------------------------------------


def _writes(service: str, scope: Scope) -> list[Statement]:
    account = scope.account
    if not scope.stacks:
        raise ValueError("a deploy role deploys at least one stack")
    ours = [f"arn:aws:s3:::{NAME_PREFIX}-{stack}-*" for stack in scope.stacks]
    if service == "acm":
        return [
            statement(
                "Certificates",
                [
                    "acm:RequestCertificate",
                    "acm:DeleteCertificate",
                    "acm:AddTagsToCertificate",
                    "acm:RemoveTagsFromCertificate",
                    "acm:UpdateCertificateOptions",
                ],
                ["*"],
                why="acm:RequestCertificate authorizes on * only (a certificate has no ARN "
                "before it is requested); every action here acts on certificates alone",
            )
        ]
    if service == "autoscaling":
        return [
            statement(
                "AutoscalingGroups",
                [
                    "autoscaling:CreateAutoScalingGroup",
                    "autoscaling:UpdateAutoScalingGroup",
                    "autoscaling:DeleteAutoScalingGroup",
                    "autoscaling:SetInstanceProtection",
                    "autoscaling:StartInstanceRefresh",
                    "autoscaling:CancelInstanceRefresh",
                    "autoscaling:PutScalingPolicy",
                    "autoscaling:DeletePolicy",
                    "autoscaling:CreateOrUpdateTags",
                    "autoscaling:DeleteTags",
                    "autoscaling:AttachLoadBalancerTargetGroups",
                    "autoscaling:DetachLoadBalancerTargetGroups",
                    "autoscaling:EnableMetricsCollection",
                    "autoscaling:DisableMetricsCollection",
                    "autoscaling:SuspendProcesses",
                    "autoscaling:ResumeProcesses",
                ],
                [f"arn:aws:autoscaling:*:{account}:autoScalingGroup:*:autoScalingGroupName/*"],
            ),
            # Creating a group from a launch template launches instances as the caller.
            statement(
                "LaunchFromTemplate",
                ["ec2:RunInstances", "ec2:CreateTags"],
                [f"arn:aws:ec2:*:{account}:*", "arn:aws:ec2:*::image/*"],
                why="RunInstances names many resource types (instance, volume, network "
                "interface, subnet, security group, launch template, image): all of this "
                "account's, and the public AMIs the launch template resolves",
            ),
        ]
    if service == "ec2":
        return [
            statement(
                "Network",
                [
                    "ec2:Create*",
                    "ec2:Delete*",
                    "ec2:Modify*",
                    "ec2:Associate*",
                    "ec2:Disassociate*",
                    "ec2:Attach*",
                    "ec2:Detach*",
                    "ec2:Replace*",
                    "ec2:AllocateAddress",
                    "ec2:ReleaseAddress",
                    "ec2:AuthorizeSecurityGroupIngress",
                    "ec2:AuthorizeSecurityGroupEgress",
                    "ec2:RevokeSecurityGroupIngress",
                    "ec2:RevokeSecurityGroupEgress",
                    "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
                    "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
                ],
                ["*"],
                why="EC2 resources are addressed by generated ids (vpc-..., subnet-...), so they "
                "cannot be named in advance, and several create calls authorize on * only; "
                "the verb families cover the VPC, subnets, gateways, routes, addresses, "
                "security groups, launch templates and flow logs the Network and WebTier "
                "components declare. No ec2:Get* (password data) and no instance actions "
                "beyond the autoscaling launch",
            ),
            # The launch template's `resolve:ssm:` AMI (infra/components/web.py).
            statement(
                "PublicAmiParameters",
                ["ssm:GetParameter", "ssm:GetParameters"],
                ["arn:aws:ssm:*::parameter/aws/service/*"],
            ),
        ]
    if service == "elasticloadbalancing":
        return [
            statement(
                "LoadBalancers",
                [
                    "elasticloadbalancing:Create*",
                    "elasticloadbalancing:Delete*",
                    "elasticloadbalancing:Modify*",
                    "elasticloadbalancing:AddTags",
                    "elasticloadbalancing:RemoveTags",
                    "elasticloadbalancing:SetSecurityGroups",
                    "elasticloadbalancing:SetSubnets",
                    "elasticloadbalancing:SetIpAddressType",
                    "elasticloadbalancing:RegisterTargets",
                    "elasticloadbalancing:DeregisterTargets",
                ],
                [f"arn:aws:elasticloadbalancing:*:{account}:*"],
                why="load balancers, listeners and target groups of this account: target group "
                "and listener ARNs carry generated ids, so they cannot be named in advance",
            )
        ]
    if service == "iam":
        roles = f"arn:aws:iam::{account}:role/*"
        profiles = f"arn:aws:iam::{account}:instance-profile/*"
        return [
            statement(
                "ServiceRoles",
                [
                    "iam:CreateRole",
                    "iam:DeleteRole",
                    "iam:UpdateRole",
                    "iam:UpdateRoleDescription",
                    "iam:UpdateAssumeRolePolicy",
                    "iam:TagRole",
                    "iam:UntagRole",
                    "iam:PutRolePolicy",
                    "iam:DeleteRolePolicy",
                    "iam:CreateInstanceProfile",
                    "iam:DeleteInstanceProfile",
                    "iam:AddRoleToInstanceProfile",
                    "iam:RemoveRoleFromInstanceProfile",
                    "iam:TagInstanceProfile",
                    "iam:UntagInstanceProfile",
                ],
                [roles, profiles],
                why="the website's roles (instance, flow logs, RDS monitoring, replication) are "
                "auto-named <region>-<role>-<suffix>, so they are matched as every role of the "
                "account; the CI roles themselves are denied below (ProtectCiRoles), and "
                "managed policies are limited to ATTACHABLE_MANAGED_POLICIES",
            ),
            statement(
                "AttachOnlyTheWebsitesManagedPolicies",
                ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
                [roles],
                condition={"ArnEquals": {"iam:PolicyARN": list(ATTACHABLE_MANAGED_POLICIES)}},
            ),
            statement(
                "PassRolesToTheWebsitesServices",
                ["iam:PassRole"],
                [roles],
                condition={"StringEquals": {"iam:PassedToService": list(PASSED_TO_SERVICES)}},
            ),
            # The one IAM user: SES's SMTP interface takes only a user's access key
            # (infra/components/mail.py), named pyorg-<stack>-ses-smtp.
            statement(
                "SesSmtpUser",
                [
                    "iam:CreateUser",
                    "iam:DeleteUser",
                    "iam:TagUser",
                    "iam:UntagUser",
                    "iam:PutUserPolicy",
                    "iam:DeleteUserPolicy",
                    "iam:CreateAccessKey",
                    "iam:DeleteAccessKey",
                    "iam:UpdateAccessKey",
                ],
                [
                    f"arn:aws:iam::{account}:user/{NAME_PREFIX}-{stack}-ses-smtp"
                    for stack in scope.stacks
                ],
            ),
        ]
    if service == "kms":
        return [
            statement(
                "CreateKeys",
                ["kms:CreateKey"],
                ["*"],
                why="kms:CreateKey authorizes on * only (the key has no ARN yet); a created key "
                "gets the default key policy, which delegates to IAM",
            ),
            statement(
                "ManageKeys",
                [
                    "kms:CreateAlias",
                    "kms:DeleteAlias",
                    "kms:UpdateAlias",
                    "kms:EnableKeyRotation",
                    "kms:DisableKeyRotation",
                    "kms:UpdateKeyDescription",
                    "kms:TagResource",
                    "kms:UntagResource",
                    "kms:ScheduleKeyDeletion",
                    "kms:PutKeyPolicy",
                ],
                [f"arn:aws:kms:*:{account}:key/*", f"arn:aws:kms:*:{account}:alias/*"],
                why="key ids are generated, so keys are matched as this account's; deleting a "
                "key only schedules it (30 days), and the keys are protected in Pulumi",
            ),
            # RDS, EBS and Secrets Manager create grants on the caller's behalf when a resource
            # is encrypted with a customer-managed key (AWS KMS developer guide, "kms:CreateGrant"
            # with kms:GrantIsForAWSResource).
            statement(
                "GrantsForAwsServices",
                ["kms:CreateGrant"],
                [f"arn:aws:kms:*:{account}:key/*"],
                condition={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            ),
            # The app secret's value is written and read back (SecretVersion) through Secrets
            # Manager, encrypted with the region's assets key; S3 uses the keys for replication
            # and default encryption. Never a direct Decrypt.
            statement(
                "UseKeysThroughServices",
                ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"],
                [f"arn:aws:kms:*:{account}:key/*"],
                condition={
                    "StringLike": {
                        "kms:ViaService": [
                            "secretsmanager.*.amazonaws.com",
                            "s3.*.amazonaws.com",
                            "rds.*.amazonaws.com",
                        ]
                    }
                },
                why="key ids are generated; the condition limits use to requests that those "
                "services make for the caller",
            ),
        ]
    if service == "logs":
        return [
            # ElastiCache's slow-log delivery and OpenSearch's log publishing: the caller sets up
            # the delivery and the groups' resource policy ("Log delivery", ElastiCache user
            # guide; "Monitoring OpenSearch logs with Amazon CloudWatch Logs").
            statement(
                "LogDeliveries",
                [
                    "logs:CreateLogDelivery",
                    "logs:GetLogDelivery",
                    "logs:UpdateLogDelivery",
                    "logs:DeleteLogDelivery",
                    "logs:ListLogDeliveries",
                    "logs:PutResourcePolicy",
                    "logs:DeleteResourcePolicy",
                    "logs:DescribeResourcePolicies",
                ],
                ["*"],
                why="the log delivery and resource policy actions support no resource-level "
                "permissions (IAM only authorizes them on *)",
            ),
            statement(
                "LogGroups",
                [
                    "logs:CreateLogGroup",
                    "logs:DeleteLogGroup",
                    "logs:PutRetentionPolicy",
                    "logs:DeleteRetentionPolicy",
                    "logs:AssociateKmsKey",
                    "logs:DisassociateKmsKey",
                    "logs:TagResource",
                    "logs:UntagResource",
                    "logs:TagLogGroup",
                    "logs:UntagLogGroup",
                ],
                [f"arn:aws:logs:*:{account}:log-group:*"],
                why="log group names are Pulumi auto-names (<region>-<what>-<suffix>); matched "
                "as this account's log groups",
            ),
        ]
    if service == "rds":
        return [
            statement(
                "Databases",
                [
                    "rds:CreateDBInstance",
                    "rds:CreateDBInstanceReadReplica",
                    "rds:ModifyDBInstance",
                    "rds:DeleteDBInstance",
                    "rds:RebootDBInstance",
                    "rds:PromoteReadReplica",
                    "rds:CreateDBSubnetGroup",
                    "rds:ModifyDBSubnetGroup",
                    "rds:DeleteDBSubnetGroup",
                    "rds:CreateDBParameterGroup",
                    "rds:ModifyDBParameterGroup",
                    "rds:ResetDBParameterGroup",
                    "rds:DeleteDBParameterGroup",
                    "rds:AddTagsToResource",
                    "rds:RemoveTagsFromResource",
                    # scripts/snapshot_db: the pre-deploy snapshot and pruning its own
                    "rds:CreateDBSnapshot",
                    "rds:DeleteDBSnapshot",
                ],
                [f"arn:aws:rds:*:{account}:*"],
                why="a database names its subnet group, parameter group, option group and "
                "snapshots in one call, all auto-named: this account's RDS resources; the "
                "other environments' databases are denied below (ProtectOtherEnvironments)",
            ),
        ]
    if service == "s3":
        objects = [f"{arn}/*" for arn in ours]
        return [
            statement(
                "Buckets",
                [
                    "s3:CreateBucket",
                    "s3:DeleteBucket",
                    "s3:PutBucketTagging",
                    "s3:PutBucketVersioning",
                    "s3:PutEncryptionConfiguration",
                    "s3:PutBucketPublicAccessBlock",
                    "s3:DeleteBucketPublicAccessBlock",
                    "s3:PutBucketOwnershipControls",
                    "s3:DeleteBucketOwnershipControls",
                    "s3:PutBucketPolicy",
                    "s3:DeleteBucketPolicy",
                    "s3:PutBucketLogging",
                    "s3:PutLifecycleConfiguration",
                    "s3:PutReplicationConfiguration",
                    "s3:ListBucket",
                    "s3:ListBucketVersions",
                ],
                ours,
                why="bucket names are prefixes (pyorg-<stack>-<region>-<role>-) with a "
                "generated suffix: matched by the stack's prefix",
            ),
            # Terraform reads a bucket's objects' settings only, never their contents; the
            # replication role, not this one, copies objects.
            statement(
                "BucketObjectSettings",
                ["s3:GetObjectTagging", "s3:GetObjectVersionTagging"],
                objects,
                why="as Buckets: the objects of the stack's buckets",
            ),
        ]
    if service == "secretsmanager":
        secrets = [f"arn:aws:secretsmanager:*:{account}:secret:*"]
        # Every secret the website declares is tagged with its stack (infra/naming.py
        # base_tags), and Terraform passes the tags in the create call: the stack tag scopes a
        # role to its own environment's secrets.
        stacks = list(scope.stacks)
        return [
            statement(
                "CreateTheStacksSecrets",
                ["secretsmanager:CreateSecret", "secretsmanager:TagResource"],
                secrets,
                condition={"StringEquals": {"aws:RequestTag/stack": stacks}},
                why="a secret's ARN ends in a random suffix; the condition limits it to secrets "
                "created with this role's stack tag",
            ),
            statement(
                "TheStacksSecrets",
                [
                    "secretsmanager:DeleteSecret",
                    "secretsmanager:UpdateSecret",
                    "secretsmanager:PutSecretValue",
                    "secretsmanager:GetSecretValue",
                    "secretsmanager:TagResource",
                    "secretsmanager:UntagResource",
                    "secretsmanager:RestoreSecret",
                ],
                secrets,
                condition={"StringEquals": {"aws:ResourceTag/stack": stacks}},
                why="as CreateTheStacksSecrets: only secrets tagged with this role's stack (the "
                "app secret; its SecretVersion reads the value back to compare)",
            ),
        ]
    ours_prefixed = [f"{NAME_PREFIX}-{stack}-" for stack in scope.stacks]
    if service == "backup":
        return [
            statement(
                "BackupVaultsAndPlans",
                [
                    "backup:CreateBackupVault",
                    "backup:DeleteBackupVault",
                    "backup:CreateBackupPlan",
                    "backup:UpdateBackupPlan",
                    "backup:DeleteBackupPlan",
                    "backup:CreateBackupSelection",
                    "backup:DeleteBackupSelection",
                    "backup:TagResource",
                    "backup:UntagResource",
                ],
                [
                    *(f"arn:aws:backup:*:{account}:backup-vault:{p}*" for p in ours_prefixed),
                    f"arn:aws:backup:*:{account}:backup-plan:*",
                ],
                why="backup plan ids are generated (the plan's ARN ends in one), so plans are "
                "matched as this account's; vaults by the stack's name prefix",
            ),
            statement(
                "BackupVaultStorage",
                ["backup-storage:MountCapsule"],
                ["*"],
                why="CreateBackupVault needs backup-storage:MountCapsule, which has no resource "
                "type (AWS Backup developer guide, access control: CreateBackupVault)",
            ),
        ]
    if service == "cloudwatch":
        return [
            statement(
                "AlarmsAndDashboards",
                [
                    "cloudwatch:PutMetricAlarm",
                    "cloudwatch:DeleteAlarms",
                    "cloudwatch:TagResource",
                    "cloudwatch:UntagResource",
                    "cloudwatch:PutDashboard",
                    "cloudwatch:DeleteDashboards",
                ],
                [
                    *(f"arn:aws:cloudwatch:*:{account}:alarm:{p}*" for p in ours_prefixed),
                    *(
                        f"arn:aws:cloudwatch::{account}:dashboard/{NAME_PREFIX}-{stack}"
                        for stack in scope.stacks
                    ),
                ],
            )
        ]
    if service == "sns":
        return [
            statement(
                "AlertTopics",
                [
                    "sns:CreateTopic",
                    "sns:DeleteTopic",
                    "sns:SetTopicAttributes",
                    "sns:Subscribe",
                    "sns:Unsubscribe",
                    "sns:SetSubscriptionAttributes",
                    "sns:TagResource",
                    "sns:UntagResource",
                ],
                # A subscription's ARN is its topic's ARN and an id: the prefix covers both.
                [f"arn:aws:sns:*:{account}:{p}*" for p in ours_prefixed],
            )
        ]
    if service == "elasticache":
        return [
            statement(
                "Redis",
                [
                    "elasticache:CreateReplicationGroup",
                    "elasticache:ModifyReplicationGroup",
                    "elasticache:DeleteReplicationGroup",
                    "elasticache:CreateCacheSubnetGroup",
                    "elasticache:ModifyCacheSubnetGroup",
                    "elasticache:DeleteCacheSubnetGroup",
                    "elasticache:CreateCacheCluster",  # the group's nodes
                    "elasticache:AddTagsToResource",
                    "elasticache:RemoveTagsFromResource",
                ],
                [
                    *(
                        f"arn:aws:elasticache:*:{account}:{kind}:{p}*"
                        for kind in ("replicationgroup", "cluster")
                        for p in ours_prefixed
                    ),
                    f"arn:aws:elasticache:*:{account}:subnetgroup:*",
                    f"arn:aws:elasticache:*:{account}:parametergroup:default.*",
                    f"arn:aws:elasticache:*:{account}:snapshot:*",
                ],
                why="subnet groups and snapshots are auto-named; the groups and their nodes are "
                "this stack's prefix",
            )
        ]
    if service == "es":
        return [
            statement(
                "SearchDomains",
                [
                    "es:CreateDomain",
                    "es:UpdateDomainConfig",
                    "es:DeleteDomain",
                    "es:AddTags",
                    "es:RemoveTags",
                ],
                [f"arn:aws:es:*:{account}:domain/{p}*" for p in ours_prefixed],
            )
        ]
    if service == "ses":
        return [
            statement(
                "Mail",
                [
                    "ses:CreateEmailIdentity",
                    "ses:DeleteEmailIdentity",
                    "ses:PutEmailIdentityDkimSigningAttributes",
                    "ses:PutEmailIdentityMailFromAttributes",
                    "ses:PutEmailIdentityConfigurationSetAttributes",
                    "ses:CreateConfigurationSet",
                    "ses:DeleteConfigurationSet",
                    "ses:PutConfigurationSet*",
                    "ses:CreateConfigurationSetEventDestination",
                    "ses:UpdateConfigurationSetEventDestination",
                    "ses:DeleteConfigurationSetEventDestination",
                    "ses:TagResource",
                    "ses:UntagResource",
                ],
                [
                    f"arn:aws:ses:*:{account}:identity/*",
                    *(f"arn:aws:ses:*:{account}:configuration-set/{p}*" for p in ours_prefixed),
                ],
                why="an identity is named by its domain, which the config chooses",
            )
        ]
    if service == "synthetics":
        canaries = [f"pyorg-{stack}-" for stack in scope.stacks]
        return [
            statement(
                "Canaries",
                [
                    "synthetics:CreateCanary",
                    "synthetics:UpdateCanary",
                    "synthetics:DeleteCanary",
                    "synthetics:StartCanary",
                    "synthetics:StopCanary",
                    "synthetics:TagResource",
                    "synthetics:UntagResource",
                ],
                [f"arn:aws:synthetics:*:{account}:canary:{c}*" for c in canaries],
            ),
            # CreateCanary builds the canary's Lambda function and layer with the caller's
            # permissions (CloudWatch user guide, "Required roles and permissions for CloudWatch
            # canaries"): named cwsyn-<canary>-<id>.
            statement(
                "CanaryFunctions",
                [
                    "lambda:CreateFunction",
                    "lambda:UpdateFunctionCode",
                    "lambda:UpdateFunctionConfiguration",
                    "lambda:PublishVersion",
                    "lambda:AddPermission",
                    "lambda:DeleteFunction",
                    "lambda:PublishLayerVersion",
                    "lambda:DeleteLayerVersion",
                ],
                [
                    *(f"arn:aws:lambda:*:{account}:function:cwsyn-{c}*" for c in canaries),
                    *(f"arn:aws:lambda:*:{account}:layer:cwsyn-{c}*" for c in canaries),
                ],
            ),
        ]
    raise KeyError(
        f"no grants for the IAM service {service!r}: add them to infra/ci_permissions.py"
    )


# --- operations around a deploy ---------------------------------------------------------------


def _who_am_i() -> Statement:
    # The AWS provider checks its credentials when it starts.
    return statement(
        "WhoAmI",
        ["sts:GetCallerIdentity"],
        ["*"],
        why="GetCallerIdentity names no resource (and AWS answers it even without this grant)",
    )


def _operations() -> list[Statement]:
    # scripts/smoke_test: target health and capacity are Describe* above; replica lag is a metric.
    return [
        statement(
            "ReplicaLagMetrics",
            ["cloudwatch:GetMetricData", "cloudwatch:GetMetricStatistics"],
            ["*"],
            why="CloudWatch metric reads authorize on * only; they read numbers, not data",
        ),
    ]


def _state(state: StateAccess, *, write: bool) -> list[Statement]:
    """The self-managed backend: the stacks' state files and Pulumi's secrets key.

    A preview takes the backend's lock too (docs/: "A basic file-based locking system is enabled
    by default for all DIY backends", pulumi.com/docs/iac/guides/basics/using-a-diy-backend), so
    even the preview role writes under `.pulumi/locks/`."""
    bucket = state.bucket_arn
    writable = [f"{bucket}/*"] if write else [f"{bucket}/.pulumi/locks/*"]
    return [
        statement("StateList", ["s3:ListBucket", "s3:GetBucketLocation"], [bucket]),
        statement("StateRead", ["s3:GetObject", "s3:GetObjectVersion"], [f"{bucket}/*"]),
        statement("StateWrite", ["s3:PutObject", "s3:DeleteObject"], writable),
        # Decrypt reads state and config secrets; GenerateDataKey writes (SSE-KMS objects, lock
        # files included); Encrypt is the secrets provider encrypting a new secret value.
        statement(
            "StateKeys",
            ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
            + (["kms:Encrypt"] if write else []),
            list(state.key_arns),
        ),
    ]


# --- the two policies -------------------------------------------------------------------------


def preview_statements(scope: Scope, services: Iterable[str] = WEBSITE_SERVICES) -> list[Statement]:
    found = [reads(services), _who_am_i()]
    if scope.state is not None:
        found += _state(scope.state, write=False)
    return found


# The deploy permissions are customer-managed policies, one per part, because one role's inline
# policies share a 10,240-character quota and a managed policy holds 6,144 (IAM quotas,
# docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html); a role takes 10 managed
# policies by default. Each service's writes go to one part; tests check every part's size.
DEPLOY_PARTS: dict[str, frozenset[str]] = {
    "network": frozenset({"ec2", "autoscaling", "elasticloadbalancing", "acm", "logs"}),
    "data": frozenset({"rds", "s3", "kms", "secretsmanager", "iam"}),
    "oncall": frozenset({"backup", "cloudwatch", "sns", "synthetics"}),
    "services": frozenset({"elasticache", "es", "ses"}),
}
MANAGED_POLICY_LIMIT = 6_144


def deploy_statements(
    scope: Scope, services: Iterable[str] = WEBSITE_SERVICES
) -> dict[str, list[Statement]]:
    """The deploy role's policies: part name -> statements. `base` holds the reads, the
    operations, the state backend and the denies."""
    services = sorted(services)
    parts: dict[str, list[Statement]] = {
        "base": [reads(services), *_operations(), _who_am_i()],
        **{part: [] for part in DEPLOY_PARTS},
    }
    for service in services:
        part = next((p for p, members in DEPLOY_PARTS.items() if service in members), None)
        if part is None:
            raise KeyError(
                f"the IAM service {service!r} is in no DEPLOY_PARTS entry of "
                "infra/ci_permissions.py"
            )
        parts[part] += _writes(service, scope)
    if scope.state is not None:
        parts["base"] += _state(scope.state, write=True)
    parts["base"] += _denies(scope)
    return {part: found for part, found in parts.items() if found}


def _denies(scope: Scope) -> list[Statement]:
    found = []
    if scope.protected_roles:
        # The deploy roles can write IAM roles: never the CI roles, nor the OIDC provider
        # they trust.
        found.append(
            statement(
                "ProtectCiRoles",
                ["iam:*"],
                list(scope.protected_roles),
                effect="Deny",
            )
        )
    if scope.other_stacks:
        # A deploy of one environment never touches another's data: its databases and
        # snapshots, and its buckets (the names carry the stack, infra/naming.py).
        account = scope.account
        data = []
        for stack in scope.other_stacks:
            prefix = f"{NAME_PREFIX}-{stack}-"
            data += [
                f"arn:aws:rds:*:{account}:db:{prefix}*",
                f"arn:aws:rds:*:{account}:snapshot:{prefix}*",
                f"arn:aws:s3:::{prefix}*",
                f"arn:aws:s3:::{prefix}*/*",
            ]
        found.append(
            statement(
                "ProtectOtherEnvironments",
                [
                    "rds:Delete*",
                    "rds:Modify*",
                    "rds:Promote*",
                    "rds:Reboot*",
                    "rds:RemoveTagsFromResource",
                    "s3:Delete*",
                    "s3:Put*",
                ],
                data,
                effect="Deny",
            )
        )
    return found
