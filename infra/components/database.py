"""Database: one region's PostgreSQL on RDS, as the primary or a cross-region read replica.

Both roles are one component with the same child names, so that promoting a replica (the
failover runbook) changes the inputs of the same resource instead of replacing it.

Builds a KMS key of the region's own (encryption and the key can't be changed in place later),
a DB subnet group over the private subnets, a parameter group that forces TLS, a security group
that admits nobody until a client component opens it, the instance, and the region's own copy
of the database credentials in Secrets Manager (encrypted with the region's key), so that every
region's instances boot without the home region.

The credentials are this program's (`DatabaseCredentials`, generated with pulumi-random and kept
as secrets in the state): RDS can't create a read replica of a source that manages its master
password in Secrets Manager ("Password management with Amazon RDS and AWS Secrets Manager",
Limitations). A replica takes only what a PostgreSQL replica accepts: no backups ("you can't
enable automatic backups" on a PostgreSQL read replica, "Differences between read replicas for
DB engines"; "RDS creates read replicas with backups disabled", CreateDBInstanceReadReplica),
no final snapshot (DeleteDBInstance: FinalDBSnapshotIdentifier "can't be specified when deleting
a read replica"; SkipFinalSnapshot "if you delete a read replica ... you must enable this").
Every stateful child is `protect`ed and `retain_on_delete`.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.aliases import inherited_aliases
from infra.config import DatabaseConfig
from infra.naming import tags


class Role(enum.Enum):
    PRIMARY = "primary"
    REPLICA = "replica"


# The role RDS needs to publish Enhanced Monitoring metrics (AWS's own, kept up to date by AWS).
ENHANCED_MONITORING_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
DB_NAME = "pythondotorg"
DB_USER = "pythondotorg"
PORT = 5432
# The database's tags of a role: `t` in the constructor.
_Tags = Callable[[str], dict[str, str]]


@dataclass(frozen=True, kw_only=True)
class DatabaseCredentials:
    """The stack's database credentials (secret Outputs), the same in every region."""

    master_password: pulumi.Input[str]
    app_user: str  # pythondotorg_g<generation> (infra/app_contract.py)
    app_password: pulumi.Input[str]


def secret_fields(creds: DatabaseCredentials, *, primary: bool) -> dict[str, pulumi.Input[str]]:
    """What a region's credentials secret holds: the app's user everywhere; the master user,
    which only the release step uses, in the home region alone."""
    fields: dict[str, pulumi.Input[str]] = {
        "username": creds.app_user,
        "password": creds.app_password,
    }
    if primary:
        fields |= {"master_username": DB_USER, "master_password": creds.master_password}
    return fields


@dataclass(frozen=True, kw_only=True)
class DatabaseArgs:
    role: Role
    identifier: str
    config: DatabaseConfig
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    base_tags: dict[str, str]
    credentials: DatabaseCredentials
    # ARN of the primary, for a replica in another region (RDS needs the ARN across regions).
    source_db_arn: pulumi.Input[str] | None = None

    def __post_init__(self) -> None:
        if (self.role is Role.REPLICA) != (self.source_db_arn is not None):
            raise ValueError("a replica needs source_db_arn, and only a replica takes one")


@dataclass(frozen=True)
class _Monitoring:
    """The Enhanced Monitoring role and its policy's attachment."""

    role: aws.iam.Role
    attachment: aws.iam.RolePolicyAttachment


class Database(pulumi.ComponentResource):
    instance: aws.rds.Instance
    security_group: aws.ec2.SecurityGroup
    kms_key: aws.kms.Key
    secret: aws.secretsmanager.Secret  # this region's copy of the credentials

    def __init__(
        self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("python-org:database:Database", name, None, opts)

        def t(role: str) -> dict[str, str]:
            return tags(args.base_tags, "database", f"{name}-{role}", role=args.role.value)

        self.kms_key = aws.kms.Key(
            f"{name}-db-key",
            description=f"{args.identifier}: storage, snapshots, Performance Insights, secret",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            tags=t("db-key"),
            opts=self._keep(f"{name}-db-key"),
        )
        aws.kms.Alias(
            f"{name}-db-key",
            name=f"alias/{args.identifier}",
            target_key_id=self.kms_key.key_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        monitoring = self._monitoring_role(name, args, t)
        subnets, params = self._subnet_and_parameter_groups(name, args, t)
        # No inline rules: clients open the port with their own rule (see WebTier), so
        # nothing else can reach the database.
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-db",
            vpc_id=args.vpc_id,
            description=f"{args.identifier}: PostgreSQL from the web tier only",
            tags=t("db-sg"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        primary = args.role is Role.PRIMARY
        self.instance = self._instance(name, args, t, primary, monitoring, subnets, params)
        self.secret = self._credentials_secret(name, args, primary, t)
        self.register_outputs({"endpoint": self.instance.endpoint, "arn": self.instance.arn})

    def _keep(self, child_name: str) -> pulumi.ResourceOptions:
        # Losing these loses data: never delete or replace them by accident, nor by
        # renaming or moving this component.
        return pulumi.ResourceOptions(
            parent=self,
            protect=True,
            retain_on_delete=True,
            aliases=inherited_aliases(self, child_name),
        )

    def _monitoring_role(self, name: str, args: DatabaseArgs, t: _Tags) -> _Monitoring:
        """The role RDS publishes Enhanced Monitoring metrics with, and its policy's attachment
        (which the instance waits for)."""
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-db-monitoring",
            description=f"{args.identifier}: RDS Enhanced Monitoring",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "monitoring.rds.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
            tags=t("db-monitoring"),
            opts=child,
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-db-monitoring",
            role=role.name,
            policy_arn=ENHANCED_MONITORING_POLICY,
            opts=child,
        )
        return _Monitoring(role=role, attachment=attachment)

    def _subnet_and_parameter_groups(
        self, name: str, args: DatabaseArgs, t: _Tags
    ) -> tuple[aws.rds.SubnetGroup, aws.rds.ParameterGroup]:
        """The DB subnet group over the private subnets; the parameter group that forces TLS."""
        child = pulumi.ResourceOptions(parent=self)
        subnets = aws.rds.SubnetGroup(
            f"{name}-db",
            subnet_ids=args.subnet_ids,
            description=f"{args.identifier}: private subnets",
            tags=t("db-subnets"),
            opts=child,
        )
        family = f"postgres{args.config.engine_version.split('.')[0]}"
        params = aws.rds.ParameterGroup(
            f"{name}-db",
            family=family,
            description=f"{args.identifier}: TLS only, slow query log",
            parameters=[
                aws.rds.ParameterGroupParameterArgs(name="rds.force_ssl", value="1"),
                aws.rds.ParameterGroupParameterArgs(
                    name="log_min_duration_statement", value="1000"
                ),
            ],
            tags=t("db-params"),
            opts=child,
        )
        return subnets, params

    def _instance(
        self,
        name: str,
        args: DatabaseArgs,
        t: _Tags,
        primary: bool,
        monitoring: _Monitoring,
        subnets: aws.rds.SubnetGroup,
        params: aws.rds.ParameterGroup,
    ) -> aws.rds.Instance:
        """The instance: the primary, or a replica of `source_db_arn` (module docstring)."""
        cfg = args.config
        # `db_name` and `username` force a replacement if they change, and a promoted replica
        # has neither in its inputs: never let them drive a diff.
        return aws.rds.Instance(
            f"{name}-db",
            identifier=args.identifier,
            # A replica takes engine, version, size, database and users from its source;
            # None leaves an input unset.
            engine="postgres" if primary else None,
            engine_version=cfg.engine_version if primary else None,
            allocated_storage=cfg.allocated_storage_gb if primary else None,
            db_name=DB_NAME if primary else None,
            username=DB_USER if primary else None,
            # A promoted replica keeps the password it replicated, which is this one.
            password=args.credentials.master_password if primary else None,
            replicate_source_db=None if primary else args.source_db_arn,
            instance_class=cfg.instance_class,
            storage_type="gp3",
            max_allocated_storage=cfg.max_allocated_storage_gb,
            storage_encrypted=True,
            kms_key_id=self.kms_key.arn,
            multi_az=cfg.multi_az,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[self.security_group.id],
            # On a cross-region PostgreSQL replica RDS refuses a parameter group at creation;
            # the provider sets it with a modification right after (terraform-provider-aws
            # #38056, fixed by #38227).
            parameter_group_name=params.name,
            publicly_accessible=False,
            port=PORT,
            # Backups and the final snapshot exist on the primary only (module docstring). After
            # a promotion the program declares the instance a primary and turns both on.
            backup_retention_period=cfg.backup_retention_days if primary else None,
            backup_window="03:00-04:00" if primary else None,
            delete_automated_backups=False if primary else None,
            skip_final_snapshot=not primary,
            final_snapshot_identifier=f"{args.identifier}-final" if primary else None,
            maintenance_window="sun:04:30-sun:05:30",
            deletion_protection=True,
            copy_tags_to_snapshot=True,
            auto_minor_version_upgrade=True,
            # OS metrics every 60 s: what a replica's lag or a full disk looks like from inside.
            monitoring_interval=60,
            monitoring_role_arn=monitoring.role.arn,
            performance_insights_enabled=True,
            performance_insights_kms_key_id=self.kms_key.arn,
            enabled_cloudwatch_logs_exports=["postgresql", "upgrade"],
            iam_database_authentication_enabled=True,
            apply_immediately=False,
            tags=t("db"),
            opts=pulumi.ResourceOptions.merge(
                self._keep(f"{name}-db"),
                pulumi.ResourceOptions(
                    ignore_changes=["dbName", "username"], depends_on=[monitoring.attachment]
                ),
            ),
        )

    def _credentials_secret(
        self, name: str, args: DatabaseArgs, primary: bool, t: _Tags
    ) -> aws.secretsmanager.Secret:
        """This region's copy of the credentials: the app's user everywhere, the master user
        (which only the release step uses) in the home region alone."""
        secret = aws.secretsmanager.Secret(
            f"{name}-db-credentials",
            description=f"{args.identifier}: database credentials (docs/app-contract.md)",
            kms_key_id=self.kms_key.arn,
            recovery_window_in_days=30,
            tags=t("db-credentials"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        fields = secret_fields(args.credentials, primary=primary)
        names = list(fields)
        content: pulumi.Input[str] = pulumi.Output.all(*fields.values()).apply(
            lambda values: json.dumps(dict(zip(names, values, strict=True)), sort_keys=True)
        )
        aws.secretsmanager.SecretVersion(
            f"{name}-db-credentials",
            secret_id=secret.id,
            secret_string=pulumi.Output.secret(content),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return secret
