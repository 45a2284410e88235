"""Rules for the security groups: who the world may reach, descriptions, use, default groups.

A group's permissions come inline (`ingress`/`egress`) or as separate rule resources
(aws.ec2.SecurityGroupRule, aws.vpc.SecurityGroupIngressRule/EgressRule); `openings` reads both
alike. Opening a group to the whole internet takes its `world-ingress-ports` tag.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from policy import tokens as tk
from policy.framework import ADVISORY, MANDATORY, Registry, Stack
from policy.view import Res, identifiers, is_unknown, items, known, number, tags

rules = Registry()

SECURITY_GROUPS = (tk.SECURITY_GROUP, tk.DEFAULT_SECURITY_GROUP)
RULE_RESOURCES = (tk.SECURITY_GROUP_RULE, tk.INGRESS_RULE, tk.EGRESS_RULE)

# The tag that opens a security group to the whole internet on the listed ports (space
# separated: AWS tag values allow no commas), e.g. {"world-ingress-ports": "443 80"}.
WORLD_INGRESS_TAG = "world-ingress-ports"
SSH_PORTS = {22: "SSH", 3389: "RDP"}
DATABASE_PORTS = {
    5432: "PostgreSQL",
    3306: "MySQL",
    1433: "SQL Server",
    1521: "Oracle",
    27017: "MongoDB",
    6379: "Redis",
    11211: "Memcached",
    5439: "Redshift",
    9200: "OpenSearch",
}
NEVER_WORLD = {**SSH_PORTS, **DATABASE_PORTS}
ALL_PORTS = (0, 65535)
DEFAULT_PULUMI_DESCRIPTION = "Managed by Pulumi"


@dataclass(frozen=True)
class Opening:
    """One ingress or egress permission, as far as it can be read."""

    protocol: str | None
    ports: tuple[int, int] | None  # None: can't be told
    world: bool  # open to 0.0.0.0/0 or ::/0
    description: Any


def _is_world(cidr: Any) -> bool:
    if not isinstance(cidr, str) or not known(cidr):
        return False
    try:
        return ipaddress.ip_network(cidr, strict=False).prefixlen == 0
    except ValueError:
        return False


def _ports(protocol: Any, low: Any, high: Any) -> tuple[int, int] | None:
    if str(protocol) in ("-1", "all"):
        return ALL_PORTS
    if is_unknown(protocol) or is_unknown(low) or is_unknown(high):
        return None
    lo, hi = number(low), number(high)
    if lo is None and hi is None:
        return None
    if lo is None or hi is None:
        lo = hi = lo if lo is not None else hi
    assert lo is not None
    assert hi is not None
    return (lo, hi) if lo >= 0 else ALL_PORTS


def _inline(entries: Any) -> list[Opening]:
    found = []
    for entry in items(entries):
        if not isinstance(entry, Mapping):
            continue
        cidrs = [*items(entry.get("cidrBlocks")), *items(entry.get("ipv6CidrBlocks"))]
        found.append(
            Opening(
                protocol=entry.get("protocol"),
                ports=_ports(entry.get("protocol"), entry.get("fromPort"), entry.get("toPort")),
                world=any(_is_world(c) for c in cidrs),
                description=entry.get("description"),
            )
        )
    return found


def openings(res: Res, direction: str) -> list[Opening]:
    """The `direction` ("ingress"/"egress") permissions `res` declares, whatever its type."""
    props = res.props
    if res.type in SECURITY_GROUPS:
        return _inline(props.get(direction))
    if res.type == tk.SECURITY_GROUP_RULE:
        if props.get("type") != direction:
            return []
        return _inline([props])
    if res.type == (tk.INGRESS_RULE if direction == "ingress" else tk.EGRESS_RULE):
        protocol = props.get("ipProtocol")
        return [
            Opening(
                protocol=protocol,
                ports=_ports(protocol, props.get("fromPort"), props.get("toPort")),
                world=_is_world(props.get("cidrIpv4")) or _is_world(props.get("cidrIpv6")),
                description=props.get("description"),
            )
        ]
    return []


def _allowed_world_ports(sg: Res) -> set[int] | None:
    """Ports the group's tag opens to the world; None if its tags can't be read."""
    found = tags(sg)
    if found is None:
        return None if is_unknown(sg.props.get("tags")) else set()
    value = found.get(WORLD_INGRESS_TAG)
    if not known(value):
        return None if is_unknown(value) else set()
    return {p for p in (number(v) for v in str(value).split()) if p is not None}


def _database_groups(stack: Stack) -> set[str]:
    """URNs of the security groups attached to a database."""
    found: set[str] = set()
    for db in stack.of_type(tk.RDS_INSTANCE, tk.RDS_CLUSTER):
        found |= {
            sg.urn for sg in stack.referenced(db, "vpcSecurityGroupIds", (tk.SECURITY_GROUP,))
        }
    return found


def _describe(ports: tuple[int, int]) -> str:
    return "all ports" if ports == ALL_PORTS else f"port {ports[0]}" if ports[0] == ports[1] else f"ports {ports[0]}-{ports[1]}"  # fmt: skip


@rules.stack(
    "sg-no-world-ingress",
    MANDATORY,
    checks="No security group admits 0.0.0.0/0 or ::/0, except on ports its "
    f"`{WORLD_INGRESS_TAG}` tag lists; never on SSH/RDP or database ports, never to a database",
    fix="admit the callers' ranges or security groups instead (the load balancers admit only "
    f"Cloudflare's ranges); a deliberate public port goes in the group's {WORLD_INGRESS_TAG} tag",
    sources=(
        "CKV_AWS_24",
        "CKV_AWS_25",
        "CKV_AWS_260",
        "CKV_AWS_277",
        "AwsSolutions-EC23",
        "AwsSolutions-RDS8",
    ),
)
def sg_no_world_ingress(stack: Stack) -> Iterator[tuple[str, str]]:
    databases = _database_groups(stack)
    for res in stack.of_type(*SECURITY_GROUPS, *RULE_RESOURCES):
        groups = (
            [res]
            if res.type in SECURITY_GROUPS
            else stack.referenced(res, "securityGroupId", SECURITY_GROUPS)
        )
        for opening in openings(res, "ingress"):
            if not opening.world:
                continue
            where = ", ".join(sorted(g.name for g in groups)) or "its security group"
            if any(g.urn in databases for g in groups):
                yield res.urn, f"{where} guards a database and admits the whole internet"
                continue
            if opening.ports is None:
                allowed = [_allowed_world_ports(g) for g in groups]
                if groups and all(a is None or a for a in allowed):
                    continue  # a port we can't see yet, on a group that allows some
                yield res.urn, f"{where} admits the whole internet"
                continue
            lo, hi = opening.ports
            if opening.ports == ALL_PORTS:
                yield res.urn, f"{where} admits the whole internet on all ports"
                continue
            never = [f"{n} ({p})" for p, n in NEVER_WORLD.items() if lo <= p <= hi]
            if never:
                yield res.urn, f"{where} admits the whole internet on {', '.join(never)}"
                continue
            allowed_sets = [_allowed_world_ports(g) for g in groups]
            readable = [a for a in allowed_sets if a is not None]
            if len(readable) < len(allowed_sets):
                continue  # the group's tags are unknown: judge once they are
            permitted = set.intersection(*readable) if readable else set()
            if hi - lo > len(permitted) or not all(p in permitted for p in range(lo, hi + 1)):
                yield (
                    res.urn,
                    (
                        f"{where} admits the whole internet on {_describe(opening.ports)}, "
                        f"not listed in its {WORLD_INGRESS_TAG} tag"
                    ),
                )


@rules.resource(
    "sg-no-world-egress-all-ports",
    ADVISORY,
    types=(*SECURITY_GROUPS, *RULE_RESOURCES),
    checks="No security group allows egress to 0.0.0.0/0 or ::/0 on every port and protocol",
    fix="allow egress only on the ports needed (the web servers: 443 to the world, the "
    "database port to the database's group)",
    sources=("CKV_AWS_382",),
)
def sg_no_world_egress(res: Res) -> Iterator[str]:
    for opening in openings(res, "egress"):
        if opening.world and opening.ports == ALL_PORTS:
            yield "egress to the whole internet on every port"


@rules.resource(
    "sg-descriptions",
    ADVISORY,
    types=(tk.SECURITY_GROUP, *RULE_RESOURCES),
    checks="Every security group and every rule says what it is for",
    fix="give the group and each rule a description (who is admitted, and why)",
    sources=("CKV_AWS_23", "AwsSolutions-EC27"),
)
def sg_descriptions(res: Res) -> Iterator[str]:
    if res.type == tk.SECURITY_GROUP:
        description = res.props.get("description")
        if description in (None, "", DEFAULT_PULUMI_DESCRIPTION):
            yield "the group has no description"
    for direction in ("ingress", "egress"):
        for opening in openings(res, direction):
            if opening.description in (None, ""):
                yield f"an {direction} rule has no description"


def _mentions(value: Any, wanted: set[str]) -> bool:
    if isinstance(value, str):
        return value in wanted
    if isinstance(value, Mapping):
        return any(_mentions(v, wanted) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, wanted) for v in value)
    return False


@rules.stack(
    "security-group-attached",
    ADVISORY,
    checks="Every security group is attached to something (a load balancer, launch template, "
    "instance or database)",
    fix="attach the group where it is meant to apply, or remove it",
    sources=("CKV2_AWS_5",),
)
def security_group_attached(stack: Stack) -> Iterator[tuple[str, str]]:
    users = [
        r
        for r in stack.resources
        if r.type not in (*SECURITY_GROUPS, *RULE_RESOURCES) and r.type.startswith("aws:")
    ]
    for sg in stack.of_type(tk.SECURITY_GROUP):
        ids = identifiers(sg)
        if not any(sg.urn in r.dependencies or _mentions(r.props, ids) for r in users):
            yield sg.urn, "nothing uses the security group"


@rules.stack(
    "default-sg-closed",
    MANDATORY,
    checks="Every VPC's default security group is managed here with no rules at all",
    fix="declare aws.ec2.DefaultSecurityGroup(vpc_id=..., ingress=[], egress=[]) for the VPC",
    sources=("CKV2_AWS_12",),
)
def default_sg_closed(stack: Stack) -> Iterator[tuple[str, str]]:
    for vpc in stack.of_type(tk.VPC):
        groups = stack.companions(vpc, (tk.DEFAULT_SECURITY_GROUP,), "vpcId")
        if not groups:
            yield vpc.urn, "the VPC's default security group keeps AWS's allow rules"
        for group in groups:
            for direction in ("ingress", "egress"):
                if items(group.props.get(direction)):
                    yield group.urn, f"the default security group has {direction} rules"
