"""Variants of the synthesized prod graph for the policy rule tests (tests/test_policy_*.py).

Violating graphs are copies of the synthesized prod graph with one resource changed (or added,
or removed): for each rule, the unchanged graph (or one where every resource of the kind is made
compliant first) passes, and the one-resource change makes it fail. Each family's test file
holds its `CASES`, one per rule, in the order of `policy.rules.RULES`.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from infra.review.graph import Graph, Resource
from policy import tokens as tk
from policy.rules import BY_NAME
from policy.runner import Violation, evaluate

HOME = "us-east-2"

# --- building variants of a graph -------------------------------------------------------------

Edit = Callable[[dict[str, Any]], None]


def with_resources(g: Graph, *resources: Resource, drop: tuple[str, ...] = ()) -> Graph:
    found = {urn: r for urn, r in g.resources.items() if urn not in drop}
    found.update({r.urn: r for r in resources})
    return Graph(g.project, g.stack, found, g.outputs, g.preview)


def _edited(res: Resource, edit: Edit | None, **fields: Any) -> Resource:
    inputs = copy.deepcopy(res.inputs)
    if edit is not None:
        edit(inputs)
    # The runner reads inputs over outputs: drop the outputs that merely echo the old inputs,
    # keep the computed ones (id, ARN, generated names).
    outputs = {k: v for k, v in res.outputs.items() if k not in res.inputs}
    return replace(res, inputs=inputs, outputs=outputs, **fields)


def change(g: Graph, type_: str, name: str, edit: Edit | None = None, **fields: Any) -> Graph:
    """`g` with the resource `type_`/`name` changed by `edit` (on its inputs) and `fields`."""
    return with_resources(g, _edited(g.one(type_, name), edit, **fields))


def change_all(g: Graph, type_: str, edit: Edit) -> Graph:
    return with_resources(g, *(_edited(r, edit) for r in g.of_type(type_)))


def remove(g: Graph, type_: str, name: str) -> Graph:
    return with_resources(g, drop=(g.one(type_, name).urn,))


def add(
    g: Graph,
    type_: str,
    name: str,
    inputs: dict[str, Any],
    *,
    parent: str | None = None,
    dependencies: tuple[str, ...] = (),
) -> Graph:
    qualified = type_ if parent is None else f"{parent.split('::')[2]}${type_}"
    res = Resource(
        urn=f"urn:pulumi:{g.stack}::{g.project}::{qualified}::{name}",
        type=type_,
        name=name,
        custom=True,
        parent=parent,
        provider=None,
        inputs={"tags": _tags(g), **inputs},
        dependencies=dependencies,
        region=HOME,
    )
    return with_resources(g, res)


def _tags(g: Graph) -> dict[str, str]:
    return dict(g.one(tk.VPC, f"{HOME}-vpc").inputs["tags"])


def setter(**values: Any) -> Edit:
    def edit(inputs: dict[str, Any]) -> None:
        inputs.update(values)

    return edit


def unsetter(*keys: str) -> Edit:
    def edit(inputs: dict[str, Any]) -> None:
        for key in keys:
            inputs.pop(key, None)

    return edit


def policy_doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def violations(g: Graph, rule: str) -> list[Violation]:
    return evaluate(g, rules=[BY_NAME[rule]])


# --- one violating change per rule ------------------------------------------------------------

Build = Callable[[Graph], Graph]


@dataclass(frozen=True)
class Case:
    rule: str
    breaks: Build  # the graph made compliant (by `fix`, if any) changed to violate the rule
    fix: Build | None = None  # for advisory rules the real stacks don't meet yet


DB = (tk.RDS_INSTANCE, f"{HOME}-db")
REPLICA = (tk.RDS_INSTANCE, "eu-west-1-db")
MEDIA = f"{HOME}-media"
PARAMS = (tk.RDS_PARAMETER_GROUP, f"{HOME}-db")
ALB_SG = (tk.SECURITY_GROUP, f"{HOME}-web-alb")
LT = (tk.LAUNCH_TEMPLATE, f"{HOME}-web")
ASG = (tk.ASG, f"{HOME}-web")
ALB = (tk.LOAD_BALANCER, f"{HOME}-alb")
CERT = (tk.CERTIFICATE, f"{HOME}-site")
WEB_POLICY = (tk.ROLE_POLICY, f"{HOME}-web")
ROLE = (tk.ROLE, f"{HOME}-web")
KEY = (tk.KMS_KEY, f"{HOME}-db-key")
LOGS = (tk.LOG_GROUP, f"{HOME}-flow-logs")
SECRET_RES = (tk.SM_SECRET, f"{HOME}-app")
BEAT = (tk.ASG, f"{HOME}-beat")
REDIS = (tk.ELASTICACHE_GROUP, f"{HOME}-redis")
SEARCH = (tk.OPENSEARCH_DOMAIN, f"{HOME}-search")


def nested(path: tuple[str | int, ...], value: Any) -> Edit:
    def edit(inputs: dict[str, Any]) -> None:
        target: Any = inputs
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return edit


def refresh(**preferences: int) -> Edit:
    def edit(inputs: dict[str, Any]) -> None:
        inputs["instanceRefresh"]["preferences"].update(preferences)

    return edit


def assert_fails_on_its_change(case: Case, prod: Graph) -> None:
    """`case.rule` passes the compliant graph and fails its changed copy, every finding carrying
    the rule's name, severity and fix (pytest does not rewrite asserts here: each names what failed)."""
    compliant = case.fix(prod) if case.fix else prod
    before = violations(compliant, case.rule)
    assert before == [], before
    found = violations(case.breaks(compliant), case.rule)
    assert found, f"{case.rule} did not notice the change"
    rule = BY_NAME[case.rule]
    for v in found:
        assert v.rule == rule.name, v
        assert v.severity == rule.severity, v
        assert v.urn.startswith("urn:pulumi:prod::python-org::"), v
        assert "Fix: " in v.message, v
        assert v.message.endswith(rule.fix), v
