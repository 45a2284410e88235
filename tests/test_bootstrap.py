"""The bootstrap project (bootstrap/): bad config refused before any resource, the state backend's
hardening, its outputs, and the policy pack on it.

The CI roles are in tests/test_bootstrap_trust.py (who may assume them) and
tests/test_bootstrap_permissions.py (what they may do).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.bootstrap_config import parse_bootstrap_config
from infra.components import ci_access
from infra.config import ConfigError
from infra.projects import BOOTSTRAP
from infra.review.graph import Graph, Resource
from infra.review.mocks import ACCOUNT_ID
from infra.review.synth import synthesize
from policy.runner import evaluate, mandatory
from tests.bootstrap_helpers import (
    BUCKET,
    DEPLOY_PROD,
    DEPLOY_STAGING,
    HOST,
    KEY,
    PREVIEW,
    REPO,
    ROLE,
    STACK,
    raw,
)


def problems(**changes: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_bootstrap_config(STACK, raw(**changes))
    assert f"invalid config for stack '{STACK}' (bootstrap/Pulumi.{STACK}.yaml)" in str(info.value)
    return info.value.problems


def test_the_stack_file_is_valid() -> None:
    cfg = parse_bootstrap_config(STACK, raw())
    assert cfg.repository == REPO
    assert dict(cfg.environments) == {"production": ("prod",), "staging": ("staging",)}


@pytest.mark.parametrize("repo", ["python", "python/*", "*/python-org-infra", "a/b/c", "-x/y"])
def test_a_repository_that_is_not_owner_slash_name_is_refused(repo: str) -> None:
    (problem,) = problems(repository=repo)
    assert problem.startswith(f"python-org-bootstrap:repository = '{repo}': must be a GitHub")
    assert "owner/name" in problem


def test_environments_without_production_are_refused() -> None:
    (problem,) = problems(environments={"staging": ["staging"]})
    assert problem.startswith('python-org-bootstrap:environments = ["staging"]: must include ')
    assert "production" in problem


@pytest.mark.parametrize("env", ["*", "prod*", "pro?uction", "a b"])
def test_a_wildcard_environment_is_refused(env: str) -> None:
    found = problems(environments={"production": ["prod"], env: ["staging"]})
    assert any(p.startswith(f"python-org-bootstrap:environments = '{env}'") for p in found)
    assert any("no wildcards" in p for p in found)


def test_environment_stacks_must_be_website_stacks_deployed_once() -> None:
    (unknown,) = problems(environments={"production": ["prd"], "staging": ["staging"]})
    assert unknown.startswith("python-org-bootstrap:environments.production = 'prd': ")
    assert "Pulumi.<stack>.yaml: prod, staging" in unknown
    (twice,) = problems(environments={"production": ["prod"], "staging": ["staging", "prod"]})
    assert "deployed by environment production already" in twice


def test_other_bad_values_name_key_value_and_what_is_allowed() -> None:
    found = problems(
        region="us-middle-1", stateBucket="yes", extra="x", existingOidcProviderArn="x"
    )
    assert any(
        p.startswith("python-org-bootstrap:region = 'us-middle-1': unknown AWS region")
        for p in found
    )
    assert any(
        p.startswith("python-org-bootstrap:stateBucket = 'yes': must be true or false")
        for p in found
    )
    assert any(p.startswith("python-org-bootstrap:extra = 'x': unknown key") for p in found)
    assert any(p.startswith("python-org-bootstrap:existingOidcProviderArn = 'x'") for p in found)


def test_bad_config_stops_the_program_before_any_resource() -> None:
    with pytest.raises(ConfigError, match="repository"):
        synthesize(STACK, project=BOOTSTRAP, raw_config=raw(repository="python/*"))


def test_a_wildcard_subject_is_refused_even_past_the_config() -> None:
    with pytest.raises(ci_access.WildcardSubjectError):
        ci_access.subject("python", "*")
    with pytest.raises(ci_access.WildcardSubjectError):
        ci_access.subject("python", "python-org-infra", environment="prod*")
    with pytest.raises(ci_access.WildcardSubjectError):
        ci_access.trust_policy("arn", ["repo:python/*:pull_request"])
    with pytest.raises(ci_access.WildcardSubjectError):
        ci_access.trust_policy("arn", [])


def _companion(graph: Graph, type_: str) -> Resource:
    return graph.one(f"aws:s3/{type_}", "state-bucket")


def test_the_state_bucket_is_versioned_encrypted_private_and_tls_only(bootstrap: Graph) -> None:
    bucket = bootstrap.one(BUCKET, "state-bucket")
    key = bootstrap.one(KEY, "state-bucket-key")
    assert bucket.inputs["forceDestroy"] is False
    versioning = _companion(bootstrap, "bucketVersioning:BucketVersioning")
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
    (rule,) = _companion(
        bootstrap,
        "bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    ).inputs["rules"]
    default = rule["applyServerSideEncryptionByDefault"]
    assert default["sseAlgorithm"] == "aws:kms"
    assert default["kmsMasterKeyId"] == key.outputs["arn"]
    block = _companion(bootstrap, "bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    for setting in (
        "blockPublicAcls",
        "blockPublicPolicy",
        "ignorePublicAcls",
        "restrictPublicBuckets",
    ):
        assert block[setting] is True, setting
    ownership = _companion(bootstrap, "bucketOwnershipControls:BucketOwnershipControls")
    assert ownership.inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced"
    policy = json.loads(_companion(bootstrap, "bucketPolicy:BucketPolicy").inputs["policy"])
    (deny,) = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Action"] == "s3:*"
    assert deny["Principal"] == "*"
    lifecycle = _companion(bootstrap, "bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    for lc_rule in lifecycle.inputs["rules"]:  # old checkpoints are never expired
        assert "expiration" not in lc_rule
        assert "noncurrentVersionExpiration" not in lc_rule


def test_the_bucket_and_keys_are_protected_and_retained(bootstrap: Graph) -> None:
    for res in [bootstrap.one(BUCKET, "state-bucket"), *bootstrap.of_type(KEY)]:
        assert res.protect, res.name
        assert res.retain_on_delete, res.name
    for key in bootstrap.of_type(KEY):
        assert key.inputs["enableKeyRotation"] is True
        assert key.inputs["deletionWindowInDays"] == 30
    assert len(bootstrap.of_type(KEY)) == 2  # the bucket's, and the secrets provider's


def test_the_outputs_are_what_the_workflows_and_the_readme_need(bootstrap: Graph) -> None:
    out = bootstrap.outputs
    assert out["preview_role_arn"] == f"arn:aws:iam::{ACCOUNT_ID}:role/{PREVIEW}"
    assert out["deploy_role_arns"] == {
        "production": f"arn:aws:iam::{ACCOUNT_ID}:role/{DEPLOY_PROD}",
        "staging": f"arn:aws:iam::{ACCOUNT_ID}:role/{DEPLOY_STAGING}",
    }
    bucket = bootstrap.one(BUCKET, "state-bucket").outputs["bucket"]
    assert out["state_bucket"] == bucket
    assert out["pulumi_login"] == f"pulumi login s3://{bucket}"
    assert out["secrets_provider"] == "awskms://alias/python-org-pulumi-secrets?region=us-east-2"
    assert out["secrets_key_arn"] == bootstrap.one(KEY, "state-secrets-key").outputs["arn"]


@pytest.mark.parametrize("name", ["bootstrap", "bootstrap_preview"])
def test_the_bootstrap_passes_every_mandatory_rule(
    name: str, request: pytest.FixtureRequest
) -> None:
    graph: Graph = request.getfixturevalue(name)
    assert mandatory(evaluate(graph)) == []


def test_a_wildcard_trust_fails_the_policy_pack(bootstrap: Graph) -> None:
    from dataclasses import replace

    role = next(r for r in bootstrap.of_type(ROLE) if r.inputs["name"] == DEPLOY_PROD)
    trust = json.loads(role.inputs["assumeRolePolicy"])
    trust["Statement"][0]["Condition"] = {
        "StringLike": {f"{HOST}:sub": f"repo:{REPO}:*", f"{HOST}:aud": "sts.amazonaws.com"}
    }
    changed = replace(role, inputs={**role.inputs, "assumeRolePolicy": json.dumps(trust)})
    graph = Graph(
        bootstrap.project,
        bootstrap.stack,
        {**bootstrap.resources, role.urn: changed},
        bootstrap.outputs,
    )
    found = [v for v in mandatory(evaluate(graph)) if v.urn == role.urn]
    assert {v.rule for v in found} == {"iam-oidc-trust-scoped"}
    assert any("StringLike" in v.message for v in found)
    assert any("no sub" in v.message for v in found)
