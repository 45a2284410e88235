"""Rules for keys, secrets and logs: KMS keys, Secrets Manager secrets, CloudWatch log groups."""

from __future__ import annotations

from collections.abc import Iterator

from policy import tokens as tk
from policy.buckets import public_allow
from policy.framework import ADVISORY, MANDATORY, Registry
from policy.view import Res, document, flag, is_production, is_unknown, number, statements

rules = Registry()


def _symmetric(res: Res) -> bool:
    spec = res.props.get("customerMasterKeySpec") or res.props.get("keySpec")
    return spec in (None, "SYMMETRIC_DEFAULT") or is_unknown(spec)


@rules.resource(
    "kms-key-rotation",
    ADVISORY,
    types=(tk.KMS_KEY,),
    checks="Symmetric KMS keys rotate automatically",
    fix="set enable_key_rotation=True",
    sources=("CKV_AWS_7", "AwsSolutions-KMS5"),
)
def kms_key_rotation(res: Res) -> Iterator[str]:
    value = res.props.get("enableKeyRotation")
    if _symmetric(res) and not is_unknown(value) and flag(value) is not True:
        yield "automatic key rotation is off"


@rules.resource(
    "kms-key-enabled",
    MANDATORY,
    types=(tk.KMS_KEY,),
    checks="KMS keys are enabled",
    fix="set is_enabled=True (or leave it unset); a disabled key makes everything it encrypts "
    "unreadable",
    sources=("CKV_AWS_227",),
)
def kms_key_enabled(res: Res) -> Iterator[str]:
    if flag(res.props.get("isEnabled")) is False:
        yield "the key is disabled"


@rules.resource(
    "kms-key-policy-no-wildcard-principal",
    MANDATORY,
    types=(tk.KMS_KEY,),
    checks='An explicit key policy allows nothing to principal "*" without a condition',
    fix="name the principals in the key policy (the account root, the roles that use it)",
    sources=("CKV_AWS_33",),
)
def kms_key_policy(res: Res) -> Iterator[str]:
    for statement in statements(document(res.props.get("policy"))):
        if public_allow(statement):
            yield f"key policy statement {statement.get('Sid', '(no Sid)')} allows *"


@rules.resource(
    "kms-deletion-window",
    ADVISORY,
    types=(tk.KMS_KEY,),
    checks="A key scheduled for deletion waits the full 30 days",
    fix="set deletion_window_in_days=30 (the maximum): the time to notice and cancel a deletion",
    sources=(),
)
def kms_deletion_window(res: Res) -> Iterator[str]:
    days = number(res.props.get("deletionWindowInDays"))
    if days is not None and days < 30:
        yield f"deletion window is {days} days"


@rules.resource(
    "secret-cmk",
    ADVISORY,
    types=(tk.SM_SECRET,),
    checks="Secrets Manager secrets are encrypted with a customer-managed KMS key",
    fix="set kms_key_id to a key of the region and grant kms:Decrypt on it to the readers",
    sources=("CKV_AWS_149",),
)
def secret_cmk(res: Res) -> Iterator[str]:
    if res.props.get("kmsKeyId") in (None, ""):
        yield "the secret uses the AWS-managed aws/secretsmanager key"


@rules.resource(
    "secret-recovery-window",
    ADVISORY,
    types=(tk.SM_SECRET,),
    checks="A deleted secret stays recoverable (recovery window >= 7 days)",
    fix="set recovery_window_in_days to 7-30 (0 deletes it at once, with no way back)",
    sources=(),
)
def secret_recovery_window(res: Res) -> Iterator[str]:
    days = number(res.props.get("recoveryWindowInDays"))
    if days is not None and days < 7:
        yield f"recovery window is {days} days"


@rules.resource(
    "log-group-retention",
    ADVISORY,
    types=(tk.LOG_GROUP,),
    checks="Log groups have a retention period",
    fix="set retention_in_days (python-org:network.flowLogRetentionDays for the flow logs)",
    sources=("CKV_AWS_66",),
)
def log_group_retention(res: Res) -> Iterator[str]:
    value = res.props.get("retentionInDays")
    if not is_unknown(value) and not (number(value) or 0) > 0:
        yield "logs are kept forever"


@rules.resource(
    "log-group-retention-1y-in-production",
    ADVISORY,
    types=(tk.LOG_GROUP,),
    checks="Production log groups keep logs for at least a year",
    fix="set retention_in_days >= 365 in production (python-org:network.flowLogRetentionDays)",
    sources=("CKV_AWS_338",),
)
def log_group_retention_production(res: Res) -> Iterator[str]:
    days = number(res.props.get("retentionInDays"))
    if is_production(res) and days is not None and 0 < days < 365:
        yield f"production logs are kept {days} days"


@rules.resource(
    "log-group-kms",
    ADVISORY,
    types=(tk.LOG_GROUP,),
    checks="Log groups are encrypted with a customer-managed KMS key",
    fix="set kms_key_id to a key whose policy lets logs.<region>.amazonaws.com use it",
    sources=("CKV_AWS_158",),
)
def log_group_kms(res: Res) -> Iterator[str]:
    if res.props.get("kmsKeyId") in (None, ""):
        yield "the log group is encrypted with CloudWatch's own key"
