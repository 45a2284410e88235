"""The stack's configuration: one typed, validated model, read once per stack.

`parse_config(stack, raw)` turns the raw `python-org:*` values of a stack (as the Pulumi engine
hands them to the program, or as `Pulumi.<stack>.yaml` holds them) into a frozen `StackConfig`,
or raises `ConfigError` listing every problem found. Each problem names the stack, the key, the bad
value and what is allowed. Nothing here declares resources or talks to a cloud: the checks run
offline against the enumerations that ship with botocore, so bad config stops the program before
any resource is declared.

Secret values (keys in `SECRET_KEYS`) are never echoed in any message.
"""

from __future__ import annotations

import enum
import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar

from pulumi.errors import RunError

from infra import naming
from infra.cloudflare_plans import RATE_LIMIT_PERIODS, AddOn, Plan, PlanLimits, duration
from infra.cloudflare_plans import limits as plan_limits
from infra.geo import region_location

NAMESPACE = "python-org"
SECRET_KEYS = frozenset({"sentryDsn", "pagingUrl"})
_MISSING: Any = object()
T = TypeVar("T")


class ConfigError(RunError):
    """Invalid stack config. `problems` holds one line per bad key.

    A `pulumi.RunError`, so that `pulumi preview`/`up` print the message alone, without the
    Python traceback an unexpected exception gets."""

    def __init__(self, stack: str, problems: list[str], *, file: str | None = None) -> None:
        self.stack = stack
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"invalid config for stack '{stack}' ({file or f'Pulumi.{stack}.yaml'}), "
            f"nothing was declared:\n{lines}"
        )


class Environment(enum.Enum):
    PRODUCTION = "production"
    STAGING = "staging"


class NatGateways(enum.Enum):
    """How many NAT gateways a region's VPC gets."""

    ONE_PER_AZ = "onePerAz"  # an AZ outage leaves the other AZs' egress intact
    SINGLE = "single"  # cheaper; egress of every AZ depends on one AZ


class Architecture(enum.Enum):
    ARM64 = "arm64"
    X86_64 = "x86_64"


class Steering(enum.Enum):
    """Cloudflare load balancer steering policy."""

    GEO = "geo"  # each Cloudflare region to the pool mapped in edge.poolRegions
    DYNAMIC_LATENCY = "dynamic_latency"  # the pool with the lowest measured RTT
    OFF = "off"  # fallback order only (the home region first)


# Cloudflare load balancer region codes (developers.cloudflare.com/load-balancing/reference/region-mapping-api).
CLOUDFLARE_REGIONS = frozenset(
    {"WNAM", "ENAM", "WEU", "EEU", "NSAM", "SSAM", "OC", "ME", "NAF", "SAF", "SAS", "SEAS", "NEAS"}
)


@dataclass(frozen=True, kw_only=True)
class SecretStr:
    """A secret config value. It prints as [secret]; `reveal()` is the only way to read it."""

    _value: str = field(repr=False)

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return "[secret]"


@dataclass(frozen=True, kw_only=True)
class RegionConfig:
    name: str
    vpc_cidr: ipaddress.IPv4Network
    availability_zones: tuple[str, ...]
    is_home: bool


@dataclass(frozen=True, kw_only=True)
class NetworkConfig:
    nat_gateways: NatGateways
    flow_log_retention_days: int


@dataclass(frozen=True, kw_only=True)
class WebConfig:
    instance_type: str
    architecture: Architecture
    min_size: int
    desired_capacity: int
    max_size: int
    health_check_path: str
    app_image: str
    app_port: int


@dataclass(frozen=True, kw_only=True)
class DatabaseConfig:
    instance_class: str
    engine_version: str
    allocated_storage_gb: int
    max_allocated_storage_gb: int
    multi_az: bool
    backup_retention_days: int
    app_user_generation: int  # the app's database user is pythondotorg_g<generation>


@dataclass(frozen=True, kw_only=True)
class CacheConfig:
    """Cloudflare cache rules, TTLs in seconds."""

    static_paths: tuple[str, ...]
    # None: the origin's Cache-Control decides (no override, so a 404 is never kept long).
    static_edge_ttl: int | None
    bypass_paths: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class RateLimit:
    path: str
    requests: int
    period_seconds: int
    mitigation_seconds: int


class WritePinning(enum.Enum):
    """How writes reach the home region, where the database primary is."""

    # An origin rule overrides the DNS record for writes (Enterprise: "Override DNS records").
    ORIGIN_RULE = "originRule"
    # Writes are redirected (307, method and body kept) to the home region's own hostname.
    REDIRECT = "redirect"


class WafRuleset(enum.Enum):
    CLOUDFLARE_MANAGED = "cloudflareManaged"
    OWASP_CORE = "owaspCore"


HSTS_PRELOAD_MIN_AGE = 31536000  # the preload list's minimum max-age (hstspreload.org)


@dataclass(frozen=True, kw_only=True)
class HstsPolicy:
    max_age: int
    include_subdomains: bool
    preload: bool

    def header(self) -> str:
        """The Strict-Transport-Security value (RFC 6797 section 6.1)."""
        parts = [f"max-age={self.max_age}"]
        if self.include_subdomains:
            parts.append("includeSubDomains")
        if self.preload:
            parts.append("preload")
        return "; ".join(parts)


@dataclass(frozen=True, kw_only=True)
class PathOrigin:
    """Requests under `prefix` go to another origin (e.g. the /ftp/ downloads server)."""

    prefix: str
    host: str  # a hostname on the same Cloudflare account (a DNS record override)
    port: int | None  # a destination port override
    sni: str | None  # the TLS server name to send instead of the request's host
    edge_ttl: int


@dataclass(frozen=True, kw_only=True)
class OriginAuthConfig:
    """The secret header the edge adds and the load balancers require (docs/edge.md)."""

    header: str
    active: str  # "a" or "b": the secret the edge sends; the load balancers accept both
    generations: Mapping[str, int]  # bump one (while the other is active) to rotate it


@dataclass(frozen=True, kw_only=True)
class EdgeConfig:
    zone_id: str | None  # None: looked up by the domain name
    plan: Plan
    add_ons: frozenset[AddOn]
    owns_zone: bool  # zone-wide settings (TLS, DNSSEC) are this stack's to change
    steering: Steering
    pool_regions: Mapping[str, str]  # Cloudflare region code -> AWS region
    cache: CacheConfig
    rate_limits: tuple[RateLimit, ...]
    hsts: Mapping[str, HstsPolicy]  # public hostname -> its Strict-Transport-Security
    canonical_hostname: str | None  # the other public hostnames redirect (301) to it
    path_origins: tuple[PathOrigin, ...]
    write_pinning: WritePinning
    waf: tuple[WafRuleset, ...]
    caa_iodef: str  # where CAs report refused certificate requests (RFC 8659 section 4.4)
    dnssec: bool
    origin_auth: OriginAuthConfig

    @property
    def limits(self) -> PlanLimits:
        return plan_limits(self.plan)


# --- on call: alarms, notifications, logs, backups (python-org:alerts, logs, backup) ---------


@dataclass(frozen=True, kw_only=True)
class Thresholds:
    """When an alarm fires (python-org:alerts.thresholds; the defaults are in `_THRESHOLDS`)."""

    target_5xx_percent: float  # the app's 5xx responses, % of requests
    elb_5xx_percent: float  # 5xx the load balancer itself answers (no healthy target, timeouts)
    unhealthy_hosts: int  # unhealthy targets at or above this
    response_time_p95_seconds: float
    db_cpu_percent: float
    db_free_storage_gb: int  # free storage below this
    db_freeable_memory_mb: int  # freeable memory below this
    db_connections: int  # connections above this
    replica_lag_seconds: int
    canary_latency_ms: int  # every canary request must answer within this


@dataclass(frozen=True, kw_only=True)
class AlertsConfig:
    emails: tuple[str, ...]  # SNS email subscriptions and Cloudflare notification emails
    paging_url: SecretStr | None  # python-org:pagingUrl: the paging service's HTTPS endpoint
    runbook_url: str  # where docs/runbook-alarms.md is published; alarm descriptions link it
    thresholds: Thresholds


@dataclass(frozen=True, kw_only=True)
class LogsConfig:
    app_retention_days: int  # the application's container logs (CloudWatch Logs)


@dataclass(frozen=True, kw_only=True)
class BackupConfig:
    retention_days: int  # AWS Backup recovery points, in the home vault and the copy vault
    copy_region: str | None  # the second region's vault; None only for a one-region stack
    schedule: str  # AWS Backup cron expression (UTC)


@dataclass(frozen=True, kw_only=True)
class OnCallConfig:
    alerts: AlertsConfig
    logs: LogsConfig
    backup: BackupConfig


@dataclass(frozen=True, kw_only=True)
class RedisConfig:
    """ElastiCache (Redis OSS) per region: the cache everywhere, Celery's broker at home."""

    node_type: str
    nodes: int  # the primary and its replicas (num_cache_clusters)
    engine_version: str
    snapshot_retention_days: int
    cache_max_timeout: int  # seconds: no cache entry lives longer (docs/app-contract.md)

    @property
    def multi_az(self) -> bool:
        # Multi-AZ and automatic failover need a replica to fail over to.
        return self.nodes >= 2


@dataclass(frozen=True, kw_only=True)
class WorkersConfig:
    """Celery workers and the single beat scheduler, in the home region."""

    instance_type: str
    count: int  # celery worker instances (beat is always exactly one more)


@dataclass(frozen=True, kw_only=True)
class SearchConfig:
    """OpenSearch per region (each region its own copy of the index)."""

    instance_type: str
    instance_count: int
    zones: int  # availability zones the data nodes spread over
    volume_size_gb: int
    engine_version: str


@dataclass(frozen=True, kw_only=True)
class MailConfig:
    """SES in the home region: the sending domain, its MAIL FROM domain, the From address."""

    domain: str
    mail_from_domain: str
    from_address: str
    dmarc_policy: str | None  # None: the zone's _dmarc record is not this stack's


@dataclass(frozen=True, kw_only=True)
class StackConfig:
    stack: str
    environment: Environment
    domain: str
    hostnames: tuple[str, ...]
    home_region: str
    regions: tuple[RegionConfig, ...]  # home region first, then in config order
    network: NetworkConfig
    web: WebConfig
    database: DatabaseConfig
    edge: EdgeConfig
    sentry_dsn: SecretStr | None
    oncall: OnCallConfig
    redis: RedisConfig
    workers: WorkersConfig
    search: SearchConfig
    mail: MailConfig

    @property
    def home(self) -> RegionConfig:
        return self.regions[0]

    @property
    def region_names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.regions)


# --- offline enumerations -------------------------------------------------------------------


@cache
def _botocore_loader() -> Any:
    # The data loader alone: a botocore session would import the whole client machinery.
    from botocore.loaders import Loader

    return Loader()


@cache
def aws_regions() -> frozenset[str]:
    """Commercial AWS regions (partition `aws`) known to the installed botocore (no network)."""
    endpoints = _botocore_loader().load_data("endpoints")
    (aws,) = (p for p in endpoints["partitions"] if p["partition"] == "aws")
    return frozenset(aws["regions"])


@cache
def ec2_instance_types() -> frozenset[str]:
    """EC2 instance types from botocore's EC2 service model (no network)."""
    model = _botocore_loader().load_service_model("ec2", "service-2")
    return frozenset(model["shapes"]["InstanceType"]["enum"])


@cache
def rds_instance_classes() -> frozenset[str]:
    """RDS instance classes: botocore's RDS model has no enumeration of them, so this is
    `db.` + every EC2 instance type botocore knows (RDS classes mirror EC2 types), united with
    the classes pulumi-aws ships in `aws.rds.InstanceType`."""
    from pulumi_aws import rds

    return frozenset(f"db.{t}" for t in ec2_instance_types()) | {c.value for c in rds.InstanceType}


@cache
def cache_node_types() -> frozenset[str]:
    """ElastiCache node types: botocore's ElastiCache model has no enumeration of them (its
    CacheNodeType is a plain string), so this is `cache.` + every EC2 instance type botocore
    knows (node types mirror EC2 types: "Supported node types", ElastiCache User Guide)."""
    return frozenset(f"cache.{t}" for t in ec2_instance_types())


@cache
def opensearch_instance_types() -> frozenset[str]:
    """OpenSearch instance types from botocore's OpenSearch model (no network)."""
    model = _botocore_loader().load_service_model("opensearch", "service-2")
    return frozenset(model["shapes"]["OpenSearchPartitionInstanceType"]["enum"])


@cache
def opensearch_version_pattern() -> str:
    """The engine version form the OpenSearch API accepts (botocore's VersionString, a regular
    expression with its own anchors)."""
    model = _botocore_loader().load_service_model("opensearch", "service-2")
    return str(model["shapes"]["VersionString"]["pattern"])


# --- the reader ------------------------------------------------------------------------------


class _Reader:
    """Walks one mapping of raw config, records problems, and returns None for bad values so
    that later checks can skip what depends on them."""

    def __init__(self, problems: list[str], path: str, data: Mapping[str, Any]) -> None:
        self.problems = problems
        self.path = path
        self.data = data
        self.seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else f"{NAMESPACE}:{name}"

    def fail(self, name: str, value: Any, allowed: str) -> None:
        shown = "[secret]" if name in SECRET_KEYS else _show(value)
        self.problems.append(f"{self.key(name)} = {shown}: {allowed}")

    def get(self, name: str, default: Any = _MISSING) -> Any:
        self.seen.add(name)
        if name in self.data and self.data[name] is not None:
            return self.data[name]
        if default is _MISSING:
            self.problems.append(f"{self.key(name)} is missing: it is required")
        return default

    def typed(self, name: str, kind: type[T], what: str, default: Any = _MISSING) -> T | None:
        value = self.get(name, default)
        if value is _MISSING or value is None:
            return None
        # bool is an int in Python: never accept one for the other.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.fail(name, value, f"must be {what}")
            return None
        return value

    def string(
        self,
        name: str,
        default: Any = _MISSING,
        *,
        pattern: str | None = None,
        allowed: str = "a non-empty string",
    ) -> str | None:
        value = self.typed(name, str, "a string", default)
        if value is None:
            return None
        if not value or (pattern is not None and not re.fullmatch(pattern, value)):
            self.fail(name, value, f"must be {allowed}")
            return None
        return value

    def integer(self, name: str, lo: int, hi: int, default: Any = _MISSING) -> int | None:
        value = self.typed(name, int, f"an integer from {lo} to {hi}", default)
        if value is None:
            return None
        if not lo <= value <= hi:
            self.fail(name, value, f"must be an integer from {lo} to {hi}")
            return None
        return value

    def boolean(self, name: str, default: Any = _MISSING) -> bool | None:
        return self.typed(name, bool, "true or false", default)

    def choice(self, name: str, enum_type: type[Any], default: Any = _MISSING) -> Any:
        value = self.get(name, default)
        if value is _MISSING or isinstance(value, enum_type):
            return value if value is not _MISSING else None
        choices = [e.value for e in enum_type]
        if value not in choices:
            self.fail(name, value, f"must be one of {', '.join(choices)}")
            return None
        return enum_type(value)

    def member(self, name: str, known: Callable[[], frozenset[str]], what: str) -> str | None:
        value = self.string(name)
        if value is not None and value not in known():
            family = value.rsplit(".", 1)[0] + "."
            close = sorted(k for k in known() if k.startswith(family))[:6]
            hint = f" (similar: {', '.join(close)})" if close else ""
            self.fail(name, value, f"is not {what} known to botocore{hint}")
            return None
        return value

    def str_list(
        self, name: str, default: Any = _MISSING, *, min_len: int = 0
    ) -> tuple[str, ...] | None:
        value = self.get(name, default)
        if value is _MISSING:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.fail(name, value, "must be a list of non-empty strings")
            return None
        if len(value) < min_len:
            self.fail(name, value, f"must list at least {min_len}")
            return None
        if len(set(value)) != len(value):
            dupes = sorted({v for v in value if value.count(v) > 1})
            self.fail(name, value, f"must not repeat entries (repeated: {', '.join(dupes)})")
            return None
        return tuple(value)

    def section(self, name: str, default: Any = _MISSING) -> _Reader | None:
        value = self.get(name, default)
        if value is _MISSING:
            return None
        if not isinstance(value, dict):
            self.fail(name, value, "must be a mapping of keys to values")
            return None
        return _Reader(self.problems, self.key(name).removeprefix(f"{NAMESPACE}:"), value)

    def finish(self, known_keys: Iterable[str] = ()) -> None:
        unknown = sorted(set(self.data) - self.seen - set(known_keys))
        for name in unknown:
            allowed = ", ".join(sorted(self.seen | set(known_keys)))
            self.fail(name, self.data[name], f"unknown key (allowed keys: {allowed})")


def _show(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# --- the model -------------------------------------------------------------------------------

_HOSTNAME = r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"


def parse_config(stack: str, raw: Mapping[str, Any]) -> StackConfig:
    """Validate a stack's raw config (keys without or with the `python-org:` prefix; values as
    JSON strings, as the engine passes them, or already decoded, as YAML gives them)."""
    problems: list[str] = []
    data: dict[str, Any] = {}
    for key, value in raw.items():
        ns, _, name = key.rpartition(":")
        if ns not in ("", NAMESPACE):
            continue  # provider config such as aws:region or cloudflare:apiToken
        data[name] = _decode(value) if name not in SECRET_KEYS else value
    top = _Reader(problems, "", data)

    environment = top.choice("environment", Environment)
    domain = top.string("domain", pattern=_HOSTNAME, allowed="a DNS domain such as python.org")
    hostnames = top.str_list("hostnames", min_len=1)
    if hostnames and domain:
        for host in hostnames:
            if not re.fullmatch(_HOSTNAME, host) or not (
                host == domain or host.endswith("." + domain)
            ):
                top.fail("hostnames", host, f"every hostname must be {domain} or a name under it")
    home_region = top.string("homeRegion")
    regions = _regions(top, home_region)
    for region in regions or ():
        for problem in naming.name_length_problems(stack, region.name):
            problems.append(
                f"{NAMESPACE}:regions.{region.name}: in stack '{stack}', {problem}: "
                "a shorter stack name fits"
            )
    network = _network(top)
    web = _web(top)
    database = _database(top, environment)
    edge = _edge(top, [r.name for r in regions or ()], home_region, domain, hostnames)
    oncall = _oncall(top, environment, regions, home_region, database)
    production = environment is Environment.PRODUCTION
    redis = _redis(top, production)
    workers = _workers(top)
    search = _search(top, production, regions)
    mail = _mail(top, domain, hostnames)
    sentry = top.get("sentryDsn", None)
    if sentry is not None and (not isinstance(sentry, str) or not sentry.startswith("https://")):
        top.fail("sentryDsn", sentry, "must be a Sentry DSN (an https:// URL) set as a secret")
        sentry = None
    top.finish()

    if problems:
        raise ConfigError(stack, problems)
    assert environment
    assert domain
    assert hostnames
    assert home_region
    assert regions
    assert network
    assert web
    assert database
    assert edge
    assert oncall
    assert redis
    assert workers
    assert search
    assert mail
    return StackConfig(
        stack=stack,
        environment=environment,
        domain=domain,
        hostnames=hostnames,
        home_region=home_region,
        regions=regions,
        network=network,
        web=web,
        database=database,
        edge=edge,
        sentry_dsn=SecretStr(_value=sentry) if sentry else None,
        oncall=oncall,
        redis=redis,
        workers=workers,
        search=search,
        mail=mail,
    )


def _decode(value: Any) -> Any:
    """The engine passes structured values as JSON text; YAML gives them decoded."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    if isinstance(value, str) and value in ("true", "false"):
        return value == "true"
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    return value


def _regions(top: _Reader, home_region: str | None) -> tuple[RegionConfig, ...] | None:
    raw = top.get("regions")
    if raw is _MISSING:
        return None
    if not isinstance(raw, dict) or not raw:
        top.fail("regions", raw, "must be a non-empty mapping of AWS region to its settings")
        return None
    known = aws_regions()
    parsed: list[RegionConfig] = []
    cidrs: dict[str, ipaddress.IPv4Network] = {}
    for name, _settings in raw.items():
        if name not in known:
            top.fail(
                "regions",
                name,
                f"unknown AWS region (allowed: {', '.join(sorted(known))})",
            )
            continue
        section = top.section("regions")
        assert section is not None
        region = section.section(name)
        if region is None:
            continue
        cidr = _cidr(region, "vpcCidr")
        zones = region.str_list("availabilityZones", min_len=2)
        if zones:
            for zone in zones:
                if not re.fullmatch(re.escape(name) + r"[a-z]", zone):
                    region.fail(
                        "availabilityZones",
                        zone,
                        f"must be zones of {name}, such as {name}a and {name}b",
                    )
                    zones = None
        if zones and len(zones) > 6:
            region.fail("availabilityZones", list(zones), "must list at most 6 zones")
            zones = None
        region.finish()
        if cidr is not None:
            for other, other_cidr in cidrs.items():
                if cidr.overlaps(other_cidr):
                    region.fail(
                        "vpcCidr",
                        str(cidr),
                        f"overlaps {other}'s vpcCidr {other_cidr}; regions need disjoint CIDRs",
                    )
            cidrs[name] = cidr
        if cidr is not None and zones is not None:
            parsed.append(
                RegionConfig(
                    name=name,
                    vpc_cidr=cidr,
                    availability_zones=zones,
                    is_home=name == home_region,
                )
            )
    if home_region is not None and home_region not in raw:
        top.fail(
            "homeRegion",
            home_region,
            f"must be one of the regions in python-org:regions ({', '.join(raw)})",
        )
        return None
    if len(parsed) != len(raw):
        return None
    # Duplicate keys in YAML are resolved silently by most loaders; the offline loader
    # (infra/stackfile.py) rejects them, and here every region is unique by construction.
    parsed.sort(key=lambda r: not r.is_home)
    return tuple(parsed)


def _cidr(reader: _Reader, name: str) -> ipaddress.IPv4Network | None:
    value = reader.string(name)
    if value is None:
        return None
    try:
        net = ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        reader.fail(
            name, value, f"must be an IPv4 network in CIDR form such as 10.0.0.0/16 ({exc})"
        )
        return None
    if not net.is_private or not 16 <= net.prefixlen <= 24:
        reader.fail(name, value, "must be a private (RFC 1918) network from /16 to /24")
        return None
    return net


def _network(top: _Reader) -> NetworkConfig | None:
    section = top.section("network")
    if section is None:
        return None
    nat = section.choice("natGateways", NatGateways)
    # CloudWatch Logs accepts only certain retention values.
    retention = section.integer("flowLogRetentionDays", 1, 3653, default=365)
    if retention is not None and retention not in _LOG_RETENTION_DAYS:
        section.fail(
            "flowLogRetentionDays",
            retention,
            f"must be a CloudWatch Logs retention period: {sorted(_LOG_RETENTION_DAYS)}",
        )
        retention = None
    section.finish()
    if nat is None or retention is None:
        return None
    return NetworkConfig(nat_gateways=nat, flow_log_retention_days=retention)


_LOG_RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
     3288, 3653}
)  # fmt: skip


_IMAGE_BY_DIGEST = r"[a-z0-9][a-z0-9./_-]*(:[A-Za-z0-9._-]+)?@sha256:[0-9a-f]{64}"


def _web(top: _Reader) -> WebConfig | None:
    s = top.section("web")
    if s is None:
        return None
    instance_type = s.member("instanceType", ec2_instance_types, "an EC2 instance type")
    architecture = s.choice("architecture", Architecture, default=Architecture.ARM64)
    min_size = s.integer("minSize", 1, 100)
    desired = s.integer("desiredCapacity", 1, 100)
    max_size = s.integer("maxSize", 1, 100)
    if min_size is not None and desired is not None and min_size > desired:
        s.fail("minSize", min_size, f"must be <= web.desiredCapacity ({desired})")
        min_size = None
    if desired is not None and max_size is not None and desired > max_size:
        s.fail("desiredCapacity", desired, f"must be <= web.maxSize ({max_size})")
        desired = None
    path = s.string(
        "healthCheckPath", "/_health/", pattern=r"/[A-Za-z0-9._~/-]*", allowed="a URL path"
    )
    # By digest only: a moving tag never rolls out (the launch template does not change, so no
    # instance refresh starts), and a preview could not show what a deploy changes.
    image = s.string(
        "appImage", pattern=_IMAGE_BY_DIGEST,
        allowed="an image pinned by digest, such as ghcr.io/python/pythondotorg@sha256:<64 hex "
        "digits> (a tag alone moves under a deploy: refused)",
    )  # fmt: skip
    port = s.integer("appPort", 1024, 65535, default=8000)
    s.finish()
    values = (instance_type, architecture, min_size, desired, max_size, path, image, port)
    if any(v is None for v in values):
        return None
    assert instance_type
    assert architecture
    assert min_size
    assert desired
    assert max_size
    assert path
    assert image
    assert port
    return WebConfig(
        instance_type=instance_type,
        architecture=architecture,
        min_size=min_size,
        desired_capacity=desired,
        max_size=max_size,
        health_check_path=path,
        app_image=image,
        app_port=port,
    )


def _database(top: _Reader, environment: Environment | None) -> DatabaseConfig | None:
    s = top.section("database")
    if s is None:
        return None
    production = environment is Environment.PRODUCTION
    instance_class = s.member("instanceClass", rds_instance_classes, "an RDS instance class")
    version = s.string(
        "engineVersion", pattern=r"1[3-9](\.\d+)?", allowed="a PostgreSQL version from 13 to 19"
    )
    storage = s.integer("allocatedStorageGb", 20, 65536)
    max_storage = s.integer("maxAllocatedStorageGb", 20, 65536)
    if storage is not None and max_storage is not None and max_storage < storage:
        s.fail("maxAllocatedStorageGb", max_storage, f"must be >= allocatedStorageGb ({storage})")
        max_storage = None
    multi_az = s.boolean("multiAz")
    if production and multi_az is False:
        s.fail("multiAz", multi_az, "must be true when environment is production")
        multi_az = None
    # Read replicas need automated backups on the source, so 0 (disabled) is never allowed.
    low = 7 if production else 1
    retention = s.integer("backupRetentionDays", 1, 35)
    if retention is not None and retention < low:
        s.fail(
            "backupRetentionDays",
            retention,
            f"must be from {low} to 35 when environment is production",
        )
        retention = None
    # Bumped to rotate the app's database credentials: a new user with a new password, while
    # instances still running keep the previous one (docs/app-contract.md, "Rotation").
    generation = s.integer("appUserGeneration", 1, 9999, default=1)
    s.finish()
    if None in (instance_class, version, storage, max_storage, multi_az, retention, generation):
        return None
    assert instance_class
    assert version
    assert storage
    assert max_storage
    assert retention
    assert generation
    assert multi_az is not None
    return DatabaseConfig(
        instance_class=instance_class,
        engine_version=version,
        allocated_storage_gb=storage,
        max_allocated_storage_gb=max_storage,
        multi_az=multi_az,
        backup_retention_days=retention,
        app_user_generation=generation,
    )


def _edge(
    top: _Reader,
    regions: list[str],
    home_region: str | None,
    domain: str | None,
    hostnames: tuple[str, ...] | None,
) -> EdgeConfig | None:
    s = top.section("edge")
    if s is None:
        return None
    zone_id = s.string(
        "zoneId", None, pattern=r"[0-9a-f]{32}", allowed="a 32-character hex zone id"
    )
    plan = s.choice("plan", Plan)
    limits = plan_limits(plan) if plan is not None else None
    on = f"the {plan.value} plan" if plan is not None else ""
    add_ons = _add_ons(s)
    owns_zone = s.boolean("ownsZone", default=False)
    if add_ons is not None and AddOn.LOAD_BALANCING not in add_ons:
        s.fail(
            "addOns",
            sorted(a.value for a in add_ons),
            "must include loadBalancing: the stack's load balancers need Cloudflare's Load "
            "Balancing, a paid add-on on every plan",
        )
    if limits is not None and domain is not None and not limits.subdomain_zone:
        parent = registered_domain(domain)
        if parent != domain:
            top.fail(
                "domain",
                domain,
                f"is a subdomain zone (under {parent}), which {on} cannot have: subdomain zone "
                "setup is Enterprise-only; use the parent zone (edge.ownsZone: false) or "
                "edge.plan: enterprise",
            )
    steering = s.choice("steering", Steering, default=Steering.GEO)
    pool_regions = _pool_regions(s, steering, regions)
    for region in regions:
        if region_location(region) is None:
            top.fail(
                "regions",
                region,
                "has no known location (infra/geo.py), needed to order failover by distance",
            )
    cache_cfg = _cache(s, limits)
    limits_ = _rate_limits(s, limits)
    hsts = _hsts(s, hostnames, domain, owns_zone)
    canonical = s.string("canonicalHostname", None, pattern=_HOSTNAME, allowed="a hostname")
    if canonical is not None and hostnames is not None and canonical not in hostnames:
        s.fail("canonicalHostname", canonical, f"must be one of hostnames ({', '.join(hostnames)})")
        canonical = None
    path_origins = _path_origins(s, limits, hostnames)
    write = s.choice(
        "writePinning",
        WritePinning,
        default=WritePinning.ORIGIN_RULE
        if limits is None or limits.origin_dns_override
        else WritePinning.REDIRECT,
    )
    if write is WritePinning.ORIGIN_RULE and limits is not None and not limits.origin_dns_override:
        s.fail(
            "writePinning",
            write.value,
            f"needs an origin rule that overrides the DNS record, which {on} cannot have "
            "(Override DNS records is Enterprise-only): use redirect",
        )
        write = None
    waf = _waf(s, limits)
    iodef = s.string(
        "caaIodef",
        pattern=r"(mailto:[^@\s]+@[a-z0-9.-]+\.[a-z]{2,63}|https://[a-z0-9.-]+\.[a-z]{2,63}(/\S*)?)",
        allowed="a mailto: or https: URL for CAA iodef reports (RFC 8659 section 4.4)",
    )
    dnssec = s.boolean("dnssec", default=False)
    if dnssec and owns_zone is False:
        s.fail(
            "dnssec",
            dnssec,
            "DNSSEC is zone-wide: only a stack that owns the zone (edge.ownsZone: true) may "
            "turn it on",
        )
        dnssec = None
    origin_auth = _origin_auth(s)
    s.finish()
    if "zoneId" in s.data and zone_id is None:
        return None
    values = (plan, add_ons, owns_zone, steering, pool_regions, cache_cfg, limits_, hsts, write)
    if any(v is None for v in values) or None in (waf, iodef, dnssec, origin_auth, path_origins):
        return None
    if "canonicalHostname" in s.data and canonical is None:
        return None
    assert plan is not None
    assert add_ons is not None
    assert owns_zone is not None
    assert pool_regions is not None
    assert cache_cfg is not None
    assert limits_ is not None
    assert hsts is not None
    assert path_origins is not None
    assert waf is not None
    assert iodef is not None
    assert dnssec is not None
    assert origin_auth is not None
    return EdgeConfig(
        zone_id=zone_id,
        plan=plan,
        add_ons=add_ons,
        owns_zone=owns_zone,
        steering=steering,
        pool_regions=pool_regions,
        cache=cache_cfg,
        rate_limits=limits_,
        hsts=hsts,
        canonical_hostname=canonical,
        path_origins=path_origins,
        write_pinning=write,
        waf=waf,
        caa_iodef=iodef,
        dnssec=dnssec,
        origin_auth=origin_auth,
    )


@cache
def registered_domain(name: str) -> str:
    """The registrable domain of `name` by the Public Suffix List (the snapshot that ships with
    tldextract: no network, no cache files), which is how Cloudflare tells a zone from a
    subdomain zone."""
    from tldextract import TLDExtract

    extract = TLDExtract(suffix_list_urls=(), cache_dir=None)
    return extract(name).top_domain_under_public_suffix or name


def _add_ons(s: _Reader) -> frozenset[AddOn] | None:
    raw = s.str_list("addOns", [])
    if raw is None:
        return None
    known = {a.value: a for a in AddOn}
    bad = [a for a in raw if a not in known]
    if bad:
        s.fail("addOns", bad[0], f"unknown add-on (allowed: {', '.join(sorted(known))})")
        return None
    return frozenset(known[a] for a in raw)


def _pool_regions(
    s: _Reader, steering: Steering | None, regions: list[str]
) -> dict[str, str] | None:
    raw_pools = s.get("poolRegions", {} if steering is not Steering.GEO else _MISSING)
    if raw_pools is _MISSING:
        return None
    if not isinstance(raw_pools, dict):
        s.fail("poolRegions", raw_pools, "must map Cloudflare region codes to AWS regions")
        return None
    pool_regions: dict[str, str] = {}
    for code, region in raw_pools.items():
        if code not in CLOUDFLARE_REGIONS:
            s.fail(
                "poolRegions",
                code,
                f"unknown Cloudflare region (allowed: {', '.join(sorted(CLOUDFLARE_REGIONS))})",
            )
        elif region not in regions:
            s.fail(
                f"poolRegions.{code}",
                region,
                f"must be a deployed region ({', '.join(regions) or 'none deployed'})",
            )
        else:
            pool_regions[code] = region
    return pool_regions if len(pool_regions) == len(raw_pools) else None


_PATH_PREFIX = r"/[A-Za-z0-9._~/-]*"


def _paths(reader: _Reader, name: str, default: Any) -> tuple[str, ...] | None:
    paths = reader.str_list(name, default)
    if paths is None:
        return None
    for path in paths:
        if not re.fullmatch(_PATH_PREFIX, path):
            reader.fail(name, path, "every entry must be a URL path prefix such as /static/")
            return None
    return paths


def _edge_ttl(
    reader: _Reader, name: str, limits: PlanLimits | None, default: Any = _MISSING
) -> int | None:
    """An edge cache TTL: at least the plan's minimum, at most a year."""
    ttl = reader.integer(name, 1, 31536000, default)
    if ttl is not None and limits is not None and ttl < limits.min_edge_ttl:
        reader.fail(
            name,
            ttl,
            f"is below the {limits.plan.value} plan's minimum edge cache TTL "
            f"({duration(limits.min_edge_ttl)}; 1 second needs business or enterprise)",
        )
        return None
    return ttl


def _cache(edge: _Reader, limits: PlanLimits | None) -> CacheConfig | None:
    s = edge.section("cache", {})
    if s is None:
        return None
    static_paths = _paths(s, "staticPaths", ["/static/", "/media/"])
    bypass = _paths(s, "bypassPaths", ["/admin/", "/api/", "/accounts/", "/users/"])
    # Overriding the origin's TTL would also keep a static file's 404 for that long; exempting
    # 404s needs Cache by status code, which only Enterprise has. Elsewhere the origin decides.
    status_ttl = limits is None or limits.status_code_ttl
    static_ttl = _edge_ttl(s, "staticEdgeTtlSeconds", limits, 2592000 if status_ttl else None)
    if static_ttl is not None and not status_ttl and limits is not None:
        s.fail(
            "staticEdgeTtlSeconds",
            static_ttl,
            f"overriding the origin's TTL would cache static 404s too, and keeping them out needs "
            f"Cache by status code, which the {limits.plan.value} plan cannot have (Enterprise "
            "only): leave it unset to let the origin's Cache-Control decide",
        )
        s.finish()
        return None
    s.finish()
    if None in (static_paths, bypass) or ("staticEdgeTtlSeconds" in s.data and static_ttl is None):
        return None
    assert static_paths is not None
    assert bypass is not None
    return CacheConfig(static_paths=static_paths, static_edge_ttl=static_ttl, bypass_paths=bypass)


_DEFAULT_RATE_LIMITS = [
    {"path": "/accounts/login/", "requests": 10, "periodSeconds": 60, "mitigationSeconds": 600},
    {"path": "/uploads/", "requests": 30, "periodSeconds": 60, "mitigationSeconds": 600},
]


def _rate_limits(edge: _Reader, limits: PlanLimits | None) -> tuple[RateLimit, ...] | None:
    raw = edge.get("rateLimits", _DEFAULT_RATE_LIMITS)
    if not isinstance(raw, list):
        edge.fail("rateLimits", raw, "must be a list of {path, requests, periodSeconds, ...}")
        return None
    if limits is not None and raw and not limits.rate_limit_host_field:
        edge.fail(
            "rateLimits",
            raw,
            f"the {limits.plan.value} plan's rate limiting rules can match the path only, not "
            "the host, so they cannot be limited to this stack's hostnames in a shared zone "
            "(pro and above): set rateLimits: []",
        )
        return None
    if limits is not None and len(raw) > limits.rate_limit_rules:
        edge.fail(
            "rateLimits",
            f"{len(raw)} rules",
            f"the {limits.plan.value} plan allows {limits.rate_limit_rules} rate limiting "
            f"rule{'s' if limits.rate_limit_rules > 1 else ''}",
        )
        return None
    periods = limits.allowed_periods() if limits else RATE_LIMIT_PERIODS
    mitigations = limits.allowed_mitigations() if limits else RATE_LIMIT_PERIODS
    on = f" on the {limits.plan.value} plan" if limits else ""
    out: list[RateLimit] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            edge.fail(f"rateLimits[{i}]", item, "must be a mapping")
            continue
        r = _Reader(edge.problems, f"{edge.path}.rateLimits[{i}]", item)
        path = r.string("path", pattern=_PATH_PREFIX, allowed="a URL path prefix")
        requests = r.integer("requests", 1, 1_000_000)
        period = r.integer("periodSeconds", 10, 86400)
        if period is not None and period not in periods:
            r.fail("periodSeconds", period, f"must be one of {_seconds(periods)}{on}")
            period = None
        mitigation = r.integer("mitigationSeconds", 10, 86400, default=min(600, mitigations[-1]))
        if mitigation is not None and mitigation not in mitigations:
            r.fail("mitigationSeconds", mitigation, f"must be one of {_seconds(mitigations)}{on}")
            mitigation = None
        r.finish()
        if path and requests and period and mitigation:
            out.append(
                RateLimit(
                    path=path,
                    requests=requests,
                    period_seconds=period,
                    mitigation_seconds=mitigation,
                )
            )
    return tuple(out) if len(out) == len(raw) else None


def _seconds(values: tuple[int, ...]) -> str:
    return ", ".join(str(v) for v in values)


def _hsts(
    edge: _Reader, hostnames: tuple[str, ...] | None, domain: str | None, owns_zone: bool | None
) -> dict[str, HstsPolicy] | None:
    s = edge.section("hsts")
    if s is None or hostnames is None:
        return None
    ok = True
    policies: dict[str, HstsPolicy] = {}
    for host in s.data:
        if host not in hostnames:
            s.fail(host, s.data[host], f"is not one of hostnames ({', '.join(hostnames)})")
            ok = False
    for host in hostnames:
        entry = s.section(host)
        if entry is None:
            ok = False
            continue
        # Two years is the longest the preload list asks for; the apex of python.org sends ten.
        age = entry.integer("maxAgeSeconds", 0, 315360000)
        subdomains = entry.boolean("includeSubdomains", default=False)
        preload = entry.boolean("preload", default=False)
        if preload and age is not None and age < HSTS_PRELOAD_MIN_AGE:
            entry.fail(
                "preload",
                preload,
                f"needs maxAgeSeconds >= {HSTS_PRELOAD_MIN_AGE} (one year), the preload list's "
                f"minimum; it is {age}",
            )
            preload = None
        if subdomains and host == domain and not owns_zone:
            entry.fail(
                "includeSubdomains",
                subdomains,
                f"on the zone apex would force HTTPS on every name under {domain}, most of "
                "them not this stack's: only a stack that owns the zone (edge.ownsZone: true) "
                "may set it",
            )
            subdomains = None
        entry.finish()
        if age is None or subdomains is None or preload is None:
            ok = False
            continue
        policies[host] = HstsPolicy(max_age=age, include_subdomains=subdomains, preload=preload)
    return policies if ok else None


def _path_origins(
    edge: _Reader, limits: PlanLimits | None, hostnames: tuple[str, ...] | None
) -> tuple[PathOrigin, ...] | None:
    s = edge.section("pathOrigins", {})
    if s is None:
        return None
    if s.data and limits is not None and not limits.origin_dns_override:
        edge.fail(
            "pathOrigins",
            s.data,
            f"sending a path to another origin needs an origin rule that overrides the DNS "
            f"record, which the {limits.plan.value} plan cannot have (Enterprise only)",
        )
        return None
    out: list[PathOrigin] = []
    for prefix in s.data:
        if not re.fullmatch(_PATH_PREFIX, prefix) or not prefix.endswith("/"):
            s.fail(prefix, s.data[prefix], "must be keyed by a URL path prefix such as /ftp/")
            continue
        entry = s.section(prefix)
        if entry is None:
            continue
        host = entry.string(
            "host", pattern=_HOSTNAME, allowed="a hostname (a DNS record on the same Cloudflare "
            "account, the origin rule's DNS record override)",
        )  # fmt: skip
        if host is not None and hostnames is not None and host in hostnames:
            entry.fail("host", host, "must be another origin, not one of this stack's hostnames")
            host = None
        port = entry.integer("port", 1, 65535, None)
        sni = entry.string("sni", None, pattern=_HOSTNAME, allowed="a hostname")
        ttl = _edge_ttl(entry, "edgeTtlSeconds", limits, 2592000)
        entry.finish()
        bad = ("port" in entry.data and port is None) or ("sni" in entry.data and sni is None)
        if host is not None and ttl is not None and not bad:
            out.append(PathOrigin(prefix=prefix, host=host, port=port, sni=sni, edge_ttl=ttl))
    return tuple(out) if len(out) == len(s.data) else None


def _waf(edge: _Reader, limits: PlanLimits | None) -> tuple[WafRuleset, ...] | None:
    raw = edge.str_list("waf", [w.value for w in WafRuleset])
    if raw is None:
        return None
    known = {w.value: w for w in WafRuleset}
    bad = [w for w in raw if w not in known]
    if bad:
        edge.fail("waf", bad[0], f"unknown managed ruleset (allowed: {', '.join(known)})")
        return None
    if raw and limits is not None and not limits.managed_waf:
        edge.fail(
            "waf",
            raw,
            f"the {limits.plan.value} plan has neither the Cloudflare Managed nor the OWASP Core "
            "ruleset (pro and above): set waf: []",
        )
        return None
    return tuple(known[w] for w in raw)


def _origin_auth(edge: _Reader) -> OriginAuthConfig | None:
    s = edge.section("originAuth", {})
    if s is None:
        return None
    # ALB header conditions: names up to 40 characters of RFC 7230 token characters.
    header = s.string(
        "header", "X-Python-Org-Edge", pattern=r"[A-Za-z0-9-]{1,40}",
        allowed="an HTTP header name of up to 40 letters, digits and dashes",
    )  # fmt: skip
    if header is not None and header.lower().startswith(("cf-", "x-cf-", "x-forwarded-")):
        s.fail("header", header, "must not start with cf-, x-cf- or x-forwarded- (Cloudflare's)")
        header = None
    active = s.string("active", "a", pattern="[ab]", allowed="a or b")
    generations: dict[str, int] = {}
    g = s.section("generations", {"a": 1, "b": 1})
    if g is not None:
        for key in ("a", "b"):
            value = g.integer(key, 1, 1_000_000, default=1)
            if value is not None:
                generations[key] = value
        g.finish()
    s.finish()
    if header is None or active is None or len(generations) != 2:
        return None
    return OriginAuthConfig(header=header, active=active, generations=generations)


# --- on call --------------------------------------------------------------------------------

# name: (config key, lowest, highest, default, kind). Defaults are what a healthy python.org
# region never crosses for minutes; the runbook (docs/runbook-alarms.md) says what each means.
_THRESHOLDS: dict[str, tuple[str, float, float, float, type]] = {
    "target_5xx_percent": ("target5xxPercent", 0.1, 100, 5, float),
    "elb_5xx_percent": ("elb5xxPercent", 0.1, 100, 5, float),
    "unhealthy_hosts": ("unhealthyHosts", 1, 100, 1, int),
    "response_time_p95_seconds": ("responseTimeP95Seconds", 0.1, 60, 2.0, float),
    "db_cpu_percent": ("databaseCpuPercent", 10, 100, 80, float),
    "db_free_storage_gb": ("databaseFreeStorageGb", 1, 65536, 10, int),
    "db_freeable_memory_mb": ("databaseFreeableMemoryMb", 64, 1048576, 256, int),
    # RDS for PostgreSQL's default max_connections is LEAST(DBInstanceClassMemory/9531392, 5000):
    # about 420 on a 4 GiB class, so the default warns before the smallest class runs out.
    "db_connections": ("databaseConnections", 1, 5000, 350, int),
    # The smoke test's --max-replica-lag default: one limit for "the replica is behind".
    "replica_lag_seconds": ("replicaLagSeconds", 1, 3600, 30, int),
    "canary_latency_ms": ("canaryLatencyMs", 100, 60000, 3000, int),
}
DEFAULT_RUNBOOK_URL = "https://github.com/python/python-org-infra/blob/main/docs/runbook-alarms.md"
_EMAIL = r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@" + _HOSTNAME
# AWS Backup schedules are EventBridge cron expressions: six fields.
_CRON = r"cron\(\S+ \S+ \S+ \S+ \S+ \S+\)"


def _oncall(
    top: _Reader,
    environment: Environment | None,
    regions: tuple[RegionConfig, ...] | None,
    home_region: str | None,
    database: DatabaseConfig | None,
) -> OnCallConfig | None:
    """python-org:alerts, python-org:pagingUrl (secret), python-org:logs, python-org:backup."""
    production = environment is Environment.PRODUCTION
    alerts = _alerts(top, production, database)
    logs = _logs(top, production)
    backup = _backup(top, production, regions, home_region)
    if alerts is None or logs is None or backup is None:
        return None
    return OnCallConfig(alerts=alerts, logs=logs, backup=backup)


def _alerts(top: _Reader, production: bool, database: DatabaseConfig | None) -> AlertsConfig | None:
    s = top.section("alerts", {})
    paging = _paging_url(top)
    if s is None:
        return None
    emails = s.str_list("emails", [])
    if emails is not None:
        bad = [e for e in emails if not re.fullmatch(_EMAIL, e)]
        for address in bad:
            s.fail("emails", address, "every entry must be an email address such as ops@python.org")
        emails = None if bad else emails
    runbook = s.string(
        "runbookUrl", DEFAULT_RUNBOOK_URL, pattern=r"https://[^\s#?]+",
        allowed="an https:// URL of docs/runbook-alarms.md, without a #fragment",
    )  # fmt: skip
    thresholds = _thresholds(s, database)
    s.finish()
    if production and emails == () and paging is _MISSING:
        s.fail(
            "emails",
            [],
            "production needs somebody to tell: list at least one address here, or set the "
            "secret python-org:pagingUrl (pulumi config set --secret python-org:pagingUrl URL)",
        )
        return None
    if emails is None or paging is None or runbook is None or thresholds is None:
        return None
    return AlertsConfig(
        emails=emails,
        paging_url=None if paging is _MISSING else SecretStr(_value=paging),
        runbook_url=runbook,
        thresholds=thresholds,
    )


def _paging_url(top: _Reader) -> Any:
    """The secret paging endpoint: _MISSING if not set, None if bad, else the URL."""
    value = top.get("pagingUrl", None)
    if value is None:
        return _MISSING
    from urllib.parse import urlsplit

    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme != "https" or not parts.hostname or " " in value:
        top.fail(
            "pagingUrl", value, "must be the paging service's https:// endpoint, set as a secret"
        )
        return None
    return value


def _thresholds(alerts: _Reader, database: DatabaseConfig | None) -> Thresholds | None:
    s = alerts.section("thresholds", {})
    if s is None:
        return None
    values: dict[str, float | int | None] = {}
    for field_name, (key, lo, hi, default, kind) in _THRESHOLDS.items():
        value = s.get(key, default)
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and kind is int and not isinstance(value, int):
            ok = False
        what = "an integer" if kind is int else "a number"
        if not ok or not lo <= value <= hi:
            s.fail(key, value, f"must be {what} from {lo:g} to {hi:g}")
            values[field_name] = None
        else:
            values[field_name] = value
    storage = values["db_free_storage_gb"]
    if database is not None and storage is not None and storage >= database.allocated_storage_gb:
        s.fail(
            "databaseFreeStorageGb",
            storage,
            f"must be below database.allocatedStorageGb ({database.allocated_storage_gb}), "
            "or the alarm fires on a new database",
        )
        values["db_free_storage_gb"] = None
    s.finish()
    if any(v is None for v in values.values()):
        return None
    return Thresholds(**values)  # type: ignore[arg-type]


def _logs(top: _Reader, production: bool) -> LogsConfig | None:
    s = top.section("logs", {})
    if s is None:
        return None
    days = s.integer("appRetentionDays", 1, 3653, default=365)
    if days is not None and days not in _LOG_RETENTION_DAYS:
        s.fail(
            "appRetentionDays",
            days,
            f"must be a CloudWatch Logs retention period: {sorted(_LOG_RETENTION_DAYS)}",
        )
        days = None
    s.finish()
    return None if days is None else LogsConfig(app_retention_days=days)


def _backup(
    top: _Reader,
    production: bool,
    regions: tuple[RegionConfig, ...] | None,
    home_region: str | None,
) -> BackupConfig | None:
    s = top.section("backup", {})
    if s is None:
        return None
    low = 7 if production else 1
    # AWS Backup keeps recovery points up to 100 years; more than ten is a mistake here.
    retention = s.integer("retentionDays", 1, 3650, default=35)
    if retention is not None and retention < low:
        s.fail(
            "retentionDays", retention, f"must be from {low} to 3650 when environment is production"
        )
        retention = None
    schedule = s.string(
        "schedule", "cron(0 5 * * ? *)", pattern=_CRON,
        allowed="an AWS Backup cron expression such as cron(0 5 * * ? *) (UTC)",
    )  # fmt: skip
    names = [r.name for r in regions or ()]
    others = [n for n in names if n != home_region]
    copy = s.string("copyRegion", others[0] if others else None)
    s.finish()
    if copy is not None and regions is not None and (copy == home_region or copy not in names):
        s.fail(
            "copyRegion",
            copy,
            f"must be a region of the stack other than the home region ({', '.join(others) or 'none'})",
        )
        return None
    if copy is None and production and regions is not None:
        s.fail(
            "copyRegion",
            None,
            "production keeps a copy of every backup in a second region: the stack needs one",
        )
        return None
    if retention is None or schedule is None or regions is None:
        return None
    return BackupConfig(retention_days=retention, copy_region=copy, schedule=schedule)


# --- what the application needs besides web servers and a database (docs/app-contract.md) ---


def _redis(top: _Reader, production: bool) -> RedisConfig | None:
    s = top.section("redis")
    if s is None:
        return None
    node_type = s.member("nodeType", cache_node_types, "an ElastiCache node type")
    # num_cache_clusters: 1 to 6 for a replication group without cluster mode
    # (CreateReplicationGroup, NumCacheClusters).
    nodes = s.integer("nodes", 1, 6)
    if production and nodes is not None and nodes < 2:
        s.fail("nodes", nodes, "must be at least 2 when environment is production (Multi-AZ "
               "with automatic failover needs a replica in another zone)")  # fmt: skip
        nodes = None
    version = s.string(
        "engineVersion", pattern=r"[67]\.\d+", allowed="a Redis OSS version such as 7.1"
    )
    # SnapshotRetentionLimit: 0 (off) to 35 days.
    retention = s.integer("snapshotRetentionDays", 0, 35, default=1)
    # How stale another region's copy of an entry the home region deleted may get: the app
    # invalidates by deleting, which reaches only the home region's Redis.
    max_timeout = s.integer("cacheMaxTimeoutSeconds", 1, 86400, default=300)
    s.finish()
    if None in (node_type, nodes, version, retention, max_timeout):
        return None
    assert node_type
    assert nodes
    assert version
    assert retention is not None
    assert max_timeout
    return RedisConfig(
        node_type=node_type,
        nodes=nodes,
        engine_version=version,
        snapshot_retention_days=retention,
        cache_max_timeout=max_timeout,
    )


def _workers(top: _Reader) -> WorkersConfig | None:
    s = top.section("workers")
    if s is None:
        return None
    instance_type = s.member("instanceType", ec2_instance_types, "an EC2 instance type")
    count = s.integer("count", 1, 20)
    s.finish()
    if instance_type is None or count is None:
        return None
    return WorkersConfig(instance_type=instance_type, count=count)


def _search(
    top: _Reader, production: bool, regions: tuple[RegionConfig, ...] | None
) -> SearchConfig | None:
    s = top.section("search")
    if s is None:
        return None
    instance_type = s.member(
        "instanceType", opensearch_instance_types, "an OpenSearch instance type"
    )
    count = s.integer("instanceCount", 1, 80)
    # Zone awareness spreads the data nodes over 2 or 3 zones (ZoneAwarenessConfig).
    fewest = min((len(r.availability_zones) for r in regions or ()), default=3)
    zones = s.integer("zones", 1, 3, default=min(3, fewest))
    if zones is not None and zones > fewest:
        s.fail("zones", zones, f"must be at most {fewest}: every region has only that many zones")
        zones = None
    if production and zones is not None and zones < 2:
        s.fail("zones", zones, "must be 2 or 3 when environment is production")
        zones = None
    if count is not None and zones is not None and count % zones:
        s.fail(
            "instanceCount",
            count,
            f"must be a multiple of search.zones ({zones}): OpenSearch spreads data nodes evenly",
        )
        count = None
    volume = s.integer("volumeSizeGb", 10, 1024)
    version = s.string(
        "engineVersion",
        pattern=r"OpenSearch_\d+\.\d+",
        allowed="an OpenSearch version such as OpenSearch_2.19 (not a legacy Elasticsearch_* "
        "engine)",
    )
    if version is not None and not re.fullmatch(opensearch_version_pattern(), version):
        s.fail("engineVersion", version, f"must match {opensearch_version_pattern()} (botocore)")
        version = None
    s.finish()
    if None in (instance_type, count, zones, volume, version):
        return None
    assert instance_type
    assert count
    assert zones
    assert volume
    assert version
    return SearchConfig(
        instance_type=instance_type,
        instance_count=count,
        zones=zones,
        volume_size_gb=volume,
        engine_version=version,
    )


_DMARC_POLICIES = ("none", "quarantine", "reject")


def _owned(name: str, hostnames: tuple[str, ...]) -> bool:
    """A name this stack owns in the zone: one of its hostnames or a name under one."""
    return any(name == h or name.endswith("." + h) for h in hostnames)


def _mail(top: _Reader, domain: str | None, hostnames: tuple[str, ...] | None) -> MailConfig | None:
    s = top.section("mail")
    if s is None:
        return None
    mail_domain = s.string("domain", pattern=_HOSTNAME, allowed="a DNS domain such as python.org")
    if mail_domain and domain and not (mail_domain == domain or mail_domain.endswith("." + domain)):
        s.fail("domain", mail_domain, f"must be {domain} or a name under it (the stack's zone)")
        mail_domain = None
    mail_from = s.string("mailFromDomain", pattern=_HOSTNAME, allowed="a DNS name")
    # SES: the MAIL FROM domain is a subdomain of the identity, never the identity itself.
    if mail_from and mail_domain and not mail_from.endswith("." + mail_domain):
        s.fail("mailFromDomain", mail_from, f"must be a subdomain of mail.domain ({mail_domain})")
        mail_from = None
    # Its MX and SPF records go into the zone: only under names this stack owns.
    if mail_from and hostnames and not _owned(mail_from, hostnames):
        s.fail(
            "mailFromDomain",
            mail_from,
            f"must be under one of python-org:hostnames ({', '.join(hostnames)}): its MX and "
            "SPF records may only go under names this stack owns",
        )
        mail_from = None
    # The DKIM records are <token>._domainkey.<domain>: under a name this stack owns too.
    if mail_domain and hostnames and not _owned(mail_domain, hostnames):
        s.fail(
            "domain",
            mail_domain,
            f"must be one of python-org:hostnames ({', '.join(hostnames)}) or under one: its "
            "DKIM records may only go under names this stack owns",
        )
        mail_domain = None
    sender = s.string(
        "fromAddress", pattern=r"[A-Za-z0-9._%+-]+@" + _HOSTNAME, allowed="an email address"
    )
    if sender and mail_domain and sender.rsplit("@", 1)[1] != mail_domain:
        s.fail("fromAddress", sender, f"must be an address @{mail_domain} (the SES identity)")
        sender = None
    dmarc = s.get("dmarcPolicy", None)
    if dmarc is not None and dmarc not in _DMARC_POLICIES:
        s.fail(
            "dmarcPolicy",
            dmarc,
            f"must be one of {', '.join(_DMARC_POLICIES)}, or left out when the zone's DMARC "
            "record is not this stack's",
        )
        dmarc = False
    s.finish()
    if mail_domain is None or mail_from is None or sender is None or dmarc is False:
        return None
    return MailConfig(
        domain=mail_domain, mail_from_domain=mail_from, from_address=sender, dmarc_policy=dmarc
    )


def raw_config_from_runtime(namespace: str = NAMESPACE) -> dict[str, Any]:
    """The program's raw `<namespace>:*` config (`python-org:*` by default) as the Pulumi engine
    passed it in."""
    from pulumi.runtime import config as runtime_config

    merged = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return {k: v for k, v in merged.items() if k.startswith(f"{namespace}:")}
