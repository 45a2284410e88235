"""SiteCertificate: one region's ACM certificate for the site's public hostnames.

Cloudflare connects to each regional origin with the public hostname as SNI and, in SSL mode
full (strict), checks the origin's certificate against it: so every region's certificate covers
every public hostname. Validation is by DNS; the records are declared on Cloudflare by
`DnsValidation` and the load balancer listener waits on `aws.acm.CertificateValidation`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.naming import tags


@dataclass(frozen=True, kw_only=True)
class SiteCertificateArgs:
    hostnames: tuple[str, ...]
    base_tags: dict[str, str]


class SiteCertificate(pulumi.ComponentResource):
    certificate: aws.acm.Certificate

    def __init__(
        self, name: str, args: SiteCertificateArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("python-org:certificate:SiteCertificate", name, None, opts)
        first, *others = args.hostnames
        self.certificate = aws.acm.Certificate(
            f"{name}-site",
            domain_name=first,
            subject_alternative_names=others,
            validation_method="DNS",
            key_algorithm="EC_prime256v1",
            tags=tags(args.base_tags, "certificate", f"{name}-site"),
            # A certificate in use by a listener can't be deleted: create the new one first.
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=False),
        )
        self.register_outputs({"arn": self.certificate.arn})

    @property
    def validation_records(self) -> pulumi.Output[list[tuple[str, str, str]]]:
        """(name, type, value) of each DNS validation record, one per distinct name."""
        return self.certificate.domain_validation_options.apply(
            lambda opts: sorted(
                {
                    (o.resource_record_name or "", o.resource_record_type or "",
                     o.resource_record_value or "")
                    for o in opts
                }
            )
        )  # fmt: skip
