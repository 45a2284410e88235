"""Database: one region's PostgreSQL on RDS, as the primary or a cross-region read replica.

Both roles are one component with the same child names, so that promoting a replica (the
failover runbook) changes the inputs of the same resource instead of replacing it.

Builds a KMS key of the region's own (encryption and the key can't be changed in place later),
a DB subnet group over the private subnets, a parameter group that forces TLS, a security group
that admits nobody until a client component opens it, and the instance: encrypted, not
publicly accessible, deletion protected, final snapshot on delete, automated backups kept.
The primary's master password is an RDS-managed secret in Secrets Manager: it is never in this
program, its state or its outputs. Every stateful child is `protect`ed and `retain_on_delete`.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
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


@dataclass(frozen=True, kw_only=True)
class DatabaseArgs:
    role: Role
    identifier: str
    config: DatabaseConfig
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    base_tags: dict[str, str]
    # ARN of the primary, for a replica in another region (RDS needs the ARN across regions).
    source_db_arn: pulumi.Input[str] | None = None

    def __post_init__(self) -> None:
        if (self.role is Role.REPLICA) != (self.source_db_arn is not None):
            raise ValueError("a replica needs source_db_arn, and only a replica takes one")


class Database(pulumi.ComponentResource):
    instance: aws.rds.Instance
    security_group: aws.ec2.SecurityGroup
    kms_key: aws.kms.Key

    def __init__(
        self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("python-org:database:Database", name, None, opts)
        cfg = args.config

        child = pulumi.ResourceOptions(parent=self)

        def keep(child_name: str) -> pulumi.ResourceOptions:
            # Losing these loses data: never delete or replace them by accident, nor by
            # renaming or moving this component.
            return pulumi.ResourceOptions(
                parent=self,
                protect=True,
                retain_on_delete=True,
                aliases=inherited_aliases(self, child_name),
            )

        def t(role: str) -> dict[str, str]:
            return tags(args.base_tags, "database", f"{name}-{role}", role=args.role.value)

        self.kms_key = aws.kms.Key(
            f"{name}-db-key",
            description=f"{args.identifier}: storage, snapshots, Performance Insights, secret",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            tags=t("db-key"),
            opts=keep(f"{name}-db-key"),
        )
        aws.kms.Alias(
            f"{name}-db-key",
            name=f"alias/{args.identifier}",
            target_key_id=self.kms_key.key_id,
            opts=child,
        )
        monitoring = aws.iam.Role(
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
        monitoring_policy = aws.iam.RolePolicyAttachment(
            f"{name}-db-monitoring",
            role=monitoring.name,
            policy_arn=ENHANCED_MONITORING_POLICY,
            opts=child,
        )
        subnets = aws.rds.SubnetGroup(
            f"{name}-db",
            subnet_ids=args.subnet_ids,
            description=f"{args.identifier}: private subnets",
            tags=t("db-subnets"),
            opts=child,
        )
        family = f"postgres{cfg.engine_version.split('.')[0]}"
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
        # No inline rules: clients open the port with their own rule (see WebTier), so
        # nothing else can reach the database.
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-db",
            vpc_id=args.vpc_id,
            description=f"{args.identifier}: PostgreSQL from the web tier only",
            tags=t("db-sg"),
            opts=child,
        )

        primary = args.role is Role.PRIMARY
        # `db_name` and `username` force a replacement if they change, and a promoted replica
        # has neither in its inputs: never let them drive a diff.
        self.instance = aws.rds.Instance(
            f"{name}-db",
            identifier=args.identifier,
            # A replica takes engine, version, size, database and users from its source;
            # None leaves an input unset.
            engine="postgres" if primary else None,
            engine_version=cfg.engine_version if primary else None,
            allocated_storage=cfg.allocated_storage_gb if primary else None,
            db_name=DB_NAME if primary else None,
            username=DB_USER if primary else None,
            manage_master_user_password=True if primary else None,
            master_user_secret_kms_key_id=self.kms_key.arn if primary else None,
            replicate_source_db=None if primary else args.source_db_arn,
            instance_class=cfg.instance_class,
            storage_type="gp3",
            max_allocated_storage=cfg.max_allocated_storage_gb,
            storage_encrypted=True,
            kms_key_id=self.kms_key.arn,
            multi_az=cfg.multi_az,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[self.security_group.id],
            parameter_group_name=params.name,
            publicly_accessible=False,
            port=PORT,
            backup_retention_period=cfg.backup_retention_days,
            backup_window="03:00-04:00",
            maintenance_window="sun:04:30-sun:05:30",
            # Automated backups outlive the instance; a final snapshot is taken on delete.
            delete_automated_backups=False,
            deletion_protection=True,
            skip_final_snapshot=False,
            final_snapshot_identifier=f"{args.identifier}-final",
            copy_tags_to_snapshot=True,
            auto_minor_version_upgrade=True,
            # OS metrics every 60 s: what a replica's lag or a full disk looks like from inside.
            monitoring_interval=60,
            monitoring_role_arn=monitoring.arn,
            performance_insights_enabled=True,
            performance_insights_kms_key_id=self.kms_key.arn,
            enabled_cloudwatch_logs_exports=["postgresql", "upgrade"],
            iam_database_authentication_enabled=True,
            apply_immediately=False,
            tags=t("db"),
            opts=pulumi.ResourceOptions.merge(
                keep(f"{name}-db"),
                pulumi.ResourceOptions(
                    ignore_changes=["dbName", "username"], depends_on=[monitoring_policy]
                ),
            ),
        )
        self.register_outputs({"endpoint": self.instance.endpoint, "arn": self.instance.arn})

    @property
    def master_secret_arn(self) -> pulumi.Output[str]:
        """ARN of the RDS-managed master secret (primary only)."""
        return self.instance.master_user_secrets.apply(
            lambda secrets: (secrets[0].secret_arn or "") if secrets else ""
        )
