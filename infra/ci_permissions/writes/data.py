"""The deploy role's writes for the website's data and who may reach it: databases (RDS),
buckets (S3), keys (KMS), secrets (Secrets Manager) and the website's own roles (IAM).

Each function takes a deploy role's `Scope` and returns its statements for one IAM
service; `WRITES` maps the service to it (`infra.ci_permissions.writes`).
"""

from __future__ import annotations

from collections.abc import Callable

from infra.ci_permissions.statements import Scope, Statement, statement
from infra.ci_permissions.website import (
    ATTACHABLE_MANAGED_POLICIES,
    NAME_PREFIX,
    PASSED_TO_SERVICES,
)


def iam(scope: Scope) -> list[Statement]:
    account = scope.account
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


def kms(scope: Scope) -> list[Statement]:
    account = scope.account
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


def rds(scope: Scope) -> list[Statement]:
    account = scope.account
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


def s3(scope: Scope) -> list[Statement]:
    ours = [f"arn:aws:s3:::{NAME_PREFIX}-{stack}-*" for stack in scope.stacks]
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


def secretsmanager(scope: Scope) -> list[Statement]:
    account = scope.account
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


WRITES: dict[str, Callable[[Scope], list[Statement]]] = {
    "iam": iam,
    "kms": kms,
    "rds": rds,
    "s3": s3,
    "secretsmanager": secretsmanager,
}
