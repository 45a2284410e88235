"""The Pulumi CLI runner: the same rules through `pulumi_policy`, fed what the engine would send.

The in-process runner and the pack must find the same violations in the same graph; the one
thing the CLI can't see (retain_on_delete) is pinned down here too. The last tests start the
pack the way the CLI does (`python policy/`) and talk to it over the analyzer protocol.
"""

from __future__ import annotations

import contextlib
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc  # type: ignore[import-untyped]  # (no stubs; only the channel is used)
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from infra.review.graph import UNKNOWN, Graph, Resource
from policy import tokens as tk
from policy.pack import PACK_NAME, from_policy_resource, plain, policies
from policy.rules import RULES
from policy.runner import evaluate
from tests.policy_variants import MEDIA, change, violations
from tests.test_policy_rules import CASES

ROOT = Path(__file__).resolve().parent.parent
Finding = tuple[str, str, str]  # (rule, urn, message)


# --- what the engine sends --------------------------------------------------------------------


def wire(value: Any) -> Any:
    """A graph value as the engine serializes it for an analyzer (unknowns as sentinels)."""
    if isinstance(value, dict):
        return {k: wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [wire(v) for v in value]
    return UNKNOWN_STRING_VALUE if value == UNKNOWN else value


def options(res: Resource) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=res.protect,
        ignore_changes=list(res.ignore_changes),
        delete_before_replace=res.delete_before_replace,
        aliases=list(res.aliases),
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=res.parent,
    )


def provider(g: Graph, res: Resource) -> PolicyProviderResource | None:
    if res.provider is None or res.provider not in g.resources:
        return None
    p = g.get(res.provider)
    return PolicyProviderResource(p.type, unknown_checking_proxy(wire(p.inputs)), p.urn, p.name)


def resource_args(g: Graph, res: Resource) -> ResourceValidationArgs:
    """What a resource policy gets: the resource's inputs, before it is created."""
    props = unknown_checking_proxy(wire(res.inputs))
    return ResourceValidationArgs(
        res.type, props, res.urn, res.name, options(res), provider(g, res)
    )


def stack_args(g: Graph) -> StackValidationArgs:
    """What a stack policy gets: every resource's state, linked to its parent and dependencies."""
    found = {
        r.urn: PolicyResource(
            r.type,
            unknown_checking_proxy(wire({**r.outputs, **r.inputs})),
            r.urn,
            r.name,
            options(r),
            provider(g, r),
            None,
            [],
            {},
        )
        for r in g
    }
    for r in g:
        res = found[r.urn]
        res.parent = found.get(r.parent) if r.parent else None
        res.dependencies = [found[d] for d in r.dependencies if d in found]
    return StackValidationArgs(list(found.values()))


def run_pack(g: Graph, only: str | None = None) -> set[Finding]:
    """Every policy of the pack (or the one named `only`) over `g`, as the engine would call
    them: each resource policy with each resource, each stack policy with the stack."""
    found: set[Finding] = set()
    stack = stack_args(g)
    resources = [resource_args(g, res) for res in g]  # what the engine sends, once per resource
    for policy in policies():
        if only is not None and policy.name != only:
            continue

        def report(message: str, urn: str | None = None, name: str = policy.name) -> None:
            assert urn, f"{name} reported a violation without a resource"
            found.add((name, urn, message))

        if isinstance(policy, ResourceValidationPolicy):
            for args in resources:
                policy.validate(args, report)
        else:
            assert isinstance(policy, StackValidationPolicy)
            policy.validate(stack, report)
    return found


def run_in_process(g: Graph) -> set[Finding]:
    return {(v.rule, v.urn, v.message) for v in evaluate(g)}


def broken(prod: Graph) -> Graph:
    """prod with every rule's violating change at once (those that still apply)."""
    g = prod
    for case in CASES:
        with contextlib.suppress(KeyError):
            g = case.breaks(g)
    return g


# --- one set of rules, two runners ------------------------------------------------------------


def test_the_pack_has_one_policy_per_rule_at_its_level() -> None:
    pack = policies()
    assert [p.name for p in pack] == [r.name for r in RULES]
    for policy, rule in zip(pack, RULES, strict=True):
        level = EnforcementLevel.MANDATORY if rule.severity == "mandatory" else EnforcementLevel.ADVISORY  # fmt: skip
        assert policy.enforcement_level == level
        assert policy.description == rule.checks
        assert policy.remediation_steps == rule.fix
        kind = ResourceValidationPolicy if rule.kind == "resource" else StackValidationPolicy
        assert isinstance(policy, kind)


@pytest.mark.parametrize("name", ["prod", "prod_preview", "staging_preview"])
def test_both_runners_agree_on_the_real_stacks(name: str, request: pytest.FixtureRequest) -> None:
    g: Graph = request.getfixturevalue(name)
    assert run_pack(g) == run_in_process(g)


def test_both_runners_agree_on_a_stack_that_breaks_every_rule(prod: Graph) -> None:
    g = broken(prod)
    in_process = run_in_process(g)
    assert run_pack(g) == in_process
    # Nearly every rule is represented (a few changes undo each other's preconditions).
    assert len({rule for rule, _, _ in in_process}) > 0.9 * len(RULES)


def test_the_cli_cannot_see_retain_on_delete(prod: Graph) -> None:
    """The analyzer protocol carries `protect` but not retainOnDelete: there, stateful-protected
    judges protect alone (documented in docs/policies.md); in-process it judges both."""
    g = change(prod, tk.BUCKET, MEDIA, retain_on_delete=False)
    assert violations(g, "stateful-protected")
    assert not run_pack(g, only="stateful-protected")
    g = change(prod, tk.BUCKET, MEDIA, protect=False)
    assert {f[1] for f in run_pack(g, only="stateful-protected")} == {g.one(tk.BUCKET, MEDIA).urn}


# --- the adapter ------------------------------------------------------------------------------


def test_unknowns_become_the_graphs_marker_instead_of_raising() -> None:
    props = unknown_checking_proxy(
        {"a": UNKNOWN_STRING_VALUE, "b": [{"c": UNKNOWN_STRING_VALUE, "d": 1}], "e": "x"}
    )
    with pytest.raises(UnknownValueError):
        _ = props["a"]  # what a rule reading the SDK's proxy directly would hit
    assert plain(props) == {"a": UNKNOWN, "b": [{"c": UNKNOWN, "d": 1}], "e": "x"}


def test_stack_resources_carry_dependencies_parent_and_region(prod: Graph) -> None:
    stack = stack_args(prod)
    db = prod.one(tk.RDS_INSTANCE, "eu-west-1-db")
    (res,) = [r for r in stack.resources if r.urn == db.urn]
    view = from_policy_resource(res)
    assert view.dependencies == db.dependencies
    assert view.parent == db.parent
    assert view.region == "eu-west-1"
    assert view.retain_on_delete is None
    assert view.protect is True


# --- the pack as the CLI runs it --------------------------------------------------------------


@pytest.fixture(scope="module")
def analyzer(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """`python policy/` as the Pulumi CLI starts it: it prints its port, then serves."""
    log = tmp_path_factory.mktemp("pack") / "stderr"
    with log.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "policy")], stdout=subprocess.PIPE, stderr=stderr, cwd=ROOT
        )
    assert proc.stdout is not None
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 120)
        assert ready, "the pack printed no port within 2 minutes"
        port = proc.stdout.readline().decode().strip()
        assert port.isdigit(), log.read_text()
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        proc.kill()
        proc.wait(timeout=30)
        proc.stdout.close()


def _struct(value: dict[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(wire(value))
    return out


def _resource(res: Resource, **props: Any) -> dict[str, Any]:
    return {
        "type": res.type,
        "properties": _struct({**res.outputs, **res.inputs, **props}),
        "urn": res.urn,
        "name": res.name,
        "options": analyzer_pb2.AnalyzerResourceOptions(protect=res.protect),
    }


def test_the_cli_entry_point_serves_every_policy(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
    assert info.name == PACK_NAME
    levels = {p.name: p.enforcementLevel for p in info.policies}
    assert list(levels) == [r.name for r in RULES]
    for rule in RULES:
        expected = analyzer_pb2.MANDATORY if rule.severity == "mandatory" else analyzer_pb2.ADVISORY  # fmt: skip
        assert levels[rule.name] == expected, rule.name


def test_the_cli_entry_point_fails_a_bad_resource(
    analyzer: analyzer_pb2_grpc.AnalyzerStub, prod: Graph
) -> None:
    db = prod.one(tk.RDS_INSTANCE, "us-east-2-db")
    request = analyzer_pb2.AnalyzeRequest(
        **_resource(db, storageEncrypted=False, kmsKeyId=UNKNOWN, multiAz=UNKNOWN)
    )
    response = analyzer.Analyze(request, timeout=30)
    mandatory = {
        (d.policyName, d.urn)
        for d in response.diagnostics
        if d.enforcementLevel == analyzer_pb2.MANDATORY
    }
    assert mandatory == {("database-encrypted", db.urn)}
    (diagnostic,) = [d for d in response.diagnostics if d.policyName == "database-encrypted"]
    assert "storage_encrypted is false" in diagnostic.message
    assert "Fix: set storage_encrypted=True" in diagnostic.message


def test_the_cli_entry_point_joins_a_bucket_to_its_companions(
    analyzer: analyzer_pb2_grpc.AnalyzerStub, prod_preview: Graph
) -> None:
    """A stack analysis in preview: the bucket's name unknown, its versioning missing."""
    media = prod_preview.one(tk.BUCKET, MEDIA)
    companions = [
        r for r in prod_preview if media.urn in r.dependencies and r.type.startswith("aws:s3/")
    ]
    resources = [
        analyzer_pb2.AnalyzerResource(**_resource(r), dependencies=list(r.dependencies))
        for r in [media, *companions]
        if r.type != tk.BUCKET_VERSIONING
    ]
    response = analyzer.AnalyzeStack(
        analyzer_pb2.AnalyzeStackRequest(resources=resources), timeout=30
    )
    mandatory = {
        (d.policyName, d.urn)
        for d in response.diagnostics
        if d.enforcementLevel == analyzer_pb2.MANDATORY
    }
    assert mandatory == {("bucket-versioning", media.urn)}
