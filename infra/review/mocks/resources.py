"""The mocks' answers to resource registrations, by type: ids, ARNs, DNS names and endpoints
in the resource's own region, ACM validation records, what AWS and Cloudflare would compute.
A type without an answer of its own gets a generic id and ARN."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infra.review.mocks.ids import ACCOUNT_ID, mock_arn, mock_hash

Answer = Callable[[str, dict[str, Any], str], tuple[str, dict[str, Any]]]


def generic(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    """Any type without an answer of its own: an id from its name, an ARN of no service."""
    rid = f"{name}-{mock_hash(name, region)}"
    return rid, {"arn": mock_arn("mock", region, rid)}


def _named(service: str, kind: str) -> Answer:
    """Resources whose name is their id (RDS subnet and parameter groups, ...)."""

    def answer(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
        physical = inputs.get("name") or f"{name}-{mock_hash(name, region, n=7)}"
        return physical, {"name": physical, "arn": mock_arn(service, region, f"{kind}:{physical}")}

    return answer


def _typed(prefix: str, service: str, kind: str) -> Answer:
    def answer(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
        rid = f"{prefix}-{mock_hash(name, region, n=17)}"
        return rid, {"arn": mock_arn(service, region, f"{kind}/{rid}")}

    return answer


def _bucket(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    bucket = (
        inputs.get("bucket") or f"{inputs.get('bucketPrefix') or name + '-'}{mock_hash(name, n=7)}"
    )
    return bucket, {
        "bucket": bucket,
        "arn": f"arn:aws:s3:::{bucket}",
        "bucketRegionalDomainName": f"{bucket}.s3.{region}.amazonaws.com",
        "region": region,
    }


def _load_balancer(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    lb_name = inputs.get("name") or name[:24]
    arn = mock_arn(
        "elasticloadbalancing", region, f"loadbalancer/app/{lb_name}/{mock_hash(name, n=16)}"
    )
    return arn, {
        "arn": arn,
        "arnSuffix": arn.split(":loadbalancer/", 1)[1],
        "dnsName": f"{lb_name}-{mock_hash(name, region, n=10)}.{region}.elb.amazonaws.com",
        "zoneId": "Z" + mock_hash(region, n=13).upper(),
    }


def _target_group(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    arn = mock_arn(
        "elasticloadbalancing", region, f"targetgroup/{name[:24]}/{mock_hash(name, n=16)}"
    )
    return arn, {"arn": arn, "arnSuffix": arn.split(":")[-1]}


def _db_instance(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    ident = inputs.get("identifier") or f"{name}-{mock_hash(name, n=7)}"
    address = f"{ident}.c{mock_hash(region, n=10)}.{region}.rds.amazonaws.com"
    out: dict[str, Any] = {
        "arn": mock_arn("rds", region, f"db:{ident}"),
        "identifier": ident,
        "address": address,
        "endpoint": f"{address}:5432",
        "port": 5432,
        "resourceId": "db-" + mock_hash(name, region, n=26).upper(),
    }
    if inputs.get("manageMasterUserPassword"):
        out["masterUserSecrets"] = [
            {
                "secretArn": mock_arn("secretsmanager", region, f"secret:rds!db-{mock_hash(name)}"),
                "kmsKeyId": inputs.get("masterUserSecretKmsKeyId", ""),
                "secretStatus": "active",
            }
        ]
    return ident, out


def _certificate(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    domains = [inputs["domainName"], *inputs.get("subjectAlternativeNames", [])]
    arn = mock_arn("acm", region, f"certificate/{mock_hash(name, region, n=32)}")
    # ACM derives the validation CNAME from the domain and the account, not the region: the
    # same record validates the same name in every region.
    options = [
        {
            "domainName": d,
            "resourceRecordName": f"_{mock_hash(ACCOUNT_ID, d, n=32)}.{d}.",
            "resourceRecordType": "CNAME",
            "resourceRecordValue": f"_{mock_hash(d, n=32)}.{mock_hash(d, 'v', n=10)}.acm-validations.aws.",
        }
        for d in dict.fromkeys(domains)
    ]
    return arn, {"arn": arn, "domainValidationOptions": options, "status": "ISSUED"}


def _kms_key(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    parts = (("a", 8), ("b", 4), ("c", 4), ("d", 4), ("e", 12))
    key_id = "-".join(mock_hash(name, region, p, n=n) for p, n in parts)
    return key_id, {"arn": mock_arn("kms", region, f"key/{key_id}"), "keyId": key_id}


def _iam_role(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    role = inputs.get("name") or f"{name}-{mock_hash(name, n=7)}"
    return role, {"arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{role}", "name": role}


def _oidc_provider(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    # IAM names an OIDC provider by its URL without the scheme.
    host = str(inputs.get("url", "")).removeprefix("https://")
    arn = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{host}"
    return arn, {"arn": arn}


def _iam_policy(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    policy = inputs.get("name") or f"{name}-{mock_hash(name, n=7)}"
    arn = f"arn:aws:iam::{ACCOUNT_ID}:policy/{policy}"
    return arn, {"arn": arn, "name": policy}


def _iam_user(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    user = inputs.get("name") or f"{name}-{mock_hash(name, n=7)}"
    return user, {"arn": f"arn:aws:iam::{ACCOUNT_ID}:user/{user}", "name": user}


def _instance_profile(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    prof = inputs.get("name") or f"{name}-{mock_hash(name, n=7)}"
    return prof, {"arn": f"arn:aws:iam::{ACCOUNT_ID}:instance-profile/{prof}", "name": prof}


def _log_group(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    group = inputs.get("name") or f"{name}-{mock_hash(name, n=7)}"
    return group, {"arn": mock_arn("logs", region, f"log-group:{group}"), "name": group}


def _secret(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    arn = mock_arn("secretsmanager", region, f"secret:{name}-{mock_hash(name, n=6)}")
    return arn, {"arn": arn}


def _random_password(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    length = int(inputs.get("length", 16))
    result = (mock_hash("password", name, n=64) * 4)[:length]
    return "none", {"result": result, "bcryptHash": "$2a$10$" + mock_hash(result, n=53)}


def _topic(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    arn = mock_arn("sns", region, inputs.get("name") or f"{name}-{mock_hash(name, n=7)}")
    return arn, {"arn": arn}


def _backup_vault(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    vault = inputs.get("name") or name
    return vault, {"name": vault, "arn": mock_arn("backup", region, f"backup-vault:{vault}")}


def _backup_plan(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    plan_id = f"{mock_hash(name, region, n=8)}-{mock_hash(name, n=4)}-{mock_hash(region, n=4)}"
    return plan_id, {"arn": mock_arn("backup", region, f"backup-plan:{plan_id}"), "version": "1"}


def _replication_group(
    name: str, inputs: dict[str, Any], region: str
) -> tuple[str, dict[str, Any]]:
    group = inputs.get("replicationGroupId") or f"{name}-{mock_hash(name, n=7)}"
    host = f"master.{group}.{mock_hash(group, n=6)}.{mock_hash(region, n=4)}.cache.amazonaws.com"
    return group, {
        "arn": mock_arn("elasticache", region, f"replicationgroup:{group}"),
        "primaryEndpointAddress": host,
        "readerEndpointAddress": host.replace("master.", "replica.", 1),
    }


def _opensearch_domain(
    name: str, inputs: dict[str, Any], region: str
) -> tuple[str, dict[str, Any]]:
    domain = inputs.get("domainName") or name[:28]
    arn = mock_arn("es", region, f"domain/{domain}")
    return arn, {
        "arn": arn,
        "domainId": f"{ACCOUNT_ID}/{domain}",
        "endpoint": f"vpc-{domain}-{mock_hash(domain, region, n=26)}.{region}.es.amazonaws.com",
    }


def _email_identity(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    identity = inputs["emailIdentity"]
    tokens = [mock_hash("dkim", identity, str(i), n=32) for i in range(3)]
    return identity, {
        "arn": mock_arn("ses", region, f"identity/{identity}"),
        "dkimSigningAttributes": {
            **inputs.get("dkimSigningAttributes", {}),
            "tokens": tokens,
            "status": "SUCCESS",
        },
        "identityType": "DOMAIN",
    }


def _configuration_set(
    name: str, inputs: dict[str, Any], region: str
) -> tuple[str, dict[str, Any]]:
    cs = inputs["configurationSetName"]
    return cs, {"arn": mock_arn("ses", region, f"configuration-set/{cs}")}


def _access_key(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    key_id = "AKIA" + mock_hash("key", name, n=16).upper()
    return key_id, {"secret": mock_hash("secret", name, n=40), "status": "Active"}


def _cloudflare(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    return mock_hash("cloudflare", name, n=32), {}


def _zone_dnssec(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    """A signed zone as Cloudflare answers: ECDSA P-256 (algorithm 13), SHA-256 digest (2)."""
    digest = mock_hash("ds", name, n=64).upper()
    key_tag = int(mock_hash("tag", name, n=4), 16)
    return inputs["zoneId"], {
        "algorithm": "13",
        "digestType": "2",
        "digestAlgorithm": "SHA256",
        "digest": digest,
        "keyTag": key_tag,
        "flags": 257,
        "ds": f"{mock_hash('zone', n=8)}. 3600 IN DS {key_tag} 13 2 {digest}",
        "status": "pending",
    }


ANSWERS: dict[str, Answer] = {
    "aws:ec2/vpc:Vpc": _typed("vpc", "ec2", "vpc"),
    "aws:ec2/subnet:Subnet": _typed("subnet", "ec2", "subnet"),
    "aws:ec2/internetGateway:InternetGateway": _typed("igw", "ec2", "internet-gateway"),
    "aws:ec2/natGateway:NatGateway": _typed("nat", "ec2", "natgateway"),
    "aws:ec2/eip:Eip": _typed("eipalloc", "ec2", "elastic-ip"),
    "aws:ec2/routeTable:RouteTable": _typed("rtb", "ec2", "route-table"),
    "aws:ec2/securityGroup:SecurityGroup": _typed("sg", "ec2", "security-group"),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": _typed("sg", "ec2", "security-group"),
    "aws:ec2/launchTemplate:LaunchTemplate": _typed("lt", "ec2", "launch-template"),
    "aws:ec2/flowLog:FlowLog": _typed("fl", "ec2", "vpc-flow-log"),
    "aws:lb/loadBalancer:LoadBalancer": _load_balancer,
    "aws:lb/targetGroup:TargetGroup": _target_group,
    "aws:rds/instance:Instance": _db_instance,
    "aws:rds/subnetGroup:SubnetGroup": _named("rds", "subgrp"),
    "aws:rds/parameterGroup:ParameterGroup": _named("rds", "pg"),
    "aws:acm/certificate:Certificate": _certificate,
    "aws:kms/key:Key": _kms_key,
    "aws:iam/role:Role": _iam_role,
    "aws:iam/instanceProfile:InstanceProfile": _instance_profile,
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _oidc_provider,
    "aws:iam/policy:Policy": _iam_policy,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:secretsmanager/secret:Secret": _secret,
    "aws:sns/topic:Topic": _topic,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _named("cloudwatch", "alarm"),
    "aws:synthetics/canary:Canary": _named("synthetics", "canary"),
    "aws:backup/vault:Vault": _backup_vault,
    "aws:backup/plan:Plan": _backup_plan,
    "random:index/randomPassword:RandomPassword": _random_password,
    "cloudflare:index/zoneDnssec:ZoneDnssec": _zone_dnssec,
    "aws:elasticache/replicationGroup:ReplicationGroup": _replication_group,
    "aws:elasticache/subnetGroup:SubnetGroup": _named("elasticache", "subnetgroup"),
    "aws:opensearch/domain:Domain": _opensearch_domain,
    "aws:sesv2/emailIdentity:EmailIdentity": _email_identity,
    "aws:sesv2/configurationSet:ConfigurationSet": _configuration_set,
    "aws:iam/accessKey:AccessKey": _access_key,
    "aws:iam/user:User": _iam_user,
}


def _answer_certificate_validation(
    name: str, inputs: dict[str, Any], region: str
) -> tuple[str, dict[str, Any]]:
    return inputs["certificateArn"], {}


ANSWERS["aws:acm/certificateValidation:CertificateValidation"] = _answer_certificate_validation
