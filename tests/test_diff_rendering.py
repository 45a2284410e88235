"""The plan diff rendered: values the mocks invented marked in every format, the markdown
comment's limit, the JSON form and its schema, plain unknown and absent values, stable bytes,
100 columns."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from infra.review.diff import diff_graphs
from infra.review.graph import UNKNOWN, Graph
from infra.review.render_diff import MARKER, render_json, render_markdown, render_tree
from infra.review.stackfile import ROOT
from tests.plan_diffs import (
    INGRESS_RULE,
    RDS,
    SG,
    copy_of,
    edit,
    prod_with_sentry_graph,
    renderings,
)

# --- values the mocks invented ----------------------------------------------------------------------


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


# --- renderings -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prod_with_sentry() -> Graph:
    return prod_with_sentry_graph()


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
