"""Cloud refusals: what AWS (or the provider) refuses, checked before anything is touched.

The mocks accept whatever the program declares; AWS does not. Each rule here states one thing
the real API or provider refuses, names the document that says so (`document`), and is
mandatory: under `pulumi preview --policy-pack policy` it stops the deploy before the first
resource, and `scripts/validate` runs it offline. A rule that fires is a `pulumi up` that would
have failed half way, or worse, a region that could never be removed.

This module holds the group in the table's order (`RULES`) and its one rule that spans services,
the physical name limits (`NAME_LIMITS`); the others are per service: `refusals_rds` (RDS),
`refusals_network` (security groups, load balancer access logs), `refusals_compute` (launch
templates, auto scaling groups, target groups) and `refusals_services` (ElastiCache, OpenSearch,
SES).
"""

from __future__ import annotations

from collections.abc import Iterator

from policy import refusals_compute, refusals_network, refusals_rds, refusals_services
from policy import tokens as tk
from policy.framework import MANDATORY, Registry, Rule
from policy.view import Res, known

rules = Registry()

GROUP = "cloud refusal"

# (type, property, limit, document): explicit physical names only; pulumi-aws truncates the
# names it generates to each resource's limit itself.
NAME_LIMITS: tuple[tuple[str, str, int, str], ...] = (
    (tk.LOAD_BALANCER, "name", 32, "ELBv2 CreateLoadBalancer: Name, at most 32 characters"),
    (tk.TARGET_GROUP, "name", 32, "ELBv2 CreateTargetGroup: Name, at most 32 characters"),
    (tk.TARGET_GROUP, "namePrefix", 6, "pulumi-aws lb.TargetGroup: name_prefix, at most 6"),
    (tk.RDS_INSTANCE, "identifier", 63, "RDS CreateDBInstance: DBInstanceIdentifier, 1-63"),
    (tk.BUCKET, "bucket", 63, "S3 bucket naming rules: 3-63 characters"),
    (tk.BUCKET, "bucketPrefix", 37, "pulumi-aws s3.Bucket: bucket_prefix, at most 37"),
    ("aws:iam/role:Role", "name", 64, "IAM CreateRole: RoleName, at most 64 characters"),
    ("aws:iam/role:Role", "namePrefix", 38, "pulumi-aws iam.Role: name_prefix, at most 38"),
    (tk.ASG, "name", 255, "Auto Scaling CreateAutoScalingGroup: at most 255 characters"),
)


@rules.resource(
    "name-length-limits",
    MANDATORY,
    types=tuple(sorted({t for t, *_ in NAME_LIMITS})),
    checks="Physical names fit AWS's length limits (load balancer and target group 32, RDS "
    "identifier 63, bucket prefix 37, IAM role 64)",
    fix="shorten the stack name (names are pyorg-<stack>-<region>-...), or let Pulumi generate "
    "the name",
    document="see NAME_LIMITS in policy/refusals.py: one API reference per limit",
)
def name_length_limits(res: Res) -> Iterator[str]:
    for type_, prop, limit, source in NAME_LIMITS:
        value = res.props.get(prop)
        if res.type == type_ and isinstance(value, str) and known(value) and len(value) > limit:
            yield f"{prop} {value!r} is {len(value)} characters; {source}"


# The group, in the order of the table in docs/policies.md.
RULES: tuple[Rule, ...] = (
    *refusals_rds.rules.rules,
    *rules.rules,
    *refusals_network.rules.rules,
    *refusals_compute.rules.rules,
    *refusals_services.rules.rules,
)
