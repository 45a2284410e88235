"""Rules for the network and the way in: VPCs, security groups, load balancers, certificates."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from policy import tokens as tk
from policy.framework import ADVISORY, MANDATORY, Registry, Stack
from policy.view import (
    Res,
    dig,
    flag,
    identifiers,
    is_production,
    is_unknown,
    items,
    known,
    number,
    tags,
)

rules = Registry()

SECURITY_GROUPS = (tk.SECURITY_GROUP, tk.DEFAULT_SECURITY_GROUP)
RULE_RESOURCES = (tk.SECURITY_GROUP_RULE, tk.INGRESS_RULE, tk.EGRESS_RULE)
LOAD_BALANCERS = (tk.LOAD_BALANCER, tk.ALB)
LISTENERS = (tk.LISTENER, tk.ALB_LISTENER)

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
# TLS 1.2 or later only: the TLS 1.3 policies that floor at 1.2 or 1.3, forward-secret 1.2,
# and the 1.2 policies. (checkov's prefix match would also admit ELBSecurityPolicy-TLS13-1-0-*,
# which still accepts TLS 1.0.)
APPROVED_TLS_POLICY = re.compile(r"^ELBSecurityPolicy-(TLS13-1-[23]|FS-1-2|TLS-1-2)-")
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


# --- load balancers ---------------------------------------------------------------------------


def _application(res: Res) -> bool:
    kind = res.props.get("loadBalancerType")
    return kind in (None, "application") or is_unknown(kind)


@rules.resource(
    "https-listener-tls-policy",
    MANDATORY,
    types=LISTENERS,
    checks="HTTPS/TLS listeners use an approved policy: TLS 1.2 or later only "
    "(ELBSecurityPolicy-TLS13-1-2-*, -TLS13-1-3-*, -FS-1-2-*, -TLS-1-2-*)",
    fix='set ssl_policy="ELBSecurityPolicy-TLS13-1-2-2021-06" (web.TLS_POLICY)',
    sources=("CKV_AWS_103", "CKV_AWS_376"),
)
def https_listener_tls_policy(res: Res) -> Iterator[str]:
    if res.props.get("protocol") not in ("HTTPS", "TLS"):
        return
    policy = res.props.get("sslPolicy")
    if is_unknown(policy):
        return
    if policy is None:
        yield "no ssl_policy: the ELB default still accepts TLS 1.0"
    elif not APPROVED_TLS_POLICY.match(str(policy)):
        yield f"ssl_policy {policy!r} is not approved"


def _redirects_to_https(actions: Any) -> bool | None:
    """Whether every action redirects to HTTPS; None if the actions can't be read."""
    if is_unknown(actions):
        return None
    listed = items(actions)
    if not listed:
        return False
    for action in listed:
        kind = dig(action, "type")
        protocol = dig(action, "redirect", "protocol")
        if is_unknown(kind) or is_unknown(protocol):
            return None
        if kind != "redirect" or protocol != "HTTPS":
            return False
    return True


@rules.stack(
    "http-listener-redirects",
    MANDATORY,
    checks="Plain-HTTP listeners (and their listener rules) only redirect to HTTPS",
    fix='make every action of the HTTP listener a redirect with protocol "HTTPS" (port 443, '
    "HTTP_301); serve only on the HTTPS listener",
    sources=("CKV_AWS_2", "CKV2_AWS_20"),
)
def http_listener_redirects(stack: Stack) -> Iterator[tuple[str, str]]:
    http = [r for r in stack.of_type(*LISTENERS) if r.props.get("protocol") == "HTTP"]
    for listener in http:
        if _redirects_to_https(listener.props.get("defaultActions")) is False:
            yield listener.urn, "the HTTP listener serves instead of redirecting to HTTPS"
    http_urns = {listener.urn for listener in http}
    for rule in stack.of_type(tk.LISTENER_RULE):
        targets = stack.referenced(rule, "listenerArn", LISTENERS)
        on_http = any(t.urn in http_urns for t in targets)
        if on_http and _redirects_to_https(rule.props.get("actions")) is False:
            yield rule.urn, "a rule on the HTTP listener serves instead of redirecting"


@rules.resource(
    "alb-drop-invalid-headers",
    ADVISORY,
    types=LOAD_BALANCERS,
    checks="Application load balancers drop invalid HTTP header fields",
    fix="set drop_invalid_header_fields=True (request smuggling defence)",
    sources=("CKV_AWS_131",),
)
def alb_drop_invalid_headers(res: Res) -> Iterator[str]:
    value = res.props.get("dropInvalidHeaderFields")
    if _application(res) and not is_unknown(value) and flag(value) is not True:
        yield "invalid header fields are passed to the targets"


@rules.resource(
    "alb-deletion-protection-in-production",
    ADVISORY,
    types=LOAD_BALANCERS,
    checks="Production load balancers have deletion protection on",
    fix="set enable_deletion_protection=True in production (WebTier does, from the environment)",
    sources=("CKV_AWS_150",),
)
def alb_deletion_protection(res: Res) -> Iterator[str]:
    value = res.props.get("enableDeletionProtection")
    if is_production(res) and not is_unknown(value) and flag(value) is not True:
        yield "a production load balancer can be deleted"


@rules.resource(
    "alb-desync-mitigation",
    ADVISORY,
    types=LOAD_BALANCERS,
    checks="Desync mitigation is defensive or strictest",
    fix='leave desync_mitigation_mode unset ("defensive") or set "strictest"',
    sources=("CKV_AWS_328",),
)
def alb_desync_mitigation(res: Res) -> Iterator[str]:
    mode = res.props.get("desyncMitigationMode")
    if known(mode) and mode not in ("defensive", "strictest"):
        yield f"desync_mitigation_mode is {mode!r}"


@rules.resource(
    "alb-access-logs",
    ADVISORY,
    types=LOAD_BALANCERS,
    checks="Load balancers write access logs",
    fix="set access_logs (enabled, bucket: an SSE-S3 bucket in the region whose policy lets "
    "the ELB service write)",
    sources=("CKV_AWS_91", "AwsSolutions-ELB2"),
)
def alb_access_logs(res: Res) -> Iterator[str]:
    logs = res.props.get("accessLogs")
    if is_unknown(logs):
        return
    if flag(dig(logs, "enabled")) is not True or not dig(logs, "bucket"):
        yield "access logging is off"


@rules.resource(
    "no-classic-load-balancer",
    ADVISORY,
    types=(tk.CLASSIC_ELB,),
    checks="No Classic Load Balancer (so the CLB-only checks have nothing to find)",
    fix="use an application load balancer (aws.lb.LoadBalancer) as WebTier does",
    sources=(
        "AwsSolutions-ELB1",
        "AwsSolutions-ELB3",
        "AwsSolutions-ELB4",
        "AwsSolutions-ELB5",
        "CKV_AWS_92",
        "CKV_AWS_127",
        "CKV_AWS_138",
    ),
)
def no_classic_load_balancer(res: Res) -> Iterator[str]:
    yield "a Classic Load Balancer is declared"


@rules.resource(
    "target-group-health-check",
    ADVISORY,
    types=(tk.TARGET_GROUP,),
    checks="HTTP(S) target groups health-check a path",
    fix="set health_check (enabled, path: the app's health path, matcher)",
    sources=("CKV_AWS_261",),
)
def target_group_health_check(res: Res) -> Iterator[str]:
    if res.props.get("protocol") not in ("HTTP", "HTTPS"):
        return
    check = res.props.get("healthCheck")
    if is_unknown(check):
        return
    if check is None or flag(dig(check, "enabled")) is False:
        yield "the target group has no health check"
    elif dig(check, "path") in (None, ""):
        yield "the health check has no path"


# --- certificates -----------------------------------------------------------------------------


@rules.resource(
    "acm-no-wildcard",
    ADVISORY,
    types=(tk.CERTIFICATE,),
    checks="Certificates name their hosts (no wildcard names)",
    fix="list the public hostnames (python-org:hostnames) instead of *.domain",
    sources=("CKV2_AWS_71",),
)
def acm_no_wildcard(res: Res) -> Iterator[str]:
    names = [res.props.get("domainName"), *items(res.props.get("subjectAlternativeNames"))]
    wild = [n for n in names if isinstance(n, str) and n.startswith("*")]
    if wild:
        yield f"wildcard names {', '.join(wild)}"


@rules.resource(
    "acm-create-before-destroy",
    ADVISORY,
    types=(tk.CERTIFICATE,),
    checks="A replaced certificate is created before the old one is deleted",
    fix="leave delete_before_replace unset or False (a listener uses the certificate)",
    sources=("CKV_AWS_233",),
)
def acm_create_before_destroy(res: Res) -> Iterator[str]:
    if res.delete_before_replace is True:
        yield "delete_before_replace is true: the listener would lose its certificate"


@rules.resource(
    "acm-transparency-logging",
    ADVISORY,
    types=(tk.CERTIFICATE,),
    checks="Certificates are logged to Certificate Transparency",
    fix="leave options.certificate_transparency_logging_preference unset or ENABLED (browsers "
    "reject unlogged certificates)",
    sources=("CKV_AWS_234",),
)
def acm_transparency_logging(res: Res) -> Iterator[str]:
    if dig(res.props, "options", "certificateTransparencyLoggingPreference") == "DISABLED":
        yield "certificate transparency logging is disabled"


@rules.resource(
    "acm-dns-validation",
    ADVISORY,
    types=(tk.CERTIFICATE,),
    checks="Certificates are validated by DNS (so they renew without anyone)",
    fix='set validation_method="DNS" (the records are declared on Cloudflare)',
    sources=(),
)
def acm_dns_validation(res: Res) -> Iterator[str]:
    method = res.props.get("validationMethod")
    if method == "EMAIL":
        yield "email validation needs a person at every renewal"
