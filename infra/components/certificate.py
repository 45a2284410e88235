"""SiteCertificate: one region's ACM certificate.

Cloudflare connects to each regional origin with the public hostname as SNI and, in SSL mode
full (strict), checks the origin's certificate against it: so every region's certificate covers
every public hostname, plus the region's own origin hostname (`origin-<stack>-<region>.<domain>`,
which reaches that one region directly, for writes pinned to the home region and for on-call
checks). Validation is by DNS: the records are declared on Cloudflare by `DnsValidation`, and
the load balancer listener waits on `aws.acm.CertificateValidation`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.naming import tags


@dataclass(frozen=True, kw_only=True)
class SiteCertificateArgs:
    hostnames: tuple[str, ...]
    origin_hostname: str
    base_tags: dict[str, str]


class SiteCertificate(pulumi.ComponentResource):
    certificate: aws.acm.Certificate

    def __init__(
        self, name: str, args: SiteCertificateArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("python-org:certificate:SiteCertificate", name, None, opts)
        first, *others = args.hostnames
        self.hostnames = (*args.hostnames, args.origin_hostname)
        self.certificate = aws.acm.Certificate(
            f"{name}-site",
            domain_name=first,
            subject_alternative_names=[*others, args.origin_hostname],
            validation_method="DNS",
            key_algorithm="EC_prime256v1",
            tags=tags(args.base_tags, "certificate", f"{name}-site"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"arn": self.certificate.arn})
