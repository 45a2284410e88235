"""Rules for the VPCs and their plumbing: flow logs, subnets, routes, Elastic IPs, network ACLs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from policy import tokens as tk
from policy.framework import ADVISORY, MANDATORY, Registry, Stack
from policy.view import Res, flag, items

rules = Registry()


@rules.stack(
    "vpc-flow-logs",
    MANDATORY,
    checks="Every VPC has a flow log",
    fix="declare an aws.ec2.FlowLog for the VPC (traffic_type ALL, to CloudWatch Logs), as "
    "Network does",
    sources=("CKV2_AWS_11", "AwsSolutions-VPC7"),
)
def vpc_flow_logs(stack: Stack) -> Iterator[tuple[str, str]]:
    for vpc in stack.of_type(tk.VPC):
        if not stack.companions(vpc, (tk.FLOW_LOG,), "vpcId"):
            yield vpc.urn, "the VPC has no flow log"


@rules.resource(
    "subnet-no-auto-public-ip",
    ADVISORY,
    types=(tk.SUBNET,),
    checks="No subnet gives instances a public IP by default",
    fix="set map_public_ip_on_launch=False; only load balancers and NAT gateways face the internet",
    sources=("CKV_AWS_130",),
)
def subnet_no_auto_public_ip(res: Res) -> Iterator[str]:
    if flag(res.props.get("mapPublicIpOnLaunch")) is True:
        yield "map_public_ip_on_launch is true"


def _default_routes(res: Res) -> list[Mapping[str, Any]]:
    routes = [res.props] if res.type == tk.ROUTE else items(res.props.get("routes"))
    return [
        r
        for r in routes
        if isinstance(r, Mapping)
        and (r.get("cidrBlock") == "0.0.0.0/0" or r.get("ipv6CidrBlock") == "::/0"
             or r.get("destinationCidrBlock") == "0.0.0.0/0")
    ]  # fmt: skip


@rules.resource(
    "nat-gateway-default-route",
    ADVISORY,
    types=(tk.ROUTE_TABLE, tk.ROUTE),
    checks="Default routes go to an internet or NAT gateway, not to an instance or interface",
    fix="route 0.0.0.0/0 to the internet gateway (public) or a NAT gateway (private)",
    sources=("CKV2_AWS_35",),
)
def nat_gateway_default_route(res: Res) -> Iterator[str]:
    for route in _default_routes(res):
        if route.get("instanceId") or route.get("networkInterfaceId"):
            yield "the default route goes through an instance (a NAT instance)"


@rules.stack(
    "eip-attached",
    ADVISORY,
    checks="Every Elastic IP is in use (by a NAT gateway, an instance or an association)",
    fix="remove the unused Elastic IP (an idle one is billed)",
    sources=("CKV2_AWS_19",),
)
def eip_attached(stack: Stack) -> Iterator[tuple[str, str]]:
    for eip in stack.of_type(tk.EIP):
        if eip.props.get("instance") or eip.props.get("networkInterface"):
            continue
        users = stack.companions(eip, (tk.NAT_GATEWAY,), "allocationId")
        users += stack.companions(eip, (tk.EIP_ASSOCIATION,), "allocationId")
        if not users:
            yield eip.urn, "nothing uses the Elastic IP"


@rules.resource(
    "no-custom-network-acls",
    ADVISORY,
    types=(tk.NETWORK_ACL, tk.NETWORK_ACL_RULE),
    checks="Traffic is filtered by security groups, not network ACLs",
    fix="express the restriction as security group rules (stateful, per resource) instead",
    sources=("AwsSolutions-VPC3",),
)
def no_custom_network_acls(res: Res) -> Iterator[str]:
    yield "a network ACL is declared"
