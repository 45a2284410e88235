"""What an application load balancer listener does with a request, from its declared rules.

The semantics are the ones the AWS provider documents for `aws.lb.ListenerRule` (pulumi_aws
lb.ListenerRuleConditionHttpHeaderArgs): rules are tried in ascending priority, a rule matches
when all its conditions do, and the listener's default actions apply when none matches. An
http-header condition matches when the header (name compared case-insensitively) carries a value
matching one of its patterns (case-insensitive, `*` any run of characters, `?` one character).
Only the condition kinds the stacks use are modelled; any other kind fails loudly.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from typing import Any


def _matches(pattern: str, value: str) -> bool:
    # fnmatch also reads [...] as a class; ALB patterns have no classes, so escape them.
    translated = fnmatch.translate(pattern.lower().replace("[", "[[]"))
    return re.fullmatch(translated, value.lower()) is not None


def _condition(condition: Mapping[str, Any], headers: Mapping[str, str]) -> bool:
    kinds = set(condition) - {"httpHeader"}
    if kinds:
        raise NotImplementedError(f"listener condition kinds not modelled: {sorted(kinds)}")
    spec = condition["httpHeader"]
    name = spec["httpHeaderName"].lower()
    sent = [v for k, v in headers.items() if k.lower() == name]
    return any(_matches(p, v) for p in spec["values"] for v in sent)


def route(
    default_actions: Sequence[Mapping[str, Any]],
    rules: Sequence[Mapping[str, Any]],
    headers: Mapping[str, str],
) -> Mapping[str, Any]:
    """The first action the listener takes for a request with `headers`."""
    for rule in sorted(rules, key=lambda r: int(r["priority"])):
        if all(_condition(c, headers) for c in rule["conditions"]):
            return dict(rule["actions"][0])
    return dict(default_actions[0])
