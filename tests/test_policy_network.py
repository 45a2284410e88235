"""The network rules: security groups, VPCs, load balancers and certificates.

One violating change per rule (tests/policy_variants.py), then the world-ingress details.
"""

from __future__ import annotations

from typing import Any

import pytest

from infra.review.graph import UNKNOWN, Graph
from policy import tokens as tk
from policy.security_groups import WORLD_INGRESS_TAG
from tests.policy_variants import (
    ALB,
    ALB_SG,
    CERT,
    HOME,
    Case,
    Edit,
    add,
    assert_fails_on_its_change,
    change,
    change_all,
    nested,
    remove,
    setter,
    unsetter,
    violations,
)


def _add_security_group(g: Graph) -> Graph:
    return add(g, tk.SECURITY_GROUP, "stray", {"description": "nobody uses this", "vpcId": "vpc-1"})


def _world_on(port: int) -> Edit:
    def edit(inputs: dict[str, Any]) -> None:
        inputs["ingress"] = [
            {
                "description": "x",
                "protocol": "tcp",
                "fromPort": port,
                "toPort": port,
                "cidrBlocks": ["0.0.0.0/0"],
                "ipv6CidrBlocks": [],
            },
        ]

    return edit


_FORWARD = [{"type": "forward", "targetGroupArn": "arn:aws:tg"}]


def _egress_all_protocols(inputs: dict[str, Any]) -> None:
    inputs.update(ipProtocol="-1")
    del inputs["fromPort"], inputs["toPort"]


CASES = [
    Case("sg-no-world-ingress", lambda g: change(g, *ALB_SG, _world_on(443))),
    Case(
        "sg-no-world-egress-all-ports",
        lambda g: change(
            g,
            tk.EGRESS_RULE,
            f"{HOME}-web-to-https",
            _egress_all_protocols,
        ),
    ),
    Case("sg-descriptions", lambda g: change(g, *ALB_SG, unsetter("description"))),
    Case("security-group-attached", _add_security_group),
    Case("default-sg-closed", lambda g: remove(g, tk.DEFAULT_SECURITY_GROUP, f"{HOME}-default-sg")),
    Case("vpc-flow-logs", lambda g: remove(g, tk.FLOW_LOG, f"{HOME}-flow-logs")),
    Case(
        "subnet-no-auto-public-ip",
        lambda g: change(g, tk.SUBNET, f"{HOME}-public-{HOME}a", setter(mapPublicIpOnLaunch=True)),
    ),
    Case(
        "nat-gateway-default-route",
        lambda g: change(
            g,
            tk.ROUTE_TABLE,
            f"{HOME}-private-{HOME}a",
            setter(routes=[{"cidrBlock": "0.0.0.0/0", "networkInterfaceId": "eni-1"}]),
        ),
    ),
    Case("eip-attached", lambda g: add(g, tk.EIP, "idle", {"domain": "vpc"})),
    Case("no-custom-network-acls", lambda g: add(g, tk.NETWORK_ACL, "acl", {"vpcId": "vpc-1"})),
    Case(
        "https-listener-tls-policy",
        lambda g: change(
            g, tk.LISTENER, f"{HOME}-https", setter(sslPolicy="ELBSecurityPolicy-TLS13-1-0-2021-06")
        ),
    ),
    Case(
        "http-listener-redirects",
        lambda g: add(
            g,
            tk.LISTENER,
            f"{HOME}-http",
            {"protocol": "HTTP", "port": 80, "defaultActions": _FORWARD},
        ),
    ),
    Case(
        "alb-drop-invalid-headers", lambda g: change(g, *ALB, setter(dropInvalidHeaderFields=False))
    ),
    Case(
        "alb-deletion-protection-in-production",
        lambda g: change(g, *ALB, setter(enableDeletionProtection=False)),
    ),
    Case(
        "alb-desync-mitigation", lambda g: change(g, *ALB, setter(desyncMitigationMode="monitor"))
    ),
    Case(
        "alb-access-logs",
        lambda g: change(g, *ALB, unsetter("accessLogs")),
        fix=lambda g: change_all(
            g, tk.LOAD_BALANCER, setter(accessLogs={"enabled": True, "bucket": "pyorg-logs"})
        ),
    ),
    Case("no-classic-load-balancer", lambda g: add(g, tk.CLASSIC_ELB, "old", {"listeners": []})),
    Case(
        "target-group-health-check",
        lambda g: change(
            g, tk.TARGET_GROUP, f"{HOME}-web", nested(("healthCheck", "enabled"), False)
        ),
    ),
    Case(
        "acm-no-wildcard",
        lambda g: change(g, *CERT, setter(subjectAlternativeNames=["*.python.org"])),
    ),
    Case("acm-create-before-destroy", lambda g: change(g, *CERT, delete_before_replace=True)),
    Case(
        "acm-transparency-logging",
        lambda g: change(
            g, *CERT, setter(options={"certificateTransparencyLoggingPreference": "DISABLED"})
        ),
    ),
    Case("acm-dns-validation", lambda g: change(g, *CERT, setter(validationMethod="EMAIL"))),
]


@pytest.mark.parametrize("case", CASES, ids=[c.rule for c in CASES])
def test_rule_fails_on_a_violating_resource(case: Case, prod: Graph) -> None:
    assert_fails_on_its_change(case, prod)


# --- joins under preview ----------------------------------------------------------------------


def test_flow_logs_and_default_groups_join_their_vpc_in_preview(prod_preview: Graph) -> None:
    vpc = prod_preview.one(tk.VPC, f"{HOME}-vpc")
    g = remove(prod_preview, tk.FLOW_LOG, f"{HOME}-flow-logs")
    g = remove(g, tk.DEFAULT_SECURITY_GROUP, f"{HOME}-default-sg")
    assert [v.urn for v in violations(g, "vpc-flow-logs")] == [vpc.urn]
    assert [v.urn for v in violations(g, "default-sg-closed")] == [vpc.urn]


# --- security groups --------------------------------------------------------------------------


def _tagged(ports: str) -> Edit:
    def edit(inputs: dict[str, Any]) -> None:
        inputs["tags"][WORLD_INGRESS_TAG] = ports

    return edit


def _both(*edits: Edit) -> Edit:
    def edit(inputs: dict[str, Any]) -> None:
        for e in edits:
            e(inputs)

    return edit


def test_world_ingress_is_allowed_on_the_ports_the_group_lists(prod: Graph) -> None:
    g = change(prod, *ALB_SG, _both(_world_on(443), _tagged("443 80")))
    assert violations(g, "sg-no-world-ingress") == []
    g = change(prod, *ALB_SG, _both(_world_on(8443), _tagged("443 80")))
    assert violations(g, "sg-no-world-ingress")


@pytest.mark.parametrize("port", [22, 3389, 5432, 6379])
def test_world_ingress_never_on_ssh_or_database_ports(port: int, prod: Graph) -> None:
    g = change(prod, *ALB_SG, _both(_world_on(port), _tagged(str(port))))
    (found,) = violations(g, "sg-no-world-ingress")
    assert str(port) in found.message


def test_world_ingress_never_to_a_database_group(prod: Graph) -> None:
    """A rule resource opening the database's group, even on a port the group lists."""
    db_sg = prod.one(tk.SECURITY_GROUP, f"{HOME}-db")
    g = change(prod, tk.SECURITY_GROUP, f"{HOME}-db", _tagged("443"))
    g = add(
        g,
        tk.INGRESS_RULE,
        "open-db",
        {
            "securityGroupId": db_sg.outputs["id"],
            "cidrIpv4": "0.0.0.0/0",
            "ipProtocol": "tcp",
            "fromPort": 443,
            "toPort": 443,
            "description": "oops",
        },
        dependencies=(db_sg.urn,),
    )
    (found,) = violations(g, "sg-no-world-ingress")
    assert "guards a database" in found.message
    assert found.urn.endswith("::open-db")


def test_world_ingress_through_an_ipv6_rule_resource_in_preview(prod_preview: Graph) -> None:
    sg = prod_preview.one(*ALB_SG)
    g = add(
        prod_preview,
        tk.INGRESS_RULE,
        "ssh-v6",
        {
            "securityGroupId": UNKNOWN,
            "cidrIpv6": "::/0",
            "ipProtocol": "tcp",
            "fromPort": 22,
            "toPort": 22,
            "description": "ssh",
        },
        dependencies=(sg.urn,),
    )
    (found,) = violations(g, "sg-no-world-ingress")
    assert "SSH" in found.message
    assert sg.name in found.message


def test_all_protocols_to_the_world_is_all_ports(prod: Graph) -> None:
    g = change(
        prod,
        *ALB_SG,
        setter(
            ingress=[{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}]
        ),
    )
    (found,) = violations(g, "sg-no-world-ingress")
    assert "all ports" in found.message
