"""The on-call rules: alert topics, alarms, backup vaults and plans.

One violating change per rule (tests/policy_variants.py).
"""

from __future__ import annotations

import pytest

from infra.review.graph import Graph
from policy import tokens as tk
from tests.policy_variants import (
    HOME,
    Case,
    assert_fails_on_its_change,
    change,
    nested,
    setter,
    unsetter,
)

CASES = [
    Case(
        "sns-topic-cmk",
        lambda g: change(g, tk.SNS_TOPIC, f"{HOME}-alerts", setter(kmsMasterKeyId="alias/aws/sns")),
    ),
    Case(
        "alarm-notifies",
        lambda g: change(g, tk.METRIC_ALARM, f"{HOME}-target-5xx-rate", setter(alarmActions=[])),
    ),
    Case(
        "backup-vault-cmk",
        lambda g: change(g, tk.BACKUP_VAULT, f"{HOME}-backups", unsetter("kmsKeyArn")),
    ),
    Case(
        "backup-vault-force-destroy-off",
        lambda g: change(g, tk.BACKUP_VAULT, f"{HOME}-backups", setter(forceDestroy=True)),
    ),
    Case(
        "backup-copy-cross-region-in-production",
        lambda g: change(
            g, tk.BACKUP_PLAN, f"{HOME}-backup", nested(("rules", 0, "copyActions"), [])
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.rule for c in CASES])
def test_rule_fails_on_a_violating_resource(case: Case, prod: Graph) -> None:
    assert_fails_on_its_change(case, prod)
