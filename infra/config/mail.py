"""python-org:mail: SES in the home region, its records only under names the stack owns."""

from __future__ import annotations

from dataclasses import dataclass

from infra.config.reader import _HOSTNAME, _Reader


@dataclass(frozen=True, kw_only=True)
class MailConfig:
    """SES in the home region: the sending domain, its MAIL FROM domain, the From address."""

    domain: str
    mail_from_domain: str
    from_address: str
    dmarc_policy: str | None  # None: the zone's _dmarc record is not this stack's


_DMARC_POLICIES = ("none", "quarantine", "reject")


def _owned(name: str, hostnames: tuple[str, ...]) -> bool:
    """A name this stack owns in the zone: one of its hostnames or a name under one."""
    return any(name == h or name.endswith("." + h) for h in hostnames)


def _mail(top: _Reader, domain: str | None, hostnames: tuple[str, ...] | None) -> MailConfig | None:
    s = top.section("mail")
    if s is None:
        return None
    mail_domain = s.string("domain", pattern=_HOSTNAME, allowed="a DNS domain such as python.org")
    if mail_domain and domain and not (mail_domain == domain or mail_domain.endswith("." + domain)):
        s.fail("domain", mail_domain, f"must be {domain} or a name under it (the stack's zone)")
        mail_domain = None
    mail_from = s.string("mailFromDomain", pattern=_HOSTNAME, allowed="a DNS name")
    # SES: the MAIL FROM domain is a subdomain of the identity, never the identity itself.
    if mail_from and mail_domain and not mail_from.endswith("." + mail_domain):
        s.fail("mailFromDomain", mail_from, f"must be a subdomain of mail.domain ({mail_domain})")
        mail_from = None
    # Its MX and SPF records go into the zone: only under names this stack owns.
    if mail_from and hostnames and not _owned(mail_from, hostnames):
        s.fail(
            "mailFromDomain",
            mail_from,
            f"must be under one of python-org:hostnames ({', '.join(hostnames)}): its MX and "
            "SPF records may only go under names this stack owns",
        )
        mail_from = None
    # The DKIM records are <token>._domainkey.<domain>: under a name this stack owns too.
    if mail_domain and hostnames and not _owned(mail_domain, hostnames):
        s.fail(
            "domain",
            mail_domain,
            f"must be one of python-org:hostnames ({', '.join(hostnames)}) or under one: its "
            "DKIM records may only go under names this stack owns",
        )
        mail_domain = None
    sender = s.string(
        "fromAddress", pattern=r"[A-Za-z0-9._%+-]+@" + _HOSTNAME, allowed="an email address"
    )
    if sender and mail_domain and sender.rsplit("@", 1)[1] != mail_domain:
        s.fail("fromAddress", sender, f"must be an address @{mail_domain} (the SES identity)")
        sender = None
    dmarc = s.get("dmarcPolicy", None)
    if dmarc is not None and dmarc not in _DMARC_POLICIES:
        s.fail(
            "dmarcPolicy",
            dmarc,
            f"must be one of {', '.join(_DMARC_POLICIES)}, or left out when the zone's DMARC "
            "record is not this stack's",
        )
        dmarc = False
    s.finish()
    if mail_domain is None or mail_from is None or sender is None or dmarc is False:
        return None
    return MailConfig(
        domain=mail_domain, mail_from_domain=mail_from, from_address=sender, dmarc_policy=dmarc
    )
