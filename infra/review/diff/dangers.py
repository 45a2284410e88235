"""The dangers of a change, each with what to do about it, in four classes: data loss (a
stateful resource deleted or replaced, directly or by cascade), safeguards removed (`protect`,
`retainOnDelete`, deletion protection, final snapshot, force-destroy), exposure (ingress open to
the internet, a public bucket or policy), and outage (a serving resource replaced in
production). Ignored inputs never make one: `pulumi up` will not apply them.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from infra.review.diff.model import ABSENT, Change, Danger, DangerCode, Kind
from infra.review.graph import Graph, Resource
from infra.review.plan import region_of

# What serves python.org: replacing one in production drops or reroutes live traffic.
SERVING: dict[str, str] = {
    "aws:ec2/vpc:Vpc": "VPC",
    "aws:ec2/subnet:Subnet": "subnet",
    "aws:ec2/natGateway:NatGateway": "NAT gateway",
    "aws:lb/loadBalancer:LoadBalancer": "load balancer",
    "aws:lb/targetGroup:TargetGroup": "target group",
    "aws:lb/listener:Listener": "listener",
    "aws:autoscaling/group:Group": "autoscaling group",
    "cloudflare:index/loadBalancer:LoadBalancer": "Cloudflare load balancer",
    "cloudflare:index/loadBalancerPool:LoadBalancerPool": "Cloudflare pool",
}

RUNBOOK = "docs/policies.md (Removing a region)"


# Inputs that guard against data loss, and the value that turns the guard off.
_SAFEGUARDS: dict[str, dict[str, Any]] = {
    "aws:rds/instance:Instance": {"deletionProtection": False, "skipFinalSnapshot": True},
    "aws:rds/cluster:Cluster": {"deletionProtection": False, "skipFinalSnapshot": True},
    "aws:s3/bucket:Bucket": {"forceDestroy": True},
    "aws:s3/bucketV2:BucketV2": {"forceDestroy": True},
    "aws:lb/loadBalancer:LoadBalancer": {"enableDeletionProtection": False},
}
_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
_BLOCK_SETTINGS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)
_POLICY_TYPES = {
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/policy:Policy": "policy",
    "aws:kms/key:Key": "policy",
    "aws:secretsmanager/secretPolicy:SecretPolicy": "policy",
    "aws:sns/topicPolicy:TopicPolicy": "policy",
}


@dataclass
class DangerContext:
    """What the dangers look at besides the change: both graphs, the new graph's custom
    resources by URN, and whether the stack is production (only there is a serving resource's
    replacement an outage)."""

    old: Graph
    new: Graph
    news: dict[str, Resource]
    production: bool


def with_dangers(
    change: Change, old: Resource | None, new: Resource | None, ctx: DangerContext
) -> Change:
    """`change` with its dangers (`old`, `new`: the resource on each side, None where there is
    none)."""
    dangers: list[Danger] = []
    what = change.stateful
    if what and change.kind is Kind.DELETE:
        assert old is not None
        dangers.append(_stateful_delete(change, old, ctx))
    if what and change.kind is Kind.REPLACE:
        forced = ", ".join(change.replace_reasons)
        cascade = " (by cascade)" if change.caused_by else ""
        dangers.append(
            Danger(
                DangerCode.STATEFUL_REPLACE,
                f"{what} {change.name} is replaced{cascade}: {forced} forces a new one, and the "
                "old one is deleted with what it holds",
                "keep the replacement-forcing input as it is, or migrate in two steps: declare the "
                "new resource beside the old one under a new name, move the data, then remove the "
                "old one in a later change",
            )
        )
    if what and change.kind is Kind.UPDATE:
        maybe = sorted({p.path for p in change.properties if p.conditional})
        if maybe:
            dangers.append(
                Danger(
                    DangerCode.POSSIBLE_REPLACE,
                    f"{what} {change.name} may be replaced: the provider decides at apply "
                    f"whether a change of {', '.join(maybe)} forces a new one",
                    "check the real `pulumi preview` in CI before merging",
                )
            )
    if old is not None and new is not None:
        dangers += _safeguards(change, old, new)
    if new is not None:
        dangers += _exposure(change, old, new)
    if ctx.production and change.kind is Kind.REPLACE and change.type in SERVING:
        dangers.append(
            Danger(
                DangerCode.SERVING_REPLACE,
                f"{SERVING[change.type]} {change.name} is replaced in production: "
                f"{', '.join(change.replace_reasons)}; traffic through it is interrupted",
                "replace it in a maintenance window, or stand the new one up beside the old "
                "(a new name), move traffic, then remove the old one",
            )
        )
    return dataclasses.replace(change, dangers=tuple(dangers)) if dangers else change


def _stateful_delete(change: Change, old: Resource, ctx: DangerContext) -> Danger:
    keep = ""
    if old.protect:
        keep = " (it is protected: `pulumi up` refuses until protect is removed)"
    elif old.retain_on_delete:
        keep = " (retainOnDelete: it stays in AWS, no longer managed)"
    regions = {region_of(ctx.new, r) for r in ctx.new if r.custom}
    same = [
        r
        for r in ctx.news.values()
        if r.type == old.type and r.urn not in ctx.old.resources and r.urn != old.urn
    ]
    if change.region not in regions and change.region != "global":
        remedy = f"the region is removed: follow the runbook in {RUNBOOK}"
    elif same:
        remedy = (
            f"if {same[0].name} is this {change.stateful} renamed or moved, give it "
            f'`aliases=[pulumi.Alias(urn="{old.urn}")]` so that it keeps its identity'
        )
    else:
        remedy = "if the data must go, take a snapshot first and delete in a change of its own"
    return Danger(
        DangerCode.STATEFUL_DELETE, f"{change.stateful} {change.name} is deleted{keep}", remedy
    )


def _safeguards(change: Change, old: Resource, new: Resource) -> list[Danger]:
    out: list[Danger] = []
    keep = "keep it; turn it off only in a change of its own, right before a planned deletion"
    if old.protect and not new.protect:
        out.append(Danger(DangerCode.PROTECT_REMOVED, f"protect removed from {change.label}", keep))
    if old.retain_on_delete and not new.retain_on_delete:
        out.append(
            Danger(
                DangerCode.RETAIN_REMOVED,
                f"retainOnDelete removed from {change.label}: a later delete destroys it in the cloud",
                keep,
            )
        )
    for prop, off in _SAFEGUARDS.get(new.type, {}).items():
        before = old.inputs.get(prop, ABSENT)
        after = new.inputs.get(prop, ABSENT)
        if after == off and before != off:
            out.append(
                Danger(
                    DangerCode.SAFEGUARD_REMOVED,
                    f"{prop} = {json.dumps(off)} on {change.label}",
                    keep,
                )
            )
    return out


def _exposure(change: Change, old: Resource | None, new: Resource) -> list[Danger]:
    out: list[Danger] = []
    opened = _open_ingress(new) - (_open_ingress(old) if old is not None else set())
    for rule in sorted(opened):
        out.append(
            Danger(
                DangerCode.OPEN_INGRESS,
                f"{change.label} opens {rule} to the internet",
                "admit only Cloudflare's ranges (the edge) or a security group, not 0.0.0.0/0 or ::/0",
            )
        )
    if new.type == _PUBLIC_ACCESS_BLOCK and old is not None:
        off = [
            k
            for k in _BLOCK_SETTINGS
            if old.inputs.get(k) is True and new.inputs.get(k) is not True
        ]
        if off:
            out.append(
                Danger(
                    DangerCode.PUBLIC_BUCKET,
                    f"{change.label} stops blocking public access ({', '.join(off)})",
                    "keep all four settings on; serve public files through the edge",
                )
            )
    if new.type in _POLICY_TYPES:
        newly = _public_statements(new) - (_public_statements(old) if old is not None else set())
        for sid in sorted(newly):
            out.append(
                Danger(
                    DangerCode.PUBLIC_POLICY,
                    f'{change.label} allows {sid} to everyone (Principal "*", no condition)',
                    "name the principals, or add a condition (aws:SourceArn, aws:PrincipalOrgID)",
                )
            )
    return out


def _public_statements(res: Resource) -> set[str]:
    """`Allow` statements for every principal without a condition, by Sid or action."""
    doc = res.inputs.get("policy")
    if isinstance(doc, str):
        try:
            doc = json.loads(doc)
        except ValueError:
            return set()
    if not isinstance(doc, dict):
        return set()
    statements = doc.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    found: set[str] = set()
    for st in statements if isinstance(statements, list) else []:
        if not isinstance(st, dict) or st.get("Effect") != "Allow" or st.get("Condition"):
            continue
        principal = st.get("Principal")
        if principal == "*" or (
            isinstance(principal, dict) and "*" in _as_list(principal.get("AWS"))
        ):
            found.add(str(st.get("Sid") or ",".join(map(str, _as_list(st.get("Action"))))))
    return found


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


_OPEN = ("0.0.0.0/0", "::/0")


def _open_ingress(res: Resource) -> set[str]:
    """Ingress rules of a security group (inline or separate) admitting any address."""
    found: set[str] = set()
    inputs = res.inputs
    if res.type in (
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    ):
        for entry in inputs.get("ingress") or []:
            if isinstance(entry, dict):
                cidrs = [*(entry.get("cidrBlocks") or []), *(entry.get("ipv6CidrBlocks") or [])]
                found |= {_rule_text(entry, c) for c in cidrs if c in _OPEN}
    elif res.type == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
        for key in ("cidrIpv4", "cidrIpv6"):
            if inputs.get(key) in _OPEN:
                found.add(_rule_text(inputs, inputs[key], protocol_key="ipProtocol"))
    elif (
        res.type == "aws:ec2/securityGroupRule:SecurityGroupRule"
        and inputs.get("type") == "ingress"
    ):
        cidrs = [*(inputs.get("cidrBlocks") or []), *(inputs.get("ipv6CidrBlocks") or [])]
        found |= {_rule_text(inputs, c) for c in cidrs if c in _OPEN}
    return found


def _rule_text(entry: dict[str, Any], cidr: str, protocol_key: str = "protocol") -> str:
    protocol = str(entry.get(protocol_key, "?"))
    lo, hi = entry.get("fromPort"), entry.get("toPort")
    if protocol in ("-1", "all"):
        ports = "all traffic"
    else:
        ports = f"{protocol} {lo}" if lo == hi else f"{protocol} {lo}-{hi}"
    return f"{ports} ({cidr})"
