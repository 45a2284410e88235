"""The IAM rules: policies, roles and their trust, users.

One violating change per rule (tests/policy_variants.py), then scoping and the SES user.
"""

from __future__ import annotations

from typing import Any

import pytest

from infra.review.graph import Graph
from policy import tokens as tk
from tests.policy_variants import (
    HOME,
    ROLE,
    WEB_POLICY,
    Case,
    Edit,
    add,
    assert_fails_on_its_change,
    change,
    policy_doc,
    setter,
    violations,
)


def _untag(key: str) -> Edit:
    def edit(inputs: dict[str, Any]) -> None:
        del inputs["tags"][key]

    return edit


CASES = [
    Case(
        "iam-no-admin-actions",
        lambda g: change(
            g,
            *WEB_POLICY,
            setter(
                policy=policy_doc({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b"})
            ),
        ),
    ),
    Case(
        "iam-no-admin-managed-policies",
        lambda g: change(
            g,
            tk.ROLE_POLICY_ATTACHMENT,
            f"{HOME}-web-ssm",
            setter(policyArn="arn:aws:iam::aws:policy/AdministratorAccess"),
        ),
    ),
    Case(
        "iam-managed-policies-allowlisted",
        lambda g: change(
            g,
            tk.ROLE_POLICY_ATTACHMENT,
            f"{HOME}-web-ssm",
            setter(policyArn="arn:aws:iam::aws:policy/AmazonS3FullAccess"),
        ),
    ),
    Case(
        "iam-no-wildcard-resources",
        lambda g: change(
            g,
            *WEB_POLICY,
            setter(
                policy=policy_doc(
                    {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}
                )
            ),
        ),
    ),
    Case(
        "iam-no-privilege-escalation",
        lambda g: change(
            g,
            *WEB_POLICY,
            setter(
                policy=policy_doc({"Effect": "Allow", "Action": ["iam:Pass*"], "Resource": "*"})
            ),
        ),
    ),
    Case(
        "iam-assume-role-scoped",
        lambda g: change(
            g,
            *ROLE,
            setter(
                assumeRolePolicy=policy_doc(
                    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
                )
            ),
        ),
    ),
    Case(
        "iam-oidc-trust-scoped",
        lambda g: change(
            g,
            *ROLE,
            setter(
                assumeRolePolicy=policy_doc(
                    {
                        "Effect": "Allow",
                        "Principal": {
                            "Federated": "arn:aws:iam::123456789012:oidc-provider/"
                            "token.actions.githubusercontent.com"
                        },
                        "Action": "sts:AssumeRoleWithWebIdentity",
                        "Condition": {
                            "StringLike": {
                                "token.actions.githubusercontent.com:sub": "repo:python/*"
                            }
                        },
                    }
                )
            ),
        ),
    ),
    Case("iam-no-users", lambda g: add(g, tk.USER, "deploy", {"name": "deploy"})),
]


@pytest.mark.parametrize("case", CASES, ids=[c.rule for c in CASES])
def test_rule_fails_on_a_violating_resource(case: Case, prod: Graph) -> None:
    assert_fails_on_its_change(case, prod)


def test_wildcards_inside_a_named_resource_are_scoped() -> None:
    from policy.iam import _scoped

    assert _scoped("arn:aws:s3:::pyorg-prod-media-1/*")
    assert _scoped("arn:aws:logs:us-east-2:123456789012:log-group:flow-logs:*")
    assert not _scoped("*")
    assert not _scoped("arn:aws:s3:::*")
    assert not _scoped("arn:aws:s3:::pyorg-*/*")


def test_an_ses_smtp_user_may_send_mail_and_nothing_else(prod: Graph) -> None:
    """The one IAM user iam-no-users accepts: tagged for SES SMTP, ses:SendRawEmail only."""
    assert violations(prod, "iam-no-users") == []
    more = policy_doc({"Effect": "Allow", "Action": ["ses:SendRawEmail", "s3:GetObject"]})
    wider = change(prod, tk.USER_POLICY, f"{HOME}-ses-smtp", setter(policy=more))
    assert {v.urn.rsplit("::", 1)[1] for v in violations(wider, "iam-no-users")} == {
        f"{HOME}-ses-smtp"
    }
    untagged = change(prod, tk.USER, f"{HOME}-ses-smtp", _untag("purpose"))
    assert violations(untagged, "iam-no-users")
