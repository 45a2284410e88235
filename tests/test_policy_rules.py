"""The policy rules as a whole: every rule proven able to fail (one case per rule, in each
family's tests/test_policy_*.py), the real stacks passing every mandatory one, and the rule set
matching its documentation.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from infra.naming import REQUIRED_TAGS
from infra.review.graph import SECRET, UNKNOWN, Graph
from policy import view
from policy.rules import BY_NAME, RULES, SKIPPED
from policy.runner import evaluate, format_violation, mandatory
from tests import (
    test_policy_compute,
    test_policy_edge,
    test_policy_iam,
    test_policy_network,
    test_policy_oncall,
    test_policy_refusals,
    test_policy_services,
    test_policy_storage,
)
from tests.policy_variants import with_resources

DOCS = Path(__file__).resolve().parent.parent / "docs" / "policies.md"

FAMILIES = (
    test_policy_storage,
    test_policy_network,
    test_policy_compute,
    test_policy_iam,
    test_policy_edge,
    test_policy_oncall,
    test_policy_services,
    test_policy_refusals,
)


# Every rule's violating case: each family's test file runs its own.
CASES = [case for family in FAMILIES for case in family.CASES]


def test_every_rule_has_a_violating_case() -> None:
    assert [c.rule for c in CASES] == [r.name for r in RULES]


# --- the real stacks --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["prod", "staging", "prod_preview", "staging_preview"])
def test_real_stacks_pass_every_mandatory_rule(name: str, request: pytest.FixtureRequest) -> None:
    g: Graph = request.getfixturevalue(name)
    found = mandatory(evaluate(g))
    assert not found, "\n".join(format_violation(v) for v in found)


def test_advisory_rules_on_the_real_stacks_are_the_known_gaps(prod: Graph, staging: Graph) -> None:
    """The advisory findings the closing note reports; a new one is a decision to make."""
    known_gaps = {
        # The access-log buckets: SSE-S3 is the only default encryption the load balancers'
        # log delivery accepts, and a log bucket does not log into itself. The media buckets:
        # the edge reads them anonymously, and S3 refuses anonymous reads of SSE-KMS objects.
        "bucket-access-logging",
        "bucket-kms-encrypted",
    }
    for g in (prod, staging):
        found = evaluate(g)
        assert {v.rule for v in found} == known_gaps
        for v in found:
            assert "-access-logs" in v.urn or (
                v.rule == "bucket-kms-encrypted" and v.urn.endswith("-media")
            ), v.urn


def _unknown_leaves(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _unknown_leaves(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unknown_leaves(v) for v in value]
    return UNKNOWN


@pytest.mark.parametrize("depth", ["leaves", "whole values"])
def test_unknown_values_never_fail_a_mandatory_rule(depth: str, prod_preview: Graph) -> None:
    """A preview where nothing at all is known yet: every mandatory rule must hold back."""
    blank = (lambda v: UNKNOWN) if depth == "whole values" else _unknown_leaves
    g = with_resources(
        prod_preview,
        *(
            replace(
                r,
                inputs={k: blank(v) for k, v in r.inputs.items()},
                outputs={k: blank(v) for k, v in r.outputs.items()},
            )
            for r in prod_preview
        ),
    )
    found = mandatory(evaluate(g))
    assert not found, "\n".join(format_violation(v) for v in found)


# --- the rule set and its documentation -------------------------------------------------------


def test_rule_metadata() -> None:
    for rule in RULES:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name), rule.name
        assert rule.severity in ("mandatory", "advisory")
        assert rule.checks
        assert rule.fix
        assert (rule.resource_check is None) != (rule.stack_check is None)
        for source in rule.sources:
            assert re.fullmatch(r"CKV2?_AWS_\d+|AwsSolutions-[A-Z]+\d+", source), source


def test_skipped_checks_are_not_also_implemented() -> None:
    implemented = {s for rule in RULES for s in rule.sources}
    skipped = [s.source for s in SKIPPED]
    assert len(set(skipped)) == len(skipped)
    assert not implemented & set(skipped)
    assert all(s.reason for s in SKIPPED)


def test_the_mandatory_rules_the_issue_asks_for_are_mandatory() -> None:
    for name in (
        "database-encrypted",
        "bucket-encrypted",
        "bucket-replication-encrypted",
        "bucket-public-access-blocked",
        "bucket-versioning",
        "sg-no-world-ingress",
        "launch-template-imdsv2",
        "volumes-encrypted",
        "https-listener-tls-policy",
        "http-listener-redirects",
        "database-multi-az-in-production",
        "database-backup-retention",
        "database-deletion-protection-in-production",
        "database-not-public",
        "vpc-flow-logs",
        "required-tags",
        "stateful-protected",
        "cloudflare-ssl-strict",
        "cloudflare-min-tls",
        "cloudflare-rules-host-scoped",
        "https-listener-requires-edge-secret",
    ):
        assert BY_NAME[name].severity == "mandatory", name


@pytest.mark.parametrize("doc", [DOCS, DOCS.parent.parent / "README.md"], ids=["docs", "readme"])
def test_docs_and_readme_list_every_rule_with_its_severity(doc: Path) -> None:
    text = doc.read_text()
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len([r for r in rows if "| mandatory |" in r or "| advisory |" in r]) == len(RULES)
    for rule in RULES:
        row = next((line for line in rows if line.startswith(f"| `{rule.name}` |")), None)
        assert row is not None, f"{doc.name} has no row for {rule.name}"
        assert f"| {rule.severity} |" in row, rule.name
    # The counts in the text are the pack's.
    mandatory = sum(rule.severity == "mandatory" for rule in RULES)
    counts = re.search(r"(\d+) rules[:\s(]+(\d+) mandatory, (\d+) advisory", " ".join(text.split()))
    assert counts is not None, f"{doc.name} gives no rule counts"
    assert counts.groups() == (str(len(RULES)), str(mandatory), str(len(RULES) - mandatory))


def test_docs_list_every_rule_source_and_every_skipped_check() -> None:
    text = DOCS.read_text()
    for rule in RULES:
        row = next(
            (line for line in text.splitlines() if line.startswith(f"| `{rule.name}` |")), None
        )
        assert row is not None, f"docs/policies.md has no row for {rule.name}"
        for source in rule.sources:
            assert source in row, (rule.name, source)
    for skipped in SKIPPED:
        assert f"| {skipped.source} |" in text, skipped.source


def test_the_view_shares_the_graphs_markers_and_tags() -> None:
    assert (view.UNKNOWN, view.SECRET) == (UNKNOWN, SECRET)
    assert view.REQUIRED_TAGS == REQUIRED_TAGS
