"""The bootstrap program: what CI needs in the AWS account, run once by an administrator.

`main()` is the whole program (`bootstrap/__main__.py` calls it; the offline preview, validation
and the tests call the very same function under the mock runtime). It validates the config
first, then declares GitHub's OIDC provider and the CI roles (`infra/components/ci_access.py`)
and, unless `stateBucket` is false, the self-managed state backend
(`infra/components/state_backend.py`). Its outputs are what the repository's settings and the
workflows need: the role ARNs (variables `AWS_PREVIEW_ROLE_ARN`, `AWS_DEPLOY_ROLE_ARN` per
environment), the state bucket and the secrets key (`pulumi login`, `--secrets-provider`).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from infra import naming
from infra.bootstrap_config import PRODUCTION, BootstrapConfig, parse_bootstrap_config
from infra.components.ci_access import CiAccess, CiAccessArgs
from infra.components.state_backend import StateBackend, StateBackendArgs
from infra.config import raw_config_from_runtime

PHYSICAL_PREFIX = "python-org-pulumi"


def main() -> None:
    cfg = parse_bootstrap_config(pulumi.get_stack(), raw_config_from_runtime(pulumi.get_project()))
    for key, value in build(cfg).items():
        pulumi.export(key, value)


def build(cfg: BootstrapConfig) -> dict[str, Any]:
    # The account's CI serves production among others: production rules apply to what is here.
    base = naming.base_tags(cfg.stack, cfg.region, PRODUCTION)
    provider = aws.Provider(
        f"aws-{cfg.region}", region=cfg.region, default_tags=aws.ProviderDefaultTagsArgs(tags=base)
    )
    opts = pulumi.ResourceOptions(providers={"aws": provider})
    account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=provider))

    state = None
    if cfg.state_bucket:
        state = StateBackend(
            "state", StateBackendArgs(physical_prefix=PHYSICAL_PREFIX, base_tags=base), opts
        )
    access = CiAccess(
        "ci",
        CiAccessArgs(
            owner=cfg.owner,
            name=cfg.name,
            environments=cfg.environments,
            account_id=account.account_id,
            existing_provider_arn=cfg.existing_oidc_provider_arn,
            state_bucket_arn=state.bucket.arn if state else None,
            state_key_arns=(state.bucket_key.arn, state.secrets_key.arn) if state else (),
            base_tags=base,
        ),
        opts,
    )
    outputs: dict[str, Any] = {
        "repository": cfg.repository,
        "oidc_provider_arn": access.provider_arn,
        # Repository variable AWS_PREVIEW_ROLE_ARN; per environment, AWS_DEPLOY_ROLE_ARN.
        "preview_role_arn": access.preview_role.arn,
        "deploy_role_arns": {env: role.arn for env, role in access.deploy_roles.items()},
        "deploy_stacks": {env: list(stacks) for env, stacks in cfg.environments.items()},
    }
    if state is not None:
        outputs["state_bucket"] = state.bucket.bucket
        outputs["state_bucket_key_arn"] = state.bucket_key.arn
        outputs["secrets_key_arn"] = state.secrets_key.arn
        # The two lines the README's "Repository setup" shows, filled in.
        outputs["pulumi_login"] = state.bucket.bucket.apply(lambda b: f"pulumi login s3://{b}")
        outputs["secrets_provider"] = f"awskms://{state.secrets_key_alias}?region={cfg.region}"
    return outputs
