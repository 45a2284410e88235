"""Cloud refusals for the app's other services: ElastiCache (Redis), OpenSearch Service, SES.

One part of the cloud-refusal group (`policy.refusals`): each rule is mandatory, states one
thing the API refuses and names the document that says so.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from policy import tokens as tk
from policy.framework import MANDATORY, Registry, Stack
from policy.view import Res, dig, flag, is_unknown, items, known, number

rules = Registry()

# --- ElastiCache ----------------------------------------------------------------------------

# AuthToken: "Must be only printable ASCII characters ... at least 16 characters and no more
# than 128 ... The only permitted printable special characters are !, &, #, $, ^, <, >, and -"
# (CreateReplicationGroup; botocore's elasticache service-2.json holds the same text, which
# tests/test_policy_refusals.py reads to keep this in step).
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
