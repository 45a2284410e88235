"""DnsValidation: the ACM validation records of every regional certificate, on Cloudflare DNS.

ACM asks for one CNAME per name, and it is the same record for the same name in every region of
an account: the public hostnames (on every certificate) get one record each, taken from the home
region's certificate, and each region's origin hostname (on its own certificate only) one more.
The records are DNS only (unproxied): ACM must see the CNAME itself, not Cloudflare's proxy.
`record_fqdns(region)` feeds that region's `aws.acm.CertificateValidation`, which then waits on
these very records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial

import pulumi
import pulumi_aws as aws
import pulumi_cloudflare as cloudflare

from infra.components.certificate import SiteCertificate


@dataclass(frozen=True, kw_only=True)
class DnsValidationArgs:
    zone_id: pulumi.Input[str]
    hostnames: tuple[str, ...]
    home_region: str
    certificates: Mapping[str, SiteCertificate]  # region -> its certificate


class DnsValidation(pulumi.ComponentResource):
    records: dict[str, cloudflare.DnsRecord]  # validated name -> its record

    def __init__(
        self, name: str, args: DnsValidationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("python-org:edge:DnsValidation", name, None, opts)
        self._certificates = args.certificates
        self.records = {}
        for region, certificate in args.certificates.items():
            names = [h for h in certificate.hostnames if h not in args.hostnames]
            if region == args.home_region:
                names = [*args.hostnames, *names]
            for host in names:
                self.records[host] = self._record(name, host, certificate, args.zone_id)
        self.register_outputs({})

    def _record(
        self, name: str, host: str, certificate: SiteCertificate, zone_id: pulumi.Input[str]
    ) -> cloudflare.DnsRecord:
        # Keyed by the validated name (known now), not by the record name (known once the
        # certificate exists): the logical name never depends on a computed value.
        option = certificate.certificate.domain_validation_options.apply(partial(_option_for, host))
        return cloudflare.DnsRecord(
            f"{name}-{host}",
            zone_id=zone_id,
            name=option.apply(lambda o: (o.resource_record_name or "").rstrip(".")),
            type="CNAME",
            content=option.apply(lambda o: (o.resource_record_value or "").rstrip(".")),
            proxied=False,
            ttl=300,
            comment=f"ACM DNS validation for {host} (managed by Pulumi)",
            opts=pulumi.ResourceOptions(parent=self),
        )

    def record_fqdns(self, region: str) -> pulumi.Output[list[str]]:
        """The validation record names of `region`'s certificate."""
        names = self._certificates[region].hostnames
        return pulumi.Output.all(*(self.records[h].name for h in names)).apply(list)


def _option_for(
    host: str, options: Sequence[aws.acm.outputs.CertificateDomainValidationOption]
) -> aws.acm.outputs.CertificateDomainValidationOption:
    return next(o for o in options if o.domain_name == host)
