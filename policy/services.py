"""Rules for the app's services besides web servers and databases: ElastiCache (Redis),
OpenSearch Service, SES and the SNS topic SES reports to.

Ids are checkov's (CKV_AWS_*) and cdk-nag's AwsSolutions pack; what the clouds refuse outright
is in `policy.refusals`. The topic's encryption (CKV_AWS_26) is `policy.oncall`'s sns-topic-cmk.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from policy import tokens as tk
from policy.framework import ADVISORY, MANDATORY, Registry
from policy.view import (
    Res,
    dig,
    document,
    flag,
    is_production,
    is_unknown,
    items,
    number,
    principals,
    statements,
)

rules = Registry()


def _off(value: object) -> bool:
    """False or absent (AWS's default is off), and not merely unknown yet."""
    return not is_unknown(value) and flag(value) is not True


# --- ElastiCache --------------------------------------------------------------------------


@rules.resource(
    "redis-encrypted-at-rest",
    MANDATORY,
    types=(tk.ELASTICACHE_GROUP,),
    checks="Redis replication groups are encrypted at rest with a customer-managed KMS key",
    fix="at_rest_encryption_enabled=True and kms_key_id=<the cache's key> (both only at "
    "creation: changing them replaces the group)",
    sources=("CKV_AWS_29", "CKV_AWS_191", "AwsSolutions-AEC3"),
)
def redis_encrypted_at_rest(res: Res) -> Iterator[str]:
    if _off(res.props.get("atRestEncryptionEnabled")):
        yield "at_rest_encryption_enabled is off"
    elif res.props.get("kmsKeyId") in (None, ""):
        yield "encrypted with ElastiCache's own key, not a customer-managed one"


@rules.resource(
    "redis-encrypted-in-transit",
    MANDATORY,
    types=(tk.ELASTICACHE_GROUP,),
    checks="Redis requires TLS and AUTH: transit encryption on (mode required) and an auth token",
    fix='transit_encryption_enabled=True, transit_encryption_mode="required", and an '
    "auth_token from random.RandomPassword",
    sources=("CKV_AWS_30", "CKV_AWS_31", "AwsSolutions-AEC6"),
)
def redis_encrypted_in_transit(res: Res) -> Iterator[str]:
    props = res.props
    if _off(props.get("transitEncryptionEnabled")):
        yield "transit_encryption_enabled is off: cache entries and Celery tasks cross in clear"
        return
    mode = props.get("transitEncryptionMode")
    if mode == "preferred":
        yield 'transit_encryption_mode is "preferred": clients without TLS are still admitted'
    if props.get("authToken") in (None, "") and not items(props.get("userGroupIds")):
        yield "no auth_token (and no RBAC user group): anyone who reaches the port may use it"


@rules.resource(
    "redis-multi-az-in-production",
    MANDATORY,
    types=(tk.ELASTICACHE_GROUP,),
    checks="Production Redis is Multi-AZ with automatic failover",
    fix="python-org:redis.nodes >= 2 (multi_az_enabled and automatic_failover_enabled follow)",
    sources=("AwsSolutions-AEC4",),
)
def redis_multi_az(res: Res) -> Iterator[str]:
    if not is_production(res):
        return
    if _off(res.props.get("multiAzEnabled")):
        yield "multi_az_enabled is off: losing the primary's zone loses the cache and the broker"
    if _off(res.props.get("automaticFailoverEnabled")):
        yield "automatic_failover_enabled is off"


@rules.resource(
    "redis-backups",
    ADVISORY,
    types=(tk.ELASTICACHE_GROUP,),
    checks="Production Redis keeps automatic snapshots",
    fix="python-org:redis.snapshotRetentionDays >= 1",
    sources=("CKV_AWS_134",),
)
def redis_backups(res: Res) -> Iterator[str]:
    days = number(res.props.get("snapshotRetentionLimit"))
    if is_production(res) and not is_unknown(res.props.get("snapshotRetentionLimit")) and not days:
        yield "no automatic snapshots"


@rules.resource(
    "redis-own-subnet-group",
    ADVISORY,
    types=(tk.ELASTICACHE_GROUP,),
    checks="Redis runs in a subnet group of its own (the private subnets), not the default",
    fix="give subnet_group_name an aws.elasticache.SubnetGroup over the private subnets",
    sources=("CKV_AWS_323", "AwsSolutions-AEC1"),
)
def redis_subnet_group(res: Res) -> Iterator[str]:
    if res.props.get("subnetGroupName") in (None, "", "default"):
        yield "the default subnet group (the default VPC's subnets)"


# --- OpenSearch -----------------------------------------------------------------------------


@rules.resource(
    "search-encrypted",
    MANDATORY,
    types=(tk.OPENSEARCH_DOMAIN,),
    checks="OpenSearch domains encrypt at rest (with a customer-managed key) and between nodes",
    fix="encrypt_at_rest(enabled=True, kms_key_id=<the domain's key>) and "
    "node_to_node_encryption(enabled=True)",
    sources=("CKV_AWS_5", "CKV_AWS_6", "CKV_AWS_247", "AwsSolutions-OS2", "AwsSolutions-OS8"),
)
def search_encrypted(res: Res) -> Iterator[str]:
    if _off(dig(res.props, "encryptAtRest", "enabled")):
        yield "encryption at rest is off"
    elif dig(res.props, "encryptAtRest", "kmsKeyId") in (None, ""):
        yield "encrypted at rest with the AWS-owned key, not a customer-managed one"
    if _off(dig(res.props, "nodeToNodeEncryption", "enabled")):
        yield "node-to-node encryption is off"


@rules.resource(
    "search-https-only",
    MANDATORY,
    types=(tk.OPENSEARCH_DOMAIN,),
    checks="OpenSearch endpoints require HTTPS with a TLS 1.2+ policy",
    fix="domain_endpoint_options(enforce_https=True, tls_security_policy="
    '"Policy-Min-TLS-1-2-PFS-2023-10")',
    sources=("CKV_AWS_83", "CKV_AWS_228"),
)
def search_https_only(res: Res) -> Iterator[str]:
    options = res.props.get("domainEndpointOptions")
    if _off(dig(options, "enforceHttps")):
        yield "HTTPS is not enforced"
    policy = dig(options, "tlsSecurityPolicy")
    if not is_unknown(policy) and not (isinstance(policy, str) and "TLS-1-2" in policy):
        yield f"TLS policy {policy or '(default: TLS 1.0)'} admits TLS below 1.2"


@rules.resource(
    "search-in-vpc",
    MANDATORY,
    types=(tk.OPENSEARCH_DOMAIN,),
    checks="OpenSearch domains live in the VPC (no public endpoint)",
    fix="vpc_options(subnet_ids=<private subnets>, security_group_ids=[<the domain's group>])",
    sources=("CKV_AWS_137", "AwsSolutions-OS1"),
)
def search_in_vpc(res: Res) -> Iterator[str]:
    if not items(dig(res.props, "vpcOptions", "subnetIds")) and not is_unknown(
        res.props.get("vpcOptions")
    ):
        yield "the domain has a public endpoint"


@rules.resource(
    "search-fine-grained-access",
    MANDATORY,
    types=(tk.OPENSEARCH_DOMAIN,),
    checks="OpenSearch domains use fine-grained access control, and a resource policy open to "
    "every principal only with it",
    fix="advanced_security_options(enabled=True, internal_user_database_enabled=True, "
    "master_user_options=...)",
    sources=("CKV2_AWS_52", "AwsSolutions-OS5"),
)
def search_fine_grained(res: Res) -> Iterator[str]:
    fgac = flag(dig(res.props, "advancedSecurityOptions", "enabled"))
    if is_unknown(dig(res.props, "advancedSecurityOptions", "enabled")):
        return
    if fgac is not True:
        yield "fine-grained access control is off"
        open_to_all = [
            s
            for s in statements(document(res.props.get("accessPolicies")))
            if s.get("Effect") == "Allow" and "*" in principals(s)
        ]
        if open_to_all:
            yield "its access policy allows every principal, and nothing authenticates them"


@rules.resource(
    "search-logs",
    ADVISORY,
    types=(tk.OPENSEARCH_DOMAIN,),
    checks="OpenSearch publishes its slow logs and application logs to CloudWatch Logs",
    fix="log_publishing_options for INDEX_SLOW_LOGS, SEARCH_SLOW_LOGS and ES_APPLICATION_LOGS",
    sources=("CKV_AWS_84", "AwsSolutions-OS9"),
)
def search_logs(res: Res) -> Iterator[str]:
    options = res.props.get("logPublishingOptions")
    if is_unknown(options):
        return
    on = {
        dig(o, "logType")
        for o in items(options)
        if isinstance(o, Mapping) and flag(dig(o, "enabled")) is not False
    }
    missing = sorted({"INDEX_SLOW_LOGS", "SEARCH_SLOW_LOGS", "ES_APPLICATION_LOGS"} - on)
    if missing:
        yield f"not published: {', '.join(missing)}"


@rules.resource(
    "search-zone-aware-in-production",
    MANDATORY,
    types=(tk.OPENSEARCH_DOMAIN,),
    checks="Production OpenSearch domains spread their data nodes over two or three zones",
    fix="python-org:search.zones 2 or 3, instanceCount a multiple of it",
    sources=("AwsSolutions-OS7",),
)
def search_zone_aware(res: Res) -> Iterator[str]:
    value = dig(res.props, "clusterConfig", "zoneAwarenessEnabled")
    if is_production(res) and _off(value):
        yield "zone awareness is off: one zone's outage takes search down"


# --- SES and SNS ------------------------------------------------------------------------------


@rules.resource(
    "ses-tls-required",
    MANDATORY,
    types=(tk.SES_CONFIGURATION_SET,),
    checks="SES configuration sets deliver only over TLS",
    fix='delivery_options(tls_policy="REQUIRE")',
    sources=("CKV_AWS_365",),
)
def ses_tls_required(res: Res) -> Iterator[str]:
    policy = dig(res.props, "deliveryOptions", "tlsPolicy")
    if not is_unknown(policy) and policy != "REQUIRE":
        yield f"tls_policy is {policy or 'OPTIONAL (the default)'}"


@rules.resource(
    "sns-tls-only",
    ADVISORY,
    types=(tk.SNS_TOPIC_POLICY,),
    checks="SNS topic policies deny publishing without TLS",
    fix='add a Deny on sns:Publish for "*" when aws:SecureTransport is false',
    sources=("AwsSolutions-SNS3",),
)
def sns_tls_only(res: Res) -> Iterator[str]:
    doc = document(res.props.get("policy"))
    if doc is None:
        return
    if not any(
        s.get("Effect") == "Deny"
        and dig(s, "Condition", "Bool", "aws:SecureTransport") in ("false", False)
        for s in statements(doc)
    ):
        yield "no statement denies aws:SecureTransport = false"
