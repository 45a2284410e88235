"""The JSON form of a stack's diff (its shape: infra/data/plan-diff.schema.json), as
`scripts/preview --base --format json` prints it through `infra.review.render_diff`."""

from __future__ import annotations

from typing import Any

from infra.review.diff.display import holds_placeholder
from infra.review.diff.model import ABSENT, COMPUTED, Change, Danger, PropertyChange, StackDiff
from infra.review.placeholders import Placeholders


def to_dict(diff: StackDiff) -> dict[str, Any]:
    """The JSON form of a stack's diff (its shape: infra/data/plan-diff.schema.json). Values are
    as synthesized, secrets masked; `placeholder` flags a value that holds what the mocks
    invented, `secretChanged` a masked value that changed."""
    return {
        "stack": diff.stack,
        "base": diff.base,
        "head": diff.head,
        "preview": diff.preview,
        "error": diff.error,
        "summary": {**diff.counts(), "unchanged": diff.unchanged},
        "regions": {
            region: dict(diff.counts(region))
            for region in diff.regions
            if diff.counts(region).total()
        },
        "dangers": [{"urn": c.urn, "kind": c.kind.value, **_danger(d)} for c, d in diff.dangers()],
        "changes": [_change(c, diff.placeholders) for c in diff.changes],
        "outputs": [_property(p, diff.placeholders) for p in diff.outputs],
    }


def _change(c: Change, placeholders: Placeholders) -> dict[str, Any]:
    return {
        "kind": c.kind.value,
        "urn": c.urn,
        "type": c.type,
        "name": c.name,
        "region": c.region,
        "component": c.component,
        "protected": c.protected,
        **({"stateful": c.stateful} if c.stateful else {}),
        **({"previousUrn": c.previous_urn} if c.previous_urn else {}),
        "why": {
            "replaceReasons": list(c.replace_reasons),
            "causedBy": list(c.caused_by),
        },
        "properties": [_property(p, placeholders) for p in c.properties],
        "options": [_property(p, placeholders) for p in c.options],
        "dangers": [_danger(d) for d in c.dangers],
    }


def _property(p: PropertyChange, placeholders: Placeholders) -> dict[str, Any]:
    out: dict[str, Any] = {"path": p.path}
    if p.old is not ABSENT:
        out["old"] = p.old
    if p.new is not ABSENT:
        out["new"] = p.new
    if p.new == COMPUTED:
        out["computed"] = True
    if p.forces_replacement:
        out["forcesReplacement"] = True
    if p.conditional:
        out["mayForceReplacement"] = True
    if p.ignored:
        out["ignored"] = True
    if p.computed_from:
        out["computedFrom"] = list(p.computed_from)
    if p.secret_changed:
        out["secretChanged"] = True
    if holds_placeholder(p.old, placeholders) or holds_placeholder(p.new, placeholders):
        out["placeholder"] = True
    return out


def _danger(d: Danger) -> dict[str, Any]:
    return {
        "class": d.danger_class.value,
        "code": d.code.value,
        "message": d.message,
        "remedy": d.remedy,
    }
