"""Where the AWS regions are, for ordering failover by distance.

botocore names each region's place in its endpoint data ("US East (Ohio)", "Europe (Ireland)");
`PLACES` gives the latitude and longitude of each place botocore names (the region's city or,
for a country-wide name, its capital area; to a degree, which is all a failover order needs).
`region_location()` joins the two, so a region botocore adds without a place here is reported by
name (the config refuses it) rather than guessed. Pure: no resources, no network.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from functools import cache

# place (as in botocore's region description) -> (latitude, longitude), degrees.
PLACES: dict[str, tuple[float, float]] = {
    "Cape Town": (-33.9, 18.4),
    "Hong Kong": (22.3, 114.2),
    "Taipei": (25.0, 121.6),
    "Tokyo": (35.7, 139.7),
    "Seoul": (37.6, 127.0),
    "Osaka": (34.7, 135.5),
    "Mumbai": (19.1, 72.9),
    "Hyderabad": (17.4, 78.5),
    "Singapore": (1.35, 103.8),
    "Sydney": (-33.9, 151.2),
    "Jakarta": (-6.2, 106.8),
    "Melbourne": (-37.8, 145.0),
    "Malaysia": (3.1, 101.7),
    "New Zealand": (-36.8, 174.8),
    "Thailand": (13.8, 100.5),
    "Central": (45.5, -73.6),  # Canada (Central): Montreal; Mexico (Central) below
    "Calgary": (51.0, -114.1),
    "Frankfurt": (50.1, 8.7),
    "Zurich": (47.4, 8.5),
    "Stockholm": (59.3, 18.1),
    "Milan": (45.5, 9.2),
    "Spain": (41.6, -0.9),
    "Ireland": (53.3, -6.3),
    "London": (51.5, -0.1),
    "Paris": (48.9, 2.35),
    "Tel Aviv": (32.1, 34.8),
    "UAE": (24.5, 54.4),
    "Bahrain": (26.1, 50.6),
    "Sao Paulo": (-23.5, -46.6),
    "N. Virginia": (38.9, -77.4),
    "Ohio": (40.0, -83.0),
    "N. California": (37.4, -121.9),
    "Oregon": (45.8, -119.7),
}
# Places whose name alone is ambiguous across regions: keyed by the whole description.
DESCRIPTIONS: dict[str, tuple[float, float]] = {
    "Mexico (Central)": (20.6, -100.4),  # Querétaro
}
EARTH_RADIUS_KM = 6371.0


@cache
def _descriptions() -> dict[str, str]:
    from infra.config import _botocore_loader

    endpoints = _botocore_loader().load_data("endpoints")
    (aws,) = (p for p in endpoints["partitions"] if p["partition"] == "aws")
    return {name: info.get("description", "") for name, info in aws["regions"].items()}


def region_location(region: str) -> tuple[float, float] | None:
    """Latitude and longitude of an AWS region, or None when its place is not known here."""
    description = _descriptions().get(region)
    if description is None:
        return None
    if description in DESCRIPTIONS:
        return DESCRIPTIONS[description]
    match = re.search(r"\(([^)]+)\)", description)
    return PLACES.get(match.group(1)) if match else None


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + (
        math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def by_distance(origin: str, regions: Iterable[str]) -> list[str]:
    """`regions` nearest to `origin` first (ties by name, so the order is stable)."""
    here = region_location(origin)
    if here is None:
        raise ValueError(f"no location known for {origin}")

    def key(region: str) -> tuple[float, str]:
        there = region_location(region)
        if there is None:
            raise ValueError(f"no location known for {region}")
        return distance_km(here, there), region

    return sorted(regions, key=key)
