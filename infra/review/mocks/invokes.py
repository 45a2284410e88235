"""The mocks' answers to invokes (data sources): availability zones of the asked region, the
caller's identity, Cloudflare's published IP ranges, the zone, ELB's log delivery accounts; and
which parts of an answer are invented (the rest is real)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infra.review.mocks.ids import ACCOUNT_ID, mock_hash

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

INVOKES: dict[str, Invoke] = {
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
        "etag": mock_hash("ips"),
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
INVENTED_BY_INVOKE: dict[str, dict[str, str]] = {
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


def _zone(args: dict[str, Any]) -> dict[str, Any]:
    name = (args.get("filter") or {}).get("name") or "python.org"
    zone_id = args.get("zoneId") or mock_hash("zone", name, n=32)
    return {
        "id": zone_id,
        "zoneId": zone_id,
        "name": name,
        "account": {"id": mock_hash("account", n=32), "name": "Python Software Foundation"},
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
        "owner": {"id": mock_hash("owner", n=32), "name": "PSF", "type": "organization"},
        "plan": {
            "canSubscribe": False,
            "currency": "USD",
            "externallyManaged": False,
            "frequency": "",
            "id": mock_hash("plan", n=32),
            "isSubscribed": True,
            "legacyDiscount": False,
            "legacyId": "enterprise",
            "name": "Enterprise Website",
            "price": 0,
        },
        "tenant": {"id": "", "name": ""},
        "tenantUnit": {"id": ""},
    }
