"""Cloud refusals for the network: security group rule quotas, load balancer access logs.

ALB access logs go to a bucket whose encryption and policy Elastic Load Balancing's log
delivery accepts; the log writer per region is infra/data/elb_log_delivery.json.

One part of the cloud-refusal group (`policy.refusals`): each rule is mandatory, states one
thing the API refuses and names the document that says so.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from policy import tokens as tk
from policy.framework import MANDATORY, Registry, Stack
from policy.view import Res, dig, document, flag, items, known, statements, strings

rules = Registry()

SG_RULES_PER_DIRECTION = 60
_ELB_LOG_DELIVERY = (
    Path(__file__).resolve().parent.parent / "infra" / "data" / "elb_log_delivery.json"
)


# --- security groups ------------------------------------------------------------------------


def _rule_counts(entry: Mapping[str, Any]) -> tuple[int, int]:
    """(IPv4, IPv6) rules one permission counts as: one per CIDR, group or prefix list."""
    v4 = len(items(entry.get("cidrBlocks"))) + (1 if known(entry.get("cidrIpv4")) else 0)
    v6 = len(items(entry.get("ipv6CidrBlocks"))) + (1 if known(entry.get("cidrIpv6")) else 0)
    others = (
        len(items(entry.get("securityGroups")))
        + len(items(entry.get("prefixListIds")))
        + (1 if flag(entry.get("self")) else 0)
        + (1 if known(entry.get("referencedSecurityGroupId")) else 0)
        + (1 if known(entry.get("prefixListId")) else 0)
        + (1 if known(entry.get("sourceSecurityGroupId")) else 0)
    )
    return v4 + others, v6


@rules.stack(
    "sg-rules-per-direction",
    MANDATORY,
    checks=f"No security group has more than {SG_RULES_PER_DIRECTION} inbound or outbound "
    "rules per IP version (each CIDR is a rule)",
    fix="split the CIDRs over two groups (a load balancer takes up to 5), or ask AWS for a "
    "higher quota first and raise SG_RULES_PER_DIRECTION with the quota's case number",
    document="https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html"
    "#vpc-limits-security-groups",
)
def sg_rules_per_direction(stack: Stack) -> Iterator[tuple[str, str]]:
    groups = stack.of_type(tk.SECURITY_GROUP)
    counts: dict[tuple[str, str], list[int]] = {}
    for sg in groups:
        for direction in ("ingress", "egress"):
            total = counts.setdefault((sg.urn, direction), [0, 0])
            for entry in items(sg.props.get(direction)):
                if isinstance(entry, Mapping):
                    v4, v6 = _rule_counts(entry)
                    total[0] += v4
                    total[1] += v6
    separate = {tk.INGRESS_RULE: "ingress", tk.EGRESS_RULE: "egress"}
    for rule in stack.of_type(tk.INGRESS_RULE, tk.EGRESS_RULE, tk.SECURITY_GROUP_RULE):
        direction = separate.get(rule.type) or str(rule.props.get("type"))
        for sg in stack.referenced(rule, "securityGroupId", (tk.SECURITY_GROUP,)):
            v4, v6 = _rule_counts(rule.props)
            total = counts.setdefault((sg.urn, direction), [0, 0])
            total[0] += v4
            total[1] += v6
    for (urn, direction), (v4, v6) in sorted(counts.items()):
        for family, n in (("IPv4", v4), ("IPv6", v6)):
            if n > SG_RULES_PER_DIRECTION:
                yield (
                    urn,
                    f"{n} {direction} rules for {family}: AWS allows {SG_RULES_PER_DIRECTION} "
                    "per direction (RulesPerSecurityGroupLimitExceeded)",
                )


# --- load balancer access logs ----------------------------------------------------------------


@cache
def _elb_log_delivery() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_ELB_LOG_DELIVERY.read_text())
    return data


def _log_buckets(stack: Stack, lb: Res) -> list[Res]:
    """The bucket a load balancer logs to: by name, or through the bucket policy it waits for."""
    found = stack.referenced(lb, "accessLogs.bucket", tk.BUCKETS)
    if found:
        return found
    policies = [p for p in stack.of_type(tk.BUCKET_POLICY) if p.urn in lb.dependencies]
    return [b for b in stack.of_type(*tk.BUCKETS) if any(b.urn in p.dependencies for p in policies)]


def _logging_load_balancers(stack: Stack) -> Iterator[tuple[Res, Res]]:
    for lb in stack.of_type(tk.LOAD_BALANCER, tk.ALB):
        if flag(dig(lb.props, "accessLogs", "enabled")) is not True:
            continue
        for bucket in _log_buckets(stack, lb):
            yield lb, bucket


@rules.stack(
    "alb-log-bucket-sse-s3",
    MANDATORY,
    checks="A load balancer writes access logs only to a bucket encrypted with SSE-S3",
    fix='give the log bucket default encryption sse_algorithm="AES256" (not aws:kms)',
    document="https://docs.aws.amazon.com/elasticloadbalancing/latest/application/"
    "enable-access-logging.html",
)
def alb_log_bucket_sse_s3(stack: Stack) -> Iterator[tuple[str, str]]:
    for lb, bucket in _logging_load_balancers(stack):
        for config in stack.companions(bucket, (tk.BUCKET_SSE,), "bucket"):
            for rule in items(config.props.get("rules")):
                algorithm = dig(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm")
                if known(algorithm) and algorithm != "AES256":
                    yield (
                        lb.urn,
                        f"its log bucket {bucket.name} is encrypted with {algorithm}: access "
                        "log delivery supports SSE-S3 (AES256) only",
                    )


@rules.stack(
    "alb-log-bucket-principal",
    MANDATORY,
    checks="The log bucket's policy lets in the log writer AWS documents for its region (the "
    "region's ELB account, or the log delivery service in regions opened since August 2022)",
    fix="build the statement with infra.components.access_logs.elb_log_writer(region) "
    "(aws.elb.get_service_account fails in the newer regions)",
    document="https://docs.aws.amazon.com/elasticloadbalancing/latest/application/"
    "enable-access-logging.html#attach-bucket-policy",
)
def alb_log_bucket_principal(stack: Stack) -> Iterator[tuple[str, str]]:
    data = _elb_log_delivery()
    for _lb, bucket in _logging_load_balancers(stack):
        region = bucket.region
        if region is None:
            continue
        account = data["accounts"].get(region)
        wanted = (
            f"arn:aws:iam::{account}:root" if account else data["service_principal"],
            account or data["service_principal"],
        )
        for policy in stack.companions(bucket, (tk.BUCKET_POLICY,), "bucket"):
            for statement in statements(document(policy.props.get("policy"))):
                if not any("/AWSLogs/" in r for r in strings(statement.get("Resource"))):
                    continue
                principal = statement.get("Principal")
                values = (
                    [v for vs in principal.values() for v in strings(vs)]
                    if isinstance(principal, Mapping)
                    else strings(principal)
                )
                if values and not any(v in wanted for v in values):
                    yield (
                        policy.urn,
                        f"the load balancer log statement lets in {', '.join(values)}; in "
                        f"{region} AWS delivers logs as {wanted[0]}",
                    )
