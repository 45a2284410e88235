"""Cache: one region's Redis (ElastiCache for Redis OSS, a replication group without cluster mode).

The region's cache in every region (the settings overlay's CACHES, database 1), and in the home
region Celery's broker and result store as well (REDIS_URL, database 0): docs/app-contract.md.

Builds a KMS key of the cache's own (encryption at rest, snapshots, the auth token's secret), a
subnet group over the private subnets, a security group that admits nobody until `admit` opens
it to a client group, the slow log in CloudWatch Logs, the auth token (pulumi-random: letters and
digits, which CreateReplicationGroup's AuthToken accepts and a URL needs no quoting for) in the
region's own secret, and the replication group: encrypted at rest with the key and in transit
(TLS required), AUTH on, Multi-AZ with automatic failover when it has a replica (production
always has: the config refuses fewer than two nodes there). The group and the key are
`protect`ed and `retain_on_delete` (the broker's queues live there).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from infra.aliases import inherited_aliases
from infra.app_contract import REDIS_PORT
from infra.config import RedisConfig
from infra.naming import tags

AUTH_TOKEN_LENGTH = 64  # AuthToken: 16 to 128 printable characters


@dataclass(frozen=True, kw_only=True)
class CacheArgs:
    replication_group_id: str
    config: RedisConfig
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    availability_zones: tuple[str, ...]
    logs_key_arn: pulumi.Input[str]  # the region's CloudWatch Logs key
    log_retention_days: int
    base_tags: dict[str, str]


class Cache(pulumi.ComponentResource):
    group: aws.elasticache.ReplicationGroup
    security_group: aws.ec2.SecurityGroup
    kms_key: aws.kms.Key
    secret: aws.secretsmanager.Secret  # auth_token

    def __init__(
        self, name: str, args: CacheArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("python-org:cache:Cache", name, None, opts)
        self._name = name
        self._base_tags = args.base_tags
        child = pulumi.ResourceOptions(parent=self)
        t = self._tags
        self.kms_key = aws.kms.Key(
            f"{name}-cache-key",
            description=f"{args.replication_group_id}: Redis at rest, snapshots, auth token",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            tags=t("cache-key"),
            opts=self._keep(f"{name}-cache-key"),
        )
        aws.kms.Alias(
            f"{name}-cache-key",
            name=f"alias/{args.replication_group_id}",
            target_key_id=self.kms_key.key_id,
            opts=child,
        )
        subnets = aws.elasticache.SubnetGroup(
            f"{name}-cache",
            description=f"{args.replication_group_id}: private subnets",
            subnet_ids=args.subnet_ids,
            tags=t("cache-subnets"),
            opts=child,
        )
        # No inline rules: clients open the port with `admit`, nothing else reaches Redis.
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-cache",
            vpc_id=args.vpc_id,
            description=f"{args.replication_group_id}: Redis from the app's instances only",
            tags=t("cache-sg"),
            opts=child,
        )
        slow_log = aws.cloudwatch.LogGroup(
            f"{name}-cache-slow-log",
            name=f"/python-org/{args.replication_group_id}/slow-log",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.logs_key_arn,
            tags=t("cache-slow-log"),
            opts=child,
        )
        token = random.RandomPassword(
            f"{name}-redis-auth-token", length=AUTH_TOKEN_LENGTH, special=False, opts=child
        )
        self.group = self._replication_group(name, args, subnets, slow_log, token)
        self.secret = self._auth_token_secret(name, args, token)
        self.register_outputs({"primary_endpoint": self.group.primary_endpoint_address})

    def _keep(self, child_name: str) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(
            parent=self,
            protect=True,
            retain_on_delete=True,
            aliases=inherited_aliases(self, child_name),
        )

    def _replication_group(
        self,
        name: str,
        args: CacheArgs,
        subnets: aws.elasticache.SubnetGroup,
        slow_log: aws.cloudwatch.LogGroup,
        token: random.RandomPassword,
    ) -> aws.elasticache.ReplicationGroup:
        """The replication group: encrypted at rest and in transit, AUTH on, Multi-AZ when it
        has a replica."""
        cfg = args.config
        multi_az = cfg.multi_az
        return aws.elasticache.ReplicationGroup(
            f"{name}-redis",
            replication_group_id=args.replication_group_id,
            description=f"python.org {name}: cache (and Celery's broker in the home region)",
            engine="redis",
            engine_version=cfg.engine_version,
            node_type=cfg.node_type,
            num_cache_clusters=cfg.nodes,
            # The primary and the replicas in different zones, in the configured order.
            preferred_cache_cluster_azs=[
                args.availability_zones[i % len(args.availability_zones)] for i in range(cfg.nodes)
            ],
            automatic_failover_enabled=multi_az,
            multi_az_enabled=multi_az,
            port=REDIS_PORT,
            subnet_group_name=subnets.name,
            security_group_ids=[self.security_group.id],
            at_rest_encryption_enabled=True,
            kms_key_id=self.kms_key.arn,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            auth_token=token.result,
            auto_minor_version_upgrade=True,
            maintenance_window="sun:05:00-sun:06:00",
            snapshot_retention_limit=cfg.snapshot_retention_days,
            snapshot_window="03:00-04:00" if cfg.snapshot_retention_days else None,
            log_delivery_configurations=[
                aws.elasticache.ReplicationGroupLogDeliveryConfigurationArgs(
                    destination=slow_log.name,
                    destination_type="cloudwatch-logs",
                    log_format="json",
                    log_type="slow-log",
                )
            ],
            apply_immediately=False,
            tags=self._tags("redis"),
            opts=self._keep(f"{name}-redis"),
        )

    def _auth_token_secret(
        self, name: str, args: CacheArgs, token: random.RandomPassword
    ) -> aws.secretsmanager.Secret:
        """The region's secret of the AUTH token, on the cache's key."""
        child = pulumi.ResourceOptions(parent=self)
        secret = aws.secretsmanager.Secret(
            f"{name}-cache",
            description=f"{args.replication_group_id}: Redis AUTH token (docs/app-contract.md)",
            kms_key_id=self.kms_key.arn,
            recovery_window_in_days=30,
            tags=self._tags("cache-secret"),
            opts=child,
        )
        aws.secretsmanager.SecretVersion(
            f"{name}-cache",
            secret_id=secret.id,
            secret_string=pulumi.Output.secret(
                token.result.apply(lambda v: json.dumps({"auth_token": v}))  # type: ignore[arg-type]
            ),
            opts=child,
        )
        return secret

    def _tags(self, role: str) -> dict[str, str]:
        return tags(self._base_tags, "cache", f"{self._name}-{role}")

    def admit(self, client: str, security_group_id: pulumi.Input[str]) -> None:
        """Open Redis to the instances of `client`'s security group (both directions' rules)."""
        child = pulumi.ResourceOptions(parent=self)
        aws.vpc.SecurityGroupIngressRule(
            f"{self._name}-cache-from-{client}",
            security_group_id=self.security_group.id,
            referenced_security_group_id=security_group_id,
            ip_protocol="tcp",
            from_port=REDIS_PORT,
            to_port=REDIS_PORT,
            description=f"Redis from the {client} instances",
            tags=self._tags(f"cache-from-{client}"),
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{self._name}-{client}-to-cache",
            security_group_id=security_group_id,
            referenced_security_group_id=self.security_group.id,
            ip_protocol="tcp",
            from_port=REDIS_PORT,
            to_port=REDIS_PORT,
            description="Redis (TLS)",
            tags=self._tags(f"{client}-to-cache"),
            opts=child,
        )
