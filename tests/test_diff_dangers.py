"""The plan diff's dangers: data loss, safeguards removed, exposure; first in every format."""

from __future__ import annotations

import json

from infra.review.diff import DangerClass, DangerCode, Kind, diff_graphs
from infra.review.graph import Graph
from infra.review.render_diff import render_json, render_markdown, render_tree
from tests.plan_diffs import BUCKET, INGRESS_RULE, KEY, RDS, SG, codes, copy_of, edit, only, renamed


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


def test_removing_retain_on_delete_is_a_danger(prod_preview: Graph) -> None:
    new = edit(prod_preview, RDS, "us-east-2-db", retain_on_delete=False)
    diff = diff_graphs(prod_preview, new)
    assert codes(diff) == [DangerCode.RETAIN_REMOVED]
    (_, danger) = diff.dangers()[0]
    assert danger.danger_class is DangerClass.SAFEGUARD
    assert danger.remedy


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


def test_a_public_bucket_policy_is_an_exposure(prod_preview: Graph) -> None:
    policy = prod_preview.of_type("aws:s3/bucketPolicy:BucketPolicy")[0]
    statement = {"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}
    doc = {"Version": "2012-10-17", "Statement": [statement]}
    new = edit(prod_preview, policy.type, policy.name, inputs={"policy": json.dumps(doc)})
    diff = diff_graphs(prod_preview, new)
    assert DangerCode.PUBLIC_POLICY in codes(diff)


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
