"""The cloud refusals: what AWS refuses, each rule proven able to fail.

One violating change per rule (tests/policy_variants.py), then the ElastiCache auth token's
characters checked against botocore's copy of the API documentation.
"""

from __future__ import annotations

import base64
import html
import json
import re
from typing import Any

import pytest

from infra.instances import decode_user_data
from infra.review.graph import Graph
from policy import tokens as tk
from tests.policy_variants import (
    ALB,
    ALB_SG,
    ASG,
    DB,
    HOME,
    LT,
    REDIS,
    REPLICA,
    SEARCH,
    Case,
    Edit,
    assert_fails_on_its_change,
    change,
    nested,
    refresh,
    setter,
)


def _many_cidrs(inputs: dict[str, Any]) -> None:
    inputs["ingress"][0]["cidrBlocks"] = [f"198.51.{i}.0/24" for i in range(61)]


def _log_encryption(algorithm: str) -> Edit:
    def edit(inputs: dict[str, Any]) -> None:
        inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] = algorithm

    return edit


def _log_writer(principal: dict[str, str]) -> Edit:
    def edit(inputs: dict[str, Any]) -> None:
        doc = json.loads(inputs["policy"])
        for statement in doc["Statement"]:
            if statement.get("Sid") == "LoadBalancerAccessLogs":
                statement["Principal"] = principal
        inputs["policy"] = json.dumps(doc)

    return edit


def _big_user_data(inputs: dict[str, Any]) -> None:
    script = decode_user_data(inputs["userData"]) + "#" * 17_000  # uncompressed
    inputs["userData"] = base64.b64encode(script.encode()).decode()


CASES = [
    Case(
        "rds-replica-of-managed-password-source",
        lambda g: change(g, *DB, setter(manageMasterUserPassword=True)),
    ),
    Case(
        "rds-replica-lifecycle",
        lambda g: change(
            g, *REPLICA, setter(finalSnapshotIdentifier="pyorg-prod-eu-west-1-db-final")
        ),
    ),
    Case(
        "rds-master-password",
        lambda g: change(g, tk.RANDOM_PASSWORD, "db-master-password", setter(special=True)),
    ),
    Case(
        "name-length-limits",
        lambda g: change(g, *ALB, setter(name="pyorg-production-ap-southeast-1-web")),
    ),
    Case("sg-rules-per-direction", lambda g: change(g, *ALB_SG, _many_cidrs)),
    Case(
        "alb-log-bucket-sse-s3",
        lambda g: change(g, tk.BUCKET_SSE, f"{HOME}-access-logs", _log_encryption("aws:kms")),
    ),
    Case(
        "alb-log-bucket-principal",
        lambda g: change(
            g,
            tk.BUCKET_POLICY,
            f"{HOME}-access-logs",
            # us-east-2 predates August 2022: AWS delivers its logs as the region's account.
            _log_writer({"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}),
        ),
    ),
    Case("user-data-size", lambda g: change(g, *LT, _big_user_data)),
    Case(
        "asg-instance-refresh-percentages",
        lambda g: change(g, *ASG, refresh(maxHealthyPercentage=250)),
    ),
    Case(
        "target-group-health-check-timing",
        lambda g: change(g, tk.TARGET_GROUP, f"{HOME}-web", nested(("healthCheck", "timeout"), 15)),
    ),
    Case(
        "elasticache-auth-token",
        lambda g: change(g, tk.RANDOM_PASSWORD, f"{HOME}-redis-auth-token", setter(special=True)),
    ),
    Case(
        "elasticache-failover-needs-replica",
        lambda g: change(g, *REDIS, setter(numCacheClusters=1)),
    ),
    Case(
        "opensearch-fine-grained-prerequisites",
        lambda g: change(g, *SEARCH, nested(("encryptAtRest", "enabled"), False)),
    ),
    Case(
        "opensearch-zone-awareness",
        lambda g: change(g, *SEARCH, nested(("clusterConfig", "instanceCount"), 4)),
    ),
    Case(
        "ses-mail-from-subdomain",
        lambda g: change(
            g, tk.SES_MAIL_FROM, f"{HOME}-mail", setter(mailFromDomain="bounces.example.org")
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.rule for c in CASES])
def test_rule_fails_on_a_violating_resource(case: Case, prod: Graph) -> None:
    assert_fails_on_its_change(case, prod)


def test_elasticache_auth_token_characters_are_botocores() -> None:
    """The refusal's allowed specials are what botocore's CreateReplicationGroup documents."""
    from botocore.loaders import Loader

    from policy.refusals_services import AUTH_TOKEN_LENGTH, AUTH_TOKEN_SPECIALS

    model = Loader().load_service_model("elasticache", "service-2")
    doc = model["shapes"]["CreateReplicationGroupMessage"]["members"]["AuthToken"]["documentation"]
    listed = re.search(r"permitted printable special characters are (.+?), and (\S)\.", doc)
    assert listed, doc
    found = {html.unescape(c) for c in [*listed.group(1).split(", "), listed.group(2)]}
    assert found == set(AUTH_TOKEN_SPECIALS)
    assert (
        f"at least {AUTH_TOKEN_LENGTH[0]} characters and no more than {AUTH_TOKEN_LENGTH[1]}" in doc
    )
