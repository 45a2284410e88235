"""The building blocks of the CI roles' policies: a statement, a policy document, a role's scope.

`statement()` refuses an Allow that is broad (every resource, or a verb wildcard) without a
`why`; `Scope` is what one role is for (the account, the stacks it deploys and the ones it must
not touch, the state backend, the roles it must never change).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Statement:
    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    why: str = ""  # required when the statement is broad (see `broad`)
    condition: Mapping[str, Mapping[str, Any]] | None = None
    effect: str = "Allow"

    @property
    def broad(self) -> bool:
        """Applies to every resource (`*`) or grants a verb family (`ec2:Create*`)."""
        return "*" in self.resources or any(a.endswith("*") for a in self.actions)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "Sid": self.sid,
            "Effect": self.effect,
            "Action": sorted(self.actions),
            "Resource": list(self.resources) if len(self.resources) > 1 else self.resources[0],
        }
        if self.condition:
            doc["Condition"] = {k: dict(v) for k, v in self.condition.items()}
        return doc


def statement(
    sid: str,
    actions: Iterable[str],
    resources: Iterable[str],
    *,
    why: str = "",
    condition: Mapping[str, Mapping[str, Any]] | None = None,
    effect: str = "Allow",
) -> Statement:
    made = Statement(sid, tuple(actions), tuple(resources), why, condition, effect)
    if not made.actions or not made.resources:
        raise ValueError(f"statement {sid}: needs actions and resources")
    if made.effect == "Allow" and made.broad and not why:
        raise ValueError(f"statement {sid} is broad ({made.actions}, {made.resources}): say why")
    return made


def document(statements: Sequence[Statement]) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [s.to_json() for s in statements]}, indent=1
    )


@dataclass(frozen=True, kw_only=True)
class StateAccess:
    """The self-managed state backend, when the bootstrap declares it."""

    bucket_arn: str
    key_arns: tuple[str, ...]  # the bucket's key and the secrets provider's key


@dataclass(frozen=True, kw_only=True)
class Scope:
    account: str
    # Stacks this role deploys, and the stacks of the other environments, whose data it must
    # not touch (the explicit Deny): physical names carry the stack (infra/naming.py).
    stacks: tuple[str, ...] = ()
    other_stacks: tuple[str, ...] = ()
    state: StateAccess | None = None
    protected_roles: tuple[str, ...] = field(default=())  # the CI roles and OIDC provider ARNs
