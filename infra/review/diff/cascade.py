"""Unknowns propagate down the graph, as `pulumi preview` shows them.

An input computed from a resource that the diff creates or replaces (the synthesis records each
input's `propertyDependencies`) changes to `COMPUTED`, "known after apply"; if that input forces a
replacement, the dependent resource is replaced too, and so on down the graph.
"""

from __future__ import annotations

import dataclasses

from infra.review import replacement_data
from infra.review.diff.model import (
    ABSENT,
    COMPUTED,
    Change,
    Kind,
    PropertyChange,
    change_of,
    top_level,
)
from infra.review.diff.values import matches
from infra.review.graph import Graph, Resource


def propagate(
    new_graph: Graph,
    olds: dict[str, Resource],
    pairs: dict[str, str],
    changes: dict[str, Change],
) -> None:
    """Unknowns down the graph, as `pulumi preview` shows them: an input computed from a
    resource this diff creates or replaces is known only after apply; if it forces a
    replacement, its resource is replaced, and what is computed from that in turn."""
    dependents: dict[str, list[str]] = {}
    for res in new_graph:
        for deps in res.property_dependencies.values():
            for dep in deps:
                dependents.setdefault(dep, []).append(res.urn)
    pending = sorted(u for u, c in changes.items() if c.kind in (Kind.CREATE, Kind.REPLACE))
    while pending:
        cause = pending.pop(0)
        for urn in sorted(set(dependents.get(cause, ()))):
            if urn not in pairs:
                continue  # created: every input is new anyway
            before = changes.get(urn)
            if before is not None and before.kind is Kind.REPLACE and cause in before.caused_by:
                continue
            after = _computed_change(new_graph, olds[pairs[urn]], urn, cause, before, changes)
            if after is None or after is before:
                continue
            changes[urn] = after
            if after.kind is Kind.REPLACE and urn not in pending:
                pending.append(urn)


def _computed_change(
    graph: Graph,
    old: Resource,
    urn: str,
    cause: str,
    before: Change | None,
    changes: dict[str, Change],
) -> Change | None:
    res = graph.get(urn)
    rule = replacement_data.rule_for(res.type)
    cause_change = changes[cause]
    known = {p.path for p in before.properties} if before else set()
    props = list(before.properties) if before else []
    reasons = list(before.replace_reasons) if before else []
    added = False
    for key, deps in sorted(res.property_dependencies.items()):
        detailed = any(top_level(k) == key for k in known)
        if cause in deps and detailed:
            added = True  # already shown changing: one more resource it comes from
            continue
        if cause not in deps or key in known or matches(key, res.ignore_changes):
            continue
        patterns = rule.replace if rule else ()
        maybe = rule.conditional if rule else ()
        forces = any(replacement_data.overlaps(key, p) for p in patterns) or matches(
            key, res.replace_on_changes
        )
        props.append(
            PropertyChange(
                key,
                old.inputs.get(key, ABSENT),
                COMPUTED,
                forces_replacement=forces,
                conditional=not forces and any(replacement_data.overlaps(key, p) for p in maybe),
                computed_from=(cause,),
            )
        )
        known.add(key)
        added = True
        if forces:
            reasons.append(f"{key} ({cause_change.kind.value}d {cause_change.label})")
    if not added:
        return before
    caused_by = tuple(dict.fromkeys([*(before.caused_by if before else ()), cause]))
    props.sort(key=lambda p: p.path)
    if before is None:
        return change_of(
            Kind.REPLACE if reasons else Kind.UPDATE,
            graph,
            res,
            properties=tuple(props),
            replace_reasons=tuple(reasons),
            caused_by=caused_by,
            previous_urn=old.urn if old.urn != urn else None,
        )
    return dataclasses.replace(
        before,
        kind=Kind.REPLACE if reasons else before.kind,
        properties=tuple(props),
        replace_reasons=tuple(reasons),
        caused_by=caused_by,
    )
