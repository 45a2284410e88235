"""python-org:regions (VPC CIDR and zones per region), python-org:homeRegion, python-org:network."""

from __future__ import annotations

import difflib
import enum
import ipaddress
import re
from dataclasses import dataclass

from infra.config.catalog import LOG_RETENTION_DAYS, aws_regions
from infra.config.reader import _MISSING, _Reader


class NatGateways(enum.Enum):
    """How many NAT gateways a region's VPC gets."""

    ONE_PER_AZ = "onePerAz"  # an AZ outage leaves the other AZs' egress intact
    SINGLE = "single"  # cheaper; egress of every AZ depends on one AZ


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


def _regions(top: _Reader, home_region: str | None) -> tuple[RegionConfig, ...] | None:
    """Every region, the home region first; None if any region (or homeRegion) is bad, so that
    nothing that depends on the regions (pools, backup copies, zones) is checked against a
    partial list."""
    raw = top.get("regions")
    if raw is _MISSING:
        return None
    if not isinstance(raw, dict) or not raw:
        top.fail("regions", raw, "must be a non-empty mapping of AWS region to its settings")
        return None
    known = aws_regions()
    unknown = [name for name in raw if name not in known]
    for name in unknown:
        top.fail(
            "regions",
            name,
            f"unknown AWS region{_did_you_mean(name)} (allowed: {', '.join(sorted(known))})",
        )
    section = top.section("regions")
    assert section is not None
    cidrs: dict[str, ipaddress.IPv4Network] = {}
    parsed = [
        region
        for name in raw
        if name in known and (region := _region(section, name, home_region, cidrs)) is not None
    ]
    if home_region is not None and home_region not in raw:
        # With a region misspelt, that one may be meant: it is reported, this is not.
        if not unknown:
            top.fail(
                "homeRegion",
                home_region,
                f"must be one of the regions in python-org:regions ({', '.join(raw)})",
            )
        return None
    if len(parsed) != len(raw):
        return None
    # Duplicate keys in YAML are resolved silently by most loaders; the offline loader
    # (infra/review/stackfile.py) rejects them, and here every region is unique by construction.
    parsed.sort(key=lambda r: not r.is_home)
    return tuple(parsed)


# A region code ends in a number: letters that look like digits there are likely typos.
_LOOKALIKE_DIGITS = str.maketrans("lIiOo", "11100")


def _did_you_mean(name: object) -> str:
    """': did you mean eu-west-1?' for eu-west-l (a look-alike of the number), else the close
    region names (difflib's similarity)."""
    text = str(name)
    head, _, number = text.rpartition("-")
    lookalike = f"{head}-{number.translate(_LOOKALIKE_DIGITS)}"
    if head and lookalike != text and lookalike in aws_regions():
        return f": did you mean {lookalike}?"
    close = difflib.get_close_matches(text, sorted(aws_regions()), n=3, cutoff=0.8)
    if not close:
        return ""
    listed = close[0] if len(close) == 1 else f"{', '.join(close[:-1])} or {close[-1]}"
    return f": did you mean {listed}?"


def _region(
    section: _Reader,
    name: str,
    home_region: str | None,
    cidrs: dict[str, ipaddress.IPv4Network],
) -> RegionConfig | None:
    """One region's settings; its CIDR is added to `cidrs` (to check the next ones against)."""
    region = section.section(name)
    if region is None:
        return None
    cidr = _cidr(region, "vpcCidr")
    zones = _zones(region, name)
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
    if cidr is None or zones is None:
        return None
    return RegionConfig(
        name=name, vpc_cidr=cidr, availability_zones=zones, is_home=name == home_region
    )


def _zones(region: _Reader, name: str) -> tuple[str, ...] | None:
    """A region's availability zones by name: the region's code and one letter. Which letters a
    region has differs from account to account (AWS maps names to physical zones per account,
    and some accounts have zones others lack); no offline source lists them (botocore has the
    regions, not their zones), so the letters are checked against the account's own list by
    infra/zones.py, in the program, before any resource uses them."""
    zones = region.str_list("availabilityZones", min_len=2)
    if zones is None:
        return None
    bad = [z for z in zones if not re.fullmatch(re.escape(name) + r"[a-z]", z)]
    for zone in bad:
        elsewhere = next(
            (r for r in aws_regions() if re.fullmatch(re.escape(r) + r"[a-z]", zone)), None
        )
        where = f" ({zone} is in {elsewhere})" if elsewhere and elsewhere != name else ""
        region.fail(
            "availabilityZones",
            zone,
            f"must be zones of {name}, such as {name}a and {name}b: the region's code and one "
            f"letter{where}",
        )
    if bad:
        return None
    if len(zones) > 6:
        region.fail("availabilityZones", list(zones), "must list at most 6 zones")
        return None
    return zones


def _cidr(reader: _Reader, name: str) -> ipaddress.IPv4Network | None:
    value = reader.string(name)
    if value is None:
        return None
    try:
        net = ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        reader.fail(
            name,
            value,
            f"must be an IPv4 network in CIDR form such as 10.0.0.0/16 ({exc}){_network_of(value)}",
        )
        return None
    if not net.is_private or not 16 <= net.prefixlen <= 24:
        reader.fail(name, value, "must be a private (RFC 1918) network from /16 to /24")
        return None
    return net


def _network_of(value: str) -> str:
    """': did you mean 10.20.0.0/16?' for 10.20.0.1/16 (host bits set)."""
    try:
        return f": did you mean {ipaddress.IPv4Network(value, strict=False)}?"
    except ValueError:
        return ""


def _network(top: _Reader) -> NetworkConfig | None:
    section = top.section("network")
    if section is None:
        return None
    nat = section.choice("natGateways", NatGateways)
    # CloudWatch Logs accepts only certain retention values.
    retention = section.integer("flowLogRetentionDays", 1, 3653, default=365)
    if retention is not None and retention not in LOG_RETENTION_DAYS:
        section.fail(
            "flowLogRetentionDays",
            retention,
            f"must be a CloudWatch Logs retention period: {sorted(LOG_RETENTION_DAYS)}",
        )
        retention = None
    section.finish()
    if nat is None or retention is None:
        return None
    return NetworkConfig(nat_gateways=nat, flow_log_retention_days=retention)
