"""Cloud refusals: what AWS (or the provider) refuses, checked before anything is touched.

The mocks accept whatever the program declares; AWS does not. Each rule here states one thing
the real API or provider refuses, names the document that says so (`document`), and is
mandatory: under `pulumi preview --policy-pack policy` it stops the deploy before the first
resource, and `scripts/validate` runs it offline. A rule that fires is a `pulumi up` that would
have failed half way, or worse, a region that could never be removed.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from policy import tokens as tk
from policy.compute import refresh_percentages
from policy.framework import MANDATORY, Registry, Stack
from policy.view import (
    Res,
    dig,
    document,
    flag,
    is_unknown,
    items,
    known,
    number,
    statements,
    strings,
)

rules = Registry()

GROUP = "cloud refusal"
USER_DATA_LIMIT = 16 * 1024
SG_RULES_PER_DIRECTION = 60
# Characters RDS refuses in a master password: "/", '"', "@" and space (CreateDBInstance,
# MasterUserPassword: "Can include any printable ASCII character except ...").
RDS_PASSWORD_REFUSED = frozenset('/"@ ')
RDS_POSTGRES_PASSWORD_LENGTH = (8, 128)  # MasterUserPassword, RDS for PostgreSQL
_ELB_LOG_DELIVERY = (
    Path(__file__).resolve().parent.parent / "infra" / "data" / "elb_log_delivery.json"
)


def _replica(res: Res) -> bool:
    """A read replica (its source may be unknown in a preview: it is still a replica)."""
    return res.props.get("replicateSourceDb") not in (None, "")


# --- RDS ----------------------------------------------------------------------------------------


@rules.stack(
    "rds-replica-of-managed-password-source",
    MANDATORY,
    checks="No read replica of a source whose master password RDS manages in Secrets Manager",
    fix="give the primary a password of the program's own (pulumi-random, kept as a secret) "
    "instead of manage_master_user_password",
    document="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html"
    "#rds-secrets-manager-limitations",
)
def replica_of_managed_password(stack: Stack) -> Iterator[tuple[str, str]]:
    sources = [
        r
        for r in stack.of_type(tk.RDS_INSTANCE)
        if flag(r.props.get("manageMasterUserPassword")) is True
    ]
    if not sources:
        return
    for replica in filter(_replica, stack.of_type(tk.RDS_INSTANCE)):
        for source in stack.referenced(replica, "replicateSourceDb", (tk.RDS_INSTANCE,)):
            if source in sources:
                yield (
                    replica.urn,
                    f"its source {source.name} manages its master password in Secrets Manager: "
                    "RDS refuses to create the replica",
                )


@rules.resource(
    "rds-replica-lifecycle",
    MANDATORY,
    types=(tk.RDS_INSTANCE,),
    checks="A read replica sets no final snapshot, skips it on delete, and has no automated "
    "backups (PostgreSQL)",
    fix="on a replica leave final_snapshot_identifier, backup_retention_period and "
    "backup_window unset and set skip_final_snapshot=True; after a promotion, declare it a "
    "primary (backups and final snapshot on)",
    document="https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBInstance.html"
    " ; https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.html"
    "#USER_ReadRepl.Overview.Differences",
)
def replica_lifecycle(res: Res) -> Iterator[str]:
    if not _replica(res):
        return
    props = res.props
    if props.get("finalSnapshotIdentifier") not in (None, ""):
        yield (
            "final_snapshot_identifier is set: RDS refuses it when deleting a read replica, so "
            "removing this region would fail"
        )
    if flag(props.get("skipFinalSnapshot")) is False or (
        "skipFinalSnapshot" not in props and "finalSnapshotIdentifier" in props
    ):
        yield "skip_final_snapshot is false: DeleteDBInstance requires it for a read replica"
    engine = props.get("engine")
    postgres = engine in (None, "postgres") or is_unknown(engine)
    backups = number(props.get("backupRetentionPeriod"))
    if postgres and backups is not None and backups > 0:
        yield (
            f"backup_retention_period is {backups}: PostgreSQL read replicas can't have "
            "automated backups"
        )
    if postgres and props.get("backupWindow") not in (None, ""):
        yield "backup_window is set: PostgreSQL read replicas have no automated backups"


@rules.stack(
    "rds-master-password",
    MANDATORY,
    checks="A master password is either managed by RDS or given, never both, and a generated "
    'one uses only characters RDS accepts (8-128 long, none of / " @ space)',
    fix="generate it with random.RandomPassword(special=False) (or an override_special without "
    '/, ", @ and space), length 8 to 128',
    document="https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html",
)
def master_password(stack: Stack) -> Iterator[tuple[str, str]]:
    passwords = stack.of_type(tk.RANDOM_PASSWORD)
    for db in stack.of_type(tk.RDS_INSTANCE):
        given = db.props.get("password") is not None
        if flag(db.props.get("manageMasterUserPassword")) is True and given:
            yield db.urn, "both password and manage_master_user_password are set: RDS refuses"
        for generated in (p for p in passwords if p.urn in db.dependencies):
            yield from (
                (generated.urn, f"feeds {db.name}'s master password: {problem}")
                for problem in _password_problems(generated)
            )


def _password_problems(res: Res) -> Iterator[str]:
    props = res.props
    length = number(props.get("length"))
    low, high = RDS_POSTGRES_PASSWORD_LENGTH
    if length is not None and not low <= length <= high:
        yield f"length {length} is outside {low}-{high}"
    special_flag = props.get("special")
    if flag(special_flag) is False or is_unknown(special_flag):
        return
    special = props.get("overrideSpecial")
    if is_unknown(special):
        return
    # pulumi-random's default special characters include "/", "@" and '"'.
    chars = set(special) if isinstance(special, str) else set('!@#$%&*()-_=+[]{}<>:?/"')
    refused = sorted(chars & RDS_PASSWORD_REFUSED)
    if refused:
        yield f"its special characters include {' '.join(refused)}, which RDS refuses"


# --- names ----------------------------------------------------------------------------------

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


# --- compute ----------------------------------------------------------------------------------


@rules.resource(
    "user-data-size",
    MANDATORY,
    types=(tk.LAUNCH_TEMPLATE,),
    checks=f"Launch template user data is base64 and at most {USER_DATA_LIMIT} bytes decoded",
    fix="move what the boot needs into files the boot script fetches (an S3 object, SSM), or "
    "trim the embedded scripts",
    document="https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html",
)
def user_data_size(res: Res) -> Iterator[str]:
    raw = res.props.get("userData")
    if not isinstance(raw, str) or not known(raw):
        return
    try:
        decoded = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        yield "user_data is not base64: a launch template takes base64-encoded user data"
        return
    if len(decoded) > USER_DATA_LIMIT:
        yield f"user data is {len(decoded)} bytes; EC2 accepts {USER_DATA_LIMIT} (16 KB) raw"


@rules.resource(
    "asg-instance-refresh-percentages",
    MANDATORY,
    types=(tk.ASG,),
    checks="Instance refresh percentages are ones Auto Scaling accepts (minimum 0-100, maximum "
    "100-200, at most 100 apart)",
    fix="min_healthy_percentage=100 and max_healthy_percentage=200 (launch before terminate)",
    document="https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RefreshPreferences.html",
)
def asg_instance_refresh_percentages(res: Res) -> Iterator[str]:
    percentages = refresh_percentages(res, defaults=False)
    if percentages is None:
        return
    low, high = percentages
    if low is not None and not 0 <= low <= 100:
        yield f"min_healthy_percentage {low} is outside 0-100"
    if high is not None and not 100 <= high <= 200:
        yield f"max_healthy_percentage {high} is outside 100-200"
    if low is not None and high is not None and high - low > 100:
        yield f"max_healthy_percentage {high} is more than 100 above the minimum {low}"


@rules.resource(
    "target-group-health-check-timing",
    MANDATORY,
    types=(tk.TARGET_GROUP,),
    checks="A target group's health check timeout is shorter than its interval",
    fix="make health_check.timeout smaller than health_check.interval",
    document="https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/"
    "API_CreateTargetGroup.html",
)
def target_group_health_check_timing(res: Res) -> Iterator[str]:
    timeout = number(dig(res.props, "healthCheck", "timeout"))
    interval = number(dig(res.props, "healthCheck", "interval"))
    if timeout is not None and interval is not None and timeout >= interval:
        yield f"timeout {timeout} s is not shorter than the interval {interval} s"
