"""The bootstrap project's CI roles: the trust of each (one subject of this repository) and GitHub's
OIDC provider."""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.iam.access_control import IAMPolicy, PermissionResult

from infra.projects import BOOTSTRAP
from infra.review.graph import Graph
from infra.review.mocks import ACCOUNT_ID
from infra.review.synth import synthesize
from tests.bootstrap_helpers import BUCKET, HOST, KEY, POLICY, REPO, ROLE, ROLE_POLICY, STACK, raw


def _trust(graph: Graph, role_name: str) -> dict[str, Any]:
    (role,) = [r for r in graph.of_type(ROLE) if r.inputs["name"] == role_name]
    doc: dict[str, Any] = json.loads(role.inputs["assumeRolePolicy"])
    return doc


def _can_assume(trust: dict[str, Any], sub: str, aud: str = "sts.amazonaws.com") -> bool:
    result = IAMPolicy(json.dumps(trust)).is_action_permitted(
        "sts:AssumeRoleWithWebIdentity",
        incoming_condition_values={f"{HOST}:sub": sub, f"{HOST}:aud": aud},
    )
    return result == PermissionResult.PERMITTED


@pytest.mark.parametrize(
    ("role_name", "subject"),
    [
        ("python-org-ci-preview", f"repo:{REPO}:pull_request"),
        ("python-org-ci-deploy-staging", f"repo:{REPO}:environment:staging"),
        ("python-org-ci-deploy-production", f"repo:{REPO}:environment:production"),
    ],
)
def test_each_role_trusts_exactly_one_subject_of_this_repository(
    bootstrap: Graph, role_name: str, subject: str
) -> None:
    trust = _trust(bootstrap, role_name)
    (statement,) = trust["Statement"]
    provider = bootstrap.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "ci-github")
    assert statement["Principal"] == {"Federated": provider.outputs["arn"]}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {
        "StringEquals": {f"{HOST}:aud": "sts.amazonaws.com", f"{HOST}:sub": subject}
    }
    assert _can_assume(trust, subject)
    others = [
        f"repo:{REPO}:pull_request",
        f"repo:{REPO}:environment:staging",
        f"repo:{REPO}:environment:production",
        f"repo:{REPO}:ref:refs/heads/main",
        "repo:someone/python-org-infra:environment:production",
        "repo:python/python-org-infra-fork:pull_request",
    ]
    for other in others:
        assert _can_assume(trust, other) is (other == subject), other
    assert not _can_assume(trust, subject, aud="https://github.com/python")


def test_the_oidc_provider_is_githubs_without_a_thumbprint(bootstrap: Graph) -> None:
    provider = bootstrap.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "ci-github")
    assert provider.inputs["url"] == f"https://{HOST}"
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    assert "thumbprintLists" not in provider.inputs  # IAM uses its trusted CAs for GitHub
    assert provider.protect


def test_an_existing_oidc_provider_is_used_instead_of_a_new_one() -> None:
    arn = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{HOST}"
    graph = synthesize(
        STACK, project=BOOTSTRAP, raw_config=raw(existingOidcProviderArn=arn, stateBucket=False)
    )
    assert not graph.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    for role in graph.of_type(ROLE):
        (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        assert statement["Principal"] == {"Federated": arn}
    # Without the state backend: no bucket, no keys, and no role reaches for them.
    assert not graph.of_type(BUCKET)
    assert not graph.of_type(KEY)
    for res in [*graph.of_type(POLICY), *graph.of_type(ROLE_POLICY)]:
        sids = [s["Sid"] for s in json.loads(res.inputs["policy"])["Statement"]]
        assert not [sid for sid in sids if sid.startswith("State")], res.name
    assert "state_bucket" not in graph.outputs
