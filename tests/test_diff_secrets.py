"""Secrets in the plan diff: keyed digests beside the masks, a changed secret shown as `changed
(secret)`, and neither a value nor a digest in any output format."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from infra.review.diff import Kind, diff_graphs
from infra.review.graph import SECRET, Graph, join_path
from tests.plan_diffs import (
    SECRET_VERSION,
    SENTINEL,
    copy_of,
    edit,
    prod_with_sentry_graph,
    renderings,
)

APP_SECRETS = {"us-east-2-app", "eu-west-1-app", "ap-southeast-1-app"}


@pytest.fixture(scope="module")
def prod_with_sentry() -> Graph:
    return prod_with_sentry_graph()


def digests(*graphs: Graph) -> set[str]:
    return {d for g in graphs for r in g for d in r.secret_digests.values()}


def test_secret_inputs_carry_a_keyed_digest_beside_the_mask(
    prod: Graph, prod_with_sentry: Graph, prod_preview: Graph
) -> None:
    def masked(value: Any, path: str = "") -> set[str]:
        if value == SECRET:
            return {path}
        if isinstance(value, dict):
            return {p for k, v in value.items() for p in masked(v, join_path(path, k))}
        if isinstance(value, list):
            return {p for i, v in enumerate(value) for p in masked(v, f"{path}[{i}]")}
        return set()

    for res in prod:
        assert set(res.secret_digests) == masked(res.inputs), res.name
    # Nested masks too (the edge's origin secret inside a ruleset's header action).
    assert any("." in path for r in prod for path in r.secret_digests)
    versions = {r.name: r for r in prod.of_type(SECRET_VERSION)}
    after = {r.name: r for r in prod_with_sentry.of_type(SECRET_VERSION)}
    # The same key: equal values, equal digests; the DSN changes only the app's settings.
    changed = {n for n in versions if versions[n].secret_digests != after[n].secret_digests}
    assert changed == APP_SECRETS
    assert all(len(d) == 16 for d in digests(prod))
    # Without a key (the tests' other fixtures, a plain preview) there are none.
    assert not digests(prod_preview)


def test_a_digest_depends_on_the_key_and_the_value() -> None:
    from infra.review.recording import _SecretDigests

    def digest(key: bytes, value: str) -> str:
        found = _SecretDigests(key)
        found.record("secretString", value)
        return found.found["secretString"]

    key, other = b"k" * 32, b"o" * 32
    assert digest(key, SENTINEL) == digest(key, SENTINEL)
    assert digest(key, SENTINEL) != digest(key, SENTINEL + "x")
    assert digest(key, SENTINEL) != digest(other, SENTINEL)
    assert "Sup3r" not in digest(key, SENTINEL)
    unknown = _SecretDigests(key)
    unknown.record("secretString", "04da6b54-80e4-46f7-96ec-b56ff0331ba9")
    assert not unknown.found  # not a value yet


def test_adding_a_secret_shows_the_app_secret_versions_changing(
    prod: Graph, prod_with_sentry: Graph
) -> None:
    """Both sides hold only `[secret]`; their digests differ, so the app's settings secret of
    every region changes, in every format, and nothing reveals the DSN or a digest."""
    diff = diff_graphs(prod, prod_with_sentry, base="main", head="pr")
    assert {(c.kind, c.type, c.name) for c in diff.changes} == {
        (Kind.UPDATE, SECRET_VERSION, name) for name in APP_SECRETS
    }
    for change in diff.changes:
        (prop,) = change.properties
        assert (prop.path, prop.old, prop.new, prop.secret_changed) == (
            "secretString",
            SECRET,
            SECRET,
            True,
        )
    out = renderings([diff])
    for fmt in ("tree", "markdown"):
        assert out[fmt].count("secretString: changed (secret)") == 3, fmt
        for name in APP_SECRETS:
            assert f"secretsmanager.SecretVersion {name}" in out[fmt], fmt
    doc = json.loads(out["json"])
    props = [p for c in doc["stacks"][0]["changes"] for p in c["properties"]]
    assert props == 3 * [
        {"path": "secretString", "old": SECRET, "new": SECRET, "secretChanged": True}
    ]
    secret_texts = {"Sup3rS3cret", *digests(prod, prod_with_sentry)}
    for fmt, text in out.items():
        assert not [t for t in secret_texts if t in text], fmt
    # A graph without digests (a revision that predates them) cannot tell: no change.
    plain = copy_of(prod_with_sentry)
    for urn, res in plain.resources.items():
        plain.resources[urn] = dataclasses.replace(res, secret_digests={})
    assert diff_graphs(prod, plain).empty


def test_secrets_never_appear_in_any_output_format(prod: Graph, prod_with_sentry: Graph) -> None:
    """A stack with a real secret value, diffed against nothing (every input shown), against
    the plain stack, and against one where the settings secret was a plain value: the value is
    never in the tree, the markdown or the JSON, nor is any digest."""
    secret = prod_with_sentry
    empty = Graph(project="python-org", stack="prod", resources={}, outputs={})
    version = next(r for r in prod if r.type == SECRET_VERSION)
    old = edit(prod, version.type, version.name, inputs={"secretString": "plain-old"})
    diffs = [
        diff_graphs(empty, secret),
        diff_graphs(prod, secret),
        diff_graphs(old, secret),
    ]
    out = renderings(diffs)
    secret_texts = {"Sup3rS3cret", *digests(secret, prod)}
    for fmt, text in out.items():
        assert not [t for t in secret_texts if t in text], fmt
        assert SECRET in text, fmt
    masked = [p for c in diffs[2].changes for p in c.properties if p.path == "secretString"]
    assert masked
    assert {p.new for p in masked} == {SECRET}
