"""The bootstrap project's CI roles: what they may do, and the IAM quotas their policies fit.

The role policies are evaluated with moto's IAM policy evaluator (moto.iam.access_control), so
that "the staging role cannot touch prod's database" is checked by a policy engine, not by
reading the JSON back.
"""

from __future__ import annotations

import json

import pytest
from moto.iam.access_control import IAMPolicy, PermissionResult

from infra import ci_permissions as perms
from infra.components import ci_access
from infra.review.graph import Graph
from infra.review.mocks import ACCOUNT_ID
from tests.bootstrap_helpers import (
    BUCKET,
    DEPLOY_PROD,
    DEPLOY_STAGING,
    HOST,
    POLICY,
    PREVIEW,
    ROLE,
    ROLE_POLICY,
)


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
