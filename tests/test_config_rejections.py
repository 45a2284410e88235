"""The config model's rejections: every kind of bad input gets one clear message, and a bad value is
reported once, not by what depends on it."""

from __future__ import annotations

import copy

import pytest

from infra.config import (
    ConfigError,
    parse_config,
)
from tests.config_helpers import (
    Edit,
    _add_region,
    _all,
    _delete,
    _edge,
    _limit,
    _plan,
    _rename_key,
    _rename_region,
    _set,
)
from tests.conftest import encode, raw_stack

# (case id, edit, the key named, the bad value shown, what is allowed)
BAD_CONFIG: list[tuple[str, Edit, str, str, str]] = [
    ("unknown region", _add_region("eu-atlantis-1", "10.40.0.0/16", ["eu-atlantis-1a"]),
     "python-org:regions", "'eu-atlantis-1'", "unknown AWS region (allowed: af-south-1"),
    ("home not in regions", _set("homeRegion", "us-west-2"),
     "python-org:homeRegion", "'us-west-2'", "must be one of the regions"),
    ("malformed cidr", _set("regions.eu-west-1.vpcCidr", "10.20.0.300/16"),
     "regions.eu-west-1.vpcCidr", "'10.20.0.300/16'", "IPv4 network in CIDR form"),
    ("cidr host bits", _set("regions.eu-west-1.vpcCidr", "10.20.0.1/16"),
     "regions.eu-west-1.vpcCidr", "'10.20.0.1/16'", "IPv4 network in CIDR form"),
    ("public cidr", _set("regions.eu-west-1.vpcCidr", "8.8.0.0/16"),
     "regions.eu-west-1.vpcCidr", "'8.8.0.0/16'", "private (RFC 1918) network from /16 to /24"),
    ("overlapping cidrs", _set("regions.eu-west-1.vpcCidr", "10.10.128.0/17"),
     "regions.eu-west-1.vpcCidr", "'10.10.128.0/17'", "overlaps us-east-2's vpcCidr 10.10.0.0/16"),
    ("zone of another region", _set("regions.eu-west-1.availabilityZones", ["eu-west-1a", "us-east-2b"]),
     "regions.eu-west-1.availabilityZones", "'us-east-2b'", "must be zones of eu-west-1"),
    ("one zone only", _set("regions.eu-west-1.availabilityZones", ["eu-west-1a"]),
     "regions.eu-west-1.availabilityZones", '["eu-west-1a"]', "must list at least 2"),
    ("duplicate zones", _set("regions.eu-west-1.availabilityZones", ["eu-west-1a", "eu-west-1a"]),
     "regions.eu-west-1.availabilityZones", '["eu-west-1a", "eu-west-1a"]', "must not repeat"),
    ("empty region list", _set("regions", {}),
     "python-org:regions", "{}", "must be a non-empty mapping of AWS region"),
    ("unknown instance type", _set("web.instanceType", "m7g.huge"),
     "web.instanceType", "'m7g.huge'", "is not an EC2 instance type known to botocore (similar: m7g."),
    ("unknown rds class", _set("database.instanceClass", "db.r7g.larg"),
     "database.instanceClass", "'db.r7g.larg'", "is not an RDS instance class known to botocore"),
    ("rds class without db. prefix", _set("database.instanceClass", "r7g.large"),
     "database.instanceClass", "'r7g.large'", "is not an RDS instance class"),
    ("min > desired", _set("web.minSize", 5),
     "web.minSize", "5", "must be <= web.desiredCapacity (3)"),
    ("desired > max", _set("web.desiredCapacity", 12),
     "web.desiredCapacity", "12", "must be <= web.maxSize (9)"),
    ("backup retention too long", _set("database.backupRetentionDays", 36),
     "database.backupRetentionDays", "36", "must be an integer from 1 to 35"),
    ("backup retention short for prod", _set("database.backupRetentionDays", 3),
     "database.backupRetentionDays", "3", "must be from 7 to 35 when environment is production"),
    ("no multi-az in prod", _set("database.multiAz", False),
     "database.multiAz", "false", "must be true when environment is production"),
    ("missing required key", _delete("homeRegion"),
     "python-org:homeRegion", "", "is missing: it is required"),
    ("missing nested key", _delete("web.instanceType"),
     "web.instanceType", "", "is missing: it is required"),
    ("wrong type: string for int", _set("web.maxSize", "nine"),
     "web.maxSize", "'nine'", "must be an integer from 1 to 100"),
    ("wrong type: bool for int", _set("web.maxSize", True),
     "web.maxSize", "true", "must be an integer from 1 to 100"),
    ("wrong type: list for mapping", _set("web", ["m7g.large"]),
     "python-org:web", '["m7g.large"]', "must be a mapping"),
    ("bad enum", _set("network.natGateways", "two"),
     "network.natGateways", "'two'", "must be one of onePerAz, single"),
    ("unknown key (typo)", _set("web.minsize", 2),
     "web.minsize", "2", "unknown key (allowed keys:"),
    ("hostname outside the zone", _set("hostnames", ["python.org", "www.python.com"]),
     "python-org:hostnames", "'www.python.com'", "must be python.org or a name under it"),
    ("unknown steering region", _set("edge.poolRegions.MARS", "us-east-2"),
     "edge.poolRegions", "'MARS'", "unknown Cloudflare region (allowed: EEU, ENAM"),
    ("pool mapped to undeployed region", _set("edge.poolRegions.WEU", "eu-central-1"),
     "edge.poolRegions.WEU", "'eu-central-1'", "must be a deployed region (us-east-2, eu-west-1, ap-southeast-1)"),
    ("negative ttl", _set("edge.cache.staticEdgeTtlSeconds", -5),
     "edge.cache.staticEdgeTtlSeconds", "-5", "must be an integer from 1 to 31536000"),
    ("bad steering", _set("edge.steering", "random"),
     "edge.steering", "'random'", "must be one of geo, dynamic_latency, off"),
    ("image by tag", _set("web.appImage", "ghcr.io/python/pythondotorg:stable"),
     "web.appImage", "'ghcr.io/python/pythondotorg:stable'", "must be an image pinned by digest"),
    ("image digest too short", _set("web.appImage", "ghcr.io/python/pythondotorg@sha256:abc"),
     "web.appImage", "'ghcr.io/python/pythondotorg@sha256:abc'", "pinned by digest"),
    ("app user generation zero", _set("database.appUserGeneration", 0),
     "database.appUserGeneration", "0", "must be an integer from 1 to 9999"),
    ("bad rate limit period", _set("edge.rateLimits", [_limit(periodSeconds=7)]),
     "edge.rateLimits[0].periodSeconds", "7", "must be an integer from 10 to 86400"),
    # Plans (infra/cloudflare_plans.py): each refusal names the plan and what it allows.
    ("unknown plan", _edge("plan", value="gold"),
     "edge.plan", "'gold'", "must be one of free, pro, business, enterprise"),
    ("no plan", _edge("plan", delete=True), "edge.plan", "", "is missing: it is required"),
    ("managed WAF on free", _all(_plan("free"), _edge("rateLimits", value=[])),
     "edge.waf", '["cloudflareManaged", "owaspCore"]', "the free plan has neither the Cloudflare Managed nor the OWASP Core"),
    ("host-scoped rate limits on free", _all(_plan("free"), _edge("waf", value=[])),
     "edge.rateLimits", "/accounts/login/", "the free plan's rate limiting rules can match the path only"),
    ("rate limit period on pro", _all(_plan("pro"), _edge("rateLimits", value=[_limit(periodSeconds=120)])),
     "edge.rateLimits[0].periodSeconds", "120", "must be one of 10, 15, 20, 30, 40, 45, 60 on the pro plan"),
    ("unsupported period", _edge("rateLimits", value=[_limit(periodSeconds=100)]),
     "edge.rateLimits[0].periodSeconds", "100", "must be one of 10, 15, 20, 30, 40, 45, 60, 90, 120"),
    ("mitigation on pro", _all(_plan("pro"), _edge("rateLimits", value=[_limit(mitigationSeconds=7200)])),
     "edge.rateLimits[0].mitigationSeconds", "7200", "2400, 3600 on the pro plan"),
    ("rate limit count on pro", _all(_plan("pro"), _edge("rateLimits", value=[_limit(), _limit(), _limit()])),
     "edge.rateLimits", "'3 rules'", "the pro plan allows 2 rate limiting rules"),
    ("edge TTL below the plan's minimum", _all(_plan("pro"), _edge("cache", "staticEdgeTtlSeconds", value=600)),
     "edge.cache.staticEdgeTtlSeconds", "600", "is below the pro plan's minimum edge cache TTL (1 hour"),
    ("static TTL override without status code TTLs", _all(_plan("business"), _edge("cache", "staticEdgeTtlSeconds", value=600)),
     "edge.cache.staticEdgeTtlSeconds", "600", "which the business plan cannot have (Enterprise only)"),
    ("write pinning by origin rule on business", _all(_plan("business"), _edge("writePinning", value="originRule")),
     "edge.writePinning", "'originRule'", "Override DNS records is Enterprise-only): use redirect"),
    ("path origin on business", _all(_plan("business"), _edge("pathOrigins", value={"/ftp/": {"host": "lb.psf.io"}})),
     "edge.pathOrigins", "lb.psf.io", "the business plan cannot have (Enterprise only)"),
    ("no Load Balancing add-on", _edge("addOns", value=[]),
     "edge.addOns", "[]", "must include loadBalancing: the stack's load balancers need Cloudflare's Load Balancing, a paid add-on"),
    ("unknown add-on", _edge("addOns", value=["loadBalancing", "argo"]),
     "edge.addOns", "'argo'", "unknown add-on (allowed: advancedCertificateManager, loadBalancing)"),
    # The rest of the edge.
    ("path origin that is not a hostname", _edge("pathOrigins", "/ftp/", "host", value="https://lb.psf.io/"),
     "edge.pathOrigins./ftp/.host", "'https://lb.psf.io/'", "must be a hostname"),
    ("path origin keyed by no path", _edge("pathOrigins", value={"ftp": {"host": "lb.psf.io"}}),
     "edge.pathOrigins.ftp", "lb.psf.io", "must be keyed by a URL path prefix such as /ftp/"),
    ("path origin back to the stack", _edge("pathOrigins", "/ftp/", "host", value="www.python.org"),
     "edge.pathOrigins./ftp/.host", "'www.python.org'", "must be another origin"),
    ("CAA contact that is no URL", _edge("caaIodef", value="infrastructure-staff@python.org"),
     "edge.caaIodef", "'infrastructure-staff@python.org'", "must be a mailto: or https: URL"),
    ("CAA contact of another scheme", _edge("caaIodef", value="http://python.org/caa"),
     "edge.caaIodef", "'http://python.org/caa'", "must be a mailto: or https: URL"),
    ("HSTS for every subdomain from a shared apex", _edge("hsts", "python.org", "includeSubdomains", value=True),
     "edge.hsts.python.org.includeSubdomains", "true", "only a stack that owns the zone (edge.ownsZone: true) may set it"),
    ("HSTS preload with a short max-age", _edge("hsts", "www.python.org", "maxAgeSeconds", value=86400),
     "edge.hsts.www.python.org.preload", "true", "needs maxAgeSeconds >= 31536000 (one year)"),
    ("HSTS missing for a hostname", _edge("hsts", "www.python.org", delete=True),
     "edge.hsts.www.python.org", "", "is missing: it is required"),
    ("HSTS for a foreign hostname", _edge("hsts", "docs.python.org", value={"maxAgeSeconds": 1}),
     "edge.hsts.docs.python.org", "maxAgeSeconds", "is not one of hostnames (python.org, www.python.org)"),
    ("DNSSEC in a shared zone", _edge("dnssec", value=True),
     "edge.dnssec", "true", "DNSSEC is zone-wide: only a stack that owns the zone"),
    ("canonical hostname not the stack's", _edge("canonicalHostname", value="docs.python.org"),
     "edge.canonicalHostname", "'docs.python.org'", "must be one of hostnames (python.org, www.python.org)"),
    ("origin secret header of Cloudflare's", _edge("originAuth", value={"header": "CF-Edge-Secret"}),
     "edge.originAuth.header", "'CF-Edge-Secret'", "must not start with cf-"),
    ("origin secret neither a nor b", _edge("originAuth", value={"active": "c"}),
     "edge.originAuth.active", "'c'", "must be a or b"),
    ("production tells nobody", _set("alerts.emails", []),
     "alerts.emails", "[]", "production needs somebody to tell"),
    ("bad email", _set("alerts.emails", ["infrastructure-staff"]),
     "alerts.emails", "'infrastructure-staff'", "every entry must be an email address"),
    ("threshold out of range", _set("alerts.thresholds", {"target5xxPercent": 250}),
     "alerts.thresholds.target5xxPercent", "250", "must be a number from 0.1 to 100"),
    ("threshold of the wrong type", _set("alerts.thresholds", {"unhealthyHosts": 1.5}),
     "alerts.thresholds.unhealthyHosts", "1.5", "must be an integer from 1 to 100"),
    ("free storage alarm above the storage", _set("alerts.thresholds", {"databaseFreeStorageGb": 100}),
     "alerts.thresholds.databaseFreeStorageGb", "100", "must be below database.allocatedStorageGb (100)"),
    ("unknown threshold (typo)", _set("alerts.thresholds", {"replicaLagSecs": 10}),
     "alerts.thresholds.replicaLagSecs", "10", "unknown key (allowed keys:"),
    ("runbook url not https", _set("alerts.runbookUrl", "http://example.org/runbook.md"),
     "alerts.runbookUrl", "'http://example.org/runbook.md'", "must be an https:// URL"),
    ("log retention not a CloudWatch period", _set("logs.appRetentionDays", 42),
     "logs.appRetentionDays", "42", "must be a CloudWatch Logs retention period"),
    ("backup retention short for prod", _set("backup.retentionDays", 3),
     "backup.retentionDays", "3", "must be from 7 to 3650 when environment is production"),
    ("backup copy in the home region", _set("backup.copyRegion", "us-east-2"),
     "backup.copyRegion", "'us-east-2'", "must be a region of the stack other than the home region (eu-west-1, ap-southeast-1)"),
    ("backup copy in a region not deployed", _set("backup.copyRegion", "us-west-2"),
     "backup.copyRegion", "'us-west-2'", "must be a region of the stack other than the home region"),
    ("backup schedule not cron", _set("backup.schedule", "daily"),
     "backup.schedule", "'daily'", "must be an AWS Backup cron expression"),
    # A zone is the region's code and one letter; which letters, only the account knows
    # (infra/zones.py asks it: test_a_zone_the_account_lacks_is_refused_before_any_resource).
    ("zone of two letters", _set("regions.eu-west-1.availabilityZones", ["eu-west-1a", "eu-west-1ab"]),
     "regions.eu-west-1.availabilityZones", "'eu-west-1ab'", "must be zones of eu-west-1, such as eu-west-1a and eu-west-1b: the region's code and one letter"),
    ("zone in upper case", _set("regions.eu-west-1.availabilityZones", ["eu-west-1a", "eu-west-1B"]),
     "regions.eu-west-1.availabilityZones", "'eu-west-1B'", "the region's code and one letter"),
    # The launch template's AMI and the app image are of web.architecture (infra/instances.py).
    ("web instance of the other architecture", _set("web.instanceType", "m7i.large"),
     "web.instanceType", "'m7i.large'", "is an x86_64 instance type, but web.architecture is arm64 (the AMI and the app image are arm64): choose an arm64 type such as m7g.large, or set web.architecture: x86_64"),
    ("x86_64 web on a Graviton type", _set("web.architecture", "x86_64"),
     "web.instanceType", "'m7g.large'", "is an arm64 instance type, but web.architecture is x86_64 (the AMI and the app image are x86_64): choose an x86_64 type such as m7i.large, or set web.architecture: arm64"),
    ("workers of another architecture than web", _set("workers.instanceType", "c7i.large"),
     "workers.instanceType", "'c7i.large'", "is an x86_64 instance type, but the workers run web's arm64 AMI and image (web.architecture): choose an arm64 type such as c7g.large"),
    ("first-generation Graviton for x86_64 workers", _all(_set("web.architecture", "x86_64"), _set("web.instanceType", "m7i.large"), _set("workers.instanceType", "a1.large")),
     "workers.instanceType", "'a1.large'", "is an arm64 instance type, but the workers run web's x86_64 AMI and image"),
    ("a Mac for the web tier", _set("web.instanceType", "mac2.metal"),
     "web.instanceType", "'mac2.metal'", "is an arm64_mac instance type, but web.architecture is arm64"),
    # YAML reads engineVersion: 16 as a number; "16" is meant.
    ("number for a string", _set("database.engineVersion", 16),
     "database.engineVersion", "16", 'must be a string: quote it, "16" (YAML reads an unquoted 16 as a number)'),
    ("decimal for a string", _set("redis.engineVersion", 7.1),
     "redis.engineVersion", "7.1", 'must be a string: quote it, "7.1" (YAML reads an unquoted 7.1 as a number)'),
    ("boolean for a string", _set("web.healthCheckPath", True),
     "web.healthCheckPath", "true", "must be a string: quote it (YAML reads an unquoted yes, no, true, false, on or off as a boolean)"),
    ("number in a list of strings", _set("alerts.emails", ["ops@python.org", 42]),
     "alerts.emails", '["ops@python.org", 42]', 'must be a list of non-empty strings: quote it, "42"'),
]  # fmt: skip


@pytest.mark.parametrize(
    ("edit", "key", "shown", "allowed"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_CONFIG],
)
def test_bad_config_is_rejected_with_key_value_and_allowed(
    edit: Edit, key: str, shown: str, allowed: str
) -> None:
    raw = copy.deepcopy(raw_stack("prod"))
    edit(raw)
    with pytest.raises(ConfigError) as info:
        parse_config("prod", encode(raw))
    message = str(info.value)
    assert "stack 'prod'" in message
    line = next((p for p in info.value.problems if p.startswith(key)), None)
    assert line is not None, f"no problem names {key}: {info.value.problems}"
    assert shown in line, line
    assert allowed in line, line


# (case id, edit, the one problem's start, what it says)
ONE_CAUSE: list[tuple[str, Edit, str, str]] = [
    ("region misspelt", _rename_region("eu-west-1", "eu-west-l"),
     "python-org:regions = 'eu-west-l': unknown AWS region", ": did you mean eu-west-1?"),
    ("home region misspelt in regions", _rename_region("us-east-2", "us-east-22"),
     "python-org:regions = 'us-east-22': unknown AWS region", ": did you mean us-east-2, us-west-2 or us-east-1?"),
    ("home region not among the regions", _set("homeRegion", "us-west-2"),
     "python-org:homeRegion = 'us-west-2'", "must be one of the regions"),
    ("zone of another region", _set("regions.eu-west-1.availabilityZones", ["eu-west-1a", "us-east-2b"]),
     "regions.eu-west-1.availabilityZones = 'us-east-2b'", "(us-east-2b is in us-east-2)"),
    ("cidr with host bits", _set("regions.eu-west-1.vpcCidr", "10.20.0.1/16"),
     "regions.eu-west-1.vpcCidr = '10.20.0.1/16'", ": did you mean 10.20.0.0/16?"),
    ("one zone only", _set("regions.eu-west-1.availabilityZones", ["eu-west-1a"]),
     "regions.eu-west-1.availabilityZones", "must list at least 2"),
    ("no regions", _set("regions", {}), "python-org:regions = {}", "must be a non-empty mapping"),
    ("hostname outside the zone", _set("hostnames", ["python.org", "www.python.com"]),
     "python-org:hostnames = 'www.python.com'", "must be python.org or a name under it"),
    ("architecture misspelt", _set("web.architecture", "amd64"),
     "web.architecture = 'amd64'", "must be one of arm64, x86_64"),
    # A mistyped required key: one problem, not "missing" plus "unknown".
    ("required key misspelt", _rename_key("web.minSize", "minsize"),
     "web.minsize = 2: unknown key", ": did you mean minSize?"),
    ("required section misspelt", _rename_key("web", "wbe"),
     "python-org:wbe = {", "unknown key: did you mean web?"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("edit", "start", "says"), [pytest.param(*case[1:], id=case[0]) for case in ONE_CAUSE]
)
def test_one_bad_value_is_reported_once_not_by_what_depends_on_it(
    edit: Edit, start: str, says: str
) -> None:
    """What depends on a bad value (the edge's pools, the backup copy, HSTS per hostname, the
    instance types' architecture) is checked once the value is good, not against a guess."""
    raw = copy.deepcopy(raw_stack("prod"))
    edit(raw)
    with pytest.raises(ConfigError) as info:
        parse_config("prod", encode(raw))
    (problem,) = info.value.problems
    assert problem.startswith(start), problem
    assert says in problem, problem


def test_what_depends_on_a_value_is_checked_once_it_is_good() -> None:
    # The pools are checked against the regions as soon as every region is good.
    raw = copy.deepcopy(raw_stack("prod"))
    _rename_region("eu-west-1", "eu-west-2")(raw)
    _set("regions.eu-west-2.availabilityZones", ["eu-west-2a", "eu-west-2b", "eu-west-2c"])(raw)
    _set("backup.copyRegion", "eu-west-2")(raw)
    with pytest.raises(ConfigError) as info:
        parse_config("prod", encode(raw))
    assert len(info.value.problems) == 5  # WEU, EEU, ME, NAF, SAF
    assert all(
        p.startswith("edge.poolRegions.") and "'eu-west-1': must be a deployed region (us-east-2"
        in p for p in info.value.problems
    )  # fmt: skip
