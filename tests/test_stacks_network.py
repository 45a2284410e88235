"""Whole stacks under the mocks: the network of every region (subnets, routes, security groups, flow
logs, endpoints)."""

from __future__ import annotations

import ipaddress
import json

import pytest

from infra.review import mocks
from infra.review.graph import Graph, Resource
from infra.review.mocks import CLOUDFLARE_IPV4
from tests.stacks_helpers import PROD_REGIONS


@pytest.mark.parametrize(("stack", "nats_per_region"), [("prod", 3), ("staging", 1)])
def test_network_subnets_per_az_and_nat_per_config(
    stack: str, nats_per_region: int, prod: Graph, staging: Graph
) -> None:
    g = prod if stack == "prod" else staging
    for region in g.outputs["regions"]:
        subnets = [s for s in g.of_type("aws:ec2/subnet:Subnet") if s.region == region]
        public = [s for s in subnets if s.inputs["tags"]["tier"] == "public"]
        private = [s for s in subnets if s.inputs["tags"]["tier"] == "private"]
        assert len(public) == len(private) >= 2
        assert len({s.inputs["availabilityZone"] for s in private}) == len(private)
        assert not any(s.inputs["mapPublicIpOnLaunch"] for s in subnets)
        vpc = next(v for v in g.of_type("aws:ec2/vpc:Vpc") if v.region == region)
        vpc_net = ipaddress.ip_network(vpc.inputs["cidrBlock"])
        nets = [ipaddress.ip_network(s.inputs["cidrBlock"]) for s in subnets]
        assert all(n.subnet_of(vpc_net) for n in nets)  # type: ignore[arg-type]
        assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])
        nats = [n for n in g.of_type("aws:ec2/natGateway:NatGateway") if n.region == region]
        assert len(nats) == nats_per_region


def test_private_subnets_route_through_nat_and_public_through_igw(prod: Graph) -> None:
    for rt in prod.of_type("aws:ec2/routeTable:RouteTable"):
        (route,) = rt.inputs["routes"]
        assert route["cidrBlock"] == "0.0.0.0/0"
        if rt.name.endswith("-public-rt"):
            assert "gatewayId" in route
            assert "natGatewayId" not in route
        else:
            assert "natGatewayId" in route
            assert "gatewayId" not in route


def test_default_security_group_is_closed_and_flow_logs_on(prod: Graph) -> None:
    for sg in prod.of_type("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"):
        assert sg.inputs.get("ingress", []) == []
        assert sg.inputs.get("egress", []) == []
    logs = prod.of_type("aws:ec2/flowLog:FlowLog")
    assert {f.region for f in logs} == set(PROD_REGIONS)
    assert all(f.inputs["trafficType"] == "ALL" for f in logs)
    assert all(f.inputs["logDestination"].startswith(f"arn:aws:logs:{f.region}:") for f in logs)


def _sg(g: Graph, name: str) -> Resource:
    return g.one("aws:ec2/securityGroup:SecurityGroup", name)


def test_load_balancer_accepts_only_cloudflare_and_nothing_from_the_world(prod: Graph) -> None:
    for region in PROD_REGIONS:
        sg = _sg(prod, f"{region}-web-alb")
        ports = sorted(rule["fromPort"] for rule in sg.inputs["ingress"])
        assert ports == [443]
        for rule in sg.inputs["ingress"]:
            assert rule["cidrBlocks"] == CLOUDFLARE_IPV4
            assert "0.0.0.0/0" not in rule["cidrBlocks"]
            # The load balancer is IPv4-only: IPv6 rules would admit nothing.
            assert not rule.get("ipv6CidrBlocks")
        (egress,) = sg.inputs["egress"]
        assert egress["fromPort"] == egress["toPort"] == 8000
        assert egress.get("cidrBlocks") in (None, [])


def test_instances_accept_only_the_load_balancer_and_db_only_the_instances(prod: Graph) -> None:
    ingress = prod.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert not any("cidrIpv4" in r.inputs or "cidrIpv6" in r.inputs for r in ingress)
    for region in PROD_REGIONS:
        alb, web, db = (
            _sg(prod, f"{region}-web-alb"),
            _sg(prod, f"{region}-web-instances"),
            _sg(prod, f"{region}-db"),
        )
        assert "ingress" not in web.inputs
        assert "ingress" not in db.inputs
        alb_id, web_id, db_id = (s.outputs["id"] for s in (alb, web, db))
        to_web = [r for r in ingress if r.inputs["securityGroupId"] == web_id]
        to_db = [r for r in ingress if r.inputs["securityGroupId"] == db_id]
        assert [(r.inputs["referencedSecurityGroupId"], r.inputs["fromPort"]) for r in to_web] == [
            (alb_id, 8000)
        ]
        # The web servers everywhere; the Celery workers too in the home region (they write).
        clients = {web_id} | (
            {_sg(prod, f"{region}-workers").outputs["id"]} if region == "us-east-2" else set()
        )
        assert {(r.inputs["referencedSecurityGroupId"], r.inputs["fromPort"]) for r in to_db} == {
            (c, 5432) for c in clients
        }


def test_every_vpc_routes_s3_through_a_gateway_endpoint(prod: Graph) -> None:
    for region in PROD_REGIONS:
        endpoint = prod.one("aws:ec2/vpcEndpoint:VpcEndpoint", f"{region}-s3")
        assert endpoint.inputs["serviceName"] == f"com.amazonaws.{region}.s3"
        assert endpoint.inputs["vpcEndpointType"] == "Gateway"
        private = {
            rt.outputs["id"]
            for rt in prod.of_type("aws:ec2/routeTable:RouteTable")
            if rt.region == region and "-private-" in rt.name
        }
        assert set(endpoint.inputs["routeTableIds"]) == private


def test_flow_log_role_is_what_aws_documents_and_scoped_to_this_account(prod: Graph) -> None:
    for region in PROD_REGIONS:
        role = prod.one("aws:iam/role:Role", f"{region}-flow-logs")
        (trust,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
        assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": mocks.ACCOUNT_ID}
        assert trust["Condition"]["ArnLike"]["aws:SourceArn"].startswith(f"arn:aws:ec2:{region}:")
        policy = prod.one("aws:iam/rolePolicy:RolePolicy", f"{region}-flow-logs")
        statements = json.loads(policy.inputs["policy"])["Statement"]
        actions = {
            a
            for s in statements
            for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        }
        assert actions == {
            "logs:CreateLogGroup",
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "logs:DescribeLogGroups",
            "logs:DescribeLogStreams",
        }
