"""The whole stack's config: `parse_config` reads every section into one frozen `StackConfig`."""

from __future__ import annotations

import enum
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from infra import naming
from infra.config.compute import WebConfig, WorkersConfig, _web, _workers
from infra.config.edge import EdgeConfig, _edge
from infra.config.errors import ConfigError
from infra.config.mail import MailConfig, _mail
from infra.config.oncall import OnCallConfig, _oncall
from infra.config.reader import _HOSTNAME, NAMESPACE, SECRET_KEYS, SecretStr, _decode, _Reader
from infra.config.regions import NetworkConfig, RegionConfig, _network, _regions
from infra.config.stores import (
    DatabaseConfig,
    RedisConfig,
    SearchConfig,
    _database,
    _redis,
    _search,
)


class Environment(enum.Enum):
    PRODUCTION = "production"
    STAGING = "staging"


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


def parse_config(
    stack: str, raw: Mapping[str, Any], *, secret_keys: Collection[str] | None = None
) -> StackConfig:
    """Validate a stack's raw config (keys without or with the `python-org:` prefix; values as
    JSON strings, as the engine passes them, or already decoded, as YAML gives them).

    `secret_keys` are the keys the engine or the stack file holds as secrets (`secure:` values):
    given, a key of `SECRET_KEYS` outside them is refused as plain text. The program, the stack
    file reader and the offline tools always pass them; None (a caller that cannot know) skips
    only that check."""
    problems: list[str] = []
    top = _Reader(problems, "", _namespaced(raw))
    if secret_keys is not None:
        _refuse_plaintext_secrets(top, stack, secret_keys)
    sections = _sections(top, stack)
    top.finish()
    if problems:
        raise ConfigError(stack, problems)
    assert all(v is not None for k, v in sections.items() if k != "sentry_dsn")
    return StackConfig(stack=stack, **sections)


def _namespaced(raw: Mapping[str, Any]) -> dict[str, Any]:
    """`python-org:*` keys without the prefix, structured values decoded."""
    data: dict[str, Any] = {}
    for key, value in raw.items():
        ns, _, name = key.rpartition(":")
        if ns not in ("", NAMESPACE):
            continue  # provider config such as aws:region or cloudflare:apiToken
        data[name] = _decode(value) if name not in SECRET_KEYS else value
    return data


def _sections(top: _Reader, stack: str) -> dict[str, Any]:
    """Every section, None where it is bad. A section that depends on another (the edge on the
    regions, the alarms on the database) gets None for a bad one and skips those checks."""
    environment = top.choice("environment", Environment)
    production = environment is Environment.PRODUCTION
    domain = top.string("domain", pattern=_HOSTNAME, allowed="a DNS domain such as python.org")
    hostnames = _hostnames(top, domain)
    home_region = top.string("homeRegion")
    regions = _regions(top, home_region)
    for region in regions or ():
        for problem in naming.name_length_problems(stack, region.name):
            top.problems.append(
                f"{NAMESPACE}:regions.{region.name}: in stack '{stack}', {problem}: "
                "a shorter stack name fits"
            )
    region_names = None if regions is None else [r.name for r in regions]
    web, architecture = _web(top)
    database = _database(top, production)
    return {
        "environment": environment,
        "domain": domain,
        "hostnames": hostnames,
        "home_region": home_region,
        "regions": regions,
        "network": _network(top),
        "web": web,
        "database": database,
        "edge": _edge(top, region_names, home_region, domain, hostnames),
        "oncall": _oncall(top, production, regions, home_region, database),
        "redis": _redis(top, production),
        "workers": _workers(top, architecture),
        "search": _search(top, production, regions),
        "mail": _mail(top, domain, hostnames),
        "sentry_dsn": _sentry_dsn(top),
    }


def _hostnames(top: _Reader, domain: str | None) -> tuple[str, ...] | None:
    hostnames = top.str_list("hostnames", min_len=1)
    if hostnames is None or domain is None:
        return hostnames
    bad = [
        h
        for h in hostnames
        if not re.fullmatch(_HOSTNAME, h) or not (h == domain or h.endswith("." + domain))
    ]
    for host in bad:
        top.fail("hostnames", host, f"every hostname must be {domain} or a name under it")
    return None if bad else hostnames


def _sentry_dsn(top: _Reader) -> SecretStr | None:
    sentry = top.get("sentryDsn", None)
    if sentry is None:
        return None
    if not isinstance(sentry, str) or not sentry.startswith("https://"):
        top.fail("sentryDsn", sentry, "must be a Sentry DSN (an https:// URL) set as a secret")
        return None
    return SecretStr(_value=sentry)


def _refuse_plaintext_secrets(top: _Reader, stack: str, secret_keys: Collection[str]) -> None:
    """A key of SECRET_KEYS set without --secret sits readable in the stack file and the state."""
    for name in sorted(SECRET_KEYS):
        full = f"{NAMESPACE}:{name}"
        if top.data.get(name) is not None and full not in secret_keys and name not in secret_keys:
            top.fail(
                name,
                top.data[name],
                f"is set in plain text, readable in Pulumi.{stack}.yaml and the state: set it "
                f"as a secret (pulumi config set --secret {full} VALUE)",
            )


def raw_config_from_runtime(namespace: str = NAMESPACE) -> dict[str, Any]:
    """The program's raw `<namespace>:*` config (`python-org:*` by default) as the Pulumi engine
    passed it in."""
    from pulumi.runtime import config as runtime_config

    merged = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return {k: v for k, v in merged.items() if k.startswith(f"{namespace}:")}


def secret_keys_from_runtime() -> frozenset[str]:
    """The config keys the engine passed to the program as secrets: the language host names them
    in PULUMI_CONFIG_SECRET_KEYS; the mock runtime (infra/review/synth.py) through `set_all_config`."""
    from pulumi.runtime import config as runtime_config

    merged = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    marked = {k for k in merged if runtime_config.is_config_secret(k)}
    return frozenset(runtime_config.get_config_secret_keys_env()) | marked
