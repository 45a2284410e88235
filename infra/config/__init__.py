"""The stack's configuration: one typed, validated model, read once per stack.

`parse_config(stack, raw)` turns the raw `python-org:*` values of a stack (as the Pulumi engine
hands them to the program, or as `Pulumi.<stack>.yaml` holds them) into a frozen `StackConfig`,
or raises `ConfigError` listing every problem found. Each problem names the stack, the key, the bad
value and what is allowed. Nothing here declares resources or talks to a cloud: the checks run
offline against the enumerations that ship with botocore, so bad config stops the program before
any resource is declared. A check that depends on another value runs only once that value is
good, so one mistake is reported once. Secret values (keys in `SECRET_KEYS`) are never echoed.

One module per concern; this package re-exports every name the rest of the repository imports:

- `reader`: the `_Reader` every section is read with (types, ranges, choices, unknown keys);
- `catalog`: what AWS offers, offline (regions, instance types and their architecture, ...);
- `stack`: `parse_config`, `StackConfig`, the environment, the hostnames, the secrets;
- `regions`, `compute` (web, workers), `stores` (database, redis, search), `edge` and
  `edge_rules` (Cloudflare), `oncall` (alerts, logs, backups), `mail`: one section each.

What needs the cloud account (the availability zones it has) is checked by `infra/zones.py`, in
the program, before any resource depends on it.
"""

from infra.config.catalog import (
    LOG_RETENTION_DAYS,
    _botocore_loader,
    aws_regions,
    cache_node_types,
    ec2_instance_types,
    instance_architecture,
    opensearch_instance_types,
    opensearch_version_pattern,
    rds_instance_classes,
    registered_domain,
)
from infra.config.compute import Architecture, WebConfig, WorkersConfig
from infra.config.edge import (
    CLOUDFLARE_REGIONS,
    EdgeConfig,
    OriginAuthConfig,
    Steering,
    WafRuleset,
    WritePinning,
)
from infra.config.edge_rules import (
    HSTS_PRELOAD_MIN_AGE,
    CacheConfig,
    HstsPolicy,
    PathOrigin,
    RateLimit,
)
from infra.config.errors import ConfigError, NoSuchStackError
from infra.config.mail import MailConfig
from infra.config.oncall import (
    DEFAULT_RUNBOOK_URL,
    AlertsConfig,
    BackupConfig,
    LogsConfig,
    OnCallConfig,
    Thresholds,
)
from infra.config.reader import _MISSING, NAMESPACE, SECRET_KEYS, SecretStr, _decode, _Reader
from infra.config.regions import NatGateways, NetworkConfig, RegionConfig
from infra.config.stack import (
    Environment,
    StackConfig,
    parse_config,
    raw_config_from_runtime,
    secret_keys_from_runtime,
)
from infra.config.stores import DatabaseConfig, RedisConfig, SearchConfig

__all__ = [
    "CLOUDFLARE_REGIONS",
    "DEFAULT_RUNBOOK_URL",
    "HSTS_PRELOAD_MIN_AGE",
    "LOG_RETENTION_DAYS",
    "NAMESPACE",
    "SECRET_KEYS",
    "_MISSING",
    "AlertsConfig",
    "Architecture",
    "BackupConfig",
    "CacheConfig",
    "ConfigError",
    "DatabaseConfig",
    "EdgeConfig",
    "Environment",
    "HstsPolicy",
    "LogsConfig",
    "MailConfig",
    "NatGateways",
    "NetworkConfig",
    "NoSuchStackError",
    "OnCallConfig",
    "OriginAuthConfig",
    "PathOrigin",
    "RateLimit",
    "RedisConfig",
    "RegionConfig",
    "SearchConfig",
    "SecretStr",
    "StackConfig",
    "Steering",
    "Thresholds",
    "WafRuleset",
    "WebConfig",
    "WorkersConfig",
    "WritePinning",
    "_Reader",
    "_botocore_loader",
    "_decode",
    "aws_regions",
    "cache_node_types",
    "ec2_instance_types",
    "instance_architecture",
    "opensearch_instance_types",
    "opensearch_version_pattern",
    "parse_config",
    "raw_config_from_runtime",
    "rds_instance_classes",
    "registered_domain",
    "secret_keys_from_runtime",
]
