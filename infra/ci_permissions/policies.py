"""The CI roles' policies put together: the preview role's, and each deploy role's parts.

Besides the reads (`reads`) and the writes (`writes`): the operations around a deploy, the
self-managed state backend, and the denies (the CI roles themselves, the other environments'
data).
"""

from __future__ import annotations

from collections.abc import Iterable

from infra.ci_permissions.reads import reads
from infra.ci_permissions.statements import Scope, StateAccess, Statement, statement
from infra.ci_permissions.website import NAME_PREFIX, WEBSITE_SERVICES
from infra.ci_permissions.writes import writes

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
    # scripts/smoke_test: target health and capacity are Describe* reads; replica lag is a metric.
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
                "infra/ci_permissions/policies.py"
            )
        parts[part] += writes(service, scope)
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
