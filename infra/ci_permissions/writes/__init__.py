"""The deploy role's write grants, per IAM service, in modules by area of the website.

Each service gets the verbs its resources need, limited to the stacks' own resources where the
resource names allow it (`network`, `data`, `oncall`, `backing_services`). Which managed policy
each service's statements go to is `DEPLOY_PARTS` (`infra.ci_permissions.policies`).
"""

from __future__ import annotations

from infra.ci_permissions.statements import Scope, Statement
from infra.ci_permissions.writes import backing_services, data, network, oncall

WRITES = {**network.WRITES, **data.WRITES, **oncall.WRITES, **backing_services.WRITES}


def writes(service: str, scope: Scope) -> list[Statement]:
    """The statements letting a deploy role of `scope` create, change and delete the website's
    resources of one IAM service."""
    if not scope.stacks:
        raise ValueError("a deploy role deploys at least one stack")
    grants = WRITES.get(service)
    if grants is None:
        raise KeyError(
            f"no grants for the IAM service {service!r}: add them to infra/ci_permissions/writes/"
        )
    return grants(scope)
