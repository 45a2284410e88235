"""The in-process runner: every rule over a synthesized graph, no CLI, no credentials.

`scripts/validate` and the tests call `evaluate(graph)`; the Pulumi CLI runs the very same
rule functions through `policy/__main__.py`. A mandatory violation fails validation; an
advisory one is a warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from infra.review.graph import Graph, Resource
from policy.framework import Rule, Severity, Stack
from policy.rules import RULES
from policy.view import Res


@dataclass(frozen=True)
class Violation:
    rule: str  # rule name
    severity: Severity  # "mandatory" | "advisory"
    urn: str
    message: str  # what is wrong and what to change


def from_graph(res: Resource) -> Res:
    """The rule view of a graph resource.

    Properties are the inputs over the outputs: the declared values as the program gave them,
    with what only the provider knows (id, ARN, a generated bucket name) filled in, which is
    also what the CLI's stack policies see."""
    return Res(
        type=res.type,
        urn=res.urn,
        name=res.name,
        props={**res.outputs, **res.inputs},
        protect=res.protect,
        retain_on_delete=res.retain_on_delete,
        delete_before_replace=res.delete_before_replace,
        dependencies=res.dependencies,
        parent=res.parent,
        region=res.region,
        aliases=res.aliases,
    )


def evaluate(graph: Graph, *, rules: Sequence[Rule] = RULES) -> list[Violation]:
    """Every violation of `rules` in `graph`: mandatory first, then by rule and URN."""
    stack = Stack(from_graph(r) for r in graph)
    found = {
        Violation(rule.name, rule.severity, urn, message)
        for rule in rules
        for urn, message in rule.run(stack)
    }
    order = {rule.name: i for i, rule in enumerate(rules)}
    return sorted(found, key=lambda v: (v.severity != "mandatory", order[v.rule], v.urn, v.message))


def mandatory(violations: Sequence[Violation]) -> list[Violation]:
    return [v for v in violations if v.severity == "mandatory"]


def format_violation(v: Violation) -> str:
    """One violation for a terminal: severity, rule, resource, then what to change."""
    return f"[{v.severity}] {v.rule}: {v.urn}\n    {v.message}"
