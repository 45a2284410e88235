"""A Redis cache whose entries all expire (docs/app-contract.md, "The settings overlay").

Django's RedisCache with one change: no timeout is longer than OPTIONS["max_timeout"], and
"forever" (None) becomes that. Every key then has a TTL, which also keeps Redis's default
eviction policy (volatile-lru) from ever choosing Celery's queues, which have none.
"""

from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache


class BoundedRedisCache(RedisCache):  # type: ignore[misc]
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS") or {})
        self.max_timeout = int(options.pop("max_timeout"))
        super().__init__(server, {**params, "OPTIONS": options})

    def get_backend_timeout(self, timeout: Any = DEFAULT_TIMEOUT) -> int:
        seconds: int | None = super().get_backend_timeout(timeout)
        return self.max_timeout if seconds is None else min(seconds, self.max_timeout)
