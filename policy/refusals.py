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


# --- ElastiCache ----------------------------------------------------------------------------

# AuthToken: "Must be only printable ASCII characters ... at least 16 characters and no more
# than 128 ... The only permitted printable special characters are !, &, #, $, ^, <, >, and -"
# (CreateReplicationGroup; botocore's elasticache service-2.json holds the same text, which
# tests/test_policy_rules.py reads to keep this in step).
AUTH_TOKEN_LENGTH = (16, 128)
AUTH_TOKEN_SPECIALS = frozenset("!&#$^<>-")
_RANDOM_DEFAULT_SPECIALS = frozenset("!@#$%&*()-_=+[]{}<>:?")


@rules.stack(
    "elasticache-auth-token",
    MANDATORY,
    checks="A Redis auth token comes only with transit encryption, and a generated one is "
    "16-128 characters with no specials but ! & # $ ^ < > -",
    fix="transit_encryption_enabled=True; random.RandomPassword(length=16..128, special=False) "
    '(or override_special from "!&#$^<>-")',
    document="https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/"
    "API_CreateReplicationGroup.html",
)
def elasticache_auth_token(stack: Stack) -> Iterator[tuple[str, str]]:
    passwords = stack.of_type(tk.RANDOM_PASSWORD)
    for group in stack.of_type(tk.ELASTICACHE_GROUP):
        if group.props.get("authToken") in (None, ""):
            continue
        if flag(group.props.get("transitEncryptionEnabled")) is False or (
            "transitEncryptionEnabled" not in group.props
        ):
            yield group.urn, "auth_token without transit encryption: ElastiCache refuses it"
        for generated in (p for p in passwords if p.urn in group.dependencies):
            props = generated.props
            length = number(props.get("length"))
            low, high = AUTH_TOKEN_LENGTH
            if length is not None and not low <= length <= high:
                yield generated.urn, f"feeds {group.name}'s auth token: length {length}"
            special = props.get("special")
            if flag(special) is False or is_unknown(special):
                continue
            chosen = props.get("overrideSpecial")
            if is_unknown(chosen):
                continue
            chars = set(chosen) if isinstance(chosen, str) else set(_RANDOM_DEFAULT_SPECIALS)
            refused = sorted(chars - AUTH_TOKEN_SPECIALS)
            if refused:
                yield (
                    generated.urn,
                    f"feeds {group.name}'s auth token with {' '.join(refused)}, which "
                    "ElastiCache refuses",
                )


@rules.resource(
    "elasticache-failover-needs-replica",
    MANDATORY,
    types=(tk.ELASTICACHE_GROUP,),
    checks="Multi-AZ needs automatic failover, and automatic failover needs at least two nodes",
    fix="python-org:redis.nodes >= 2 for Multi-AZ; with one node, both off",
    document="https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/AutoFailover.html",
)
def elasticache_failover_needs_replica(res: Res) -> Iterator[str]:
    nodes = number(res.props.get("numCacheClusters"))
    failover = flag(res.props.get("automaticFailoverEnabled"))
    multi_az = flag(res.props.get("multiAzEnabled"))
    if multi_az is True and failover is False:
        yield "multi_az_enabled without automatic_failover_enabled"
    if (
        (failover or multi_az)
        and nodes is not None
        and nodes < 2
        and not res.props.get("numNodeGroups")
    ):
        yield f"automatic failover or Multi-AZ with {nodes} node: there is no replica to promote"


# --- OpenSearch -----------------------------------------------------------------------------


@rules.resource(
    "opensearch-fine-grained-prerequisites",
    MANDATORY,
    types=(tk.OPENSEARCH_DOMAIN,),
    checks="Fine-grained access control comes with encryption at rest, node-to-node encryption "
    "and HTTPS required, and an internal user database has a master user",
    fix="encrypt_at_rest, node_to_node_encryption and domain_endpoint_options.enforce_https "
    "on; master_user_options with a name and a generated password",
    document="https://docs.aws.amazon.com/opensearch-service/latest/developerguide/"
    "fgac.html#fgac-enabling",
)
def opensearch_fgac_prerequisites(res: Res) -> Iterator[str]:
    props = res.props
    security = props.get("advancedSecurityOptions")
    if flag(dig(security, "enabled")) is not True:
        return
    for path, what in (
        (("encryptAtRest", "enabled"), "encryption at rest"),
        (("nodeToNodeEncryption", "enabled"), "node-to-node encryption"),
        (("domainEndpointOptions", "enforceHttps"), "enforce_https"),
    ):
        value = dig(props, *path)
        if not is_unknown(value) and flag(value) is not True:
            yield f"fine-grained access control without {what}: OpenSearch Service refuses it"
    if flag(dig(security, "internalUserDatabaseEnabled")) is True:
        master = dig(security, "masterUserOptions")
        if not isinstance(master, Mapping) or master.get("masterUserName") in (None, ""):
            yield "an internal user database without a master user name and password"


@rules.resource(
    "opensearch-zone-awareness",
    MANDATORY,
    types=(tk.OPENSEARCH_DOMAIN,),
    checks="A zone-aware domain has 2 or 3 zones, one subnet per zone and an instance count that "
    "is a multiple of them; a domain without zone awareness has one subnet",
    fix="python-org:search.zones and instanceCount (a multiple of zones); the component picks "
    "one private subnet per zone",
    document="https://docs.aws.amazon.com/opensearch-service/latest/developerguide/"
    "managedomains-multiaz.html",
)
def opensearch_zone_awareness(res: Res) -> Iterator[str]:
    cluster = res.props.get("clusterConfig")
    subnets = dig(res.props, "vpcOptions", "subnetIds")
    if not isinstance(cluster, Mapping) or is_unknown(subnets):
        return
    count = number(cluster.get("instanceCount"))
    n_subnets = len(items(subnets)) if subnets is not None else None
    enabled = cluster.get("zoneAwarenessEnabled")
    if is_unknown(enabled):
        return
    if flag(enabled) is True:
        zones = number(dig(cluster, "zoneAwarenessConfig", "availabilityZoneCount")) or 2
        if zones not in (2, 3):
            yield f"availability_zone_count {zones}: 2 or 3 only"
        if count is not None and count % zones:
            yield f"instance_count {count} is not a multiple of the {zones} zones"
        if n_subnets is not None and n_subnets and n_subnets != zones:
            yield f"{n_subnets} subnets for {zones} zones: one subnet per zone"
    elif n_subnets is not None and n_subnets > 1:
        yield f"{n_subnets} subnets without zone awareness: a single-zone domain takes one"


# --- SES --------------------------------------------------------------------------------------


@rules.stack(
    "ses-mail-from-subdomain",
    MANDATORY,
    checks="A custom MAIL FROM domain is a subdomain of its identity (never the identity itself)",
    fix="python-org:mail.mailFromDomain under python-org:mail.domain, e.g. bounces.<domain>",
    document="https://docs.aws.amazon.com/ses/latest/dg/mail-from.html",
)
def ses_mail_from_subdomain(stack: Stack) -> Iterator[tuple[str, str]]:
    for attrs in stack.of_type(tk.SES_MAIL_FROM):
        mail_from = attrs.props.get("mailFromDomain")
        identity = attrs.props.get("emailIdentity")
        if not known(identity):
            named = stack.referenced(attrs, "emailIdentity", (tk.SES_IDENTITY,))
            identity = named[0].props.get("emailIdentity") if named else None
        if (
            isinstance(mail_from, str)
            and known(mail_from)
            and isinstance(identity, str)
            and known(identity)
            and not mail_from.endswith("." + identity)
        ):
            yield (
                attrs.urn,
                f"MAIL FROM {mail_from} is not a subdomain of the identity {identity}: SES "
                "refuses it",
            )
