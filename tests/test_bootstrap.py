"""The bootstrap project (bootstrap/): the trust of the CI roles, what they may do, and the state
backend's hardening; bad config refused before any resource.

The role policies are also evaluated with moto's IAM policy evaluator (moto.iam.access_control),
so that "the staging role cannot touch prod's database" is checked by a policy engine, not by
reading the JSON back.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.iam.access_control import IAMPolicy, PermissionResult

from infra import ci_permissions as perms
from infra.bootstrap_config import parse_bootstrap_config
from infra.components import ci_access
from infra.config import ConfigError
from infra.projects import BOOTSTRAP
from infra.review.graph import Graph, Resource
from infra.review.mocks import ACCOUNT_ID
from infra.review.stackfile import read_stack_file
from infra.review.synth import synthesize
from policy.runner import evaluate, mandatory

STACK = BOOTSTRAP.default_stack
REPO = "python/python-org-infra"
HOST = "token.actions.githubusercontent.com"
ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
BUCKET = "aws:s3/bucket:Bucket"
KEY = "aws:kms/key:Key"


def raw(**changes: Any) -> dict[str, Any]:
    config, _ = read_stack_file(STACK, project=BOOTSTRAP)
    values: dict[str, Any] = {k: json.loads(v) if v[:1] in "[{" else v for k, v in config.items()}
    for key, value in changes.items():
        name = f"{BOOTSTRAP.name}:{key}"
        if value is None:
            values.pop(name, None)
        else:
            values[name] = value
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}


def problems(**changes: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_bootstrap_config(STACK, raw(**changes))
    assert f"invalid config for stack '{STACK}' (bootstrap/Pulumi.{STACK}.yaml)" in str(info.value)
    return info.value.problems


# --- bad input -------------------------------------------------------------------------------


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


# --- trust -----------------------------------------------------------------------------------


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


# --- what the roles may do -------------------------------------------------------------------


def _policies(graph: Graph, role_name: str) -> list[str]:
    """The policy documents in force for a role: its inline policy, its attached policies."""
    found = [
        r.inputs["policy"] for r in graph.of_type(ROLE_POLICY) if r.inputs["role"] == role_name
    ]
    by_arn = {r.outputs["arn"]: r for r in graph.of_type(POLICY)}
    for attachment in graph.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        if attachment.inputs["role"] == role_name:
            found.append(by_arn[attachment.inputs["policyArn"]].inputs["policy"])
    assert found
    return found


def allowed(graph: Graph, role_name: str, action: str, resource: str) -> bool:
    """IAM's verdict over all of a role's policies: an explicit Deny wins, else any Allow."""
    results = [
        IAMPolicy(doc).is_action_permitted(action, resource) for doc in _policies(graph, role_name)
    ]
    if PermissionResult.DENIED in results:
        return False
    return PermissionResult.PERMITTED in results


PROD_DB = f"arn:aws:rds:us-east-2:{ACCOUNT_ID}:db:pyorg-prod-us-east-2-db"
STAGING_DB = f"arn:aws:rds:us-east-2:{ACCOUNT_ID}:db:pyorg-staging-us-east-2-db"
PROD_BUCKET = "arn:aws:s3:::pyorg-prod-us-east-2-media-1a2b3c4"
STAGING_BUCKET = "arn:aws:s3:::pyorg-staging-us-east-2-media-1a2b3c4"
DEPLOY_PROD = "python-org-ci-deploy-production"
DEPLOY_STAGING = "python-org-ci-deploy-staging"
PREVIEW = "python-org-ci-preview"


def test_each_deploy_role_changes_its_own_stack_and_not_the_others(bootstrap: Graph) -> None:
    for action in ("rds:ModifyDBInstance", "rds:DeleteDBInstance", "rds:CreateDBSnapshot"):
        assert allowed(bootstrap, DEPLOY_PROD, action, PROD_DB)
        assert allowed(bootstrap, DEPLOY_STAGING, action, STAGING_DB)
    for action in ("rds:ModifyDBInstance", "rds:DeleteDBInstance", "rds:PromoteReadReplica"):
        assert not allowed(bootstrap, DEPLOY_STAGING, action, PROD_DB), action
        assert not allowed(bootstrap, DEPLOY_PROD, action, STAGING_DB), action
    for action in ("s3:PutBucketPolicy", "s3:DeleteBucket", "s3:PutBucketVersioning"):
        assert allowed(bootstrap, DEPLOY_PROD, action, PROD_BUCKET)
        assert not allowed(bootstrap, DEPLOY_STAGING, action, PROD_BUCKET), action
        assert not allowed(bootstrap, DEPLOY_PROD, action, STAGING_BUCKET), action


def test_no_role_reads_the_sites_data_or_rewrites_the_ci_roles(bootstrap: Graph) -> None:
    ci_role = f"arn:aws:iam::{ACCOUNT_ID}:role/{DEPLOY_PROD}"
    for role in (DEPLOY_PROD, DEPLOY_STAGING, PREVIEW):
        assert not allowed(bootstrap, role, "s3:GetObject", f"{PROD_BUCKET}/uploads/a.png")
        for action in ("iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:AttachRolePolicy"):
            assert not allowed(bootstrap, role, action, ci_role), (role, action)
        assert not allowed(
            bootstrap,
            role,
            "iam:DeleteOpenIDConnectProvider",
            f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{HOST}",
        )
    # ...while the website's own roles are the deploy roles' to manage.
    website_role = f"arn:aws:iam::{ACCOUNT_ID}:role/us-east-2-web-dbc6cd2"
    assert allowed(bootstrap, DEPLOY_PROD, "iam:PutRolePolicy", website_role)
    assert allowed(bootstrap, DEPLOY_PROD, "iam:PassRole", website_role)


def test_the_preview_role_only_reads(bootstrap: Graph) -> None:
    for action in ("ec2:DescribeVpcs", "rds:DescribeDBInstances", "iam:GetRole"):
        assert allowed(bootstrap, PREVIEW, action, "*")
    for doc in _policies(bootstrap, PREVIEW):
        for statement in json.loads(doc)["Statement"]:
            actions = (
                statement["Action"]
                if isinstance(statement["Action"], list)
                else [statement["Action"]]
            )
            for action in actions:
                verb = action.split(":")[1]
                if statement["Sid"] == "StateWrite":  # the backend's lock files, nothing else
                    assert statement["Resource"].endswith("/.pulumi/locks/*")
                    continue
                if statement["Sid"] == "StateKeys":  # read state; write the lock (SSE-KMS)
                    assert action in ("kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey")
                    continue
                assert verb.startswith(("Describe", "List", "Get")), action
    assert not allowed(bootstrap, PREVIEW, "secretsmanager:GetSecretValue", "*")
    state = bootstrap.one(BUCKET, "state-bucket").outputs["arn"]
    assert allowed(bootstrap, PREVIEW, "s3:PutObject", f"{state}/.pulumi/locks/prod/x.json")
    assert not allowed(bootstrap, PREVIEW, "s3:PutObject", f"{state}/.pulumi/stacks/prod.json")
    assert allowed(bootstrap, DEPLOY_PROD, "s3:PutObject", f"{state}/.pulumi/stacks/prod.json")


def test_the_services_are_those_the_website_declares(prod: Graph, staging: Graph) -> None:
    """WEBSITE_SERVICES is checked in (the bootstrap can't synthesize the website while it
    runs): here it is derived again from the synthesized stacks, both ways."""
    types = {r.type for g in (prod, staging) for r in g if r.custom and not r.is_provider}
    derived = {s for t in types if (s := perms.service_of(t)) is not None}
    missing, stale = derived - perms.WEBSITE_SERVICES, perms.WEBSITE_SERVICES - derived
    assert not missing, (
        f"the website declares resources of {sorted(missing)} "
        f"({sorted(t for t in types if perms.service_of(t) in missing)}): add the service to "
        "WEBSITE_SERVICES and its grants to infra/ci_permissions/"
    )
    assert not stale, f"no website resource needs {sorted(stale)} any more: remove it"
    # Every service has write grants and a part (this raises otherwise).
    scope = perms.Scope(account=ACCOUNT_ID, stacks=("prod",))
    parts = perms.deploy_statements(scope)
    granted = {a.split(":")[0] for st in (s for p in parts.values() for s in p) for a in st.actions}
    assert granted >= perms.WEBSITE_SERVICES


def test_the_website_roles_fit_what_the_deploy_role_may_attach_and_pass(
    prod: Graph, staging: Graph
) -> None:
    for graph in (prod, staging):
        for attachment in graph.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
            assert attachment.inputs["policyArn"] in perms.ATTACHABLE_MANAGED_POLICIES
        for role in graph.of_type(ROLE):
            for statement in json.loads(role.inputs["assumeRolePolicy"])["Statement"]:
                assert statement["Principal"]["Service"] in perms.PASSED_TO_SERVICES, role.name
        for secret in graph.of_type("aws:secretsmanager/secret:Secret"):
            # The deploy role's secrets condition: the stack tag.
            assert secret.inputs["tags"]["stack"] == graph.stack


def test_every_policy_fits_iams_size_quotas(bootstrap: Graph) -> None:
    for res in bootstrap.of_type(POLICY):
        assert len(res.inputs["policy"]) <= perms.MANAGED_POLICY_LIMIT, res.name
        assert " " not in res.inputs["policy"].replace('"', "").split("Sid")[0]  # compact JSON
    for res in bootstrap.of_type(ROLE_POLICY):
        assert len(res.inputs["policy"]) <= ci_access.INLINE_POLICY_LIMIT, res.name
    attachments = bootstrap.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    per_role: dict[str, int] = {}
    for a in attachments:
        per_role[a.inputs["role"]] = per_role.get(a.inputs["role"], 0) + 1
    assert per_role
    assert max(per_role.values()) <= 10


def test_a_broad_statement_must_say_why() -> None:
    with pytest.raises(ValueError, match="say why"):
        perms.statement("Everything", ["ec2:Create*"], ["arn:aws:ec2:*:1:vpc/*"])
    with pytest.raises(ValueError, match="say why"):
        perms.statement("Everywhere", ["ec2:CreateVpc"], ["*"])
    assert perms.statement("Narrow", ["s3:ListBucket"], ["arn:aws:s3:::b"]).why == ""
    scope = perms.Scope(account=ACCOUNT_ID, stacks=("prod",))
    for part in perms.deploy_statements(scope).values():
        for statement in part:
            assert not statement.broad or statement.why or statement.effect == "Deny"


def test_deploy_sessions_outlast_the_default_hour(bootstrap: Graph) -> None:
    for role in bootstrap.of_type(ROLE):
        expected = 3600 if role.inputs["name"] == PREVIEW else ci_access.DEPLOY_SESSION_SECONDS
        assert role.inputs["maxSessionDuration"] == expected


# --- the state backend -----------------------------------------------------------------------


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


# --- the policy pack -------------------------------------------------------------------------


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
