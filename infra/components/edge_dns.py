"""The Edge component's DNS (part of `infra/components/edge.py`, declared as its children):
proxied records for the public hostnames and each region's origin hostname, the DNS-only name the
media origin rule resolves, CAA records for the stack's names and DNSSEC where configured.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi
import pulumi_cloudflare as cloudflare

if TYPE_CHECKING:
    from infra.components.edge import EdgeArgs

# CAA (RFC 8659) issuers for the stack's names. ACM: "amazon.com" (any of amazon.com,
# amazontrust.com, awstrust.com, amazonaws.com authorizes it: AWS Certificate Manager User Guide,
# "Certificate Authority Authorization (CAA)"). Cloudflare's edge certificates: the CAA record
# content per CA in developers.cloudflare.com/ssl/reference/certificate-authorities/ (Let's
# Encrypt and Google Trust Services for Universal and advanced certificates, SSL.com for
# advanced and backup certificates, Sectigo for backup certificates only); DigiCert is left out,
# "deprecating soon" there and used for none of the certificates Cloudflare issues anew.
CAA_ISSUERS = {
    "acm": "amazon.com",
    "letsencrypt": "letsencrypt.org",
    "google": "pki.goog; cansignhttpexchanges=yes",
    "sslcom": "ssl.com",
    "sectigo": "sectigo.com",
}


def records(parent: pulumi.Resource, name: str, args: EdgeArgs) -> None:
    home = next(o for o in args.origins if o.region == args.home_region)
    entries = [
        (host, home.address, "Fallback; the load balancer of the same name takes precedence")
        if host in args.served
        else (host, home.address, f"Redirected to {args.canonical} at the edge")
        for host in args.scope.hostnames
    ] + [
        (o.hostname, o.address, f"The {o.region} load balancer alone, bypassing steering")
        for o in args.origins
    ]
    for host, address, comment in entries:
        cloudflare.DnsRecord(
            f"{name}-{host}",
            zone_id=args.zone_id,
            name=host,
            type="CNAME",
            content=address,
            proxied=True,
            ttl=1,  # automatic: required for proxied records
            comment=f"{comment} (python-org-infra {args.stack})",
            opts=pulumi.ResourceOptions(parent=parent),
        )


def serves_media(parent: pulumi.Resource, args: EdgeArgs) -> bool:
    """Whether the edge serves /media/ from the bucket: that takes an origin rule that
    overrides the DNS record and the Host, which only the Enterprise plan has."""
    if args.media is None:
        return False
    if not args.config.limits.origin_dns_override:
        pulumi.log.warn(
            f"the {args.config.plan.value} plan can't override an origin's DNS record and "
            "Host: /media/ is not routed to the media bucket, and the app's media URLs "
            "will not resolve (docs/app-contract.md, 'Media and static')",
            resource=parent,
        )
        return False
    return True


def media_origin(parent: pulumi.Resource, name: str, args: EdgeArgs) -> None:
    media = args.media
    if media is None or not serves_media(parent, args):
        return
    cloudflare.DnsRecord(
        f"{name}-media-origin",
        zone_id=args.zone_id,
        name=media.hostname,
        type="CNAME",
        content=media.bucket_host,
        # DNS-only: the media rule's target, never a site of its own (the bucket lets only
        # Cloudflare's addresses read).
        proxied=False,
        ttl=1,
        comment=f"The home region's media bucket: the /media/ origin rule's target "
        f"(python-org-infra {args.stack})",
        opts=pulumi.ResourceOptions(parent=parent),
    )


def caa(parent: pulumi.Resource, name: str, args: EdgeArgs) -> None:
    """CAA records for the stack's names. Not at the apex of a zone the stack does not own:
    a CA looks for CAA records at the name and then at each parent (RFC 8659 section 3), so
    one at the apex would govern every name in the zone without records of its own."""
    names = [h for h in args.scope.names if h != args.scope.zone or args.scope.owns_zone]
    entries = [(f"issue-{ca}", "issue", value) for ca, value in CAA_ISSUERS.items()]
    entries.append(("iodef", "iodef", args.config.caa_iodef))
    for host in names:
        for key, tag, value in entries:
            cloudflare.DnsRecord(
                f"{name}-caa-{host}-{key}",
                zone_id=args.zone_id,
                name=host,
                type="CAA",
                data=cloudflare.DnsRecordDataArgs(flags=0, tag=tag, value=value),
                ttl=3600,
                comment=f"CAA (python-org-infra {args.stack})",
                opts=pulumi.ResourceOptions(parent=parent),
            )


def dnssec(parent: pulumi.Resource, name: str, args: EdgeArgs) -> cloudflare.ZoneDnssec | None:
    """DNSSEC when configured (the stack owns the zone); its DS record is for the registrar."""
    if not args.config.dnssec:
        return None
    return cloudflare.ZoneDnssec(
        f"{name}-dnssec",
        zone_id=args.zone_id,
        status="active",
        opts=pulumi.ResourceOptions(parent=parent),
    )
