"""The rules of the app's other services: ElastiCache, OpenSearch, SES, SNS.

One violating change per rule (tests/policy_variants.py).
"""

from __future__ import annotations

import pytest

from infra.review.graph import Graph
from policy import tokens as tk
from tests.policy_variants import (
    HOME,
    REDIS,
    SEARCH,
    Case,
    assert_fails_on_its_change,
    change,
    nested,
    policy_doc,
    setter,
    unsetter,
)

CASES = [
    Case("redis-encrypted-at-rest", lambda g: change(g, *REDIS, unsetter("kmsKeyId"))),
    Case(
        "redis-encrypted-in-transit",
        lambda g: change(g, *REDIS, setter(transitEncryptionMode="preferred")),
    ),
    Case("redis-multi-az-in-production", lambda g: change(g, *REDIS, setter(multiAzEnabled=False))),
    Case("redis-backups", lambda g: change(g, *REDIS, setter(snapshotRetentionLimit=0))),
    Case("redis-own-subnet-group", lambda g: change(g, *REDIS, unsetter("subnetGroupName"))),
    Case(
        "search-encrypted",
        lambda g: change(g, *SEARCH, nested(("nodeToNodeEncryption", "enabled"), False)),
    ),
    Case(
        "search-https-only",
        lambda g: change(
            g,
            *SEARCH,
            nested(("domainEndpointOptions", "tlsSecurityPolicy"), "Policy-Min-TLS-1-0-2019-07"),
        ),
    ),
    Case("search-in-vpc", lambda g: change(g, *SEARCH, unsetter("vpcOptions"))),
    Case(
        "search-fine-grained-access",
        lambda g: change(g, *SEARCH, nested(("advancedSecurityOptions", "enabled"), False)),
    ),
    Case("search-logs", lambda g: change(g, *SEARCH, setter(logPublishingOptions=[]))),
    Case(
        "search-zone-aware-in-production",
        lambda g: change(g, *SEARCH, nested(("clusterConfig", "zoneAwarenessEnabled"), False)),
    ),
    Case(
        "ses-tls-required",
        lambda g: change(
            g,
            tk.SES_CONFIGURATION_SET,
            f"{HOME}-mail",
            nested(("deliveryOptions", "tlsPolicy"), "OPTIONAL"),
        ),
    ),
    Case(
        "sns-tls-only",
        lambda g: change(
            g,
            tk.SNS_TOPIC_POLICY,
            f"{HOME}-mail-feedback",
            setter(policy=policy_doc({"Effect": "Allow", "Action": "sns:Publish"})),
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.rule for c in CASES])
def test_rule_fails_on_a_violating_resource(case: Case, prod: Graph) -> None:
    assert_fails_on_its_change(case, prod)
