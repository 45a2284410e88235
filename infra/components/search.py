"""Search: one region's OpenSearch Service domain, the backend of the app's Haystack search.

Every region has its own domain with its own copy of the index, which that region's indexer
(`infra/templates/search_index.py`, on a timer on its web servers) keeps current from the
region's own database: searching never leaves the region and keeps working while another region
is down, and a promoted region needs nothing of the old home. docs/app-contract.md, "Search",
says why the app's client needs the access model below.

Builds a KMS key of the domain's own, a security group that admits nobody until `admit` opens 443
to a client group, the domain's logs in CloudWatch Logs (with the resource policy that lets the
service write there), and the domain: in the VPC's private subnets, spread over `zones` zones,
encrypted at rest with the key and between nodes, HTTPS only with TLS 1.2+ and forward secrecy,
fine-grained access control with the internal user database (a master user the indexer uses to
keep the app's own user and role; neither is ever the app's). The domain and the key are
`protect`ed and `retain_on_delete`. The master and app credentials (pulumi-random) are in the
region's own secret.

Prerequisite, once per account: the service-linked role for VPC domains
(`aws iam create-service-linked-role --aws-service-name opensearchservice.amazonaws.com`), which
CreateDomain needs and this stack does not own (docs/app-contract.md).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from infra.aliases import inherited_aliases
from infra.config import SearchConfig
from infra.naming import tags

HTTPS_PORT = 443
# TLS 1.2 minimum with forward-secret ciphers only (botocore's opensearch TLSSecurityPolicy).
TLS_POLICY = "Policy-Min-TLS-1-2-PFS-2023-10"
MASTER_USER = "pyorg-master"
APP_USER = "pythondotorg"
LOG_TYPES = ("INDEX_SLOW_LOGS", "SEARCH_SLOW_LOGS", "ES_APPLICATION_LOGS")
# Fine-grained access control's password rule for the master user and internal users: at
# least 8 characters with an upper- and a lowercase letter, a digit and a special character
# ("Fine-grained access control", OpenSearch Service Developer Guide). The specials are ones
# that need no quoting in JSON and are URL-quoted where the app's URL carries them.
PASSWORD_SPECIALS = "-_.~!"  # noqa: S105 (a character set, not a password)


def _password(name: str, parent: pulumi.Resource) -> random.RandomPassword:
    return random.RandomPassword(
        name,
        length=32,
        special=True,
        override_special=PASSWORD_SPECIALS,
        min_upper=1,
        min_lower=1,
        min_numeric=1,
        min_special=1,
        opts=pulumi.ResourceOptions(parent=parent),
    )


@dataclass(frozen=True, kw_only=True)
class SearchArgs:
    domain_name: str
    config: SearchConfig
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]  # one private subnet per zone, in config order
    logs_key_arn: pulumi.Input[str]  # the region's CloudWatch Logs key
    log_retention_days: int
    base_tags: dict[str, str]


class Search(pulumi.ComponentResource):
    domain: aws.opensearch.Domain
    security_group: aws.ec2.SecurityGroup
    kms_key: aws.kms.Key
    secret: aws.secretsmanager.Secret  # master_* and app_* credentials

    def __init__(
        self, name: str, args: SearchArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("python-org:search:Search", name, None, opts)
        self._name = name
        self._base_tags = args.base_tags
        t = self._tags
        self.kms_key = aws.kms.Key(
            f"{name}-search-key",
            description=f"{args.domain_name}: OpenSearch at rest, its credentials",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            tags=t("search-key"),
            opts=self._keep(f"{name}-search-key"),
        )
        aws.kms.Alias(
            f"{name}-search-key",
            name=f"alias/{args.domain_name}-search",
            target_key_id=self.kms_key.key_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-search",
            vpc_id=args.vpc_id,
            description=f"{args.domain_name}: OpenSearch (HTTPS) from the app's instances only",
            tags=t("search-sg"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = aws.get_caller_identity_output(opts=invoke).account_id
        logs, log_policy = self._logs(name, args, account)
        master = _password(f"{name}-search-master-password", self)
        app = _password(f"{name}-search-app-password", self)
        self.domain = self._domain(name, args, account, master, logs, log_policy)
        self.secret = self._credentials_secret(name, args, master, app)
        self.register_outputs({"endpoint": self.domain.endpoint})

    def _keep(self, child_name: str) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(
            parent=self,
            protect=True,
            retain_on_delete=True,
            aliases=inherited_aliases(self, child_name),
        )

    def _logs(
        self, name: str, args: SearchArgs, account: pulumi.Output[str]
    ) -> tuple[dict[str, aws.cloudwatch.LogGroup], aws.cloudwatch.LogResourcePolicy]:
        """The domain's log groups, by log type, and the resource policy that lets the service
        write there."""
        child = pulumi.ResourceOptions(parent=self)
        logs = {
            kind: aws.cloudwatch.LogGroup(
                f"{name}-search-{kind.lower().replace('_', '-')}",
                name=f"/python-org/{args.domain_name}/{kind.lower()}",
                retention_in_days=args.log_retention_days,
                kms_key_id=args.logs_key_arn,
                tags=self._tags(f"search-{kind.lower()}"),
                opts=child,
            )
            for kind in LOG_TYPES
        }
        # OpenSearch Service writes its logs only where a resource policy lets it ("Monitoring
        # OpenSearch logs with Amazon CloudWatch Logs", OpenSearch Service Developer Guide).
        log_policy = aws.cloudwatch.LogResourcePolicy(
            f"{name}-search-logs",
            policy_name=f"{args.domain_name}-search-logs",
            policy_document=pulumi.Output.all(account, [g.arn for g in logs.values()]).apply(
                lambda v: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "OpenSearchWritesItsLogs",
                                "Effect": "Allow",
                                "Principal": {"Service": "es.amazonaws.com"},
                                "Action": ["logs:PutLogEvents", "logs:CreateLogStream"],
                                "Resource": [f"{arn}:*" for arn in v[1]],
                                "Condition": {"StringEquals": {"aws:SourceAccount": v[0]}},
                            }
                        ],
                    }
                )
            ),
            opts=child,
        )
        return logs, log_policy

    def _domain(
        self,
        name: str,
        args: SearchArgs,
        account: pulumi.Output[str],
        master: random.RandomPassword,
        logs: dict[str, aws.cloudwatch.LogGroup],
        log_policy: aws.cloudwatch.LogResourcePolicy,
    ) -> aws.opensearch.Domain:
        """The domain: in the private subnets, encrypted, HTTPS only, fine-grained access
        control with the internal user database."""
        cfg = args.config
        zoned = cfg.zones > 1
        return aws.opensearch.Domain(
            f"{name}-search",
            domain_name=args.domain_name,
            engine_version=cfg.engine_version,
            cluster_config=aws.opensearch.DomainClusterConfigArgs(
                instance_type=cfg.instance_type,
                instance_count=cfg.instance_count,
                zone_awareness_enabled=zoned,
                zone_awareness_config=aws.opensearch.DomainClusterConfigZoneAwarenessConfigArgs(
                    availability_zone_count=cfg.zones
                )
                if zoned
                else None,
            ),
            ebs_options=aws.opensearch.DomainEbsOptionsArgs(
                ebs_enabled=True, volume_type="gp3", volume_size=cfg.volume_size_gb
            ),
            vpc_options=aws.opensearch.DomainVpcOptionsArgs(
                subnet_ids=list(args.subnet_ids[: cfg.zones]),
                security_group_ids=[self.security_group.id],
            ),
            encrypt_at_rest=aws.opensearch.DomainEncryptAtRestArgs(
                enabled=True, kms_key_id=self.kms_key.arn
            ),
            node_to_node_encryption=aws.opensearch.DomainNodeToNodeEncryptionArgs(enabled=True),
            domain_endpoint_options=aws.opensearch.DomainDomainEndpointOptionsArgs(
                enforce_https=True, tls_security_policy=TLS_POLICY
            ),
            advanced_security_options=aws.opensearch.DomainAdvancedSecurityOptionsArgs(
                enabled=True,
                internal_user_database_enabled=True,
                master_user_options=aws.opensearch.DomainAdvancedSecurityOptionsMasterUserOptionsArgs(
                    master_user_name=MASTER_USER,
                    # Secret by itself once deployed (pulumi-random marks it); nested in an
                    # input type it is not wrapped by the SDK, so say so here.
                    master_user_password=pulumi.Output.secret(master.result),
                ),
            ),
            # With fine-grained access control, the resource policy lets any request through to
            # the security plugin, which authenticates every one (internal users); the domain
            # has no public endpoint and its security group admits only the app's instances.
            access_policies=account.apply(lambda a: json.dumps(_access_policy(args, a))),
            log_publishing_options=[
                aws.opensearch.DomainLogPublishingOptionArgs(
                    cloudwatch_log_group_arn=group.arn, log_type=kind, enabled=True
                )
                for kind, group in logs.items()
            ],
            software_update_options=aws.opensearch.DomainSoftwareUpdateOptionsArgs(
                auto_software_update_enabled=True
            ),
            tags=self._tags("search"),
            opts=pulumi.ResourceOptions.merge(
                self._keep(f"{name}-search"), pulumi.ResourceOptions(depends_on=[log_policy])
            ),
        )

    def _credentials_secret(
        self,
        name: str,
        args: SearchArgs,
        master: random.RandomPassword,
        app: random.RandomPassword,
    ) -> aws.secretsmanager.Secret:
        """The region's secret of the master and the app users' credentials."""
        child = pulumi.ResourceOptions(parent=self)
        secret = aws.secretsmanager.Secret(
            f"{name}-search",
            description=f"{args.domain_name}: OpenSearch users (docs/app-contract.md)",
            kms_key_id=self.kms_key.arn,
            recovery_window_in_days=30,
            tags=self._tags("search-secret"),
            opts=child,
        )
        aws.secretsmanager.SecretVersion(
            f"{name}-search",
            secret_id=secret.id,
            secret_string=pulumi.Output.secret(
                pulumi.Output.all(master.result, app.result).apply(  # type: ignore[arg-type]
                    lambda v: json.dumps(
                        {
                            "master_username": MASTER_USER,
                            "master_password": v[0],
                            "app_username": APP_USER,
                            "app_password": v[1],
                        },
                        sort_keys=True,
                    )
                )
            ),
            opts=child,
        )
        return secret

    def _tags(self, role: str) -> dict[str, str]:
        return tags(self._base_tags, "search", f"{self._name}-{role}")

    def admit(self, client: str, security_group_id: pulumi.Input[str]) -> None:
        """Open HTTPS on the domain to the instances of `client`'s security group."""
        child = pulumi.ResourceOptions(parent=self)
        aws.vpc.SecurityGroupIngressRule(
            f"{self._name}-search-from-{client}",
            security_group_id=self.security_group.id,
            referenced_security_group_id=security_group_id,
            ip_protocol="tcp",
            from_port=HTTPS_PORT,
            to_port=HTTPS_PORT,
            description=f"OpenSearch from the {client} instances",
            tags=self._tags(f"search-from-{client}"),
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{self._name}-{client}-to-search",
            security_group_id=security_group_id,
            referenced_security_group_id=self.security_group.id,
            ip_protocol="tcp",
            from_port=HTTPS_PORT,
            to_port=HTTPS_PORT,
            description="OpenSearch (HTTPS)",
            tags=self._tags(f"{client}-to-search"),
            opts=child,
        )


def _access_policy(args: SearchArgs, account: str) -> dict[str, object]:
    """The domain's resource policy: any principal, to the domain's HTTP API (the security
    plugin authenticates every request)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "es:ESHttp*",
                "Resource": f"arn:aws:es:{_region_of(args)}:{account}:domain/{args.domain_name}/*",
            }
        ],
    }


def _region_of(args: SearchArgs) -> str:
    return args.base_tags["region"]
