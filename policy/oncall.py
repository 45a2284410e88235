"""Rules for on call: alarm topics, alarms, and backup vaults and plans."""

from __future__ import annotations

from collections.abc import Iterator

from policy import tokens as tk
from policy.framework import MANDATORY, Registry
from policy.view import Res, dig, flag, is_production, is_unknown, items, known

rules = Registry()


def _aws_managed_key(value: str, service: str) -> bool:
    return value == f"alias/aws/{service}" or value.endswith(f":alias/aws/{service}")


@rules.resource(
    "sns-topic-cmk",
    MANDATORY,
    types=(tk.SNS_TOPIC,),
    checks="SNS topics are encrypted with a customer-managed KMS key (CloudWatch alarms cannot "
    "publish to a topic under the AWS-managed aws/sns key)",
    fix="set kms_master_key_id to a key of the region whose policy lets cloudwatch.amazonaws.com "
    "use kms:Decrypt and kms:GenerateDataKey* (infra/components/notifications.py)",
    sources=("CKV_AWS_26",),
)
def sns_topic_cmk(res: Res) -> Iterator[str]:
    key = res.props.get("kmsMasterKeyId")
    if key in (None, ""):
        yield "the topic is not encrypted"
    elif isinstance(key, str) and known(key) and _aws_managed_key(key, "sns"):
        yield "the topic uses the AWS-managed aws/sns key, which alarms cannot use"


@rules.resource(
    "alarm-notifies",
    MANDATORY,
    types=(tk.METRIC_ALARM,),
    checks="Every CloudWatch alarm has an action (a topic to tell) and its actions enabled",
    fix="give alarm_actions (and ok_actions) the region's alerts topic; actions_enabled=True",
    sources=(),
)
def alarm_notifies(res: Res) -> Iterator[str]:
    actions = res.props.get("alarmActions")
    if not is_unknown(actions) and not items(actions):
        yield "the alarm has no alarm_actions: it fires and nobody learns of it"
    if flag(res.props.get("actionsEnabled")) is False:
        yield "actions_enabled is false"


@rules.resource(
    "backup-vault-cmk",
    MANDATORY,
    types=(tk.BACKUP_VAULT,),
    checks="Backup vaults are encrypted with a customer-managed KMS key",
    fix="set kms_key_arn to a key of the vault's region (infra/components/backups.py)",
    sources=("CKV_AWS_166",),
)
def backup_vault_cmk(res: Res) -> Iterator[str]:
    key = res.props.get("kmsKeyArn")
    if key in (None, "") or (
        isinstance(key, str) and known(key) and _aws_managed_key(key, "backup")
    ):
        yield "the vault uses the AWS-managed aws/backup key"


@rules.resource(
    "backup-vault-force-destroy-off",
    MANDATORY,
    types=(tk.BACKUP_VAULT,),
    checks="No backup vault can be deleted with its recovery points (force_destroy)",
    fix="set force_destroy=False; delete recovery points deliberately, one by one",
    sources=(),
)
def backup_vault_force_destroy(res: Res) -> Iterator[str]:
    if flag(res.props.get("forceDestroy")) is True:
        yield "force_destroy is true: deleting the vault would delete every recovery point"


def _region_of(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 and parts[0] == "arn" else None


@rules.resource(
    "backup-copy-cross-region-in-production",
    MANDATORY,
    types=(tk.BACKUP_PLAN,),
    checks="Production backup plans copy every recovery point to a vault in another region",
    fix="set python-org:backup.copyRegion; every rule of the plan gets a copy action to that "
    "region's vault",
    sources=(),
)
def backup_copy_cross_region(res: Res) -> Iterator[str]:
    if not is_production(res):
        return
    plan_rules = res.props.get("rules")
    if is_unknown(plan_rules):
        return
    for rule in items(plan_rules):
        name = dig(rule, "ruleName")
        copies = dig(rule, "copyActions")
        if is_unknown(copies):
            continue
        arns = [dig(c, "destinationVaultArn") for c in items(copies)]
        if any(is_unknown(a) for a in arns):
            continue
        regions = {_region_of(a) for a in arns if isinstance(a, str)}
        if not regions - {res.region, None}:
            yield f"rule {name!r} keeps its recovery points in {res.region} only"
