"""Rules for the databases: RDS instances, read replicas and clusters, and their parameter groups.

Encryption and exposure, Multi-AZ, backups and deletion protection in production, what a delete
keeps, and what the engine logs and reports. What RDS refuses outright (a replica's lifecycle, the
master password) is in `policy.refusals_rds`.
"""

from __future__ import annotations

from collections.abc import Iterator

from policy import tokens as tk
from policy.framework import ADVISORY, MANDATORY, Registry, Stack
from policy.view import (
    Res,
    environment,
    flag,
    is_production,
    is_unknown,
    items,
    known,
    number,
    shown,
)

rules = Registry()

DATABASES = (tk.RDS_INSTANCE, tk.RDS_CLUSTER)
MIN_PRODUCTION_BACKUP_DAYS = 7
# Certificate authorities RDS still issues from (the 2019 CA expired in 2024).
MODERN_RDS_CAS = ("rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1", "rds-ca-ecc384-g1")


def _replica(res: Res) -> bool:
    return res.props.get("replicateSourceDb") is not None


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
