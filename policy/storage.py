"""Rules for where data lives: databases, buckets, keys, secrets, logs; and the data-loss guards."""

from __future__ import annotations

from collections.abc import Iterator

from policy import tokens as tk
from policy.framework import ADVISORY, MANDATORY, Registry, Stack
from policy.view import (
    ENVIRONMENTS,
    REQUIRED_TAGS,
    Res,
    dig,
    document,
    environment,
    flag,
    is_production,
    is_unknown,
    items,
    known,
    number,
    principals,
    shown,
    statements,
    strings,
    tags,
)

rules = Registry()

DATABASES = (tk.RDS_INSTANCE, tk.RDS_CLUSTER)
MIN_PRODUCTION_BACKUP_DAYS = 7
# Certificate authorities RDS still issues from (the 2019 CA expired in 2024).
MODERN_RDS_CAS = ("rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1", "rds-ca-ecc384-g1")


def _replica(res: Res) -> bool:
    return res.props.get("replicateSourceDb") is not None


# --- databases --------------------------------------------------------------------------------


@rules.resource(
    "database-encrypted",
    MANDATORY,
    types=DATABASES,
    checks="Storage encryption on every RDS instance, read replica and cluster",
    fix="set storage_encrypted=True and kms_key_id to the region's own key (it can only be "
    "turned on by restoring a snapshot into a new instance, so do it at creation)",
    sources=("CKV_AWS_16", "CKV_AWS_96", "AwsSolutions-RDS2"),
)
def database_encrypted(res: Res) -> Iterator[str]:
    value = flag(res.props.get("storageEncrypted"))
    if value is False:
        yield "storage_encrypted is false"
    elif value is None and "storageEncrypted" not in res.props and not _replica(res):
        # A replica without the input inherits its source's encryption; a primary is clear.
        yield "storage_encrypted is not set (RDS defaults to unencrypted)"


@rules.resource(
    "database-not-public",
    MANDATORY,
    types=(tk.RDS_INSTANCE, "aws:rds/clusterInstance:ClusterInstance"),
    checks="No database instance is publicly accessible",
    fix="set publicly_accessible=False and keep the instance in the private subnets; clients "
    "reach it through security group rules",
    sources=("CKV_AWS_17",),
)
def database_not_public(res: Res) -> Iterator[str]:
    if flag(res.props.get("publiclyAccessible")) is True:
        yield "publicly_accessible is true"


@rules.resource(
    "database-multi-az-in-production",
    MANDATORY,
    types=(tk.RDS_INSTANCE,),
    checks="Production RDS instances (primary and replicas) are Multi-AZ",
    fix="set python-org:database.multiAz: true in the production stack file (the database "
    "component passes it to multi_az)",
    sources=("CKV_AWS_157", "AwsSolutions-RDS3"),
)
def database_multi_az(res: Res) -> Iterator[str]:
    if is_production(res) and flag(res.props.get("multiAz")) is not True:
        value = res.props.get("multiAz")
        if not is_unknown(value):
            yield f"multi_az is {shown(value)} on a production database"


@rules.resource(
    "database-backup-retention",
    MANDATORY,
    types=DATABASES,
    checks="Automated backups kept >= 7 days in production and >= 1 day elsewhere (primaries: "
    "a PostgreSQL read replica can't have them, rds-replica-lifecycle)",
    fix="set python-org:database.backupRetentionDays (7-35 in production); RDS point-in-time "
    "recovery only reaches back as far as the retention",
    sources=("CKV_AWS_133", "AwsSolutions-RDS13"),
)
def database_backup_retention(res: Res) -> Iterator[str]:
    value = res.props.get("backupRetentionPeriod")
    if is_unknown(value) or _replica(res):
        return
    days = number(value)
    minimum = MIN_PRODUCTION_BACKUP_DAYS if is_production(res) else 1
    if days is None and value is None:
        days = 1  # the RDS default
    if days is not None and days < minimum:
        where = "production" if is_production(res) else (environment(res) or "this stack")
        yield f"backup retention is {days} day(s); {where} needs at least {minimum}"


@rules.resource(
    "database-deletion-protection-in-production",
    MANDATORY,
    types=DATABASES,
    checks="Production databases have deletion protection on",
    fix="set deletion_protection=True; turning it off is a deliberate, separate change",
    sources=("CKV_AWS_293", "CKV_AWS_139", "AwsSolutions-RDS10"),
)
def database_deletion_protection(res: Res) -> Iterator[str]:
    value = res.props.get("deletionProtection")
    if is_production(res) and not is_unknown(value) and flag(value) is not True:
        yield f"deletion_protection is {shown(value)} on a production database"


@rules.resource(
    "database-final-snapshot",
    MANDATORY,
    types=DATABASES,
    checks="Deleting a primary takes a final snapshot and keeps its automated backups (a read "
    "replica can have neither: rds-replica-lifecycle)",
    fix="set skip_final_snapshot=False, a final_snapshot_identifier, and "
    "delete_automated_backups=False",
    sources=(),
)
def database_final_snapshot(res: Res) -> Iterator[str]:
    props = res.props
    if _replica(res):
        return  # its data is the primary's; RDS refuses a final snapshot of a replica
    if flag(props.get("skipFinalSnapshot")) is True:
        yield "skip_final_snapshot is true: a delete would keep no copy of the data"
    elif props.get("finalSnapshotIdentifier") in (None, ""):
        yield "no final_snapshot_identifier: there is no name for the final snapshot"
    if flag(props.get("deleteAutomatedBackups")) is True:
        yield "delete_automated_backups is true: the backups would go with the instance"


@rules.resource(
    "database-iam-auth",
    ADVISORY,
    types=DATABASES,
    checks="IAM database authentication is enabled",
    fix="set iam_database_authentication_enabled=True so that operators connect with "
    "short-lived IAM tokens instead of the master password",
    sources=("CKV_AWS_161", "CKV_AWS_162", "AwsSolutions-RDS6"),
)
def database_iam_auth(res: Res) -> Iterator[str]:
    value = res.props.get("iamDatabaseAuthenticationEnabled")
    if not is_unknown(value) and flag(value) is not True:
        yield "IAM database authentication is off"


@rules.resource(
    "database-logs-exported",
    ADVISORY,
    types=(tk.RDS_INSTANCE,),
    checks="The engine's logs are exported to CloudWatch Logs",
    fix='set enabled_cloudwatch_logs_exports (PostgreSQL: ["postgresql", "upgrade"])',
    sources=("CKV_AWS_129",),
)
def database_logs_exported(res: Res) -> Iterator[str]:
    value = res.props.get("enabledCloudwatchLogsExports")
    if not is_unknown(value) and not items(value):
        yield "no logs are exported"


@rules.resource(
    "database-enhanced-monitoring",
    ADVISORY,
    types=(tk.RDS_INSTANCE,),
    checks="Enhanced Monitoring is on (OS metrics every <= 60 s)",
    fix="set monitoring_interval (1-60) and monitoring_role_arn to a role with "
    "AmazonRDSEnhancedMonitoringRole",
    sources=("CKV_AWS_118",),
)
def database_enhanced_monitoring(res: Res) -> Iterator[str]:
    value = res.props.get("monitoringInterval")
    if not is_unknown(value) and not (number(value) or 0) > 0:
        yield "Enhanced Monitoring is off"


@rules.resource(
    "database-performance-insights",
    ADVISORY,
    types=(tk.RDS_INSTANCE,),
    checks="Performance Insights is on and encrypted with a customer-managed key",
    fix="set performance_insights_enabled=True and performance_insights_kms_key_id to the "
    "database's key",
    sources=("CKV_AWS_353", "CKV_AWS_354"),
)
def database_performance_insights(res: Res) -> Iterator[str]:
    enabled = res.props.get("performanceInsightsEnabled")
    if is_unknown(enabled):
        return
    if flag(enabled) is not True:
        yield "Performance Insights is off"
    elif res.props.get("performanceInsightsKmsKeyId") in (None, ""):
        yield "Performance Insights uses the AWS-managed key"


@rules.resource(
    "database-minor-upgrades",
    ADVISORY,
    types=(tk.RDS_INSTANCE, "aws:rds/clusterInstance:ClusterInstance"),
    checks="Minor engine versions are applied automatically in the maintenance window",
    fix="leave auto_minor_version_upgrade unset or True",
    sources=("CKV_AWS_226",),
)
def database_minor_upgrades(res: Res) -> Iterator[str]:
    if flag(res.props.get("autoMinorVersionUpgrade")) is False:
        yield "auto_minor_version_upgrade is false: security patches wait for a manual upgrade"


@rules.resource(
    "database-copy-tags-to-snapshot",
    ADVISORY,
    types=DATABASES,
    checks="Snapshots inherit the database's tags",
    fix="set copy_tags_to_snapshot=True so that snapshots stay attributable (and are kept by "
    "tag-based retention)",
    sources=("CKV2_AWS_60", "CKV_AWS_313"),
)
def database_copy_tags(res: Res) -> Iterator[str]:
    value = res.props.get("copyTagsToSnapshot")
    if not is_unknown(value) and flag(value) is not True:
        yield "copy_tags_to_snapshot is off"


@rules.resource(
    "database-ca-cert",
    ADVISORY,
    types=(tk.RDS_INSTANCE,),
    checks="The instance's server certificate comes from a current RDS CA",
    fix=f"set ca_cert_identifier to one of {', '.join(MODERN_RDS_CAS)} (or leave it unset)",
    sources=("CKV_AWS_211",),
)
def database_ca_cert(res: Res) -> Iterator[str]:
    value = res.props.get("caCertIdentifier")
    if known(value) and value not in MODERN_RDS_CAS:
        yield f"ca_cert_identifier is {value!r}"


def _parameter_groups(stack: Stack, db: Res) -> list[Res]:
    """`db`'s parameter groups: by name or dependency, else (the name not known, as under the
    mocks, which answer no group name) the one declared beside it in its component."""
    groups = stack.referenced(db, "parameterGroupName", (tk.RDS_PARAMETER_GROUP,))
    if groups or db.props.get("parameterGroupName") is not None:
        return groups
    return [g for g in stack.of_type(tk.RDS_PARAMETER_GROUP) if g.parent and g.parent == db.parent]


def _parameters(groups: list[Res]) -> dict[str, str] | None:
    """The parameters `groups` set; None if they can't be read."""
    found: dict[str, str] = {}
    for group in groups:
        params = group.props.get("parameters")
        if is_unknown(params):
            return None
        for param in items(params):
            if not isinstance(param, dict) or not known(param.get("name")):
                return None
            found[param["name"]] = str(param.get("value"))
    return found


def _postgres(db: Res, groups: list[Res]) -> bool:
    """Whether `db` runs PostgreSQL (a replica says so through its parameter group's family)."""
    if str(db.props.get("engine", "")).startswith("postgres"):
        return True
    return any(str(g.props.get("family", "")).startswith("postgres") for g in groups)


@rules.stack(
    "database-tls-in-transit",
    ADVISORY,
    checks="PostgreSQL refuses unencrypted connections (rds.force_ssl = 1 in its parameter group)",
    fix="give the instance a parameter group that sets rds.force_ssl to 1",
    sources=("CKV2_AWS_69",),
)
def database_tls_in_transit(stack: Stack) -> Iterator[tuple[str, str]]:
    for db in stack.of_type(tk.RDS_INSTANCE):
        groups = _parameter_groups(stack, db)
        if not _postgres(db, groups):
            continue
        if not groups:
            if not is_unknown(db.props.get("parameterGroupName")):
                yield db.urn, "the instance uses the default parameter group"
            continue
        params = _parameters(groups)
        if params is not None and params.get("rds.force_ssl") != "1":
            yield db.urn, "its parameter group does not set rds.force_ssl to 1"


@rules.stack(
    "database-query-logging",
    ADVISORY,
    checks="PostgreSQL logs slow or all statements (log_min_duration_statement or log_statement)",
    fix="set log_min_duration_statement (milliseconds) or log_statement in the parameter group",
    sources=("CKV2_AWS_30",),
)
def database_query_logging(stack: Stack) -> Iterator[tuple[str, str]]:
    for db in stack.of_type(tk.RDS_INSTANCE):
        groups = _parameter_groups(stack, db)
        params = _parameters(groups) if groups and _postgres(db, groups) else None
        if params is None:
            continue  # the default group, or unknown: database-tls-in-transit speaks for it
        duration = number(params.get("log_min_duration_statement"))
        statement = params.get("log_statement")
        if (duration is None or duration < 0) and statement in (None, "none"):
            yield db.urn, "its parameter group logs no statements"


# --- buckets ----------------------------------------------------------------------------------


def _bucket_companions(stack: Stack, bucket: Res, type_: str) -> list[Res]:
    return stack.companions(bucket, (type_,), "bucket")


@rules.stack(
    "bucket-encrypted",
    MANDATORY,
    checks="Every bucket has a default server-side encryption configuration",
    fix="declare an aws.s3.BucketServerSideEncryptionConfiguration for the bucket (aws:kms with "
    "the region's assets key, bucket_key_enabled=True)",
    sources=("CKV_AWS_19",),
)
def bucket_encrypted(stack: Stack) -> Iterator[tuple[str, str]]:
    for bucket in stack.of_type(*tk.BUCKETS):
        configs = _bucket_companions(stack, bucket, tk.BUCKET_SSE)
        if not configs:
            yield bucket.urn, "the bucket has no server-side encryption configuration"
        for config in configs:
            for rule in items(config.props.get("rules")):
                algorithm = dig(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm")
                if known(algorithm) and algorithm not in ("aws:kms", "aws:kms:dsse", "AES256"):
                    yield bucket.urn, f"unknown sse_algorithm {algorithm!r}"


@rules.stack(
    "bucket-kms-encrypted",
    ADVISORY,
    checks="Buckets are encrypted with a KMS key by default (not only SSE-S3)",
    fix="use sse_algorithm aws:kms with the region's key in the encryption configuration",
    sources=("CKV_AWS_145",),
)
def bucket_kms_encrypted(stack: Stack) -> Iterator[tuple[str, str]]:
    for bucket in stack.of_type(*tk.BUCKETS):
        for config in _bucket_companions(stack, bucket, tk.BUCKET_SSE):
            for rule in items(config.props.get("rules")):
                algorithm = dig(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm")
                if known(algorithm) and not str(algorithm).startswith("aws:kms"):
                    yield bucket.urn, f"default encryption is {algorithm}, not KMS"


PUBLIC_ACCESS_FLAGS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)


@rules.stack(
    "bucket-public-access-blocked",
    MANDATORY,
    checks="Every bucket has a public access block with all four settings on",
    fix="declare an aws.s3.BucketPublicAccessBlock for the bucket with block_public_acls, "
    "block_public_policy, ignore_public_acls and restrict_public_buckets all True",
    sources=(
        "CKV_AWS_53",
        "CKV_AWS_54",
        "CKV_AWS_55",
        "CKV_AWS_56",
        "CKV2_AWS_6",
        "AwsSolutions-S2",
    ),
)
def bucket_public_access_blocked(stack: Stack) -> Iterator[tuple[str, str]]:
    for bucket in stack.of_type(*tk.BUCKETS):
        blocks = _bucket_companions(stack, bucket, tk.BUCKET_PUBLIC_ACCESS_BLOCK)
        if not blocks:
            yield bucket.urn, "the bucket has no public access block"
        for block in blocks:
            off = [
                f
                for f in PUBLIC_ACCESS_FLAGS
                if not is_unknown(block.props.get(f)) and flag(block.props.get(f)) is not True
            ]
            if off:
                yield bucket.urn, f"its public access block leaves {', '.join(off)} off"


@rules.stack(
    "bucket-versioning",
    MANDATORY,
    checks="Every bucket has versioning enabled",
    fix='declare an aws.s3.BucketVersioning for the bucket with status "Enabled" (overwrites and '
    "deletes then keep the previous version)",
    sources=("CKV_AWS_21",),
)
def bucket_versioning(stack: Stack) -> Iterator[tuple[str, str]]:
    for bucket in stack.of_type(*tk.BUCKETS):
        configs = _bucket_companions(stack, bucket, tk.BUCKET_VERSIONING)
        if not configs:
            yield bucket.urn, "the bucket has no versioning configuration"
        for config in configs:
            status = dig(config.props, "versioningConfiguration", "status")
            if known(status) and status != "Enabled":
                yield bucket.urn, f"versioning status is {status!r}"


PUBLIC_ACLS = ("public-read", "public-read-write", "authenticated-read")
ALL_USERS_GROUPS = (
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
)


@rules.resource(
    "bucket-no-public-acl",
    MANDATORY,
    types=(*tk.BUCKETS, tk.BUCKET_ACL),
    checks="No bucket ACL grants access to everyone or to every AWS account",
    fix="remove the canned ACL / grant; with ACLs disabled (BucketOwnerEnforced) access is "
    "granted by policies only",
    sources=("CKV_AWS_20", "CKV_AWS_57", "CKV2_AWS_43", "CKV_AWS_375"),
)
def bucket_no_public_acl(res: Res) -> Iterator[str]:
    acl = res.props.get("acl")
    if acl in PUBLIC_ACLS:
        yield f"the canned ACL is {acl!r}"
    grants = dig(res.props, "accessControlPolicy", "grants")
    for grant in items(grants):
        uri = dig(grant, "grantee", "uri")
        if uri in ALL_USERS_GROUPS:
            yield f"a grant gives {dig(grant, 'permission')} to {uri.rsplit('/', 1)[-1]}"


@rules.stack(
    "bucket-acls-disabled",
    ADVISORY,
    checks="Object ownership is BucketOwnerEnforced (ACLs disabled)",
    fix='declare an aws.s3.BucketOwnershipControls with object_ownership "BucketOwnerEnforced"',
    sources=("CKV2_AWS_65",),
)
def bucket_acls_disabled(stack: Stack) -> Iterator[tuple[str, str]]:
    for bucket in stack.of_type(*tk.BUCKETS):
        controls = _bucket_companions(stack, bucket, tk.BUCKET_OWNERSHIP)
        if not controls:
            yield bucket.urn, "the bucket has no ownership controls (ACLs stay enabled)"
        for control in controls:
            ownership = dig(control.props, "rule", "objectOwnership")
            if known(ownership) and ownership != "BucketOwnerEnforced":
                yield bucket.urn, f"object ownership is {ownership!r}"


def _denies_insecure_transport(doc: dict[str, object]) -> bool:
    for statement in statements(doc):
        condition = statement.get("Condition")
        secure = dig(condition, "Bool", "aws:SecureTransport")
        deny_all = statement.get("Effect") == "Deny" and "*" in principals(statement)
        if deny_all and str(secure).lower() == "false":
            return True
    return False


@rules.stack(
    "bucket-tls-only",
    MANDATORY,
    checks="Every bucket's policy denies requests that are not over TLS",
    fix='add to the bucket policy a Deny of s3:* for Principal "*" with the condition '
    'Bool aws:SecureTransport = "false"',
    sources=("AwsSolutions-S10",),
)
def bucket_tls_only(stack: Stack) -> Iterator[tuple[str, str]]:
    for bucket in stack.of_type(*tk.BUCKETS):
        policies = _bucket_companions(stack, bucket, tk.BUCKET_POLICY)
        inline = document(bucket.props.get("policy"))
        if not policies and inline is None:
            yield bucket.urn, "the bucket has no policy, so plain HTTP requests are accepted"
            continue
        docs = [document(p.props.get("policy")) for p in policies] + [inline]
        readable = [d for d in docs if d is not None]
        unreadable = any(document(p.props.get("policy")) is None for p in policies)
        if not unreadable and not any(_denies_insecure_transport(d) for d in readable):
            yield bucket.urn, "no statement denies aws:SecureTransport = false"


def _public_allow(statement: dict[str, object]) -> bool:
    return (
        statement.get("Effect") == "Allow"
        and "*" in principals(statement)
        and not statement.get("Condition")
    )


@rules.resource(
    "bucket-policy-not-public",
    MANDATORY,
    types=(tk.BUCKET_POLICY, *tk.BUCKETS),
    checks="No bucket policy allows any action to every principal without a condition",
    fix='name the principals (an IAM role ARN, a service) instead of "*", or add a condition '
    "that scopes it (aws:SourceArn, aws:PrincipalOrgID)",
    sources=("CKV_AWS_70",),
)
def bucket_policy_not_public(res: Res) -> Iterator[str]:
    for statement in statements(document(res.props.get("policy"))):
        if _public_allow(statement):
            yield f"statement {statement.get('Sid', '(no Sid)')} allows {statement.get('Action')} to *"


@rules.resource(
    "bucket-policy-no-lockout",
    ADVISORY,
    types=(tk.BUCKET_POLICY, *tk.BUCKETS),
    checks="No bucket policy denies every action to every principal unconditionally",
    fix="give the Deny a condition (as the TLS-only statement does) or name the principals; an "
    "unconditional Deny * locks out everyone but the account root",
    sources=("CKV_AWS_93",),
)
def bucket_policy_no_lockout(res: Res) -> Iterator[str]:
    for statement in statements(document(res.props.get("policy"))):
        actions = strings(statement.get("Action"))
        if (
            statement.get("Effect") == "Deny"
            and "*" in principals(statement)
            and any(a in ("*", "s3:*") for a in actions)
            and not statement.get("Condition")
        ):
            yield f"statement {statement.get('Sid', '(no Sid)')} denies everything to everyone"


@rules.stack(
    "bucket-access-logging",
    ADVISORY,
    checks="Every bucket logs its requests (S3 server access logging)",
    fix="declare an aws.s3.BucketLogging for the bucket, targeting a log bucket in the same region",
    sources=("CKV_AWS_18", "AwsSolutions-S1"),
)
def bucket_access_logging(stack: Stack) -> Iterator[tuple[str, str]]:
    for bucket in stack.of_type(*tk.BUCKETS):
        if not _bucket_companions(stack, bucket, tk.BUCKET_LOGGING) and not bucket.props.get(
            "loggings"
        ):
            yield bucket.urn, "the bucket has no access logging"


@rules.stack(
    "bucket-lifecycle",
    ADVISORY,
    checks="Every bucket has a lifecycle configuration that aborts incomplete multipart uploads",
    fix="declare an aws.s3.BucketLifecycleConfiguration with an abort_incomplete_multipart_upload "
    "rule (and noncurrent-version expiry, since the bucket is versioned)",
    sources=("CKV2_AWS_61", "CKV_AWS_300"),
)
def bucket_lifecycle(stack: Stack) -> Iterator[tuple[str, str]]:
    for bucket in stack.of_type(*tk.BUCKETS):
        configs = _bucket_companions(stack, bucket, tk.BUCKET_LIFECYCLE)
        if not configs:
            yield bucket.urn, "the bucket has no lifecycle configuration"
            continue
        rule_lists = [config.props.get("rules") for config in configs]
        if any(is_unknown(r) for r in rule_lists):
            continue
        aborts = any(
            dig(rule, "abortIncompleteMultipartUpload", "daysAfterInitiation") is not None
            for rules_ in rule_lists
            for rule in items(rules_)
            if dig(rule, "status") == "Enabled"
        )
        if not aborts:
            yield bucket.urn, "no enabled rule aborts incomplete multipart uploads"


@rules.resource(
    "bucket-replication-encrypted",
    MANDATORY,
    types=(tk.BUCKET_REPLICATION,),
    checks="Replicated objects are re-encrypted with a KMS key in the destination region",
    fix="give every replication rule destination.encryption_configuration.replica_kms_key_id "
    "(the destination region's key) and source_selection_criteria.sse_kms_encrypted_objects",
    sources=(),
)
def bucket_replication_encrypted(res: Res) -> Iterator[str]:
    for rule in items(res.props.get("rules")):
        if dig(rule, "status") == "Disabled":
            continue
        key = dig(rule, "destination", "encryptionConfiguration", "replicaKmsKeyId")
        if key in (None, ""):
            yield f"rule {dig(rule, 'id')!r} replicates without a destination KMS key"


@rules.resource(
    "bucket-force-destroy-off",
    MANDATORY,
    types=tk.BUCKETS,
    checks="No bucket can be deleted with its objects (force_destroy)",
    fix="set force_destroy=False; empty a bucket deliberately before removing it",
    sources=(),
)
def bucket_force_destroy(res: Res) -> Iterator[str]:
    if flag(res.props.get("forceDestroy")) is True:
        yield "force_destroy is true: deleting the bucket would delete every object"


# --- data-loss guards -------------------------------------------------------------------------


@rules.resource(
    "stateful-protected",
    MANDATORY,
    types=tk.STATEFUL,
    checks="Every stateful resource (database, bucket, KMS key, volume, ...) is `protect`ed and "
    "`retain_on_delete`",
    fix="declare it with pulumi.ResourceOptions(protect=True, retain_on_delete=True); removing "
    "it is then the explicit step in docs/policies.md",
    sources=(),
)
def stateful_protected(res: Res) -> Iterator[str]:
    if not res.protect:
        yield "it is not protected: a code change could delete it"
    if res.retain_on_delete is False:
        yield "it is not retain_on_delete: a delete would destroy it in AWS, not only in state"


@rules.resource(
    "required-tags",
    MANDATORY,
    applies=lambda res: res.type.startswith("aws:"),
    checks=f"Every taggable AWS resource carries {', '.join(REQUIRED_TAGS)}, with environment "
    f"one of {'/'.join(ENVIRONMENTS)}",
    fix="build tags with infra.naming.tags(base_tags, ...) (base_tags gives every required key)",
    sources=(),
)
def required_tags(res: Res) -> Iterator[str]:
    found = tags(res)
    if found is None:
        if "tags" not in res.props and "tagsAll" not in res.props and res.type in tk.TAGGABLE:
            yield "the resource has no tags"
        return  # no tags, or tags not known yet
    missing = [t for t in REQUIRED_TAGS if t not in found]
    if missing:
        yield f"tags lack {', '.join(missing)}"
    env = found.get("environment")
    if known(env) and env not in ENVIRONMENTS:
        yield f"environment tag {env!r} is not one of {', '.join(ENVIRONMENTS)}"


# --- keys, secrets, logs ----------------------------------------------------------------------


def _symmetric(res: Res) -> bool:
    spec = res.props.get("customerMasterKeySpec") or res.props.get("keySpec")
    return spec in (None, "SYMMETRIC_DEFAULT") or is_unknown(spec)


@rules.resource(
    "kms-key-rotation",
    ADVISORY,
    types=(tk.KMS_KEY,),
    checks="Symmetric KMS keys rotate automatically",
    fix="set enable_key_rotation=True",
    sources=("CKV_AWS_7", "AwsSolutions-KMS5"),
)
def kms_key_rotation(res: Res) -> Iterator[str]:
    value = res.props.get("enableKeyRotation")
    if _symmetric(res) and not is_unknown(value) and flag(value) is not True:
        yield "automatic key rotation is off"


@rules.resource(
    "kms-key-enabled",
    MANDATORY,
    types=(tk.KMS_KEY,),
    checks="KMS keys are enabled",
    fix="set is_enabled=True (or leave it unset); a disabled key makes everything it encrypts "
    "unreadable",
    sources=("CKV_AWS_227",),
)
def kms_key_enabled(res: Res) -> Iterator[str]:
    if flag(res.props.get("isEnabled")) is False:
        yield "the key is disabled"


@rules.resource(
    "kms-key-policy-no-wildcard-principal",
    MANDATORY,
    types=(tk.KMS_KEY,),
    checks='An explicit key policy allows nothing to principal "*" without a condition',
    fix="name the principals in the key policy (the account root, the roles that use it)",
    sources=("CKV_AWS_33",),
)
def kms_key_policy(res: Res) -> Iterator[str]:
    for statement in statements(document(res.props.get("policy"))):
        if _public_allow(statement):
            yield f"key policy statement {statement.get('Sid', '(no Sid)')} allows *"


@rules.resource(
    "kms-deletion-window",
    ADVISORY,
    types=(tk.KMS_KEY,),
    checks="A key scheduled for deletion waits the full 30 days",
    fix="set deletion_window_in_days=30 (the maximum): the time to notice and cancel a deletion",
    sources=(),
)
def kms_deletion_window(res: Res) -> Iterator[str]:
    days = number(res.props.get("deletionWindowInDays"))
    if days is not None and days < 30:
        yield f"deletion window is {days} days"


@rules.resource(
    "secret-cmk",
    ADVISORY,
    types=(tk.SM_SECRET,),
    checks="Secrets Manager secrets are encrypted with a customer-managed KMS key",
    fix="set kms_key_id to a key of the region and grant kms:Decrypt on it to the readers",
    sources=("CKV_AWS_149",),
)
def secret_cmk(res: Res) -> Iterator[str]:
    if res.props.get("kmsKeyId") in (None, ""):
        yield "the secret uses the AWS-managed aws/secretsmanager key"


@rules.resource(
    "secret-recovery-window",
    ADVISORY,
    types=(tk.SM_SECRET,),
    checks="A deleted secret stays recoverable (recovery window >= 7 days)",
    fix="set recovery_window_in_days to 7-30 (0 deletes it at once, with no way back)",
    sources=(),
)
def secret_recovery_window(res: Res) -> Iterator[str]:
    days = number(res.props.get("recoveryWindowInDays"))
    if days is not None and days < 7:
        yield f"recovery window is {days} days"


@rules.resource(
    "log-group-retention",
    ADVISORY,
    types=(tk.LOG_GROUP,),
    checks="Log groups have a retention period",
    fix="set retention_in_days (python-org:network.flowLogRetentionDays for the flow logs)",
    sources=("CKV_AWS_66",),
)
def log_group_retention(res: Res) -> Iterator[str]:
    value = res.props.get("retentionInDays")
    if not is_unknown(value) and not (number(value) or 0) > 0:
        yield "logs are kept forever"


@rules.resource(
    "log-group-retention-1y-in-production",
    ADVISORY,
    types=(tk.LOG_GROUP,),
    checks="Production log groups keep logs for at least a year",
    fix="set retention_in_days >= 365 in production (python-org:network.flowLogRetentionDays)",
    sources=("CKV_AWS_338",),
)
def log_group_retention_production(res: Res) -> Iterator[str]:
    days = number(res.props.get("retentionInDays"))
    if is_production(res) and days is not None and 0 < days < 365:
        yield f"production logs are kept {days} days"


@rules.resource(
    "log-group-kms",
    ADVISORY,
    types=(tk.LOG_GROUP,),
    checks="Log groups are encrypted with a customer-managed KMS key",
    fix="set kms_key_id to a key whose policy lets logs.<region>.amazonaws.com use it",
    sources=("CKV_AWS_158",),
)
def log_group_kms(res: Res) -> Iterator[str]:
    if res.props.get("kmsKeyId") in (None, ""):
        yield "the log group is encrypted with CloudWatch's own key"
