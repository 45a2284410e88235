"""The neutral resource view every rule reads, and the helpers that read it safely.

Both runners turn what they have into `Res`: the in-process runner from `infra.review.graph.Resource`,
the Pulumi CLI runner from `pulumi_policy`'s `PolicyResource` / `ResourceValidationArgs`. Property
names are the engine's (camelCase). A value not known yet (a preview's computed value) is the
string `UNKNOWN` in both, so a rule never sees the CLI's unknown sentinels or proxies.

The readers below return `None` for "can't tell" (absent, unknown or secret) so that a rule can
fail only on what it sees: unknown values must never make a mandatory rule fail.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The same markers as `infra.review.graph` (checked by the tests): this package does not import the
# program, so the CLI can load it without the program's dependencies.
UNKNOWN = "[unknown]"
SECRET = "[secret]"  # noqa: S105 (a mask, not a password)

PRODUCTION = "production"
ENVIRONMENTS = ("production", "staging")
REQUIRED_TAGS = ("project", "stack", "environment", "region", "managed-by")


@dataclass(frozen=True)
class Res:
    """One resource as a rule sees it."""

    type: str
    urn: str
    name: str
    props: Mapping[str, Any]
    protect: bool = False
    # None where the runner can't see the option: the CLI's analyzer protocol has no
    # retainOnDelete, so there a rule judges `protect` alone.
    retain_on_delete: bool | None = False
    delete_before_replace: bool | None = None
    dependencies: tuple[str, ...] = ()
    parent: str | None = None
    region: str | None = None
    aliases: tuple[str, ...] = ()


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value in (UNKNOWN, SECRET)


def known(value: Any) -> bool:
    """A value a rule may judge: present, and neither unknown nor masked."""
    return value is not None and not is_unknown(value)


def dig(value: Any, *path: str | int) -> Any:
    """`value[p0][p1]...`, or None where the path is absent; UNKNOWN where it crosses one."""
    for key in path:
        if is_unknown(value):
            return UNKNOWN
        if isinstance(key, int):
            if not isinstance(value, list) or not -len(value) <= key < len(value):
                return None
            value = value[key]
        else:
            if not isinstance(value, Mapping):
                return None
            value = value.get(key)
    return value


def shown(value: Any) -> str:
    """A property value for a message."""
    return "not set" if value is None else repr(value)


def flag(value: Any) -> bool | None:
    """A boolean the way providers spell them (True, "true"); None when it can't be told."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def items(value: Any) -> list[Any]:
    """A list property as a list; unknown or absent lists are empty (nothing to judge)."""
    if isinstance(value, list):
        return value
    return []


def tags(res: Res) -> dict[str, Any] | None:
    """The resource's tags (`tags` and the provider-merged `tagsAll`); None when unknown or absent.

    Autoscaling groups take a list of `{key, value}`; everything else a map."""
    merged: dict[str, Any] = {}
    seen = False
    for prop in ("tagsAll", "tags"):
        value = res.props.get(prop)
        if isinstance(value, Mapping):
            merged.update(value)
            seen = True
        elif isinstance(value, list):
            for tag in value:
                tag_key = tag.get("key") if isinstance(tag, Mapping) else None
                if not isinstance(tag_key, str) or not known(tag_key):
                    return None  # a tag whose key is not known yet: the set can't be judged
                merged[tag_key] = tag.get("value")
            seen = True
    return merged if seen else None


def environment(res: Res) -> str | None:
    value = (tags(res) or {}).get("environment")
    return value if isinstance(value, str) and known(value) else None


def is_production(res: Res) -> bool:
    """Production-only rules apply where the resource says it is production.

    A resource without a readable environment tag is not judged by them; `required-tags`
    fails it instead, so nothing slips through unjudged."""
    return environment(res) == PRODUCTION


def document(value: Any) -> dict[str, Any] | None:
    """An IAM-style policy document from a JSON string or a map; None if unknown or unparsable."""
    if isinstance(value, Mapping):
        return dict(value)
    if not isinstance(value, str) or is_unknown(value):
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def statements(doc: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    if doc is None:
        return []
    found = doc.get("Statement")
    if isinstance(found, Mapping):
        return [dict(found)]
    return [dict(s) for s in items(found) if isinstance(s, Mapping)]


def strings(value: Any) -> list[str]:
    """A policy field that may be one string or a list of them."""
    if isinstance(value, str):
        return [value]
    return [v for v in items(value) if isinstance(v, str)]


def principals(statement: Mapping[str, Any]) -> list[str]:
    """Every principal of a statement, flattened (`"*"`, `{"AWS": [...]}`, `{"Service": ...}`)."""
    value = statement.get("Principal")
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [p for v in value.values() for p in strings(v)]
    return []


def identifiers(res: Res) -> set[str]:
    """The known values other resources use to refer to `res` (id, ARN, name)."""
    found = set()
    for key in ("id", "arn", "bucket", "name"):
        value = res.props.get(key)
        if isinstance(value, str) and known(value) and value:
            found.add(value)
    return found
