"""On call: python-org:alerts, python-org:pagingUrl (secret), python-org:logs, python-org:backup."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from infra.config.catalog import LOG_RETENTION_DAYS
from infra.config.reader import _HOSTNAME, _MISSING, SecretStr, _Reader
from infra.config.regions import RegionConfig
from infra.config.stores import DatabaseConfig

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
    production: bool,
    regions: tuple[RegionConfig, ...] | None,
    home_region: str | None,
    database: DatabaseConfig | None,
) -> OnCallConfig | None:
    """python-org:alerts, python-org:pagingUrl (secret), python-org:logs, python-org:backup."""
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
    if days is not None and days not in LOG_RETENTION_DAYS:
        s.fail(
            "appRetentionDays",
            days,
            f"must be a CloudWatch Logs retention period: {sorted(LOG_RETENTION_DAYS)}",
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
