"""Rules and the stack they are evaluated against.

A rule is a plain function plus its metadata. Two shapes:

- a *resource rule* looks at one resource of the types it names and yields what is wrong with
  it (the CLI runs these as `ResourceValidationPolicy`, before each resource is created);
- a *stack rule* looks at the whole stack, for the checks that join resources (a bucket and its
  companion resources, a security group and its rule resources, a VPC and its flow log), and
  yields `(urn, what is wrong)` (the CLI runs these as `StackValidationPolicy`).

Each finding becomes a violation whose message is the finding followed by the rule's fix.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from policy.view import Res, dig, identifiers, items, known

Severity = Literal["mandatory", "advisory"]
MANDATORY: Severity = "mandatory"
ADVISORY: Severity = "advisory"

ResourceCheck = Callable[[Res], Iterable[str]]
StackCheck = Callable[["Stack"], Iterable[tuple[str, str]]]


@dataclass(frozen=True)
class Rule:
    name: str
    severity: Severity
    checks: str  # what the rule checks, one sentence (the README and docs table)
    fix: str  # what to change, appended to every finding
    sources: tuple[str, ...]  # the checkov / cdk-nag ids it implements; none for our own
    # Cloud refusals: the document that says the cloud refuses what the rule refuses.
    document: str = ""
    types: tuple[str, ...] = ()  # resource rules: the types it looks at...
    applies: Callable[[Res], bool] | None = None  # ...or, without types, a predicate
    resource_check: ResourceCheck | None = None
    stack_check: StackCheck | None = None

    @property
    def kind(self) -> Literal["resource", "stack"]:
        return "resource" if self.resource_check is not None else "stack"

    def matches(self, res: Res) -> bool:
        if self.types:
            return res.type in self.types
        return self.applies is not None and self.applies(res)

    def message(self, finding: str) -> str:
        return f"{finding}. Fix: {self.fix}"

    def run(self, stack: Stack) -> Iterator[tuple[str, str]]:
        """(urn, message) for every violation in `stack`."""
        if self.resource_check is not None:
            candidates = stack.of_type(*self.types) if self.types else stack.resources
            for res in filter(self.matches, candidates):
                for finding in self.resource_check(res):
                    yield res.urn, self.message(finding)
        elif self.stack_check is not None:
            for urn, finding in self.stack_check(stack):
                yield urn, self.message(finding)


class Registry:
    """Collects rules in declaration order; the decorators return the function unchanged."""

    def __init__(self) -> None:
        self.rules: list[Rule] = []

    def resource(
        self,
        name: str,
        severity: Severity,
        *,
        types: Sequence[str] = (),
        applies: Callable[[Res], bool] | None = None,
        checks: str,
        fix: str,
        sources: Sequence[str] = (),
        document: str = "",
    ) -> Callable[[ResourceCheck], ResourceCheck]:
        if bool(types) == (applies is not None):
            raise ValueError(f"rule {name}: give either types or applies")

        def register(check: ResourceCheck) -> ResourceCheck:
            self.rules.append(
                Rule(
                    name,
                    severity,
                    checks,
                    fix,
                    tuple(sources),
                    document,
                    tuple(types),
                    applies,
                    resource_check=check,
                )
            )
            return check

        return register

    def stack(
        self,
        name: str,
        severity: Severity,
        *,
        checks: str,
        fix: str,
        sources: Sequence[str] = (),
        document: str = "",
    ) -> Callable[[StackCheck], StackCheck]:
        def register(check: StackCheck) -> StackCheck:
            self.rules.append(
                Rule(name, severity, checks, fix, tuple(sources), document, stack_check=check)
            )
            return check

        return register


class Stack:
    """Every resource of a stack, indexed for the joins stack rules make."""

    def __init__(self, resources: Iterable[Res]) -> None:
        self.resources = list(resources)
        self.by_urn = {r.urn: r for r in self.resources}
        self._by_type: dict[str, list[Res]] = defaultdict(list)
        for res in self.resources:
            self._by_type[res.type].append(res)

    def of_type(self, *types: str) -> list[Res]:
        return [r for t in types for r in self._by_type.get(t, [])]

    def referenced(self, res: Res, prop: str, types: Sequence[str]) -> list[Res]:
        """The resources of `types` that `res` points at through the property at `prop` (a
        dotted path; the value one id, ARN or name, or a list of them).

        By value where both sides are known; otherwise, as in a preview, by `res`'s
        dependencies, which the engine records whether or not values are known."""
        value = dig(res.props, *prop.split("."))
        values = [value] if isinstance(value, str) else items(value)
        wanted = {v for v in values if isinstance(v, str) and known(v) and v}
        by_value = bool(values) and len(wanted) == len(values)
        deps = set(res.dependencies)
        found = []
        for candidate in self.of_type(*types):
            ids = identifiers(candidate)
            if by_value and ids:
                if ids & wanted:
                    found.append(candidate)
            elif candidate.urn in deps:
                found.append(candidate)
        return found

    def companions(self, target: Res, types: Sequence[str], prop: str) -> list[Res]:
        """The resources of `types` that point at `target` through their `prop`.

        A companion whose `prop` is known matches by value only (so a stray dependency can't
        attach it to the wrong resource), where `target`'s own identifiers are known too;
        otherwise it matches by dependency."""
        ids = identifiers(target)
        found = []
        for companion in self.of_type(*types):
            value = companion.props.get(prop)
            if isinstance(value, str) and known(value) and value and ids:
                if value in ids:
                    found.append(companion)
            elif target.urn in companion.dependencies:
                found.append(companion)
        return found
