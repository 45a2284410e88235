"""Helpers shared by the bootstrap project's tests (tests/test_bootstrap*.py)."""

from __future__ import annotations

import json
from typing import Any

from infra.projects import BOOTSTRAP
from infra.review.stackfile import read_stack_file

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


DEPLOY_PROD = "python-org-ci-deploy-production"
DEPLOY_STAGING = "python-org-ci-deploy-staging"
PREVIEW = "python-org-ci-preview"
