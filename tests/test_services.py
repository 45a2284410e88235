"""What the app needs besides web servers and a database: Redis, search, workers and mail.

Properties of the real stacks (the session fixtures): encryption, who reaches what, the single
beat, the mail DNS records; and the config's refusals for these sections.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from infra.components.mail import SPF, smtp_password
from infra.config import ConfigError, parse_config
from infra.review.graph import SECRET, Graph, Resource
from tests.conftest import encode, raw_stack

SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
REDIS = "aws:elasticache/replicationGroup:ReplicationGroup"
DOMAIN = "aws:opensearch/domain:Domain"
ASG = "aws:autoscaling/group:Group"
RECORD = "cloudflare:index/dnsRecord:DnsRecord"
PROD_REGIONS = ("us-east-2", "eu-west-1", "ap-southeast-1")


def _sg_id(g: Graph, name: str) -> str:
    sg_id: str = g.one(SG, name).outputs["id"]
    return sg_id


def _ingress_to(g: Graph, group: str) -> set[tuple[str, int]]:
    target = _sg_id(g, group)
    return {
        (r.inputs["referencedSecurityGroupId"], r.inputs["fromPort"])
        for r in g.of_type(INGRESS)
        if r.inputs["securityGroupId"] == target
    }


# --- Redis -------------------------------------------------------------------------------------


def test_redis_is_encrypted_authenticated_multi_az_and_kept(prod: Graph) -> None:
    for region in PROD_REGIONS:
        group = prod.one(REDIS, f"{region}-redis")
        i = group.inputs
        assert group.region == region
        assert i["atRestEncryptionEnabled"] is True
        assert i["kmsKeyId"].startswith(f"arn:aws:kms:{region}:")
        assert i["transitEncryptionEnabled"] is True
        assert i["transitEncryptionMode"] == "required"
        assert i["authToken"] == SECRET  # never in the state's plain inputs
        assert i["numCacheClusters"] == 2
        assert i["multiAzEnabled"] is True
        assert i["automaticFailoverEnabled"] is True
        assert len(set(i["preferredCacheClusterAzs"])) == 2  # primary and replica apart
        assert group.protect
        assert group.retain_on_delete


def test_staging_redis_is_one_node_without_failover(staging: Graph) -> None:
    for group in staging.of_type(REDIS):
        assert group.inputs["numCacheClusters"] == 1
        assert group.inputs["multiAzEnabled"] is False
        assert group.inputs["automaticFailoverEnabled"] is False


def test_only_the_apps_instances_reach_redis_and_search(prod: Graph) -> None:
    """Web servers in every region, the workers in the home region: nothing else, no CIDR."""
    for region in PROD_REGIONS:
        clients = {_sg_id(prod, f"{region}-web-instances")}
        if region == "us-east-2":
            clients.add(_sg_id(prod, f"{region}-workers"))
        assert _ingress_to(prod, f"{region}-cache") == {(c, 6379) for c in clients}
        assert _ingress_to(prod, f"{region}-search") == {(c, 443) for c in clients}
        for name in (f"{region}-cache", f"{region}-search"):
            assert "ingress" not in prod.one(SG, name).inputs  # no inline rules either
        # ...and each client may leave for them (egress is explicit on the client side).
        cache, search = _sg_id(prod, f"{region}-cache"), _sg_id(prod, f"{region}-search")
        for client in clients:
            out = {
                (r.inputs.get("referencedSecurityGroupId"), r.inputs["fromPort"])
                for r in prod.of_type(EGRESS)
                if r.inputs["securityGroupId"] == client
            }
            assert {(cache, 6379), (search, 443)} <= out
    # No ingress rule anywhere admits a CIDR (the load balancers' inline rules are Cloudflare's).
    assert not any("cidrIpv4" in r.inputs or "cidrIpv6" in r.inputs for r in prod.of_type(INGRESS))


def test_the_workers_admit_nothing(prod: Graph) -> None:
    workers = _sg_id(prod, "us-east-2-workers")
    assert not [r for r in prod.of_type(INGRESS) if r.inputs["securityGroupId"] == workers]
    assert "ingress" not in prod.one(SG, "us-east-2-workers").inputs


# --- search ------------------------------------------------------------------------------------


def test_search_is_in_the_vpc_encrypted_https_only_and_fine_grained(prod: Graph) -> None:
    for region in PROD_REGIONS:
        domain = prod.one(DOMAIN, f"{region}-search")
        i = domain.inputs
        assert domain.region == region
        assert i["engineVersion"].startswith("OpenSearch_")
        assert i["encryptAtRest"]["enabled"] is True
        assert i["encryptAtRest"]["kmsKeyId"].startswith(f"arn:aws:kms:{region}:")
        assert i["nodeToNodeEncryption"]["enabled"] is True
        assert i["domainEndpointOptions"] == {
            "enforceHttps": True,
            "tlsSecurityPolicy": "Policy-Min-TLS-1-2-PFS-2023-10",
        }
        security = i["advancedSecurityOptions"]
        assert security["enabled"] is True
        assert security["internalUserDatabaseEnabled"] is True
        assert security["masterUserOptions"]["masterUserPassword"] == SECRET
        assert len(i["vpcOptions"]["subnetIds"]) == 3
        assert i["vpcOptions"]["securityGroupIds"] == [_sg_id(prod, f"{region}-search")]
        cluster = i["clusterConfig"]
        assert cluster["zoneAwarenessEnabled"] is True
        assert cluster["zoneAwarenessConfig"] == {"availabilityZoneCount": 3}
        assert cluster["instanceCount"] % 3 == 0
        assert domain.protect
        assert domain.retain_on_delete
        # The open resource policy is scoped to this domain; the security plugin authenticates.
        (statement,) = json.loads(i["accessPolicies"])["Statement"]
        assert statement["Resource"].endswith(f":domain/pyorg-prod-{region}/*")


def test_staging_search_is_one_node_in_one_zone(staging: Graph) -> None:
    for domain in staging.of_type(DOMAIN):
        assert domain.inputs["clusterConfig"]["instanceCount"] == 1
        assert domain.inputs["clusterConfig"]["zoneAwarenessEnabled"] is False
        assert len(domain.inputs["vpcOptions"]["subnetIds"]) == 1


# --- workers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_exactly_one_beat_in_the_world(stack: str, request: pytest.FixtureRequest) -> None:
    g: Graph = request.getfixturevalue(stack)
    groups = g.of_type(ASG)
    beats = [a for a in groups if a.name.endswith("-beat")]
    (beat,) = beats
    assert beat.region == g.outputs["home_region"]
    i = beat.inputs
    assert (i["minSize"], i["desiredCapacity"], i["maxSize"]) == (1, 1, 1)
    # Terminate before launch, in a refresh and when replacing an unhealthy instance.
    assert i["instanceRefresh"]["preferences"]["maxHealthyPercentage"] == 100
    assert i["instanceRefresh"]["preferences"]["minHealthyPercentage"] == 0
    assert i["instanceMaintenancePolicy"] == {
        "minHealthyPercentage": 0,
        "maxHealthyPercentage": 100,
    }
    assert "AZRebalance" in i["suspendedProcesses"]
    assert {t["key"]: t["value"] for t in i["tags"]}["singleton"] == "true"
    (worker,) = [a for a in groups if a.name.endswith("-worker")]
    assert worker.region == beat.region
    count = 2 if stack == "prod" else 1
    assert (worker.inputs["minSize"], worker.inputs["maxSize"]) == (count, count)
    assert "targetGroupArns" not in worker.inputs  # no load balancer
    assert "targetGroupArns" not in i


# --- mail --------------------------------------------------------------------------------------


def _records(g: Graph) -> list[Resource]:
    return [r for r in g.of_type(RECORD) if "python-org:mail:Mail" in r.urn]


def test_mail_dns_records_are_dns_only_under_names_the_stack_owns(prod: Graph) -> None:
    records = _records(prod)
    assert all(r.inputs["proxied"] is False for r in records)
    (identity,) = prod.of_type("aws:sesv2/emailIdentity:EmailIdentity")
    assert identity.inputs["emailIdentity"] == "python.org"
    tokens = identity.outputs["dkimSigningAttributes"]["tokens"]
    dkim = {(r.inputs["name"], r.inputs["content"]) for r in records if r.inputs["type"] == "CNAME"}
    assert dkim == {(f"{t}._domainkey.python.org", f"{t}.dkim.amazonses.com") for t in tokens}
    mx = [r for r in records if r.inputs["type"] == "MX"]
    assert [(r.inputs["name"], r.inputs["content"], r.inputs["priority"]) for r in mx] == [
        ("bounces.www.python.org", "feedback-smtp.us-east-2.amazonses.com", 10)
    ]
    txt = {r.inputs["name"]: r.inputs["content"] for r in records if r.inputs["type"] == "TXT"}
    assert txt == {"bounces.www.python.org": SPF}
    # Never the zone apex's own SPF or MX, nor its DMARC record (mail.python.org's).
    assert not [r for r in records if r.inputs["name"] in ("python.org", "_dmarc.python.org")]
    (mail_from,) = prod.of_type(
        "aws:sesv2/emailIdentityMailFromAttributes:EmailIdentityMailFromAttributes"
    )
    assert mail_from.inputs["mailFromDomain"] == "bounces.www.python.org"


def test_staging_publishes_its_own_dmarc_record(staging: Graph) -> None:
    txt = {
        r.inputs["name"]: r.inputs["content"]
        for r in _records(staging)
        if r.inputs["type"] == "TXT"
    }
    assert txt["_dmarc.staging.python.org"].startswith('"v=DMARC1; p=none;')
    assert txt["bounces.staging.python.org"] == SPF


def test_bounces_and_complaints_reach_an_encrypted_topic(prod: Graph) -> None:
    (topic,) = [t for t in prod.of_type("aws:sns/topic:Topic") if "mail-feedback" in t.name]
    assert topic.inputs["kmsMasterKeyId"].startswith("arn:aws:kms:us-east-2:")
    (destination,) = prod.of_type(
        "aws:sesv2/configurationSetEventDestination:ConfigurationSetEventDestination"
    )
    event = destination.inputs["eventDestination"]
    assert sorted(event["matchingEventTypes"]) == ["BOUNCE", "COMPLAINT"]
    assert event["snsDestination"]["topicArn"] == topic.outputs["arn"]
    (config_set,) = prod.of_type("aws:sesv2/configurationSet:ConfigurationSet")
    assert config_set.inputs["deliveryOptions"]["tlsPolicy"] == "REQUIRE"
    (identity,) = prod.of_type("aws:sesv2/emailIdentity:EmailIdentity")
    assert identity.inputs["configurationSetName"] == config_set.inputs["configurationSetName"]


def test_the_smtp_user_may_only_send_and_its_key_stays_secret(prod: Graph) -> None:
    (policy,) = prod.of_type("aws:iam/userPolicy:UserPolicy")
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]
    assert statement["Action"] == "ses:SendRawEmail"
    assert all(":ses:us-east-2:" in arn for arn in statement["Resource"])
    (key,) = prod.of_type("aws:iam/accessKey:AccessKey")
    assert key.outputs["secret"] == SECRET
    outputs = json.dumps(prod.outputs)
    assert key.outputs["id"] not in outputs  # the key id is in no stack output either


@pytest.mark.parametrize(
    ("region", "secret", "expected"),
    [
        # terraform-provider-aws, internal/service/iam/access_key_test.go
        # (TestSESSMTPPasswordFromSecretKeySigV4): vectors known to authenticate against SES.
        ("eu-central-1", "some+secret+key", "BMXhUYlu5Z3gSXVQORxlVa7XPaz91aGWdfHxvkOZdWZ2"),
        ("eu-central-1", "another+secret+key", "BBbphbrQmrKMx42d1N6+C7VINYEBGI5v9VsZeTxwskfh"),
        ("us-west-1", "some+secret+key", "BH+jbMzper5WwlwUar9E1ySBqHa9whi0GPo+sJ0mVYJj"),
        ("us-west-1", "another+secret+key", "BKVmjjMDFk/qqw8EROW99bjCS65PF8WKvK5bSr4Y6EqF"),
    ],
)
def test_the_smtp_password_is_awss_documented_conversion(
    region: str, secret: str, expected: str
) -> None:
    assert smtp_password(secret, region) == expected


# --- config ------------------------------------------------------------------------------------


def _problems(edit: dict[str, Any], stack: str = "prod") -> list[str]:
    raw = copy.deepcopy(raw_stack(stack))
    for key, values in edit.items():
        raw[f"python-org:{key.split('.')[0]}"].update({key.split(".")[1]: values})
    with pytest.raises(ConfigError) as info:
        parse_config(stack, encode(raw))
    return info.value.problems


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        ({"redis.nodes": 1}, "redis.nodes = 1: must be at least 2 when environment"),
        ({"redis.nodes": 7}, "redis.nodes = 7: must be an integer from 1 to 6"),
        (
            {"redis.nodeType": "cache.r7g.hueg"},
            "redis.nodeType = 'cache.r7g.hueg': is not an ElastiCache node type known "
            "to botocore (similar: cache.r7g.12xlarge",
        ),
        ({"redis.engineVersion": "8"}, "redis.engineVersion = '8': must be a Redis"),
        (
            {"search.instanceType": "r7g.large.search"},
            "search.instanceType = 'r7g.large.search': is not an OpenSearch instance "
            "type known to botocore",
        ),
        (
            {"search.instanceCount": 4},
            "search.instanceCount = 4: must be a multiple of search.zones (3)",
        ),
        ({"search.zones": 1}, "search.zones = 1: must be 2 or 3 when environment"),
        (
            {"search.engineVersion": "Elasticsearch_7.10"},
            "search.engineVersion = 'Elasticsearch_7.10': must be an OpenSearch version",
        ),
        ({"workers.count": 0}, "workers.count = 0: must be an integer from 1 to 20"),
        (
            {"mail.domain": "example.org"},
            "mail.domain = 'example.org': must be python.org or a name under it",
        ),
        (
            {"mail.mailFromDomain": "bounces.example.org"},
            "mail.mailFromDomain = 'bounces.example.org': must be a subdomain of "
            "mail.domain (python.org)",
        ),
        (
            {"mail.fromAddress": "noreply@example.org"},
            "mail.fromAddress = 'noreply@example.org': must be an address @python.org",
        ),
        ({"mail.dmarcPolicy": "strict"}, "mail.dmarcPolicy = 'strict': must be one of"),
    ],
    ids=lambda v: next(iter(v)) if isinstance(v, dict) else "",
)
def test_bad_service_config_is_refused_with_the_key_value_and_allowed(
    edit: dict[str, Any], expected: str
) -> None:
    problems = _problems(edit)
    assert any(p.startswith(expected) for p in problems), problems


def test_search_zones_beyond_a_regions_zones_are_refused() -> None:
    (problem,) = _problems({"search.zones": 3}, stack="staging")
    assert problem == ("search.zones = 3: must be at most 2: every region has only that many zones")
