"""Rules for IAM: who may assume the roles and what the roles may do."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from typing import Any

from policy import tokens as tk
from policy.framework import ADVISORY, MANDATORY, Registry, Stack
from policy.view import Res, document, items, principals, statements, strings, tags

rules = Registry()

INLINE_POLICIES = (tk.ROLE_POLICY, tk.POLICY, tk.USER_POLICY, tk.GROUP_POLICY)
ATTACHMENTS = (
    tk.ROLE_POLICY_ATTACHMENT,
    tk.POLICY_ATTACHMENT,
    tk.GROUP_POLICY_ATTACHMENT,
    tk.USER_POLICY_ATTACHMENT,
)
ADMIN_MANAGED_POLICIES = ("AdministratorAccess", "IAMFullAccess", "PowerUserAccess")
# AWS-managed policies we attach on purpose: maintained by AWS, no broader than a copy would be.
# AmazonSSMManagedInstanceCore: Session Manager instead of SSH.
# AmazonRDSEnhancedMonitoringRole: the service role AWS defines for RDS Enhanced Monitoring.
ALLOWED_MANAGED_POLICIES = (
    "AmazonSSMManagedInstanceCore",
    "AmazonRDSEnhancedMonitoringRole",
    # The AWS Backup service role's policies, kept current by AWS as services are added
    # (docs.aws.amazon.com/aws-backup/latest/devguide/security-iam-awsmanpol.html).
    "AWSBackupServiceRolePolicyForBackup",
    "AWSBackupServiceRolePolicyForRestores",
    "AWSBackupServiceRolePolicyForS3Backup",
    "AWSBackupServiceRolePolicyForS3Restore",
)
# Actions that have no resource types (Service Authorization Reference): "*" is the only
# Resource they accept, so naming it is not a wildcard grant.
RESOURCELESS_ACTIONS = frozenset({"s3:ListAllMyBuckets", "cloudwatch:PutMetricData"})
AWS_MANAGED_PREFIX = "arn:aws:iam::aws:policy/"

# Actions that, allowed on every resource, escalate privileges, expose credentials, exfiltrate
# data or open resources to others (checkov's cloudsplaining-based checks, in short).
SENSITIVE_ACTIONS = (
    # privilege escalation
    "iam:passrole",
    "iam:createpolicyversion",
    "iam:setdefaultpolicyversion",
    "iam:attachrolepolicy",
    "iam:attachuserpolicy",
    "iam:attachgrouppolicy",
    "iam:putrolepolicy",
    "iam:putuserpolicy",
    "iam:putgrouppolicy",
    "iam:updateassumerolepolicy",
    "iam:createloginprofile",
    "iam:updateloginprofile",
    "sts:assumerole",
    # credentials exposure
    "iam:createaccesskey",
    "iam:updateaccesskey",
    "sts:getfederationtoken",
    "ec2:getpassworddata",
    # data exfiltration
    "s3:getobject",
    "ssm:getparameter",
    "ssm:getparameters",
    "secretsmanager:getsecretvalue",
    "kms:decrypt",
    # resource exposure
    "s3:putbucketpolicy",
    "s3:putbucketacl",
    "kms:putkeypolicy",
    "kms:creategrant",
    "secretsmanager:putresourcepolicy",
)


def _documents(res: Res) -> list[dict[str, Any]]:
    """The permission documents a resource carries (inline roles' policies included)."""
    docs = [document(res.props.get("policy"))]
    if res.type == tk.ROLE:
        docs += [document(p.get("policy")) for p in items(res.props.get("inlinePolicies"))]
    return [d for d in docs if d is not None]


def _allows(res: Res) -> Iterator[dict[str, Any]]:
    for doc in _documents(res):
        for statement in statements(doc):
            if statement.get("Effect") == "Allow":
                yield statement


def _sid(statement: dict[str, Any]) -> str:
    return str(statement.get("Sid") or "(no Sid)")


@rules.resource(
    "iam-no-admin-actions",
    MANDATORY,
    types=(*INLINE_POLICIES, tk.ROLE),
    checks='No policy allows "*" or "iam:*", or allows through NotAction',
    fix="list the actions the role needs on the resources it needs them on",
    sources=("CKV_AWS_62", "CKV_AWS_63", "CKV2_AWS_40"),
)
def iam_no_admin_actions(res: Res) -> Iterator[str]:
    for statement in _allows(res):
        actions = [a.lower() for a in strings(statement.get("Action"))]
        if any(a in ("*", "*:*", "iam:*") for a in actions):
            yield f"statement {_sid(statement)} allows {', '.join(actions)}"
        if "NotAction" in statement:
            yield f"statement {_sid(statement)} allows everything but a list (NotAction)"


def _policy_arns(res: Res) -> list[str]:
    if res.type == tk.ROLE:
        return strings(res.props.get("managedPolicyArns"))
    return strings(res.props.get("policyArn"))


@rules.resource(
    "iam-no-admin-managed-policies",
    MANDATORY,
    types=(*ATTACHMENTS, tk.ROLE),
    checks=f"No role, user or group gets {', '.join(ADMIN_MANAGED_POLICIES)}",
    fix="attach a policy scoped to the role's job instead",
    sources=("CKV_AWS_274", "CKV2_AWS_56"),
)
def iam_no_admin_managed(res: Res) -> Iterator[str]:
    for arn in _policy_arns(res):
        if arn.rsplit("/", 1)[-1] in ADMIN_MANAGED_POLICIES and arn.startswith(AWS_MANAGED_PREFIX):
            yield f"{arn.rsplit('/', 1)[-1]} is attached"


@rules.resource(
    "iam-managed-policies-allowlisted",
    ADVISORY,
    types=(*ATTACHMENTS, tk.ROLE),
    checks="AWS-managed policies are attached only from an allowlist "
    f"({', '.join(ALLOWED_MANAGED_POLICIES)})",
    fix="write an inline policy scoped to the resources, or add the managed policy to "
    "policy/iam.py's ALLOWED_MANAGED_POLICIES with the reason",
    sources=("AwsSolutions-IAM4",),
)
def iam_managed_policies(res: Res) -> Iterator[str]:
    for arn in _policy_arns(res):
        name = arn.rsplit("/", 1)[-1]
        if arn.startswith(AWS_MANAGED_PREFIX) and name not in ALLOWED_MANAGED_POLICIES:
            yield f"AWS-managed policy {name} is attached"


def _scoped(resource: str) -> bool:
    """A specific resource, or everything *inside* one (objects of a bucket, streams of a log
    group): a wildcard only as the last path segment of an ARN that names its parent."""
    if "*" not in resource:
        return True
    if not resource.startswith("arn:"):
        return False
    head, _, tail = resource.rpartition("/") if "/" in resource else resource.rpartition(":")
    # "*" alone, or after a literal name prefix ("cwsyn-<canary>-*": the log groups of one
    # canary's Lambda, whose name ends in an id AWS picks).
    prefix = tail.removesuffix("*")
    return "*" not in prefix and "*" not in head and head.count(":") >= 5


@rules.resource(
    "iam-no-wildcard-resources",
    ADVISORY,
    types=(*INLINE_POLICIES, tk.ROLE),
    checks='Allowed actions name their resources (no "*" resources, no "service:*" actions)',
    fix="list the ARNs (a bucket's objects as arn/*) and the actions; where an API needs "
    '"*" (Describe*), scope it with a condition',
    sources=("AwsSolutions-IAM5", "CKV_AWS_290", "CKV_AWS_355"),
)
def iam_no_wildcard_resources(res: Res) -> Iterator[str]:
    for statement in _allows(res):
        resources = strings(statement.get("Resource"))
        if resources == ["*"] and set(strings(statement.get("Action"))) <= RESOURCELESS_ACTIONS:
            continue
        wide = [r for r in resources if not _scoped(r)]
        if wide or "NotResource" in statement:
            yield f"statement {_sid(statement)} applies to {', '.join(wide) or 'NotResource'}"
        actions = [a for a in strings(statement.get("Action")) if a.endswith(":*")]
        if actions:
            yield f"statement {_sid(statement)} allows every action of {', '.join(actions)}"


@rules.resource(
    "iam-no-privilege-escalation",
    MANDATORY,
    types=(*INLINE_POLICIES, tk.ROLE),
    checks="No policy allows an escalation, credential, exfiltration or exposure action "
    '(iam:PassRole, s3:GetObject, kms:Decrypt, ...) on "*"',
    fix="name the resources the action applies to (the role to pass, the secret to read)",
    sources=("CKV_AWS_286", "CKV_AWS_287", "CKV_AWS_288", "CKV_AWS_289"),
)
def iam_no_privilege_escalation(res: Res) -> Iterator[str]:
    for statement in _allows(res):
        if "*" not in strings(statement.get("Resource")):
            continue
        patterns = [a.lower() for a in strings(statement.get("Action"))]
        hits = sorted({s for s in SENSITIVE_ACTIONS for p in patterns if fnmatch.fnmatchcase(s, p)})
        if hits:
            yield f"statement {_sid(statement)} allows {', '.join(hits)} on *"


@rules.resource(
    "iam-assume-role-scoped",
    MANDATORY,
    types=(tk.ROLE,),
    checks="Only named services or principals may assume a role",
    fix='name the principal in assume_role_policy (e.g. {"Service": "ec2.amazonaws.com"}), or '
    "add a condition (sts:ExternalId, aws:PrincipalOrgID)",
    sources=("CKV_AWS_60", "CKV_AWS_61"),
)
def iam_assume_role_scoped(res: Res) -> Iterator[str]:
    for statement in statements(document(res.props.get("assumeRolePolicy"))):
        if statement.get("Effect") != "Allow" or statement.get("Condition"):
            continue
        if "*" in principals(statement):
            yield f"statement {_sid(statement)} lets anyone assume the role"


GITHUB_OIDC = "token.actions.githubusercontent.com"


def _federated(statement: dict[str, Any]) -> list[str]:
    value = statement.get("Principal")
    return strings(value.get("Federated")) if isinstance(value, dict) else []


@rules.resource(
    "iam-oidc-trust-scoped",
    MANDATORY,
    types=(tk.ROLE,),
    checks="A role trusting GitHub's OIDC provider names one repository's subjects exactly "
    "(StringEquals on sub and aud = sts.amazonaws.com, no wildcard)",
    fix='condition the trust on StringEquals {"token.actions.githubusercontent.com:sub": '
    '"repo:OWNER/NAME:environment:ENV" (or :pull_request), "...:aud": "sts.amazonaws.com"}',
    sources=(),
)
def iam_oidc_trust_scoped(res: Res) -> Iterator[str]:
    for statement in statements(document(res.props.get("assumeRolePolicy"))):
        if statement.get("Effect") != "Allow":
            continue
        if not any(p.endswith(f"oidc-provider/{GITHUB_OIDC}") for p in _federated(statement)):
            continue
        sid = _sid(statement)
        conditions = statement.get("Condition")
        conditions = conditions if isinstance(conditions, dict) else {}
        equals = conditions.get("StringEquals")
        equals = equals if isinstance(equals, dict) else {}
        subjects = strings(equals.get(f"{GITHUB_OIDC}:sub"))
        audiences = strings(equals.get(f"{GITHUB_OIDC}:aud"))
        for operator, keys in conditions.items():
            if (
                operator != "StringEquals"
                and isinstance(keys, dict)
                and any(str(k).startswith(GITHUB_OIDC) for k in keys)
            ):
                yield f"statement {sid} matches GitHub's claims with {operator}, not StringEquals"
        if not subjects:
            yield f"statement {sid} lets any GitHub repository's workflow assume the role (no sub)"
        for sub in subjects:
            if any(c in sub for c in "*?"):
                yield f"statement {sid} trusts the wildcard subject {sub!r}"
            elif not sub.startswith("repo:") or sub.count(":") < 2:
                yield f"statement {sid} trusts {sub!r}, not one repository's subject"
        if audiences != ["sts.amazonaws.com"]:
            yield f"statement {sid} accepts the audience {audiences or 'any'}"


# The one kind of IAM user this stack may have: SES's SMTP interface authenticates only with an
# IAM user's access key ("Obtaining Amazon SES SMTP credentials", SES Developer Guide). Such a
# user carries this tag and may do nothing but ses:SendRawEmail (what the SMTP interface needs).
SES_SMTP_TAG = ("purpose", "ses-smtp")
SES_SMTP_ACTIONS = frozenset({"ses:sendrawemail"})


def _ses_smtp_users(stack: Stack) -> set[str]:
    """URNs of the users tagged as SES SMTP users whose every policy allows SendRawEmail only,
    and of those policies and keys."""
    allowed: set[str] = set()
    for user in stack.of_type(tk.USER):
        found = tags(user) or {}
        if found.get(SES_SMTP_TAG[0]) != SES_SMTP_TAG[1]:
            continue
        companions = stack.companions(user, (tk.USER_POLICY, tk.ACCESS_KEY), "user")
        attachments = stack.companions(user, (tk.USER_POLICY_ATTACHMENT,), "user")
        if attachments:
            continue
        actions = {
            a.lower()
            for policy in companions
            if policy.type == tk.USER_POLICY
            for st in _allows(policy)
            for a in strings(st.get("Action"))
        }
        if actions <= SES_SMTP_ACTIONS:
            allowed |= {user.urn, *(c.urn for c in companions)}
    return allowed


@rules.stack(
    "iam-no-users",
    ADVISORY,
    checks="No IAM users, user policies or access keys (roles and SSO only), but SES SMTP users "
    f"(tagged {SES_SMTP_TAG[0]}={SES_SMTP_TAG[1]}, allowed ses:SendRawEmail only)",
    fix="use a role (instance profile, OIDC for CI) and SSO for people; only SES's SMTP "
    "interface needs a user (infra/components/mail.py)",
    sources=("CKV_AWS_40", "CKV_AWS_273"),
)
def iam_no_users(stack: Stack) -> Iterator[tuple[str, str]]:
    exempt = _ses_smtp_users(stack)
    for res in stack.of_type(tk.USER, tk.USER_POLICY, tk.USER_POLICY_ATTACHMENT, tk.ACCESS_KEY):
        if res.urn not in exempt:
            yield res.urn, "an IAM user (or its policy or key) is declared"
