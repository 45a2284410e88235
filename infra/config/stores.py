"""python-org:database, python-org:redis, python-org:search: the app's stateful services."""

from __future__ import annotations

import re
from dataclasses import dataclass

from infra.config.catalog import (
    cache_node_types,
    opensearch_instance_types,
    opensearch_version_pattern,
    rds_instance_classes,
)
from infra.config.reader import _Reader
from infra.config.regions import RegionConfig


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
class SearchConfig:
    """OpenSearch per region (each region its own copy of the index)."""

    instance_type: str
    instance_count: int
    zones: int  # availability zones the data nodes spread over
    volume_size_gb: int
    engine_version: str


def _database(top: _Reader, production: bool) -> DatabaseConfig | None:
    s = top.section("database")
    if s is None:
        return None
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
    # With the regions bad (None), their zones are not known: that check waits for them.
    fewest = min((len(r.availability_zones) for r in regions or ()), default=3)
    zones = s.integer("zones", 1, 3, default=min(3, fewest))
    if zones is not None and regions is not None and zones > fewest:
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
