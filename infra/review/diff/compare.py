"""One resource in both graphs: which inputs and options changed, and whether that replaces it.

Replacements come from the providers' own schemas (`infra.review.replacement_data`: each
type's `ForceNew` / `RequiresReplace` paths, and the `conditional` ones a provider function
decides), and Pulumi's own rules on top: a changed or replaced provider, the resource's
`replaceOnChanges`. Inputs in `ignoreChanges` are shown, marked ignored, and never replace.
A masked value changes when its keyed digest does (both graphs recorded under one key).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from infra.review import replacement_data
from infra.review.diff.model import (
    ABSENT,
    Change,
    Kind,
    PropertyChange,
    change_of,
    top_level,
)
from infra.review.diff.values import leaf_changes, matches
from infra.review.graph import SECRET, Graph, Resource


def _changed_secrets(old: Resource, new: Resource) -> list[str]:
    """Input paths masked on both sides whose keyed digests differ: a secret value changed.
    Only where both syntheses recorded a digest (under the same per-run key)."""
    before, after = old.secret_digests, new.secret_digests
    return sorted(
        path
        for path in before.keys() & after.keys()
        if before[path] != after[path]
        and _at_path(old.inputs, path) == SECRET
        and _at_path(new.inputs, path) == SECRET
    )


def _at_path(tree: Any, path: str) -> Any:
    """The value at a concrete property path (`a.b[0]["c.d"]`), or ABSENT."""
    for seg in replacement_data.segments(path):
        if seg.startswith("["):
            inner = seg[1:-1]
            if isinstance(tree, list) and inner.isdigit() and int(inner) < len(tree):
                tree = tree[int(inner)]
                continue
            key = json.loads(inner) if inner.startswith('"') else inner
        else:
            key = seg
        if not isinstance(tree, dict) or key not in tree:
            return ABSENT
        tree = tree[key]
    return tree


# What a read replica takes from its source (RDS API CreateDBInstanceReadReplica: the engine,
# the database name and master user, the encryption; the program declares none of them on a
# replica). Promoting the replica to a primary in the program (`replicateSourceDb` removed)
# declares them, with the source's values: the state holds those already (the provider reads
# them back: Optional + Computed), so the real preview shows an update. Offline the old value is
# unknown: such a path may force a replacement (conditional), it does not surely.
REPLICA_INHERITS: dict[str, frozenset[str]] = {
    "aws:rds/instance:Instance": frozenset(
        {"engine", "engineVersion", "dbName", "username", "storageEncrypted", "kmsKeyId"}
    ),
}


def _inherited(old: Resource, new: Resource, pattern: str) -> bool:
    """Whether `pattern` is unset on a replica that `new` promotes, and inherited from the
    replica's source (its value in the state is the source's, not known offline)."""
    return (
        pattern in REPLICA_INHERITS.get(new.type, ())
        and old.inputs.get("replicateSourceDb") not in (None, ABSENT)
        and new.inputs.get("replicateSourceDb") in (None, ABSENT)
        and _at_path(old.inputs, pattern) in (None, ABSENT)
    )


def _forced_paths(
    rule: replacement_data.Rule | None,
    old: Resource,
    new: Resource,
    secrets: Sequence[str] = (),
) -> tuple[list[str], list[str]]:
    """The replacement-forcing (and the conditional) paths whose values differ (a masked value
    differs when its digest does: `secrets`)."""
    forced: list[str] = []
    maybe: list[str] = []
    patterns = [(p, False) for p in (rule.replace if rule else ())]
    patterns += [(p, True) for p in (rule.conditional if rule else ())]
    for pattern, conditional in patterns:
        if matches(pattern, new.ignore_changes):
            continue
        before = replacement_data.values_at(old.inputs, pattern)
        after = replacement_data.values_at(new.inputs, pattern)
        if before != after or any(replacement_data.overlaps(p, pattern) for p in secrets):
            surely = not conditional and not _inherited(old, new, pattern)
            (forced if surely else maybe).append(pattern)
    return forced, maybe


def compare_resource(
    new_graph: Graph,
    old: Resource,
    new: Resource,
    renamed: dict[str, str],
    done: dict[str, Change],
) -> Change | None:
    """The change of a resource in both graphs, or None: its inputs' and options' changes, and
    what replaces it (`renamed`: old URN -> new URN of every matched resource; `done`: the
    changes found so far, providers first)."""
    rule = replacement_data.rule_for(new.type)
    secrets = _changed_secrets(old, new)
    forced, maybe = _forced_paths(rule, old, new, secrets)
    props: list[PropertyChange] = []
    reasons: list[str] = []
    changed = leaf_changes(old.inputs, new.inputs) + [(p, SECRET, SECRET) for p in secrets]
    for path, before, after in sorted(changed, key=lambda c: c[0]):
        ignored = matches(path, new.ignore_changes)
        by_rule = [p for p in forced if replacement_data.overlaps(path, p)]
        by_option = not ignored and matches(path, new.replace_on_changes)
        props.append(
            PropertyChange(
                path,
                before,
                after,
                forces_replacement=not ignored and bool(by_rule or by_option),
                ignored=ignored,
                conditional=not ignored and any(replacement_data.overlaps(path, p) for p in maybe),
                secret_changed=path in secrets,
            )
        )
        if by_option and top_level(path) not in reasons:
            reasons.append(top_level(path))
    for pattern in forced:
        reason = pattern.replace("[*]", "[]")
        if reason not in reasons:
            reasons.append(reason)

    options: list[PropertyChange] = []
    for name, before, after in (
        ("protect", old.protect, new.protect),
        ("retainOnDelete", old.retain_on_delete, new.retain_on_delete),
        ("deleteBeforeReplace", old.delete_before_replace, new.delete_before_replace),
        ("ignoreChanges", list(old.ignore_changes), list(new.ignore_changes)),
        ("replaceOnChanges", list(old.replace_on_changes), list(new.replace_on_changes)),
    ):
        if before != after:
            options.append(PropertyChange(name, before, after))
    # Through an alias the provider may be the same one under a new name.
    if (
        old.provider != new.provider
        and renamed.get(old.provider or "", old.provider) != new.provider
    ):
        options.append(
            PropertyChange("provider", _short_urn(old.provider), _short_urn(new.provider))
        )
        reasons.append("provider changed")
    provider_change = done.get(new.provider or "")
    if provider_change is not None and provider_change.kind is Kind.REPLACE:
        reasons.append(f"provider {provider_change.name} replaced")

    previous = old.urn if old.urn != new.urn else None
    if not props and not options and not reasons and previous is None:
        return None
    return change_of(
        Kind.REPLACE if reasons else Kind.UPDATE,
        new_graph,
        new,
        properties=tuple(props),
        options=tuple(options),
        replace_reasons=tuple(reasons),
        previous_urn=previous,
    )


def _short_urn(urn: str | None) -> str:
    return _urn_name(urn) if urn else "(default)"


def _urn_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]
