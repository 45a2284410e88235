"""Helpers of the plan diff tests (tests/test_diff_*.py): edited copies of a synthesized graph,
each diff's renderings, and prod with a secret added."""

from __future__ import annotations

import dataclasses
from typing import Any

from infra.review.diff import DangerCode, StackDiff
from infra.review.graph import Graph, Resource
from infra.review.render_diff import render_json, render_markdown, render_tree
from infra.review.synth import synthesize
from tests.conftest import SECRET_DIGEST_KEY, encode, raw_stack

RDS = "aws:rds/instance:Instance"
BUCKET = "aws:s3/bucket:Bucket"
KEY = "aws:kms/key:Key"
SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"


def copy_of(graph: Graph) -> Graph:
    return Graph.from_json(graph.to_json())


def edit(graph: Graph, type_: str, name: str, **changes: Any) -> Graph:
    """A copy of `graph` with one resource's fields replaced (`inputs=` merges into inputs)."""
    new = copy_of(graph)
    res = new.one(type_, name)
    if "inputs" in changes:
        changes["inputs"] = {**res.inputs, **changes["inputs"]}
    new.resources[res.urn] = dataclasses.replace(res, **changes)
    return new


def renamed(res: Resource, name: str, **changes: Any) -> Resource:
    return dataclasses.replace(
        res, urn=res.urn.rsplit("::", 1)[0] + "::" + name, name=name, **changes
    )


def only(diff: StackDiff) -> Any:
    assert len(diff.changes) == 1, [(c.kind, c.urn) for c in diff.changes]
    return diff.changes[0]


def codes(diff: StackDiff) -> list[DangerCode]:
    return [d.code for _, d in diff.dangers()]


def renderings(diffs: list[StackDiff]) -> dict[str, str]:
    return {
        "tree": render_tree(diffs, verbose=True),
        "color": render_tree(diffs, color=True),
        "markdown": render_markdown(diffs),
        "json": render_json(diffs),
    }


SENTINEL = "https://Sup3rS3cretToken@sentry.invalid/42"


def prod_with_sentry_graph() -> Graph:
    """Prod with a Sentry DSN set as a secret, as applied, with secret digests under the same
    key as the `prod` fixture: one revision of a pull request that adds `sentryDsn`."""
    raw = raw_stack("prod")
    raw["python-org:sentryDsn"] = SENTINEL
    return synthesize(
        "prod",
        raw_config=encode(raw),
        secret_keys=["python-org:sentryDsn"],
        secret_digest_key=SECRET_DIGEST_KEY,
    )
