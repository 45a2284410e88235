"""Network: one region's VPC.

Builds the VPC, a public and a private subnet in every configured availability zone, the
internet gateway, NAT gateways (one per AZ or a single one, from config), route tables, VPC flow
logs to CloudWatch Logs, an S3 gateway endpoint for the private subnets, and the VPC's default
security group with every rule removed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra import cidr
from infra.aliases import inherited_aliases
from infra.config import NatGateways, RegionConfig
from infra.naming import tags

# The network's tags of a role (and extra tags): `t` in the constructor.
_Tags = Callable[..., dict[str, str]]


@dataclass(frozen=True, kw_only=True)
class NetworkArgs:
    region: RegionConfig
    nat_gateways: NatGateways
    flow_log_retention_days: int
    base_tags: dict[str, str]


class Network(pulumi.ComponentResource):
    vpc: aws.ec2.Vpc
    logs_key: aws.kms.Key  # the region's CloudWatch Logs key (flow logs, Redis, search)
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("python-org:network:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        region = args.region

        def t(role: str, **extra: str) -> dict[str, str]:
            return tags(args.base_tags, "network", f"{name}-{role}", **extra)

        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=str(region.vpc_cidr),
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags=t("vpc"),
            opts=child,
        )
        vpc_id = self.vpc.id
        # Closing the default security group: anything attached to it by mistake gets nothing.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            vpc_id=vpc_id,
            ingress=[],
            egress=[],
            tags=t("default-sg"),
            opts=child,
        )
        plans = cidr.plan_subnets(region.vpc_cidr, region.availability_zones)
        nat_ids = self._public_subnets(name, args, t, plans)
        private_route_tables = self._private_subnets(name, t, plans, nat_ids)

        # S3 traffic (media, the instances' package repositories on S3) stays off the NAT
        # gateways: a gateway endpoint costs nothing and routes S3 of this region directly.
        # Its policy stays the default (full access): buckets are guarded by their own policies,
        # and Amazon Linux's repositories are buckets of AWS's that a list here would have to
        # follow.
        aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=vpc_id,
            service_name=f"com.amazonaws.{region.name}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=private_route_tables,
            tags=t("s3-endpoint"),
            opts=child,
        )

        self._flow_logs(name, args, t)
        self.register_outputs(
            {
                "vpc_id": vpc_id,
                "public_subnet_ids": self.public_subnet_ids,
                "private_subnet_ids": self.private_subnet_ids,
            }
        )

    def _public_subnets(
        self, name: str, args: NetworkArgs, t: _Tags, plans: Sequence[cidr.SubnetPlan]
    ) -> dict[str, pulumi.Output[str]]:
        """The internet gateway, the public subnets and their route table, and the NAT gateways
        (one per AZ, or one in the first): their IDs by zone."""
        child = pulumi.ResourceOptions(parent=self)
        vpc_id = self.vpc.id
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc_id, tags=t("igw"), opts=child)
        public_rt = aws.ec2.RouteTable(
            f"{name}-public-rt",
            vpc_id=vpc_id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=igw.id)],
            tags=t("public-rt"),
            opts=child,
        )
        self.public_subnet_ids = []
        nat_ids: dict[str, pulumi.Output[str]] = {}
        for plan in plans:
            zone = plan.zone
            public = aws.ec2.Subnet(
                f"{name}-public-{zone}",
                vpc_id=vpc_id,
                cidr_block=str(plan.public),
                availability_zone=zone,
                # Only load balancers and NAT gateways live here; nothing gets a public IP
                # by accident.
                map_public_ip_on_launch=False,
                tags=t(f"public-{zone}", tier="public"),
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{zone}",
                subnet_id=public.id,
                route_table_id=public_rt.id,
                opts=child,
            )
            self.public_subnet_ids.append(public.id)
            if args.nat_gateways is NatGateways.ONE_PER_AZ or not nat_ids:
                eip = aws.ec2.Eip(
                    f"{name}-nat-{zone}", domain="vpc", tags=t(f"nat-{zone}"), opts=child
                )
                nat = aws.ec2.NatGateway(
                    f"{name}-nat-{zone}",
                    allocation_id=eip.id,
                    subnet_id=public.id,
                    tags=t(f"nat-{zone}"),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                )
                nat_ids[zone] = nat.id
        return nat_ids

    def _private_subnets(
        self,
        name: str,
        t: _Tags,
        plans: Sequence[cidr.SubnetPlan],
        nat_ids: dict[str, pulumi.Output[str]],
    ) -> list[pulumi.Output[str]]:
        """The private subnets, each with its route table through a NAT gateway: the route
        tables' IDs."""
        child = pulumi.ResourceOptions(parent=self)
        self.private_subnet_ids = []
        private_route_tables: list[pulumi.Output[str]] = []
        for plan in plans:
            zone = plan.zone
            private = aws.ec2.Subnet(
                f"{name}-private-{zone}",
                vpc_id=self.vpc.id,
                cidr_block=str(plan.private),
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags=t(f"private-{zone}", tier="private"),
                opts=child,
            )
            # Each AZ's egress uses its own AZ's NAT gateway when there is one.
            nat_id = nat_ids.get(zone) or next(iter(nat_ids.values()))
            rt = aws.ec2.RouteTable(
                f"{name}-private-{zone}",
                vpc_id=self.vpc.id,
                routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat_id)],
                tags=t(f"private-{zone}"),
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{zone}",
                subnet_id=private.id,
                route_table_id=rt.id,
                opts=child,
            )
            self.private_subnet_ids.append(private.id)
            private_route_tables.append(rt.id)
        return private_route_tables

    def _flow_logs(self, name: str, args: NetworkArgs, t: _Tags) -> None:
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = aws.get_caller_identity_output(opts=invoke).account_id
        region = args.region.name
        # Losing the key loses the logs it encrypted: kept like every key.
        key = aws.kms.Key(
            f"{name}-flow-logs-key",
            description=f"{name}: VPC flow logs",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=account.apply(lambda a: json.dumps(logs_key_policy(a, region))),
            tags=t("flow-logs-key"),
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=True,
                retain_on_delete=True,
                aliases=inherited_aliases(self, f"{name}-flow-logs-key"),
            ),
        )
        self.logs_key = key
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            retention_in_days=args.flow_log_retention_days,
            kms_key_id=key.arn,
            tags=t("flow-logs"),
            opts=child,
        )
        # The role and policy AWS documents for flow logs to CloudWatch Logs ("IAM role for
        # publishing flow logs to CloudWatch Logs", VPC User Guide), scoped down: the trust to
        # this account's flow logs in this region (the confused-deputy conditions), the
        # permissions to this log group (DescribeLogGroups can only be granted on all groups).
        role = aws.iam.Role(
            f"{name}-flow-logs",
            assume_role_policy=account.apply(lambda a: json.dumps(_flow_logs_trust(a, region))),
            tags=t("flow-logs"),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs",
            role=role.id,
            policy=pulumi.Output.all(log_group.arn, account).apply(
                lambda v: json.dumps(_flow_logs_permissions(v[0], v[1], region))
            ),
            opts=child,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-logs",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags=t("flow-logs"),
            opts=child,
        )


def _flow_logs_trust(account_id: str, region: str) -> dict[str, object]:
    """The flow logs role's trust: this account's flow logs in this region only."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {
                        "aws:SourceArn": f"arn:aws:ec2:{region}:{account_id}:vpc-flow-log/*"
                    },
                },
            }
        ],
    }


def _flow_logs_permissions(log_group_arn: str, account_id: str, region: str) -> dict[str, object]:
    """The flow logs role's permissions: write to its log group, find log groups."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "WriteFlowLogs",
                "Effect": "Allow",
                "Action": [
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                ],
                "Resource": [log_group_arn, f"{log_group_arn}:*"],
            },
            {
                "Sid": "FindTheLogGroup",
                "Effect": "Allow",
                "Action": "logs:DescribeLogGroups",
                "Resource": f"arn:aws:logs:{region}:{account_id}:log-group:*",
            },
        ],
    }


def logs_key_policy(account_id: str, region: str) -> dict[str, object]:
    """The account administers the key (the default key policy, without which nobody could);
    CloudWatch Logs of this region may use it for this account's log groups only."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministers",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CloudWatchLogsUse",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": [
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                "Resource": "*",
                "Condition": {
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{region}:{account_id}:*"
                    }
                },
            },
        ],
    }
