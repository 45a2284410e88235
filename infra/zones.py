"""The availability zones of the AWS account, checked where the account is: in the program.

`python-org:regions.<region>.availabilityZones` names each region's zones. Offline, the config
checks only their form (the region's code and one letter, infra/config/regions.py): which
letters a region has differs from account to account (AWS maps zone names to physical zones per
account, and an account may lack a zone another has), and no offline source lists them. So the
program asks: before any resource uses a zone, `check_zones` calls each region's provider for
the zones the account has (`aws.get_availability_zones`, EC2 DescribeAvailabilityZones) and
refuses the others with a config error: the stack, the key, the zone, the zones there are.

A real `pulumi preview` asks AWS; the offline preview and the tests ask the mocks
(`CloudMocks`, the account they stand for has zones a, b and c in every region).
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

from infra.config import ConfigError, StackConfig

# Only Availability Zones, not the Local Zones an account may have opted into (the data
# source's example "Only Availability Zones (no Local Zones)"), and every one of them whatever
# its state (`state` unset: "a complete set of Availability Zones to which the underlying AWS
# account has access, regardless of their state"): a zone impaired today is still the account's.
_AVAILABILITY_ZONES_ONLY = [
    aws.GetAvailabilityZonesFilterArgs(name="opt-in-status", values=["opt-in-not-required"])
]


def check_zones(cfg: StackConfig, providers: Mapping[str, pulumi.ProviderResource]) -> None:
    """Raise ConfigError naming every configured zone the account does not have."""
    problems: list[str] = []
    for region in cfg.regions:
        found = aws.get_availability_zones(
            filters=_AVAILABILITY_ZONES_ONLY,
            opts=pulumi.InvokeOptions(provider=providers[region.name]),
        )
        have = sorted(found.names or ())
        for zone in region.availability_zones:
            if zone not in have:
                problems.append(
                    f"regions.{region.name}.availabilityZones = {zone!r}: is not a zone of this "
                    f"AWS account in {region.name} (it has {', '.join(have) or 'none'})"
                )
    if problems:
        raise ConfigError(cfg.stack, problems)
