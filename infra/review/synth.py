"""Run the real program in-process under Pulumi's mock runtime and return its resource graph.

No CLI, no plugins, no credentials: `pulumi.runtime` talks to an in-process `MockMonitor`
instead of the engine. The program is the very function `__main__.py` runs (`stacks.website.main`)
reading the very config the engine would hand it (from `Pulumi.<stack>.yaml`).

`CloudMocks` answers as a cloud would: ARNs, DNS names and endpoints in the resource's own
region, ACM validation records, availability zones of the asked region, Cloudflare's IP ranges.
With `preview=True` computed values stay unknown, as in a real `pulumi preview`.

Besides what the program declared, the graph records what the mocks invented (`placeholders`:
each id, ARN, generated name or endpoint they answered, and the zone and account ids of their
invokes, with what it stands for) so that no renderer shows one as if it were real; and, given a
`secret_digest_key`, a keyed hash of every secret input value beside its `[secret]` mask.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import hmac
import json
import logging
import re
import types
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi.runtime import stack as pulumi_stack
from pulumi.runtime.mocks import MockMonitor, Mocks

from infra.projects import WEBSITE, Project
from infra.review.graph import SECRET, UNKNOWN, Graph, Resource, join_path
from infra.review.plan import short_type
from infra.review.stackfile import ROOT, read_stack_file

ACCOUNT_ID = "123456789012"
PROJECT = WEBSITE.name

# Cloudflare's published ranges (cloudflare.com/ips), as `getIpRanges` answers them.
CLOUDFLARE_IPV4 = [
    "173.245.48.0/20", "103.21.244.0/22", "103.22.200.0/22", "103.31.4.0/22", "141.101.64.0/18",
    "108.162.192.0/18", "190.93.240.0/20", "188.114.96.0/20", "197.234.240.0/22",
    "198.41.128.0/17", "162.158.0.0/15", "104.16.0.0/13", "104.24.0.0/14", "172.64.0.0/13",
    "131.0.72.0/22",
]  # fmt: skip
CLOUDFLARE_IPV6 = [
    "2400:cb00::/32", "2606:4700::/32", "2803:f800::/32", "2405:b500::/32", "2405:8100::/32",
    "2a06:98c0::/29", "2c0f:f248::/32",
]  # fmt: skip

_SIG = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 (wire signature)
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def _h(*parts: str, n: int = 12) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:n]


def _arn(service: str, region: str, resource: str, account: str = ACCOUNT_ID) -> str:
    return f"arn:aws:{service}:{region}:{account}:{resource}"


class CloudMocks(Mocks):
    """Answers resource registrations and invokes the way AWS and Cloudflare would."""

    def __init__(self, *, preview: bool) -> None:
        self.preview = preview
        self.provider_regions: dict[str, str] = {}
        self.invented: dict[str, str] = {}  # value -> what it stands for (`Graph.placeholders`)

    # pulumi's Mocks interface -----------------------------------------------------------------

    def new_resource(self, args: Any) -> tuple[str, dict[str, Any]]:
        inputs = dict(args.inputs)
        if args.typ.startswith("pulumi:providers:"):
            pid = f"{args.name}-{_h(args.typ, args.name)}"
            if "region" in inputs:
                self.provider_regions[pid] = inputs["region"]
            return pid, inputs
        if self.preview:
            return "", inputs  # ids and computed properties are unknown until applied
        region = inputs.get("region") or self.region_of(args.provider) or "us-east-1"
        answer = _ANSWERS.get(args.typ, _generic)
        rid, outputs = answer(args.name, inputs, region)
        return rid, {**inputs, **outputs}

    def call(self, args: Any) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        region = args.args.get("region") or self.region_of(args.provider) or "us-east-1"
        answer = _INVOKES.get(args.token)
        if answer is None:
            raise NotImplementedError(f"the mocks do not answer the invoke {args.token}")
        result = answer(args.args, region)
        for path, what in _INVENTED_BY_INVOKE.get(args.token, {}).items():
            value = _at(result, path)
            if isinstance(value, str) and value:
                self.invented.setdefault(value, what.format(**result))
        return result, []

    def register_transform(self, transform: Any) -> None:
        pass

    def register_invoke_transform(self, transform: Any) -> None:
        pass

    def region_of(self, provider_ref: str | None) -> str | None:
        if not provider_ref:
            return None
        return self.provider_regions.get(provider_ref.rsplit("::", 1)[-1])


Answer = Callable[[str, dict[str, Any], str], tuple[str, dict[str, Any]]]


def _generic(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    rid = f"{name}-{_h(name, region)}"
    return rid, {"arn": _arn("mock", region, rid)}


def _named(service: str, kind: str) -> Answer:
    """Resources whose name is their id (RDS subnet and parameter groups, ...)."""

    def answer(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
        physical = inputs.get("name") or f"{name}-{_h(name, region, n=7)}"
        return physical, {"name": physical, "arn": _arn(service, region, f"{kind}:{physical}")}

    return answer


def _typed(prefix: str, service: str, kind: str) -> Answer:
    def answer(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
        rid = f"{prefix}-{_h(name, region, n=17)}"
        return rid, {"arn": _arn(service, region, f"{kind}/{rid}")}

    return answer


def _bucket(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    bucket = inputs.get("bucket") or f"{inputs.get('bucketPrefix') or name + '-'}{_h(name, n=7)}"
    return bucket, {
        "bucket": bucket,
        "arn": f"arn:aws:s3:::{bucket}",
        "bucketRegionalDomainName": f"{bucket}.s3.{region}.amazonaws.com",
        "region": region,
    }


def _load_balancer(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    lb_name = inputs.get("name") or name[:24]
    arn = _arn("elasticloadbalancing", region, f"loadbalancer/app/{lb_name}/{_h(name, n=16)}")
    return arn, {
        "arn": arn,
        "arnSuffix": arn.split(":loadbalancer/", 1)[1],
        "dnsName": f"{lb_name}-{_h(name, region, n=10)}.{region}.elb.amazonaws.com",
        "zoneId": "Z" + _h(region, n=13).upper(),
    }


def _target_group(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    arn = _arn("elasticloadbalancing", region, f"targetgroup/{name[:24]}/{_h(name, n=16)}")
    return arn, {"arn": arn, "arnSuffix": arn.split(":")[-1]}


def _db_instance(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    ident = inputs.get("identifier") or f"{name}-{_h(name, n=7)}"
    address = f"{ident}.c{_h(region, n=10)}.{region}.rds.amazonaws.com"
    out: dict[str, Any] = {
        "arn": _arn("rds", region, f"db:{ident}"),
        "identifier": ident,
        "address": address,
        "endpoint": f"{address}:5432",
        "port": 5432,
        "resourceId": "db-" + _h(name, region, n=26).upper(),
    }
    if inputs.get("manageMasterUserPassword"):
        out["masterUserSecrets"] = [
            {
                "secretArn": _arn("secretsmanager", region, f"secret:rds!db-{_h(name)}"),
                "kmsKeyId": inputs.get("masterUserSecretKmsKeyId", ""),
                "secretStatus": "active",
            }
        ]
    return ident, out


def _certificate(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    domains = [inputs["domainName"], *inputs.get("subjectAlternativeNames", [])]
    arn = _arn("acm", region, f"certificate/{_h(name, region, n=32)}")
    # ACM derives the validation CNAME from the domain and the account, not the region: the
    # same record validates the same name in every region.
    options = [
        {
            "domainName": d,
            "resourceRecordName": f"_{_h(ACCOUNT_ID, d, n=32)}.{d}.",
            "resourceRecordType": "CNAME",
            "resourceRecordValue": f"_{_h(d, n=32)}.{_h(d, 'v', n=10)}.acm-validations.aws.",
        }
        for d in dict.fromkeys(domains)
    ]
    return arn, {"arn": arn, "domainValidationOptions": options, "status": "ISSUED"}


def _kms_key(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    key_id = "-".join(_h(name, region, p, n=n) for p, n in (("a", 8), ("b", 4), ("c", 4), ("d", 4), ("e", 12)))  # fmt: skip
    return key_id, {"arn": _arn("kms", region, f"key/{key_id}"), "keyId": key_id}


def _iam_role(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    role = inputs.get("name") or f"{name}-{_h(name, n=7)}"
    return role, {"arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{role}", "name": role}


def _oidc_provider(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    # IAM names an OIDC provider by its URL without the scheme.
    host = str(inputs.get("url", "")).removeprefix("https://")
    arn = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{host}"
    return arn, {"arn": arn}


def _iam_policy(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    policy = inputs.get("name") or f"{name}-{_h(name, n=7)}"
    arn = f"arn:aws:iam::{ACCOUNT_ID}:policy/{policy}"
    return arn, {"arn": arn, "name": policy}


def _iam_user(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    user = inputs.get("name") or f"{name}-{_h(name, n=7)}"
    return user, {"arn": f"arn:aws:iam::{ACCOUNT_ID}:user/{user}", "name": user}


def _instance_profile(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    prof = inputs.get("name") or f"{name}-{_h(name, n=7)}"
    return prof, {"arn": f"arn:aws:iam::{ACCOUNT_ID}:instance-profile/{prof}", "name": prof}


def _log_group(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    group = inputs.get("name") or f"{name}-{_h(name, n=7)}"
    return group, {"arn": _arn("logs", region, f"log-group:{group}"), "name": group}


def _secret(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    arn = _arn("secretsmanager", region, f"secret:{name}-{_h(name, n=6)}")
    return arn, {"arn": arn}


def _random_password(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    length = int(inputs.get("length", 16))
    result = (_h("password", name, n=64) * 4)[:length]
    return "none", {"result": result, "bcryptHash": "$2a$10$" + _h(result, n=53)}


def _topic(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    arn = _arn("sns", region, inputs.get("name") or f"{name}-{_h(name, n=7)}")
    return arn, {"arn": arn}


def _backup_vault(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    vault = inputs.get("name") or name
    return vault, {"name": vault, "arn": _arn("backup", region, f"backup-vault:{vault}")}


def _backup_plan(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    plan_id = f"{_h(name, region, n=8)}-{_h(name, n=4)}-{_h(region, n=4)}"
    return plan_id, {"arn": _arn("backup", region, f"backup-plan:{plan_id}"), "version": "1"}


def _replication_group(
    name: str, inputs: dict[str, Any], region: str
) -> tuple[str, dict[str, Any]]:
    group = inputs.get("replicationGroupId") or f"{name}-{_h(name, n=7)}"
    host = f"master.{group}.{_h(group, n=6)}.{_h(region, n=4)}.cache.amazonaws.com"
    return group, {
        "arn": _arn("elasticache", region, f"replicationgroup:{group}"),
        "primaryEndpointAddress": host,
        "readerEndpointAddress": host.replace("master.", "replica.", 1),
    }


def _opensearch_domain(
    name: str, inputs: dict[str, Any], region: str
) -> tuple[str, dict[str, Any]]:
    domain = inputs.get("domainName") or name[:28]
    arn = _arn("es", region, f"domain/{domain}")
    return arn, {
        "arn": arn,
        "domainId": f"{ACCOUNT_ID}/{domain}",
        "endpoint": f"vpc-{domain}-{_h(domain, region, n=26)}.{region}.es.amazonaws.com",
    }


def _email_identity(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    identity = inputs["emailIdentity"]
    tokens = [_h("dkim", identity, str(i), n=32) for i in range(3)]
    return identity, {
        "arn": _arn("ses", region, f"identity/{identity}"),
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
    return cs, {"arn": _arn("ses", region, f"configuration-set/{cs}")}


def _access_key(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    key_id = "AKIA" + _h("key", name, n=16).upper()
    return key_id, {"secret": _h("secret", name, n=40), "status": "Active"}


def _cloudflare(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    return _h("cloudflare", name, n=32), {}


def _zone_dnssec(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    """A signed zone as Cloudflare answers: ECDSA P-256 (algorithm 13), SHA-256 digest (2)."""
    digest = _h("ds", name, n=64).upper()
    key_tag = int(_h("tag", name, n=4), 16)
    return inputs["zoneId"], {
        "algorithm": "13",
        "digestType": "2",
        "digestAlgorithm": "SHA256",
        "digest": digest,
        "keyTag": key_tag,
        "flags": 257,
        "ds": f"{_h('zone', n=8)}. 3600 IN DS {key_tag} 13 2 {digest}",
        "status": "pending",
    }


_ANSWERS: dict[str, Answer] = {
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


_ANSWERS["aws:acm/certificateValidation:CertificateValidation"] = _answer_certificate_validation

# Elastic Load Balancing's log delivery accounts (docs.aws.amazon.com/elasticloadbalancing/
# latest/application/enable-access-logging.html), as `aws.elb.get_service_account` answers.
ELB_LOG_ACCOUNTS: dict[str, str] = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "ca-central-1": "985666609251",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-west-3": "009996457667",
    "eu-central-1": "054676820928",
    "eu-north-1": "897822967062",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864",
    "ap-northeast-2": "600734575887",
    "ap-south-1": "718504428378",
    "sa-east-1": "507241528517",
}

Invoke = Callable[[dict[str, Any], str], dict[str, Any]]

_INVOKES: dict[str, Invoke] = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": lambda args, region: {
        "id": region,
        "names": [f"{region}{z}" for z in "abc"],
        "zoneIds": [f"{region[:3]}{region.split('-')[1][:2]}{region[-1]}-az{i}" for i in (1, 2, 3)],
        "state": "available",
        "groupNames": [region],
    },
    "aws:index/getCallerIdentity:getCallerIdentity": lambda args, region: {
        "accountId": ACCOUNT_ID,
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/mock",
        "userId": "AIDAMOCK",
        "id": ACCOUNT_ID,
    },
    "aws:index/getPartition:getPartition": lambda args, region: {
        "partition": "aws",
        "dnsSuffix": "amazonaws.com",
        "id": "aws",
    },
    "cloudflare:index/getIpRanges:getIpRanges": lambda args, region: {
        "ipv4Cidrs": CLOUDFLARE_IPV4,
        "ipv6Cidrs": CLOUDFLARE_IPV6,
        "jdcloudCidrs": [],
        "networks": None,
        "etag": _h("ips"),
    },
    "cloudflare:index/getZone:getZone": lambda args, region: _zone(args),
    "aws:elb/getServiceAccount:getServiceAccount": lambda args, region: {
        "id": ELB_LOG_ACCOUNTS.get(region, "797873946194"),
        "arn": f"arn:aws:iam::{ELB_LOG_ACCOUNTS.get(region, '797873946194')}:root",
        "region": region,
    },
}


# What each invoke's answer invents (the rest is real: Cloudflare's ranges, ELB's accounts,
# zone names): path in the answer -> what it stands for.
_INVENTED_BY_INVOKE: dict[str, dict[str, str]] = {
    "cloudflare:index/getZone:getZone": {
        "id": "zone {name}",
        "zoneId": "zone {name}",
        "account.id": "Cloudflare account",
        "owner.id": "Cloudflare zone owner",
        "plan.id": "Cloudflare plan",
    },
    "aws:index/getCallerIdentity:getCallerIdentity": {
        "accountId": "AWS account",
        "arn": "AWS caller",
        "userId": "AWS caller id",
    },
}


def _at(doc: Any, path: str) -> Any:
    for key in path.split("."):
        doc = doc.get(key) if isinstance(doc, dict) else None
    return doc


def _zone(args: dict[str, Any]) -> dict[str, Any]:
    name = (args.get("filter") or {}).get("name") or "python.org"
    zone_id = args.get("zoneId") or _h("zone", name, n=32)
    return {
        "id": zone_id,
        "zoneId": zone_id,
        "name": name,
        "account": {"id": _h("account", n=32), "name": "Python Software Foundation"},
        "status": "active",
        "type": "full",
        "paused": False,
        "developmentMode": 0,
        "nameServers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
        "originalNameServers": [],
        "originalDnshost": "",
        "originalRegistrar": "",
        "permissions": [],
        "vanityNameServers": [],
        "verificationKey": "",
        "cnameSuffix": "",
        "activatedOn": "2020-01-01T00:00:00Z",
        "createdOn": "2020-01-01T00:00:00Z",
        "modifiedOn": "2026-01-01T00:00:00Z",
        "filter": args.get("filter"),
        "meta": {
            "cdnOnly": False,
            "customCertificateQuota": 0,
            "dnsOnly": False,
            "foundationDns": False,
            "pageRuleQuota": 0,
            "phishingDetected": False,
            "step": 0,
        },
        "owner": {"id": _h("owner", n=32), "name": "PSF", "type": "organization"},
        "plan": {
            "canSubscribe": False,
            "currency": "USD",
            "externallyManaged": False,
            "frequency": "",
            "id": _h("plan", n=32),
            "isSubscribed": True,
            "legacyDiscount": False,
            "legacyId": "enterprise",
            "name": "Enterprise Website",
            "price": 0,
        },
        "tenant": {"id": "", "name": ""},
        "tenantUnit": {"id": ""},
    }


# --- recording --------------------------------------------------------------------------------


class _SecretDigests:
    """Truncated HMAC-SHA256 of secret values under a per-run key, by property path. With a
    random key that only the processes of one run hold, a digest says nothing about the value
    (not even of a short one: there is no dictionary to try it against), yet two syntheses under
    the same key agree exactly when the value is the same."""

    SIZE = 16  # hex digits (64 bits): a collision by chance is out of reach

    def __init__(self, key: bytes) -> None:
        self._key = key
        self.found: dict[str, str] = {}

    def record(self, path: str, value: Any) -> None:
        if value == _UNKNOWN_VALUE:
            return  # not a value yet: nothing to compare
        text = json.dumps(value, sort_keys=True, separators=(",", ":"))
        mac = hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()
        self.found[path] = mac[: self.SIZE]


def _plain(struct: struct_pb2.Struct, secrets: _SecretDigests | None = None) -> dict[str, Any]:
    doc = json_format.MessageToDict(struct)
    return {k: _plain_value(v, k, secrets) for k, v in doc.items()}


def _plain_value(value: Any, path: str = "", secrets: _SecretDigests | None = None) -> Any:
    """Engine wire values to plain data: secrets masked, unknowns marked, references as URNs.
    With `secrets`, each masked value's digest is recorded under its path (paths are built only
    then: the common case pays nothing)."""
    if isinstance(value, dict):
        sig = value.get(_SIG)
        if sig == _SECRET_SIG:
            if secrets is not None:
                secrets.record(path, value.get("value"))
            return SECRET
        if sig == _RESOURCE_SIG:
            return value.get("urn", "")
        if secrets is None:
            return {k: _plain_value(v) for k, v in value.items()}
        return {k: _plain_value(v, join_path(path, k), secrets) for k, v in value.items()}
    if isinstance(value, list):
        if secrets is None:
            return [_plain_value(v) for v in value]
        return [_plain_value(v, f"{path}[{i}]", secrets) for i, v in enumerate(value)]
    if value == _UNKNOWN_VALUE:
        return UNKNOWN
    if isinstance(value, float) and value.is_integer():
        return int(value)  # protobuf numbers are all doubles
    return value


# Every value the mocks make up carries a digest of the resource's name (`_h`) or the mock
# account id; what else they answer (a region, a port, `ISSUED`) is a fact, not an invention.
_INVENTION = re.compile(rf"[0-9a-fA-F]{{6,}}|{ACCOUNT_ID}")


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, string) for every string leaf of a plain tree."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, join_path(path, str(k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{path}[{i}]")


def _inventions(
    type_: str, name: str, inputs: dict[str, Any], outputs: dict[str, Any]
) -> dict[str, str]:
    """The values of a mocked answer that the mocks made up (not echoed from the inputs), with
    what each stands for: the resource for its id and ARN, else the resource and attribute."""
    given = {v for _, v in _strings(inputs)}
    what = f"{short_type(type_)} {name}"
    found: dict[str, str] = {}
    for key in ("id", "arn"):
        value = outputs.get(key)
        if isinstance(value, str) and value not in given and _INVENTION.search(value):
            found.setdefault(value, what)
    for path, value in _strings(outputs):
        if value in (SECRET, UNKNOWN) or value in given or not _INVENTION.search(value):
            continue
        found.setdefault(value, f"{what} {path}")
    return found


def _make_monitor(
    mocks: CloudMocks, stack: str, project: str, secret_digest_key: bytes | None
) -> Any:
    class RecordingMonitor(MockMonitor):
        """The SDK's mock monitor, also keeping every registration's options."""

        def __init__(self) -> None:
            super().__init__(mocks)
            self._stack = stack
            self._project = project
            self.recorded: dict[str, Resource] = {}
            self.stack_outputs: dict[str, Any] = {}

        def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
            response = super().RegisterResource(request)
            if request.type == "pulumi:pulumi:Stack":
                return response
            provider = request.provider.rsplit("::", 1)[0] if request.provider else None
            region = _plain(request.object).get("region") if request.custom else None
            if request.type.startswith("pulumi:providers:"):
                provider = None
            elif request.custom and not region:
                region = mocks.region_of(request.provider)
            secrets = _SecretDigests(secret_digest_key) if secret_digest_key else None
            inputs = _plain(request.object, secrets)
            outputs = self._outputs(request, response) if request.custom else {}
            if outputs and not request.type.startswith("pulumi:providers:"):
                for value, what in _inventions(request.type, request.name, inputs, outputs).items():
                    mocks.invented.setdefault(value, what)
            self.recorded[response.urn] = Resource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=request.custom,
                parent=request.parent or None,
                provider=provider,
                inputs=inputs,
                outputs=outputs,
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                delete_before_replace=bool(request.deleteBeforeReplace),
                ignore_changes=tuple(request.ignoreChanges),
                replace_on_changes=tuple(request.replaceOnChanges),
                aliases=tuple(self._alias_urns(request)),
                dependencies=tuple(request.dependencies),
                region=region if isinstance(region, str) else None,
                property_dependencies={
                    key: tuple(sorted(deps.urns))
                    for key, deps in sorted(request.propertyDependencies.items())
                    if deps.urns
                },
                secret_digests=secrets.found if secrets else {},
            )
            return response

        def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802
            if "::pulumi:pulumi:Stack::" in request.urn:
                self.stack_outputs = _plain(request.outputs)
            return super().RegisterResourceOutputs(request)

        def make_urn(self, parent: str, type_: str, name: str) -> str:
            """URNs as the engine makes them: the parent's whole type chain, the stack left out
            (the SDK's mock keeps only the parent's own type)."""
            qualified = type_
            if parent and "::pulumi:pulumi:Stack::" not in parent:
                qualified = parent.split("::")[2] + "$" + type_
            return f"urn:pulumi:{self._stack}::{self._project}::{qualified}::{name}"

        def _outputs(self, request: Any, response: Any) -> dict[str, Any]:
            """The mocks' answer; what the provider marks secret stays masked."""
            outputs = _plain(response.object)
            for key in request.additionalSecretOutputs:
                if key in outputs:
                    outputs[key] = SECRET
            if response.id:
                outputs["id"] = response.id
            return outputs

        def _alias_urns(self, request: Any) -> list[str]:
            urns = list(request.aliasURNs)
            for alias in request.aliases:
                if alias.urn:
                    urns.append(alias.urn)
                    continue
                spec = alias.spec
                parent = "" if spec.noParent else (spec.parentUrn or request.parent)
                urns.append(
                    self.make_urn(parent, spec.type or request.type, spec.name or request.name)
                )
            return urns

    return RecordingMonitor()


@contextlib.contextmanager
def _linear_output_wait() -> Iterator[None]:
    """Make the SDK's final wait for outstanding outputs linear instead of quadratic.

    `pulumi.runtime.stack.wait_for_rpcs` (pulumi 3.272) loops `asyncio.wait(pending,
    FIRST_COMPLETED)` over every pending output task, re-registering a callback on all of them
    each time one completes: about n^2/10 callbacks, more than half of the synthesis time of the
    prod stack (measured: 1.47 s -> 0.67 s). Waiting for ALL_COMPLETED gives the same result
    (the loop still awaits every task, and re-checks for new ones) with one callback per task.
    Only this harness is patched; the real CLI runs the SDK unchanged."""
    original = pulumi_stack.asyncio  # type: ignore[attr-defined]
    shim = types.ModuleType("asyncio_all_completed")
    shim.__dict__.update(asyncio.__dict__)

    async def wait_all(fs: Any, *, timeout: float | None = None, return_when: Any = None) -> Any:
        return await asyncio.wait(fs, timeout=timeout, return_when=asyncio.ALL_COMPLETED)

    shim.wait = wait_all  # type: ignore[attr-defined]
    pulumi_stack.asyncio = shim  # type: ignore[attr-defined]
    try:
        yield
    finally:
        pulumi_stack.asyncio = original  # type: ignore[attr-defined]


@contextlib.contextmanager
def _no_source_positions() -> Iterator[None]:
    """Skip the SDK's source positions: every registration walks the Python stack with
    `traceback.extract_stack()` (which reads each frame's source line) so that the engine can point
    at the line that declared the resource (pulumi 3.272, `runtime.resource._get_stack_trace`).
    The mock monitor never shows them; an empty trace is what the SDK sends when it finds no user
    frame. This harness only, like `_linear_output_wait`."""
    from pulumi.runtime import resource as pulumi_resource
    from pulumi.runtime.proto import source_pb2

    original = pulumi_resource._get_stack_trace
    pulumi_resource._get_stack_trace = source_pb2.StackTrace
    try:
        yield
    finally:
        pulumi_resource._get_stack_trace = original


def synthesize(
    stack: str,
    *,
    preview: bool = False,
    project: Project = WEBSITE,
    root: Path = ROOT,
    raw_config: Mapping[str, Any] | None = None,
    secret_keys: list[str] | None = None,
    program: Callable[[], None] | None = None,
    secret_digest_key: bytes | None = None,
) -> Graph:
    """Run the program for `stack` under the mocks and return what it declared.

    `project` names the Pulumi project (the website by default; `infra.projects.BOOTSTRAP`):
    its stack files under `root`, its program, its name in the URNs. `raw_config` replaces the
    stack file (tests use it to try variants); `program` replaces the project's program (tests
    use it to build a single component). `secret_digest_key` (random, one per run, never
    stored) records a keyed hash of every secret input value beside its mask, so that two
    syntheses under the same key can be compared (`scripts/preview --base`). A ConfigError
    from the program propagates unchanged."""

    if raw_config is None:
        raw_config, secret_keys = read_stack_file(stack, root, project)
    # The cyclic garbage collector's full passes walk every object the SDKs keep alive: during
    # the first import of the program (pulumi_cloudflare alone defines thousands of classes:
    # 1.95 s -> 1.52 s for stacks.website) and during a synthesis (about 40%: prod 1.71 s ->
    # 0.99 s CPU, staging 1.17 s -> 0.62 s). Both make few cycles, so the collector is paused
    # for them and resumed after. This harness only: the CLI runs the SDK unchanged.
    collecting = gc.isenabled()
    gc.disable()
    try:
        if program is None:
            program = project.load_program()
        return _run(stack, preview, project, raw_config, secret_keys, program, secret_digest_key)
    finally:
        if collecting:
            gc.enable()


def _run(
    stack: str,
    preview: bool,
    project: Project,
    raw_config: Mapping[str, Any],
    secret_keys: list[str] | None,
    program: Callable[[], None],
    secret_digest_key: bytes | None,
) -> Graph:
    import pulumi
    from pulumi.runtime import mocks as pulumi_mocks
    from pulumi.runtime import settings
    from pulumi.runtime.stack import run_in_stack
    from pulumi.runtime.sync_await import _sync_await

    mocks = CloudMocks(preview=preview)
    monitor = _make_monitor(mocks, stack, project.name, secret_digest_key)
    settings.ROOT.set(None)
    settings.configure(
        pulumi_mocks.MockSettings(
            monitor=monitor,
            monitor_features=set(monitor.GetDeploymentInfo(None).supportedFeatures),
            engine=pulumi_mocks.MockEngine(logging.getLogger("pulumi")),
            project=project.name,
            stack=stack,
            dry_run=preview,
            organization="organization",
            callbacks=None,
        )
    )
    pulumi.runtime.set_all_config(dict(raw_config), secret_keys or [])
    try:
        with _linear_output_wait(), _no_source_positions():
            _sync_await(run_in_stack(program))
    finally:
        pulumi.runtime.set_all_config({}, [])
        settings.ROOT.set(None)
    return Graph(
        project=project.name,
        stack=stack,
        resources=dict(monitor.recorded),
        outputs=monitor.stack_outputs,
        preview=preview,
        placeholders=dict(sorted(mocks.invented.items())),
    )
