"""DnsValidation: the ACM validation records, declared on Cloudflare DNS.

ACM asks for one CNAME per hostname, and it is the same record for the same name in every
region of an account, so one set of records (taken from the home region's certificate)
validates every regional certificate. The records are DNS only (unproxied): ACM must see the
CNAME itself, not Cloudflare's proxy. `record_fqdns` feeds `aws.acm.CertificateValidation`,
which then waits on these very records.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    certificate: SiteCertificate  # the home region's


class DnsValidation(pulumi.ComponentResource):
    record_fqdns: pulumi.Output[list[str]]
    records: dict[str, cloudflare.DnsRecord]

    def __init__(
        self, name: str, args: DnsValidationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("python-org:edge:DnsValidation", name, None, opts)
        options = args.certificate.certificate.domain_validation_options
        self.records = {}
        for host in args.hostnames:
            # Keyed by hostname (known now), not by the record name (known after the
            # certificate exists): the logical name never depends on a computed value.
            option = options.apply(partial(_option_for, host))
            self.records[host] = cloudflare.DnsRecord(
                f"{name}-{host}",
                zone_id=args.zone_id,
                name=option.apply(lambda o: (o.resource_record_name or "").rstrip(".")),
                type="CNAME",
                content=option.apply(lambda o: (o.resource_record_value or "").rstrip(".")),
                proxied=False,
                ttl=300,
                comment=f"ACM DNS validation for {host} (managed by Pulumi)",
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.record_fqdns = pulumi.Output.all(*(r.name for r in self.records.values())).apply(list)
        self.register_outputs({"record_fqdns": self.record_fqdns})


def _option_for(
    host: str, options: Sequence[aws.acm.outputs.CertificateDomainValidationOption]
) -> aws.acm.outputs.CertificateDomainValidationOption:
    return next(o for o in options if o.domain_name == host)
