"""Which resource of the new graph is which of the old: by URN, by the aliases the program
wrote, and by the aliases a child inherits from a parent that moved (as the engine does)."""

from __future__ import annotations

from infra.review.graph import Graph


def match_resources(old: Graph, new: Graph) -> dict[str, str]:
    """New URN -> old URN of the same resource: the same URN, else one of its aliases, else the
    alias it inherits from a parent that moved (the engine gives children their parent's
    aliases; the recorded graph has only the aliases the program wrote). Parents come before
    their children in registration order, so a parent is matched first."""
    pairs: dict[str, str] = {}
    taken: set[str] = set()
    for urn, res in new.resources.items():
        candidates = [urn, *res.aliases]
        parent_was = pairs.get(res.parent) if res.parent else None
        if res.parent and parent_was and parent_was != res.parent:
            candidates.append(_child_urn(parent_was, res.type, res.name))
        for candidate in candidates:
            # An alias never takes a URN that still exists: that one is its own resource.
            if (
                candidate in old.resources
                and candidate not in taken
                and (candidate == urn or candidate not in new.resources)
            ):
                pairs[urn] = candidate
                taken.add(candidate)
                break
    return pairs


def _child_urn(parent: str, type_: str, name: str) -> str:
    """The URN of a child of `parent` (the engine's rule: the parent's type chain, then the
    child's type; the stack is not part of the chain)."""
    head, _, rest = parent.partition("::")  # urn:pulumi:<stack>
    project, qualified, _ = rest.split("::", 2)
    return f"{head}::{project}::{qualified}${type_}::{name}"
