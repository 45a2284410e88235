"""The Pulumi CLI runner: the rules as `pulumi_policy` policies (`policy/__main__.py` serves them).

Resource rules become `ResourceValidationPolicy` (the engine checks each resource before it is
created or updated); stack rules become `StackValidationPolicy` (checked once every resource is
known, so they can join a bucket to its companion resources).

What the CLI can't see, and how the rules cope (docs/policies.md says the same):

- `retain_on_delete`: the analyzer protocol carries `protect` but no retainOnDelete, so here
  `stateful-protected` judges `protect` alone (`Res.retain_on_delete` is None); the in-process
  runner checks both.
- dependencies: a resource policy gets no dependencies (stack policies do), so every rule that
  joins resources is a stack rule.
- unknowns: `pulumi_policy` raises on reading an unknown value; the adapter turns each into
  `UNKNOWN` first, so that a rule judges what is known instead of being skipped as a whole.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy import Severity as PolicySeverity
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
)
from pulumi_policy.secret import Secret

from policy.framework import MANDATORY, Rule, Stack
from policy.rules import RULES
from policy.view import SECRET, UNKNOWN, Res

PACK_NAME = "python-org"
_SENTINELS = frozenset(
    {
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_OBJECT_VALUE,
        UNKNOWN_STRING_VALUE,
    }
)
# The SDK's proxies hand their wrapped value out under this key, without the unknown check.
_TARGET = "__target"


def plain(value: Any) -> Any:
    """A property value from `pulumi_policy` as plain data, every unknown as `UNKNOWN`."""
    if isinstance(value, Secret):
        return SECRET
    if isinstance(value, Mapping):
        target = value[_TARGET] if type(value).__name__ == "_DictProxy" else value
        return {key: plain(target[key]) for key in target}
    if type(value).__name__ == "_ListProxy":
        return [plain(v) for v in value[_TARGET]]
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, str) and value in _SENTINELS:
        return UNKNOWN
    return value


def _region(props: Mapping[str, Any], provider: Any) -> str | None:
    region = props.get("region")
    if region is None and provider is not None:
        region = plain(provider.props).get("region")
    return region if isinstance(region, str) and region != UNKNOWN else None


def from_validation_args(args: ResourceValidationArgs) -> Res:
    """The rule view of what a resource policy gets: one resource, its inputs, no dependencies."""
    return _view(args, dependencies=(), parent=args.opts.parent)


def from_policy_resource(res: PolicyResource) -> Res:
    """The rule view of a resource as a stack policy gets it (its state, its dependencies)."""
    return _view(
        res,
        dependencies=tuple(d.urn for d in res.dependencies),
        parent=res.parent.urn if res.parent is not None else res.opts.parent,
    )


def _view(
    res: ResourceValidationArgs | PolicyResource,
    *,
    dependencies: tuple[str, ...],
    parent: str | None,
) -> Res:
    # The analyzer protocol carries no retainOnDelete: None means "cannot tell" to the rules.
    props = plain(res.props)
    return Res(
        type=res.resource_type,
        urn=res.urn,
        name=res.name,
        props=props,
        protect=bool(res.opts.protect),
        retain_on_delete=None,
        delete_before_replace=res.opts.delete_before_replace,
        dependencies=dependencies,
        parent=parent,
        region=_region(props, res.provider),
        aliases=tuple(res.opts.aliases),
    )


def _level(rule: Rule) -> EnforcementLevel:
    return EnforcementLevel.MANDATORY if rule.severity == MANDATORY else EnforcementLevel.ADVISORY


def _severity(rule: Rule) -> PolicySeverity:
    return PolicySeverity.HIGH if rule.severity == MANDATORY else PolicySeverity.LOW


def _resource_policy(rule: Rule) -> ResourceValidationPolicy:
    check = rule.resource_check
    assert check is not None

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if rule.types and args.resource_type not in rule.types:
            return  # not a type the rule reads: no need to convert its properties
        res = from_validation_args(args)
        if rule.matches(res):
            for finding in check(res):
                report(rule.message(finding), args.urn)

    return ResourceValidationPolicy(
        name=rule.name,
        description=rule.checks,
        validate=validate,
        enforcement_level=_level(rule),
        severity=_severity(rule),
        remediation_steps=rule.fix,
        tags=list(rule.sources) or None,
    )


_last_stack: tuple[weakref.ref[StackValidationArgs], Stack] | None = None


def _stack_of(args: StackValidationArgs) -> Stack:
    """The rule view of the whole stack, converted once for all stack policies that get the same
    arguments object (no rule changes it). pulumi-policy 1.21 builds new arguments for each
    policy, so under the CLI every policy converts its own; callers that pass one object to
    every policy (tests/test_policy_pack.py) convert it once."""
    global _last_stack  # noqa: PLW0603 (a one-entry cache)
    if _last_stack is not None and _last_stack[0]() is args:
        return _last_stack[1]
    stack = Stack(from_policy_resource(r) for r in args.resources)
    _last_stack = (weakref.ref(args), stack)
    return stack


def _stack_policy(rule: Rule) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        for urn, message in rule.run(_stack_of(args)):
            report(message, urn)

    return StackValidationPolicy(
        name=rule.name,
        description=rule.checks,
        validate=validate,
        enforcement_level=_level(rule),
        severity=_severity(rule),
        remediation_steps=rule.fix,
        tags=list(rule.sources) or None,
    )


def policies() -> list[Policy]:
    """One policy per rule, in rule order."""
    return [_resource_policy(r) if r.kind == "resource" else _stack_policy(r) for r in RULES]
