"""The rules over every resource, whatever its service: the data-loss guards and the tags.

Every stateful resource is protected and retained on delete (`stateful-protected`); every
taggable AWS resource carries the required tags, whose `environment` the production-only rules
read (`required-tags`).
"""

from __future__ import annotations

from collections.abc import Iterator

from policy import tokens as tk
from policy.framework import MANDATORY, Registry
from policy.view import ENVIRONMENTS, REQUIRED_TAGS, Res, known, tags

rules = Registry()


@rules.resource(
    "stateful-protected",
    MANDATORY,
    types=tk.STATEFUL,
    checks="Every stateful resource (database, bucket, KMS key, volume, ...) is `protect`ed and "
    "`retain_on_delete`",
    fix="declare it with pulumi.ResourceOptions(protect=True, retain_on_delete=True); removing "
    "it is then the explicit step in docs/policies.md",
    sources=(),
)
def stateful_protected(res: Res) -> Iterator[str]:
    if not res.protect:
        yield "it is not protected: a code change could delete it"
    if res.retain_on_delete is False:
        yield "it is not retain_on_delete: a delete would destroy it in AWS, not only in state"


@rules.resource(
    "required-tags",
    MANDATORY,
    applies=lambda res: res.type.startswith("aws:"),
    checks=f"Every taggable AWS resource carries {', '.join(REQUIRED_TAGS)}, with environment "
    f"one of {'/'.join(ENVIRONMENTS)}",
    fix="build tags with infra.naming.tags(base_tags, ...) (base_tags gives every required key)",
    sources=(),
)
def required_tags(res: Res) -> Iterator[str]:
    found = tags(res)
    if found is None:
        if "tags" not in res.props and "tagsAll" not in res.props and res.type in tk.TAGGABLE:
            yield "the resource has no tags"
        return  # no tags, or tags not known yet
    missing = [t for t in REQUIRED_TAGS if t not in found]
    if missing:
        yield f"tags lack {', '.join(missing)}"
    env = found.get("environment")
    if known(env) and env not in ENVIRONMENTS:
        yield f"environment tag {env!r} is not one of {', '.join(ENVIRONMENTS)}"
