"""The plan diff, each kind of change on copies of the real prod graph: none, a create, a delete,
an update (by path), a rename with and without an alias; and a region removed or added through
the program."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest

from infra.review.diff import ABSENT, COMPUTED, DangerCode, Kind, diff_graphs
from infra.review.graph import Graph
from infra.review.render_diff import render_markdown, render_tree
from infra.review.synth import synthesize
from tests.conftest import SynthVariant, encode, raw_stack
from tests.plan_diffs import (
    BUCKET,
    INGRESS_RULE,
    KEY,
    RDS,
    SG,
    codes,
    copy_of,
    edit,
    only,
    renamed,
    renderings,
)


def test_an_unchanged_tree_gives_an_empty_diff(prod_preview: Graph) -> None:
    diff = diff_graphs(prod_preview, copy_of(prod_preview))
    assert diff.empty
    assert diff.unchanged == sum(1 for r in prod_preview if r.custom)
    assert not diff.dangers()
    out = renderings([diff])
    assert "no changes" in out["tree"]
    assert "no changes" in out["markdown"]
    assert json.loads(out["json"])["stacks"][0]["changes"] == []


def test_two_syntheses_of_the_same_tree_are_identical(
    prod_preview: Graph, synth_variant: SynthVariant
) -> None:
    """Synthesis is deterministic: a second run diffs empty, so any diff is a real change."""
    again = synth_variant("prod", lambda raw: None, preview=True)
    assert diff_graphs(prod_preview, again).empty


# --- each kind of change ----------------------------------------------------------------------------


def test_a_new_resource_is_a_create(prod_preview: Graph) -> None:
    new = copy_of(prod_preview)
    rule = new.one(INGRESS_RULE, "us-east-2-web-from-alb")
    extra = renamed(rule, "us-east-2-web-from-alb-8080", inputs={**rule.inputs, "fromPort": 8080})
    new.resources[extra.urn] = extra
    change = only(diff_graphs(prod_preview, new))
    assert (change.kind, change.name, change.region) == (
        Kind.CREATE,
        "us-east-2-web-from-alb-8080",
        "us-east-2",
    )
    assert change.component == "WebTier us-east-2"
    assert not change.dangers


def test_a_removed_resource_is_a_delete(prod_preview: Graph) -> None:
    new = copy_of(prod_preview)
    del new.resources[new.one(INGRESS_RULE, "eu-west-1-web-from-alb").urn]
    diff = diff_graphs(prod_preview, new)
    change = only(diff)
    assert (change.kind, change.region) == (Kind.DELETE, "eu-west-1")
    assert not diff.dangers()  # a rule holds no data


def test_a_changed_input_is_an_update_with_old_and_new(prod_preview: Graph) -> None:
    new = edit(prod_preview, RDS, "us-east-2-db", inputs={"instanceClass": "db.r7g.xlarge"})
    diff = diff_graphs(prod_preview, new)
    change = only(diff)
    assert change.kind is Kind.UPDATE
    (prop,) = change.properties
    assert (prop.path, prop.old, prop.new) == ("instanceClass", "db.r7g.large", "db.r7g.xlarge")
    assert not prop.forces_replacement
    assert not diff.dangers()
    assert '~ instanceClass: "db.r7g.large" → "db.r7g.xlarge"' in render_tree([diff])


def test_nested_changes_are_reported_by_path(prod_preview: Graph) -> None:
    res = prod_preview.one(RDS, "eu-west-1-db")
    new = edit(
        prod_preview, RDS, "eu-west-1-db", inputs={"tags": {**res.inputs["tags"], "owner": "psf"}}
    )
    (prop,) = only(diff_graphs(prod_preview, new)).properties
    assert (prop.path, prop.old, prop.new) == ("tags.owner", ABSENT, "psf")


# --- renames: matched through aliases ---------------------------------------------------------------


def test_an_aliased_rename_is_an_update_not_a_delete_and_create(prod_preview: Graph) -> None:
    new = copy_of(prod_preview)
    old_res = new.one(SG, "eu-west-1-web-instances")
    del new.resources[old_res.urn]
    moved = renamed(old_res, "eu-west-1-web-servers", aliases=(old_res.urn,))
    new.resources[moved.urn] = moved
    change = only(diff_graphs(prod_preview, new))
    assert (change.kind, change.previous_urn) == (Kind.UPDATE, old_res.urn)
    assert "renamed from eu-west-1-web-instances" in render_tree([diff_graphs(prod_preview, new)])


def _box_program(type_: str, alias_type: str | None = None) -> Callable[[], None]:
    """A component holding a KMS key: what a refactoring of infra/components looks like."""
    import pulumi
    import pulumi_aws as aws

    class Box(pulumi.ComponentResource):
        def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
            super().__init__(type_, name, None, opts)
            aws.kms.Key("key", opts=pulumi.ResourceOptions(parent=self, protect=True))
            self.register_outputs({})

    def program() -> None:
        aliases = [pulumi.Alias(type_=alias_type)] if alias_type else None
        Box("box", pulumi.ResourceOptions(aliases=aliases))

    return program


def test_children_of_a_component_moved_with_an_alias_keep_their_identity() -> None:
    """The engine gives children the aliases of their parent; the diff does the same, so a
    component renamed to a new type with an alias keeps its key instead of replacing it."""
    before = synthesize("t", raw_config={}, program=_box_program("python-org:test:Box"))
    moved = _box_program("python-org:test:Crate", alias_type="python-org:test:Box")
    after = synthesize("t", raw_config={}, program=moved)
    diff = diff_graphs(before, after)
    change = only(diff)
    assert change.kind is Kind.UPDATE
    assert change.previous_urn == before.one(KEY, "key").urn
    assert not diff.dangers()
    # Without the alias, the key would be deleted and a new one created.
    unaliased = synthesize("t", raw_config={}, program=_box_program("python-org:test:Crate"))
    assert codes(diff_graphs(before, unaliased)) == [DangerCode.STATEFUL_DELETE]


def test_a_rename_without_alias_deletes_and_creates(prod_preview: Graph) -> None:
    new = copy_of(prod_preview)
    bucket = new.one(BUCKET, "eu-west-1-media")
    del new.resources[bucket.urn]
    moved = renamed(bucket, "eu-west-1-uploads")
    new.resources[moved.urn] = moved
    diff = diff_graphs(prod_preview, new)
    assert sorted(c.kind.value for c in diff.changes) == ["create", "delete"]
    assert codes(diff) == [DangerCode.STATEFUL_DELETE]
    assert "protected" in diff.dangers()[0][1].message


# --- end to end through the program -----------------------------------------------------------------


@pytest.fixture(scope="module")
def prod_without_ap_southeast_1() -> Graph:
    """Prod with one region fewer: diffed one way it removes a region, the other way it adds
    one (one synthesis for both)."""
    raw = raw_stack("prod")
    del raw["python-org:regions"]["ap-southeast-1"]
    pools = raw["python-org:edge"]["poolRegions"]
    for code, region in pools.items():
        if region == "ap-southeast-1":
            pools[code] = "eu-west-1"
    return synthesize("prod", raw_config=encode(raw), preview=True)


def test_removing_a_region_deletes_its_resources_and_flags_its_data(
    prod_preview: Graph, prod_without_ap_southeast_1: Graph
) -> None:
    new = prod_without_ap_southeast_1
    diff = diff_graphs(prod_preview, new)
    counts = diff.counts("ap-southeast-1")
    assert counts["delete"] == sum(
        1 for r in prod_preview if r.custom and r.region == "ap-southeast-1"
    )
    assert counts["create"] == counts["update"] == counts["replace"] == 0
    lost = {c.name for c, d in diff.dangers() if d.code is DangerCode.STATEFUL_DELETE}
    assert lost == {
        "ap-southeast-1-db",
        "ap-southeast-1-db-key",
        "ap-southeast-1-assets-key",
        "ap-southeast-1-static",
        "ap-southeast-1-media",
        "ap-southeast-1-app",  # the region's copy of the app's settings secret
        "ap-southeast-1-db-credentials",  # and of the database credentials
        "ap-southeast-1-access-logs",
        "ap-southeast-1-flow-logs-key",
        "ap-southeast-1-app-logs-key",
        "ap-southeast-1-alerts-key",
        "ap-southeast-1-redis",  # the region's Redis, its key and its auth token's secret
        "ap-southeast-1-cache-key",
        "ap-southeast-1-cache",
        "ap-southeast-1-redis-auth-token",
        "ap-southeast-1-search",  # the region's search domain (and its users' secret), its key
        "ap-southeast-1-search-key",
        "ap-southeast-1-search-master-password",
        "ap-southeast-1-search-app-password",
    }
    # Nothing in the other regions is replaced, and the edge stops sending traffic there.
    assert not [c for c in diff.changes if c.kind is Kind.REPLACE]
    assert diff.counts("global")["delete"] + diff.counts("global")["update"] > 0
    assert any(p.path.startswith("regions.ap-southeast-1") for p in diff.outputs)


def test_adding_a_region_shows_the_updates_it_causes_in_the_home_region(
    prod_preview: Graph, prod_without_ap_southeast_1: Graph
) -> None:
    """The home region's replication role may now write to the new region's bucket: its policy
    is computed from that bucket's ARN, so it changes, known after apply."""
    diff = diff_graphs(prod_without_ap_southeast_1, prod_preview)
    home = {c.label: c for c in diff.changes if c.region == "us-east-2"}
    policy = home["iam.RolePolicy us-east-2-replication"]
    assert policy.kind is Kind.UPDATE
    (prop,) = policy.properties
    assert (prop.path, prop.new) == ("policy", COMPUTED)
    assert any(u.endswith("::ap-southeast-1-media") for u in policy.caused_by)
    replication = home["s3.BucketReplicationConfig us-east-2-media"]
    assert replication.kind is Kind.UPDATE
    # Lists element by element: the new pool shows where it joins, not as a rewritten list.
    edge = next(c for c in diff.changes if c.label == "LoadBalancer edge-www.python.org")
    added = [p for p in edge.properties if p.old is ABSENT]
    assert added
    assert all(re.fullmatch(r"(defaultPools|regionPools\.\w+)\[\d\]", p.path) for p in added)
    assert "Dangers" not in render_markdown([diff])
