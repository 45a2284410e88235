"""CiAccess: what lets this repository's GitHub workflows into the AWS account, and no one else.

- GitHub's OIDC identity provider (`token.actions.githubusercontent.com`, audience
  `sts.amazonaws.com`), or the account's existing one (IAM keeps one provider per URL);
- the **preview role**: read-only, assumable only by a pull request workflow of this repository
  (subject `repo:OWNER/NAME:pull_request`);
- a **deploy role per GitHub environment**, assumable only by a job of this repository that runs
  in that environment (subject `repo:OWNER/NAME:environment:NAME`), with the permissions of
  `infra/ci_permissions/`: what the website stack declares, nothing more.

Subjects are matched with `StringEquals`, never `StringLike`, and `subject()` refuses a wildcard.
GitHub puts the environment in the subject whenever a job references one, and
`pull_request` only when it does not (docs.github.com, "About security hardening with OpenID
Connect", filtering for a specific environment / for pull_request events): so the pull-request
preview job declares no environment, and each deploy job declares its own.

No thumbprint is given: for GitHub's provider, IAM validates the certificate against its own
library of trusted root CAs and ignores any thumbprint (pulumi-aws `OpenIdConnectProvider`
docs, from the AWS IAM user guide "Create an OpenID Connect (OIDC) identity provider").
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra import ci_permissions as perms
from infra.naming import tags

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
AUDIENCE = "sts.amazonaws.com"  # what aws-actions/configure-aws-credentials asks for
ROLE_PREFIX = "python-org-ci"
PREVIEW_ROLE = f"{ROLE_PREFIX}-preview"
# A deploy can outlast the default hour (prod: snapshot, up, smoke test): the workflows ask for
# this much (role-duration-seconds), which IAM allows only up to the role's maximum.
DEPLOY_SESSION_SECONDS = 7200
# IAM quota: a role's inline policies together hold at most 10,240 characters, whitespace not
# counted (docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
INLINE_POLICY_LIMIT = 10_240


def deploy_role_name(environment: str) -> str:
    return f"{ROLE_PREFIX}-deploy-{environment}"


class WildcardSubjectError(ValueError):
    pass


def subject(owner: str, name: str, *, environment: str | None = None) -> str:
    """The OIDC subject of this repository's pull requests, or of a job in `environment`."""
    value = f"repo:{owner}/{name}:" + (
        f"environment:{environment}" if environment is not None else "pull_request"
    )
    if any(c in value for c in "*?"):
        raise WildcardSubjectError(f"refusing a wildcard in an OIDC trust subject: {value!r}")
    return value


def trust_policy(provider_arn: str, subjects: list[str]) -> str:
    if not subjects or any(any(c in s for c in "*?") for s in subjects):
        raise WildcardSubjectError(f"refusing OIDC trust subjects {subjects!r}")
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "GitHubActions",
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{GITHUB_OIDC_HOST}:aud": AUDIENCE,
                            f"{GITHUB_OIDC_HOST}:sub": subjects[0]
                            if len(subjects) == 1
                            else subjects,
                        }
                    },
                }
            ],
        }
    )


def _deploy_parts(
    v: tuple[str, Any], *, stacks: tuple[str, ...], others: tuple[str, ...]
) -> dict[str, list[Any]]:
    """The deploy statements, by part, of an environment that deploys `stacks` (of the account
    and state access in `v`), denied `others` and the CI's own roles and provider."""
    account, state_access = v
    protected = (
        f"arn:aws:iam::{account}:role/{ROLE_PREFIX}-*",
        f"arn:aws:iam::{account}:policy/{ROLE_PREFIX}-*",
        f"arn:aws:iam::{account}:oidc-provider/{GITHUB_OIDC_HOST}",
    )
    return perms.deploy_statements(
        perms.Scope(
            account=account,
            stacks=stacks,
            other_stacks=others,
            state=state_access,
            protected_roles=protected,
        )
    )


def _part_document(part: str, parts: Mapping[str, list[perms.Statement]]) -> str:
    return compact(perms.document(parts[part]))


def compact(policy: str) -> str:
    """A policy as IAM stores it: no whitespace (which IAM's size quota does not count)."""
    return json.dumps(json.loads(policy), separators=(",", ":"))


@dataclass(frozen=True, kw_only=True)
class CiAccessArgs:
    owner: str
    name: str
    environments: Mapping[str, tuple[str, ...]]  # GitHub environment -> website stacks
    account_id: pulumi.Input[str]
    existing_provider_arn: str | None
    state_bucket_arn: pulumi.Input[str] | None  # None: no self-managed backend
    state_key_arns: tuple[pulumi.Input[str], ...]
    base_tags: dict[str, str]


class CiAccess(pulumi.ComponentResource):
    provider_arn: pulumi.Output[str]
    preview_role: aws.iam.Role
    deploy_roles: dict[str, aws.iam.Role]

    def __init__(
        self, name: str, args: CiAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("python-org:bootstrap:CiAccess", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        def t(role: str) -> dict[str, str]:
            return tags(args.base_tags, "ci", f"{name}-{role}")

        if args.existing_provider_arn:
            self.provider_arn = pulumi.Output.from_input(args.existing_provider_arn)
        else:
            provider = aws.iam.OpenIdConnectProvider(
                f"{name}-github",
                url=GITHUB_OIDC_URL,
                client_id_lists=[AUDIENCE],
                tags=t("github"),
                # The provider is the trust every role rests on: replacing it would break CI.
                opts=pulumi.ResourceOptions(parent=self, protect=True),
            )
            self.provider_arn = provider.arn

        state = pulumi.Output.all(
            args.account_id, args.state_bucket_arn or "", *args.state_key_arns
        ).apply(
            lambda v: (
                str(v[0]),
                perms.StateAccess(bucket_arn=v[1], key_arns=tuple(v[2:])) if v[1] else None,
            )
        )
        all_stacks = [s for stacks in args.environments.values() for s in stacks]

        self.preview_role = self._role(
            name,
            "preview",
            PREVIEW_ROLE,
            "pull requests of " + f"{args.owner}/{args.name}: pulumi preview (read-only)",
            subject(args.owner, args.name),
            state.apply(lambda v: perms.preview_statements(perms.Scope(account=v[0], state=v[1]))),
            max_session=3600,
            tags=t("preview"),
            opts=child,
        )
        self.deploy_roles = {}
        for environment, stacks in args.environments.items():
            others = tuple(s for s in all_stacks if s not in stacks)
            parts = state.apply(functools.partial(_deploy_parts, stacks=stacks, others=others))
            self.deploy_roles[environment] = self._deploy_role(
                name, args, t, environment, stacks, parts
            )
        self.register_outputs(
            {
                "preview_role": self.preview_role.arn,
                "deploy_roles": {e: r.arn for e, r in self.deploy_roles.items()},
            }
        )

    def _deploy_role(
        self,
        name: str,
        args: CiAccessArgs,
        t: Callable[[str], dict[str, str]],
        environment: str,
        stacks: tuple[str, ...],
        parts: pulumi.Output[dict[str, list[Any]]],
    ) -> aws.iam.Role:
        """`environment`'s deploy role, with a managed policy per part of its statements."""
        child = pulumi.ResourceOptions(parent=self)
        role = self._role(
            name,
            f"deploy-{environment}",
            deploy_role_name(environment),
            f"{args.owner}/{args.name} environment {environment}: pulumi up of "
            + ", ".join(stacks),
            subject(args.owner, args.name, environment=environment),
            None,
            max_session=DEPLOY_SESSION_SECONDS,
            tags=t(f"deploy-{environment}"),
            opts=child,
        )
        # The parts that have statements (the website's services decide, not the account).
        static_parts = ["base"] + [
            p for p, members in perms.DEPLOY_PARTS.items() if members & perms.WEBSITE_SERVICES
        ]
        for part in static_parts:
            policy = aws.iam.Policy(
                f"{name}-deploy-{environment}-{part}",
                name=f"{deploy_role_name(environment)}-{part}",
                description=f"python.org CI, environment {environment}: {part}",
                policy=parts.apply(functools.partial(_part_document, part)),
                tags=t(f"deploy-{environment}-{part}"),
                opts=child,
            )
            aws.iam.RolePolicyAttachment(
                f"{name}-deploy-{environment}-{part}",
                role=role.name,
                policy_arn=policy.arn,
                opts=child,
            )
        return role

    def _role(
        self,
        name: str,
        role: str,
        role_name: str,
        description: str,
        sub: str,
        statements: pulumi.Output[list[Any]] | None,
        *,
        max_session: int,
        tags: dict[str, str],
        opts: pulumi.ResourceOptions,
    ) -> aws.iam.Role:
        made = aws.iam.Role(
            f"{name}-{role}",
            # A fixed name: the workflows' variables hold its ARN, and the deploy roles' policies
            # deny changes to every role named python-org-ci-*.
            name=role_name,
            description=description,
            assume_role_policy=self.provider_arn.apply(lambda arn: trust_policy(arn, [sub])),
            max_session_duration=max_session,
            tags=tags,
            opts=opts,
        )
        if statements is not None:
            aws.iam.RolePolicy(
                f"{name}-{role}",
                role=made.id,
                policy=statements.apply(lambda s: compact(perms.document(s))),
                opts=pulumi.ResourceOptions(parent=self),
            )
        return made
