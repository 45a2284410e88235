"""The plan diff: each kind of change on copies of the real prod graph, dangers, renderings."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from infra.review import replacement_data
from infra.review.diff import (
    ABSENT,
    COMPUTED,
    DangerClass,
    DangerCode,
    Kind,
    StackDiff,
    diff_graphs,
)
from infra.review.graph import SECRET, UNKNOWN, Graph, Resource, join_path
from infra.review.render_diff import MARKER, render_json, render_markdown, render_tree
from infra.review.stackfile import ROOT
from infra.review.synth import synthesize
from tests.conftest import SECRET_DIGEST_KEY, SynthVariant, encode, raw_stack

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


# --- no change ------------------------------------------------------------------------------


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


# --- each kind of change --------------------------------------------------------------------


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


def test_renaming_an_rds_identifier_is_an_update_not_a_replacement(prod_preview: Graph) -> None:
    """Since terraform-provider-aws v5, `identifier` is modified in place."""
    rule = replacement_data.rule_for(RDS)
    assert rule is not None
    assert "identifier" not in rule.replace
    new = edit(prod_preview, RDS, "us-east-2-db", inputs={"identifier": "pyorg-prod-primary"})
    assert only(diff_graphs(prod_preview, new)).kind is Kind.UPDATE


@pytest.mark.parametrize(
    ("type_", "name", "inputs", "reason"),
    [
        (RDS, "us-east-2-db", {"storageEncrypted": False}, "storageEncrypted"),
        (RDS, "eu-west-1-db", {"availabilityZone": "eu-west-1a"}, "availabilityZone"),
        (BUCKET, "us-east-2-media", {"bucketPrefix": "pyorg-prod-media-"}, "bucketPrefix"),
        (
            KEY,
            "eu-west-1-assets-key",
            {"customerMasterKeySpec": "RSA_2048"},
            "customerMasterKeySpec",
        ),
    ],
)
def test_a_replacement_forcing_change_of_a_stateful_resource_is_a_dangerous_replace(
    prod_preview: Graph, type_: str, name: str, inputs: dict[str, Any], reason: str
) -> None:
    diff = diff_graphs(prod_preview, edit(prod_preview, type_, name, inputs=inputs))
    change = next(c for c in diff.changes if c.name == name and c.type == type_)
    assert change.kind is Kind.REPLACE
    assert change.replace_reasons == (reason,)
    assert [p.forces_replacement for p in change.properties] == [True]
    assert DangerCode.STATEFUL_REPLACE in [d.code for d in change.dangers]
    assert reason in change.dangers[0].message


def test_replacing_a_kms_key_replaces_the_database_encrypted_with_it(
    prod_preview: Graph,
) -> None:
    """Unknowns propagate: the key is replaced, so the database's kmsKeyId (ForceNew) is known
    only after apply, so the database is replaced too: data loss by cascade."""
    new = edit(prod_preview, KEY, "us-east-2-db-key", inputs={"multiRegion": True})
    diff = diff_graphs(prod_preview, new)
    key = prod_preview.one(KEY, "us-east-2-db-key")
    db = next(c for c in diff.changes if c.name == "us-east-2-db" and c.type == RDS)
    assert db.kind is Kind.REPLACE
    assert db.caused_by == (key.urn,)
    (prop,) = [p for p in db.properties if p.path == "kmsKeyId"]
    assert (prop.new, prop.forces_replacement) == (COMPUTED, True)
    assert [d.code for d in db.dangers] == [DangerCode.STATEFUL_REPLACE]
    assert "by cascade" in db.dangers[0].message
    # The replicas keep their own keys: not replaced.
    replicas = [c for c in diff.changes if c.type == RDS and c.name != "us-east-2-db"]
    assert all(c.kind is not Kind.REPLACE for c in replicas)


def test_replace_on_changes_forces_a_replacement_and_its_cascade(prod_preview: Graph) -> None:
    old = edit(prod_preview, SG, "us-east-2-web-alb", replace_on_changes=("description",))
    new = edit(old, SG, "us-east-2-web-alb", inputs={"description": "changed"})
    diff = diff_graphs(old, new)
    sg = next(c for c in diff.changes if c.type == SG)
    assert (sg.kind, sg.replace_reasons) == (Kind.REPLACE, ("description",))
    assert not sg.dangers  # a security group is not stateful
    # The rule admitting the ALB's group takes the new group's id, known after apply (an
    # update: referencedSecurityGroupId does not force a new rule).
    rule = next(c for c in diff.changes if c.name == "us-east-2-web-from-alb")
    assert (rule.kind, rule.caused_by) == (Kind.UPDATE, (sg.urn,))
    assert [(p.path, p.new) for p in rule.properties] == [("referencedSecurityGroupId", COMPUTED)]


def test_ignored_changes_are_shown_but_never_replace_or_flag(prod_preview: Graph) -> None:
    """`dbName` forces replacement, but the database ignores it: `pulumi up` won't apply it."""
    new = edit(prod_preview, RDS, "us-east-2-db", inputs={"dbName": "renamed"})
    diff = diff_graphs(prod_preview, new)
    change = only(diff)
    assert change.kind is Kind.UPDATE
    (prop,) = change.properties
    assert prop.ignored
    assert not prop.forces_replacement
    assert change.only_ignored
    assert not diff.dangers()
    assert "ignoreChanges" in render_tree([diff])


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


def test_a_provider_region_change_replaces_everything_it_manages(prod_preview: Graph) -> None:
    provider = prod_preview.one("pulumi:providers:aws", "aws-eu-west-1")
    new = edit(prod_preview, provider.type, provider.name, inputs={"region": "eu-central-1"})
    diff = diff_graphs(prod_preview, new)
    managed = [r for r in prod_preview if r.provider == provider.urn]
    replaced = {c.urn for c in diff.changes if c.kind is Kind.REPLACE}
    assert {r.urn for r in managed} <= replaced
    stateful = {c.name for c, d in diff.dangers() if d.code is DangerCode.STATEFUL_REPLACE}
    assert {"eu-west-1-db", "eu-west-1-media", "eu-west-1-static", "eu-west-1-db-key"} <= stateful


# --- dangers --------------------------------------------------------------------------------


def test_deleting_a_stateful_resource_is_a_danger(prod_preview: Graph) -> None:
    new = copy_of(prod_preview)
    del new.resources[new.one(RDS, "ap-southeast-1-db").urn]
    diff = diff_graphs(prod_preview, new)
    assert codes(diff) == [DangerCode.STATEFUL_DELETE]
    assert only(diff).stateful == "database"


def test_removing_protect_is_a_danger(prod_preview: Graph) -> None:
    diff = diff_graphs(prod_preview, edit(prod_preview, KEY, "us-east-2-assets-key", protect=False))
    change = only(diff)
    assert change.kind is Kind.UPDATE
    assert [(o.path, o.old, o.new) for o in change.options] == [("protect", True, False)]
    assert codes(diff) == [DangerCode.PROTECT_REMOVED]


def test_turning_off_deletion_protection_is_a_danger(prod_preview: Graph) -> None:
    new = edit(prod_preview, RDS, "eu-west-1-db", inputs={"deletionProtection": False})
    assert codes(diff_graphs(prod_preview, new)) == [DangerCode.SAFEGUARD_REMOVED]


def test_opening_a_security_group_to_the_internet_is_a_danger(prod_preview: Graph) -> None:
    alb = prod_preview.one(SG, "us-east-2-web-alb")
    ingress = [dict(e) for e in alb.inputs["ingress"]]
    ingress[0]["cidrBlocks"] = [*ingress[0]["cidrBlocks"], "0.0.0.0/0"]
    diff = diff_graphs(prod_preview, edit(prod_preview, SG, alb.name, inputs={"ingress": ingress}))
    assert codes(diff) == [DangerCode.OPEN_INGRESS]
    assert "tcp 443 (0.0.0.0/0)" in diff.dangers()[0][1].message


def test_a_new_ingress_rule_from_anywhere_is_a_danger(prod_preview: Graph) -> None:
    new = copy_of(prod_preview)
    rule = new.one(INGRESS_RULE, "us-east-2-web-from-alb")
    inputs = {k: v for k, v in rule.inputs.items() if k != "referencedSecurityGroupId"}
    ssh = renamed(
        rule, "us-east-2-ssh", inputs={**inputs, "cidrIpv6": "::/0", "fromPort": 22, "toPort": 22}
    )
    new.resources[ssh.urn] = ssh
    diff = diff_graphs(prod_preview, new)
    assert codes(diff) == [DangerCode.OPEN_INGRESS]
    assert "tcp 22 (::/0)" in diff.dangers()[0][1].message


def test_dangers_come_first_in_every_format(prod_preview: Graph) -> None:
    new = copy_of(prod_preview)
    del new.resources[new.one(BUCKET, "eu-west-1-static").urn]
    new = edit(new, RDS, "us-east-2-db", inputs={"instanceClass": "db.r7g.xlarge"})
    diffs = [diff_graphs(prod_preview, new, base="main", head="pr")]
    tree = render_tree(diffs)
    assert tree.startswith("DANGER: 1")
    assert tree.index("bucket eu-west-1-static is deleted") < tree.index("instanceClass")
    markdown = render_markdown(diffs)
    assert (
        markdown.index("Dangers (1)") < markdown.index("#### Summary") < markdown.index("<details>")
    )
    assert json.loads(render_json(diffs))["stacks"][0]["dangers"][0]["code"] == "stateful-delete"


# --- end to end through the program ---------------------------------------------------------


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


# --- secrets --------------------------------------------------------------------------------

SENTINEL = "https://Sup3rS3cretToken@sentry.invalid/42"
APP_SECRETS = {"us-east-2-app", "eu-west-1-app", "ap-southeast-1-app"}


@pytest.fixture(scope="module")
def prod_with_sentry() -> Graph:
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


# --- values the mocks invented ---------------------------------------------------------------


def test_the_synthesis_records_what_the_mocks_invented(prod: Graph, prod_preview: Graph) -> None:
    vpc = prod.one("aws:ec2/vpc:Vpc", "us-east-2-vpc")
    db = prod.one(RDS, "us-east-2-db")
    zone_ids = {r.inputs["zoneId"] for r in prod.of_type("cloudflare:index/dnsRecord:DnsRecord")}
    assert prod.placeholders[vpc.outputs["id"]] == "ec2.Vpc us-east-2-vpc"
    assert prod.placeholders[vpc.outputs["arn"]] == "ec2.Vpc us-east-2-vpc"
    assert prod.placeholders[db.outputs["address"]] == "rds.Instance us-east-2-db address"
    assert [prod.placeholders[z] for z in zone_ids] == ["zone python.org"]
    assert prod.placeholders["123456789012"] == "AWS account"
    # Facts are not inventions: the region, what the program set, Cloudflare's real ranges.
    assert "us-east-2" not in prod.placeholders
    assert db.inputs["identifier"] not in prod.placeholders
    assert "173.245.48.0/20" not in prod.placeholders
    # In a preview only the invokes invent (computed values stay unknown).
    assert set(prod_preview.placeholders.values()) <= {
        "zone python.org",
        "Cloudflare account",
        "Cloudflare zone owner",
        "Cloudflare plan",
        "AWS account",
        "AWS caller",
        "AWS caller id",
    }
    assert prod_preview.placeholders


def test_invented_values_are_marked_in_every_format(prod: Graph) -> None:
    """An id, an ARN inside a policy, the zone id: shown as what they stand for, flagged in the
    JSON, never as if they were real."""
    rule = prod.one(INGRESS_RULE, "us-east-2-web-from-alb")
    instances = prod.one(SG, "us-east-2-web-instances")
    new = edit(
        prod, rule.type, rule.name, inputs={"referencedSecurityGroupId": instances.outputs["id"]}
    )
    policy = prod.one("aws:iam/rolePolicy:RolePolicy", "us-east-2-replication")
    doc = json.loads(policy.inputs["policy"])
    doc["Statement"][0]["Resource"] = [*_as_list(doc["Statement"][0]["Resource"]), "x"]
    new = edit(new, policy.type, policy.name, inputs={"policy": json.dumps(doc)})
    record = prod.of_type("cloudflare:index/dnsRecord:DnsRecord")[0]
    new = edit(new, record.type, record.name, inputs={"ttl": 60})
    diff = diff_graphs(prod, new)
    out = renderings([diff])
    changed = "~ referencedSecurityGroupId: ‹ec2.SecurityGroup us-east-2-web-alb› →"
    for fmt in ("tree", "markdown"):
        assert changed in out[fmt], fmt
        assert "‹ec2.SecurityGroup us-east-2-web-instances›" in out[fmt], fmt
        assert instances.outputs["id"] not in out[fmt], fmt
    props = {
        (c["name"], p["path"]): p
        for c in json.loads(out["json"])["stacks"][0]["changes"]
        for p in c["properties"]
    }
    moved = props[(rule.name, "referencedSecurityGroupId")]
    assert (moved["new"], moved["placeholder"]) == (instances.outputs["id"], True)
    assert "placeholder" not in props[(record.name, "ttl")]
    # Every input of every resource set anew: not one invented value shows raw in the tree.
    bare = copy_of(prod)
    for urn, res in bare.resources.items():
        bare.resources[urn] = dataclasses.replace(res, inputs={})
    tree = render_tree([diff_graphs(bare, prod)], verbose=True)
    assert "+ zoneId: ‹zone python.org›" in tree
    assert '‹s3.Bucket us-east-2-media›/*\\"' in tree  # inside a policy document
    assert not [v for v in prod.placeholders if v in tree]
    assert max(len(line) for line in tree.splitlines()) <= 100


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_the_plain_preview_marks_invented_outputs(prod: Graph) -> None:
    from infra.review.plan import render_tree as preview_tree
    from infra.review.plan import summary

    tree = preview_tree(prod)
    outputs = tree.split("Outputs:")[1]
    assert "database_endpoint: ‹rds.Instance us-east-2-db endpoint›" in outputs
    assert "‹…› marks a value the mocks invented" in outputs
    assert not [v for v in prod.placeholders if v in tree]
    assert "regions.us-east-2.database_endpoint" in summary(prod)["placeholderOutputs"]


# --- renderings -----------------------------------------------------------------------------


def test_the_markdown_comment_fits_the_limit_and_keeps_the_summary(
    prod: Graph, staging: Graph
) -> None:
    def empty(g: Graph) -> Graph:
        return Graph(project=g.project, stack=g.stack, resources={}, outputs={}, preview=g.preview)

    diffs = [diff_graphs(empty(g), g, base="nothing", head="all") for g in (prod, staging)]
    full = render_markdown(diffs)
    assert full.startswith(MARKER)
    assert len(full) <= 60_000
    assert "<details>" in full
    assert "| prod | us-east-2 |" in full
    assert "| staging | eu-west-1 |" in full
    small = render_markdown(diffs, limit=4_000)
    assert len(small) <= 4_000
    assert "| prod | us-east-2 |" in small
    assert "shortened" in small or "cut" in small


def test_the_json_form_is_complete(prod_preview: Graph) -> None:
    new = edit(prod_preview, RDS, "us-east-2-db", inputs={"engine": "aurora-postgresql"})
    doc = json.loads(render_json([diff_graphs(prod_preview, new, base="a", head="b")]))
    (stack,) = doc["stacks"]
    # Not the replicas: their kmsKeyId is their own key's, not the primary's.
    assert [d["code"] for d in stack["dangers"]] == ["stateful-replace"]
    # The database, and the backup selection that names it (its resources force a replacement).
    assert stack["summary"]["replace"] == 2
    assert stack["regions"]["us-east-2"]["replace"] == 2
    (selection,) = [
        c for c in stack["changes"] if c["kind"] == "replace" and c["name"] == "us-east-2-backup"
    ]
    assert selection["why"]["causedBy"] == [prod_preview.one(RDS, "us-east-2-db").urn]
    (change,) = [
        c for c in stack["changes"] if c["kind"] == "replace" and c["name"] == "us-east-2-db"
    ]
    assert change["why"]["replaceReasons"] == ["engine"]
    assert change["properties"] == [
        {"path": "engine", "old": "postgres", "new": "aurora-postgresql", "forcesReplacement": True}
    ]
    assert change["stateful"] == "database"


def test_unknown_values_and_absent_values_render_plainly(prod_preview: Graph) -> None:
    res = prod_preview.one(RDS, "eu-west-1-db")
    assert res.inputs["kmsKeyId"] == UNKNOWN
    inputs = {k: v for k, v in res.inputs.items() if k != "maxAllocatedStorage"}
    new = copy_of(prod_preview)
    new.resources[res.urn] = dataclasses.replace(
        res, inputs={**inputs, "kmsKeyId": "arn:aws:kms:x"}
    )
    tree = render_tree([diff_graphs(prod_preview, new)])
    assert '~ kmsKeyId: [unknown] → "arn:aws:kms:x"' in tree
    assert "- maxAllocatedStorage: 1000" in tree


def test_every_declared_type_has_replacement_facts(prod: Graph, staging: Graph) -> None:
    """The data file covers every type the program declares (else a change of it would show as
    an update whatever it does); rebuild it with scripts/extract_replacements."""
    declared = {r.type for g in (prod, staging) for r in g if r.custom}
    missing = sorted(t for t in declared if replacement_data.rule_for(t) is None)
    assert not missing, f"no entry in infra/data/replacements.json for {missing}"


def test_the_replacement_facts_name_their_sources() -> None:
    sources = replacement_data.sources()
    assert set(sources) == {"aws", "cloudflare", "random"}
    for name, src in sources.items():
        assert src["repo"].endswith(f"terraform-provider-{name}"), name
        assert src["version"].startswith("v"), name
    assert len(sources["cloudflare"]["commit"]) == 40
    assert "terraform-provider-aws-index" in sources["aws"]["via"]


@pytest.mark.parametrize(
    ("type_", "path", "forced"),
    [
        ("aws:ec2/vpc:Vpc", "cidrBlock", True),
        ("aws:rds/parameterGroup:ParameterGroup", "family", True),
        ("aws:rds/instance:Instance", "kmsKeyId", True),
        ("aws:rds/instance:Instance", "engineVersion", False),
        ("aws:rds/instance:Instance", "s3Import.bucketName", True),
        ("aws:ec2/subnet:Subnet", "vpcId", True),
        ("aws:lb/targetGroup:TargetGroup", "port", True),
        ("cloudflare:index/dnsRecord:DnsRecord", "zoneId", True),
        ("cloudflare:index/loadBalancerPool:LoadBalancerPool", "origins", False),
        ("random:index/randomPassword:RandomPassword", "length", True),
        ("aws:kms/key:Key", "region", True),
    ],
)
def test_replacement_facts_match_the_provider_schemas(type_: str, path: str, forced: bool) -> None:
    rule = replacement_data.rule_for(type_)
    assert rule is not None
    assert (path in rule.replace) is forced


def test_a_vpc_cidr_change_is_a_replacement_and_an_outage_in_production(
    prod_preview: Graph,
) -> None:
    new = edit(
        prod_preview, "aws:ec2/vpc:Vpc", "us-east-2-vpc", inputs={"cidrBlock": "10.9.0.0/16"}
    )
    diff = diff_graphs(prod_preview, new)
    vpc = next(c for c in diff.changes if c.type == "aws:ec2/vpc:Vpc")
    assert (vpc.kind, vpc.replace_reasons) == (Kind.REPLACE, ("cidrBlock",))
    outage = diff.dangers(DangerClass.OUTAGE)
    assert {c.name for c, _ in outage} >= {"us-east-2-vpc", "us-east-2-web"}
    assert all(c.region == "us-east-2" for c, _ in outage)
    # The cascade: subnets (vpcId forces replacement) and what sits in them.
    subnets = [c for c in diff.changes if c.type == "aws:ec2/subnet:Subnet"]
    assert len(subnets) == 6
    assert all(c.kind is Kind.REPLACE for c in subnets)
    # The database stays (only its groups update). The home region's search domain does not:
    # its subnets are in its vpcOptions, which force a new domain; the index is derived data
    # that the region's indexer rebuilds within the hour, but the danger is still shown.
    lost = {c.name for c, _ in diff.dangers(DangerClass.DATA_LOSS)}
    assert lost == {"us-east-2-search"}


def test_a_major_engine_version_replaces_the_parameter_group(prod_preview: Graph) -> None:
    pg = prod_preview.of_type("aws:rds/parameterGroup:ParameterGroup")[0]
    new = edit(prod_preview, pg.type, pg.name, inputs={"family": "postgres18"})
    diff = diff_graphs(prod_preview, new)
    change = next(c for c in diff.changes if c.type == pg.type)
    assert (change.kind, change.replace_reasons) == (Kind.REPLACE, ("family",))


def test_removing_retain_on_delete_is_a_danger(prod_preview: Graph) -> None:
    new = edit(prod_preview, RDS, "us-east-2-db", retain_on_delete=False)
    diff = diff_graphs(prod_preview, new)
    assert codes(diff) == [DangerCode.RETAIN_REMOVED]
    (_, danger) = diff.dangers()[0]
    assert danger.danger_class is DangerClass.SAFEGUARD
    assert danger.remedy


def test_a_public_bucket_policy_is_an_exposure(prod_preview: Graph) -> None:
    policy = prod_preview.of_type("aws:s3/bucketPolicy:BucketPolicy")[0]
    statement = {"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}
    doc = {"Version": "2012-10-17", "Statement": [statement]}
    new = edit(prod_preview, policy.type, policy.name, inputs={"policy": json.dumps(doc)})
    diff = diff_graphs(prod_preview, new)
    assert DangerCode.PUBLIC_POLICY in codes(diff)


def test_two_runs_give_identical_bytes_in_every_format(prod_preview: Graph) -> None:
    new = edit(
        prod_preview, "aws:ec2/vpc:Vpc", "us-east-2-vpc", inputs={"cidrBlock": "10.9.0.0/16"}
    )
    shuffled = copy_of(new)
    shuffled.resources = dict(reversed(list(shuffled.resources.items())))
    first = renderings([diff_graphs(prod_preview, new)])
    second = renderings([diff_graphs(copy_of(prod_preview), shuffled)])
    assert first == second


def test_the_tree_fits_100_columns(prod_preview: Graph) -> None:
    empty = Graph(project="python-org", stack="prod", resources={}, outputs={}, preview=True)
    tree = render_tree([diff_graphs(empty, prod_preview)], verbose=True)
    assert max(len(line) for line in tree.splitlines()) <= 100


def test_the_json_validates_against_its_schema(
    prod_preview: Graph, prod: Graph, prod_with_sentry: Graph
) -> None:
    import jsonschema

    schema = json.loads((ROOT / "infra" / "data" / "plan-diff.schema.json").read_text())
    new = edit(
        prod_preview, "aws:ec2/vpc:Vpc", "us-east-2-vpc", inputs={"cidrBlock": "10.9.0.0/16"}
    )
    new = edit(new, RDS, "us-east-2-db", retain_on_delete=False)
    doc = json.loads(
        render_json([diff_graphs(prod_preview, new), diff_graphs(prod_preview, prod_preview)])
    )
    jsonschema.validate(doc, schema)
    # As applied: placeholders and changed secrets.
    rule = prod.one(INGRESS_RULE, "us-east-2-web-from-alb")
    moved = edit(prod, rule.type, rule.name, inputs={"referencedSecurityGroupId": "sg-1"})
    applied = json.loads(
        render_json([diff_graphs(prod, moved), diff_graphs(prod, prod_with_sentry)])
    )
    jsonschema.validate(applied, schema)
    flags = {k for s in applied["stacks"] for c in s["changes"] for p in c["properties"] for k in p}
    assert {"placeholder", "secretChanged"} <= flags
    broken = {**doc, "stacks": [{**doc["stacks"][0], "changes": [{"kind": "explode"}]}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)
