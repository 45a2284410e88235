"""The compute rules: launch templates, instances, auto scaling groups.

One violating change per rule (tests/policy_variants.py), then the user data's secrets.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from infra.instances import decode_user_data, encode_user_data
from infra.review.graph import SECRET, Graph
from policy import tokens as tk
from tests.policy_variants import (
    ASG,
    BEAT,
    LT,
    Case,
    add,
    assert_fails_on_its_change,
    change,
    nested,
    refresh,
    setter,
    unsetter,
    violations,
)


def _secret_user_data(inputs: dict[str, Any]) -> None:
    script = decode_user_data(inputs["userData"])
    # AWS's documented example key id, assembled so that no literal key id sits in the repository.
    script += "\nexport AWS_ACCESS_KEY_ID=" + "AKIA" + "IOSFODNN7EXAMPLE\n"
    inputs["userData"] = encode_user_data(script)  # gzip, as the real user data


def _launch_configuration(inputs: dict[str, Any]) -> None:
    del inputs["launchTemplate"]
    inputs["launchConfiguration"] = "lc"


CASES = [
    Case(
        "launch-template-imdsv2",
        lambda g: change(g, *LT, nested(("metadataOptions", "httpTokens"), "optional")),
    ),
    Case(
        "imds-hop-limit",
        lambda g: change(g, *LT, nested(("metadataOptions", "httpPutResponseHopLimit"), 3)),
    ),
    Case(
        "volumes-encrypted",
        lambda g: change(g, *LT, nested(("blockDeviceMappings", 0, "ebs", "encrypted"), "false")),
    ),
    Case("user-data-no-secrets", lambda g: change(g, *LT, _secret_user_data)),
    Case(
        "no-public-ip-on-instances",
        lambda g: change(g, *LT, setter(networkInterfaces=[{"associatePublicIpAddress": "true"}])),
    ),
    Case("detailed-monitoring", lambda g: change(g, *LT, nested(("monitoring", "enabled"), False))),
    Case("instance-profile-attached", lambda g: change(g, *LT, unsetter("iamInstanceProfile"))),
    Case(
        "instance-termination-protection",
        lambda g: add(
            g,
            tk.INSTANCE,
            "bastion",
            {
                "instanceType": "t4g.nano",
                "metadataOptions": {"httpTokens": "required"},
                "rootBlockDevice": {"encrypted": True},
                "monitoring": True,
                "iamInstanceProfile": "profile",
            },
        ),
    ),
    Case(
        "asg-launch-template",
        lambda g: change(g, *ASG, _launch_configuration),
    ),
    Case("asg-elb-health-check", lambda g: change(g, *ASG, setter(healthCheckType="EC2"))),
    Case("asg-cooldown", lambda g: change(g, *ASG, setter(defaultCooldown=0))),
    Case(
        "asg-refresh-keeps-capacity",
        lambda g: change(g, *ASG, refresh(minHealthyPercentage=90, maxHealthyPercentage=100)),
    ),
    Case("asg-singleton-never-two", lambda g: change(g, *BEAT, setter(suspendedProcesses=[]))),
    Case("asg-tags-instances", lambda g: change(g, *LT, unsetter("tagSpecifications"))),
]


@pytest.mark.parametrize("case", CASES, ids=[c.rule for c in CASES])
def test_rule_fails_on_a_violating_resource(case: Case, prod: Graph) -> None:
    assert_fails_on_its_change(case, prod)


def test_a_secret_flowing_into_user_data_is_caught(prod: Graph) -> None:
    (found,) = violations(change(prod, *LT, setter(userData=SECRET)), "user-data-no-secrets")
    assert "secret value" in found.message


def test_the_real_user_data_reads_its_secrets_at_boot(prod: Graph) -> None:
    script = decode_user_data(prod.one(*LT).inputs["userData"])
    assert re.search(r"secretsmanager\W{1,6}get-secret-value", script)
    assert violations(prod, "user-data-no-secrets") == []
