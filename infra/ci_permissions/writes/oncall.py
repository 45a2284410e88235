"""The deploy role's writes for what keeps the site watched and recoverable: backups,
CloudWatch alarms and the dashboard, the alert topics (SNS), the Synthetics canaries.

Each function takes a deploy role's `Scope` and returns its statements for one IAM
service; `WRITES` maps the service to it (`infra.ci_permissions.writes`).
"""

from __future__ import annotations

from collections.abc import Callable

from infra.ci_permissions.statements import Scope, Statement, statement
from infra.ci_permissions.website import NAME_PREFIX, stack_prefixes


def backup(scope: Scope) -> list[Statement]:
    account = scope.account
    ours_prefixed = stack_prefixes(scope.stacks)
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


def cloudwatch(scope: Scope) -> list[Statement]:
    account = scope.account
    ours_prefixed = stack_prefixes(scope.stacks)
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


def sns(scope: Scope) -> list[Statement]:
    account = scope.account
    ours_prefixed = stack_prefixes(scope.stacks)
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


def synthetics(scope: Scope) -> list[Statement]:
    account = scope.account
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


WRITES: dict[str, Callable[[Scope], list[Statement]]] = {
    "backup": backup,
    "cloudwatch": cloudwatch,
    "sns": sns,
    "synthetics": synthetics,
}
