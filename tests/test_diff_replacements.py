"""The plan diff's replacements: from the providers' schemas (infra/data/replacements.json),
`replaceOnChanges`, a changed provider, and by cascade through values known only after apply;
ignored changes never replace."""

from __future__ import annotations

from typing import Any

import pytest

from infra.review import replacement_data
from infra.review.diff import COMPUTED, DangerClass, DangerCode, Kind, diff_graphs
from infra.review.graph import Graph
from infra.review.render_diff import render_tree
from tests.plan_diffs import BUCKET, KEY, RDS, SG, edit, only


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


def test_a_provider_region_change_replaces_everything_it_manages(prod_preview: Graph) -> None:
    provider = prod_preview.one("pulumi:providers:aws", "aws-eu-west-1")
    new = edit(prod_preview, provider.type, provider.name, inputs={"region": "eu-central-1"})
    diff = diff_graphs(prod_preview, new)
    managed = [r for r in prod_preview if r.provider == provider.urn]
    replaced = {c.urn for c in diff.changes if c.kind is Kind.REPLACE}
    assert {r.urn for r in managed} <= replaced
    stateful = {c.name for c, d in diff.dangers() if d.code is DangerCode.STATEFUL_REPLACE}
    assert {"eu-west-1-db", "eu-west-1-media", "eu-west-1-static", "eu-west-1-db-key"} <= stateful


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


# --- the replacement facts --------------------------------------------------------------------------


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


def test_promoting_a_replica_in_the_program_is_an_update_not_a_replacement(staging: Graph) -> None:
    """The failover's config change makes eu-west-1's replica the primary: the program now
    declares the engine, database name and master user the replica took from its source. The
    state holds the source's values (the provider reads them back), so the real preview shows an
    update; offline those paths may force a replacement, no more (compare.REPLICA_INHERITS)."""
    import json

    from infra.ops.failover import _synthesized, config_change
    from infra.review.stackfile import ROOT

    change = config_change("staging", "eu-west-1")
    promoted = _synthesized("staging", ROOT, json.dumps(change.raw, sort_keys=True))
    diff = diff_graphs(staging, promoted)
    (db,) = [c for c in diff.changes if c.type == RDS and c.name == "eu-west-1-db"]
    assert db.kind is Kind.UPDATE, db.replace_reasons
    conditional = {p.path for p in db.properties if p.conditional}
    assert "engine" in conditional
    # The database name and master user: ignored changes (the component's ignoreChanges).
    assert {p.path for p in db.properties if p.ignored} >= {"dbName", "username"}
    dangers = {d.code for d in db.dangers}
    assert DangerCode.POSSIBLE_REPLACE in dangers
    assert DangerCode.STATEFUL_REPLACE not in dangers


def test_a_replica_that_stays_one_is_replaced_by_an_engine_it_sets(prod_preview: Graph) -> None:
    new = edit(prod_preview, RDS, "eu-west-1-db", inputs={"engine": "postgres"})
    diff = diff_graphs(prod_preview, new)
    (change,) = [c for c in diff.changes if c.type == RDS and c.name == "eu-west-1-db"]
    assert change.kind is Kind.REPLACE
    assert "engine" in change.replace_reasons
