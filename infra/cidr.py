"""Subnet maths: carving a region's VPC CIDR into per-AZ public and private subnets."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

# A VPC is split into 16 equal blocks: blocks 0-7 are for public subnets, 8-15 for private
# ones, one per AZ by the AZ's position in the configured list. Appending an AZ to the list
# therefore never moves the subnets of the AZs already there.
_SPLIT_BITS = 4
_PRIVATE_OFFSET = 8


@dataclass(frozen=True)
class SubnetPlan:
    zone: str
    public: ipaddress.IPv4Network
    private: ipaddress.IPv4Network


def plan_subnets(vpc: ipaddress.IPv4Network, zones: tuple[str, ...]) -> list[SubnetPlan]:
    if len(zones) > _PRIVATE_OFFSET:
        raise ValueError(f"at most {_PRIVATE_OFFSET} zones fit the subnet layout, got {len(zones)}")
    blocks = list(vpc.subnets(prefixlen_diff=_SPLIT_BITS))
    return [
        SubnetPlan(zone=zone, public=blocks[i], private=blocks[_PRIVATE_OFFSET + i])
        for i, zone in enumerate(zones)
    ]
