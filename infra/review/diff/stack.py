"""`diff_graphs`: the plan diff of a stack from one synthesized graph to another.

Matches the custom resources (`matching`), compares each pair (`compare`; providers first: a
replaced provider replaces what it manages), lets unknowns propagate (`cascade`), adds the
dangers (`dangers`), and sorts the changes by region, component, type and name.
"""

from __future__ import annotations

from infra.review.diff.cascade import propagate
from infra.review.diff.compare import compare_resource
from infra.review.diff.dangers import DangerContext, with_dangers
from infra.review.diff.matching import match_resources
from infra.review.diff.model import ABSENT, Change, Kind, PropertyChange, StackDiff, change_of
from infra.review.diff.values import diff_values
from infra.review.graph import SECRET, UNKNOWN, Graph, Resource
from infra.review.placeholders import Placeholders
from infra.review.plan import short_type, sort_regions


def diff_graphs(old: Graph, new: Graph, *, base: str = "base", head: str = "head") -> StackDiff:
    """What changes from `old` to `new` (two syntheses of one stack)."""
    olds = {r.urn: r for r in old if r.custom}
    news = {r.urn: r for r in new if r.custom}
    matched = match_resources(old, new)
    pairs = {n: o for n, o in matched.items() if n in news and o in olds}  # new URN -> old URN
    taken = set(pairs.values())
    renamed = {old_urn: new_urn for new_urn, old_urn in pairs.items()}

    changes: dict[str, Change] = {}
    # Providers first: a replaced provider replaces what it manages.
    for new_urn in sorted(pairs, key=lambda u: not news[u].is_provider):
        change = compare_resource(new, olds[pairs[new_urn]], news[new_urn], renamed, changes)
        if change is not None:
            changes[new_urn] = change
    for urn, res in news.items():
        if urn not in pairs:
            changes[urn] = change_of(Kind.CREATE, new, res, properties=_created_props(res))
    propagate(new, olds, pairs, changes)
    unchanged = sum(1 for u in pairs if u not in changes)
    production = _environment(new) == "production" or _environment(old) == "production"
    context = DangerContext(old, new, news, production)
    for urn, change in list(changes.items()):
        changes[urn] = with_dangers(change, olds.get(pairs.get(urn, "")), news[urn], context)
    for urn, res in olds.items():
        if urn not in taken:
            changes[urn] = with_dangers(change_of(Kind.DELETE, old, res), res, None, context)

    regions = sort_regions({c.region for c in changes.values()}, new, old)
    position = {r: i for i, r in enumerate(regions)}
    result = sorted(
        changes.values(), key=lambda c: (position[c.region], c.component, c.type, c.name, c.urn)
    )
    return StackDiff(
        stack=new.stack or old.stack,
        base=base,
        head=head,
        changes=result,
        outputs=diff_values(old.outputs, new.outputs),
        unchanged=unchanged,
        preview=new.preview,
        regions=regions,
        placeholders=_placeholders(old, new),
    )


def _created_props(res: Resource) -> tuple[PropertyChange, ...]:
    """Top-level inputs of a created resource (shown whole, not flattened)."""
    return tuple(PropertyChange(p, ABSENT, v) for p, v in sorted(res.inputs.items()))


def _environment(graph: Graph) -> str | None:
    """The stack's environment, as its resources are tagged."""
    for res in graph:
        tags = res.inputs.get("tags")
        if isinstance(tags, dict) and isinstance(tags.get("environment"), str):
            return str(tags["environment"])
    return None


def _placeholders(old: Graph, new: Graph) -> Placeholders:
    """What the mocks invented in either graph, as the synthesis recorded it; for a graph of a
    revision that predates that record, its resources' mocked ids and ARNs."""
    records: list[dict[str, str]] = [new.placeholders, old.placeholders]
    for graph in (new, old):
        if graph.placeholders:
            continue
        found: dict[str, str] = {}
        for res in graph:
            for key in ("id", "arn"):
                value = res.outputs.get(key)
                if isinstance(value, str) and len(value) > 3 and value not in (UNKNOWN, SECRET):
                    found.setdefault(value, f"{short_type(res.type)} {res.name}")
        records.append(found)
    return Placeholders.merged(records)
