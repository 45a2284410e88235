"""The bootstrap project's configuration (`bootstrap/Pulumi.<stack>.yaml`), validated before any
resource is declared, with the same kind of messages as the website's (`infra/config/`): each
problem names the stack, the key, the bad value and what is allowed.

Keys (`python-org-bootstrap:*`):

| key | meaning |
|---|---|
| `repository` | the GitHub repository whose workflows may assume the roles: `owner/name` |
| `environments` | GitHub environment -> the website stacks its deploy role deploys; must include `production` |
| `region` | where the state bucket and the keys live (IAM itself is global) |
| `stateBucket` | declare the self-managed state backend (bucket + keys); default true |
| `existingOidcProviderArn` | the account's GitHub OIDC provider, when it exists already (one per account) |

A trust policy never gets a wildcard: the repository and environment names are checked against
GitHub's own naming rules, which admit no `*` or `?`, and `ci_access.subject()` refuses one
again when it builds the condition.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra.config import _MISSING, ConfigError, _decode, _Reader, aws_regions
from infra.projects import BOOTSTRAP, WEBSITE

NAMESPACE = BOOTSTRAP.name
PRODUCTION = "production"

# GitHub: an owner (user or organization) is 1-39 alphanumerics or single hyphens, not at either
# end; a repository name is letters, digits, '.', '-', '_' (docs.github.com, "Creating a new
# repository" and the sign-up form's username rules). Neither admits '*' or '?'.
_OWNER = r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}"
_REPO = r"(?!\.\.?$)[A-Za-z0-9._-]{1,100}"
# Environment names become IAM role names (python-org-ci-deploy-<environment>, at most 64
# characters of [A-Za-z0-9+=,.@_-]) and OIDC subjects: a safe subset of both.
_ENVIRONMENT = r"[A-Za-z0-9_-]{1,40}"
_STACK = r"[a-z0-9][a-z0-9-]{0,39}"
_OIDC_PROVIDER_ARN = r"arn:aws:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com"


class _BootstrapReader(_Reader):
    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else f"{NAMESPACE}:{name}"


@dataclass(frozen=True, kw_only=True)
class BootstrapConfig:
    stack: str
    owner: str
    name: str
    environments: Mapping[str, tuple[str, ...]]  # GitHub environment -> website stacks
    region: str
    state_bucket: bool
    existing_oidc_provider_arn: str | None

    @property
    def repository(self) -> str:
        return f"{self.owner}/{self.name}"


def parse_bootstrap_config(
    stack: str, raw: Mapping[str, Any], *, website_stacks: list[str] | None = None
) -> BootstrapConfig:
    """Validate the raw `python-org-bootstrap:*` config. `website_stacks` are the stacks an
    environment may name (default: the website's stack files)."""
    problems: list[str] = []
    data: dict[str, Any] = {}
    for key, value in raw.items():
        ns, _, name = key.rpartition(":")
        if ns in ("", NAMESPACE):
            data[name] = _decode(value)
    top = _BootstrapReader(problems, "", data)

    repository = top.string(
        "repository",
        pattern=f"{_OWNER}/{_REPO}",
        allowed="a GitHub repository as owner/name (letters, digits, '-' in the owner; "
        "letters, digits, '.', '-', '_' in the name; no wildcards)",
    )
    environments = _environments(
        top, website_stacks if website_stacks is not None else WEBSITE.stack_names()
    )
    region = top.string("region")
    if region is not None and region not in aws_regions():
        top.fail(
            "region", region, f"unknown AWS region (allowed: {', '.join(sorted(aws_regions()))})"
        )
        region = None
    state_bucket = top.boolean("stateBucket", default=True)
    existing = top.string(
        "existingOidcProviderArn",
        None,
        pattern=_OIDC_PROVIDER_ARN,
        allowed="the ARN of the account's GitHub OIDC provider, "
        "arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com",
    )
    top.finish()
    if problems:
        raise ConfigError(stack, problems, file=BOOTSTRAP.stack_file(stack))
    assert repository
    assert environments is not None
    assert region
    assert state_bucket is not None
    owner, _, name = repository.partition("/")
    return BootstrapConfig(
        stack=stack,
        owner=owner,
        name=name,
        environments=environments,
        region=region,
        state_bucket=state_bucket,
        existing_oidc_provider_arn=existing,
    )


def _environments(top: _Reader, website_stacks: list[str]) -> dict[str, tuple[str, ...]] | None:
    raw = top.get("environments")
    if raw is _MISSING:
        return None  # reported as missing
    if not isinstance(raw, dict) or not raw:
        top.fail(
            "environments",
            raw,
            "must map each GitHub environment (production, staging) to the website stacks "
            "its deploy role deploys, e.g. {production: [prod], staging: [staging]}",
        )
        return None
    found: dict[str, tuple[str, ...]] = {}
    owner_of: dict[str, str] = {}
    ok = True
    for env, stacks in raw.items():
        if not isinstance(env, str) or not re.fullmatch(_ENVIRONMENT, env):
            top.fail(
                "environments",
                env,
                "an environment name must be 1-40 letters, digits, '-' or '_' (no wildcards)",
            )
            ok = False
            continue
        if (
            not isinstance(stacks, list)
            or not stacks
            or not all(isinstance(s, str) for s in stacks)
        ):
            top.fail(f"environments.{env}", stacks, "must be a non-empty list of stack names")
            ok = False
            continue
        for stack in stacks:
            if not re.fullmatch(_STACK, stack):
                top.fail(
                    f"environments.{env}", stack, "a stack name is lowercase letters, digits, '-'"
                )
                ok = False
            elif stack not in website_stacks:
                top.fail(
                    f"environments.{env}",
                    stack,
                    f"is not a website stack (Pulumi.<stack>.yaml: {', '.join(website_stacks)})",
                )
                ok = False
            elif stack in owner_of:
                top.fail(
                    f"environments.{env}",
                    stack,
                    f"is deployed by environment {owner_of[stack]} already; a stack has one "
                    "deploy role",
                )
                ok = False
            else:
                owner_of[stack] = env
        found[env] = tuple(stacks)
    if PRODUCTION not in raw:
        top.fail(
            "environments",
            sorted(str(e) for e in raw),
            f"must include {PRODUCTION}: the environment whose required reviewers approve "
            "every production deploy",
        )
        ok = False
    return found if ok else None
