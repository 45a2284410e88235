"""Rules for the Cloudflare edge: the zone's TLS settings, HSTS, WAF, and proxied origins.

Zone settings are `cloudflare.ZoneSetting(zone_id, setting_id, value)`, one resource per
setting. A zone counts as managed by this stack once the stack declares any setting for it;
from then on the settings these rules need must be declared too (Cloudflare's own defaults are
SSL "full" without origin verification and TLS 1.0).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

from policy import tokens as tk
from policy.framework import ADVISORY, MANDATORY, Registry, Stack
from policy.view import Res, dig, flag, is_unknown, items, known, number

rules = Registry()

MIN_TLS_VERSIONS = ("1.2", "1.3")
HSTS_PRELOAD_MIN_AGE = 31536000  # the preload list's minimum (hstspreload.org)
DNS_RECORDS = (tk.DNS_RECORD, "cloudflare:index/record:Record")


def _zones(stack: Stack) -> dict[str, dict[str, list[Res]]]:
    """zone -> setting id -> the settings declared for it. An unknown zone id is one zone."""
    zones: dict[str, dict[str, list[Res]]] = defaultdict(lambda: defaultdict(list))
    for setting in stack.of_type(tk.ZONE_SETTING):
        zone = setting.props.get("zoneId")
        key = zone if isinstance(zone, str) and known(zone) else "(unknown zone)"
        setting_id = setting.props.get("settingId")
        known_id = setting_id if isinstance(setting_id, str) and known(setting_id) else "?"
        zones[key][known_id].append(setting)
    return zones


def _anchor(settings: Mapping[str, list[Res]]) -> str:
    """Where to report a setting the zone lacks: its first declared setting."""
    return min(r.urn for found in settings.values() for r in found)


def _setting_rule(
    stack: Stack, setting_id: str, allowed: tuple[str, ...], missing: str
) -> Iterator[tuple[str, str]]:
    for zone, settings in _zones(stack).items():
        declared = settings.get(setting_id, [])
        if not declared and "?" not in settings:
            yield _anchor(settings), f"zone {zone}: {missing}"
        for setting in declared:
            value = setting.props.get("value")
            if known(value) and str(value) not in allowed:
                yield setting.urn, f"zone {zone}: {setting_id} is {value!r}"


@rules.stack(
    "cloudflare-ssl-strict",
    MANDATORY,
    checks='The zone\'s SSL mode is "strict" (Full (strict): Cloudflare verifies the origin '
    "certificate)",
    fix='declare cloudflare.ZoneSetting(setting_id="ssl", value="strict") for the zone',
    sources=(),
)
def cloudflare_ssl_strict(stack: Stack) -> Iterator[tuple[str, str]]:
    yield from _setting_rule(
        stack, "ssl", ("strict",), "no ssl setting: the origin's certificate is not verified"
    )


@rules.stack(
    "cloudflare-min-tls",
    MANDATORY,
    checks="The zone's minimum TLS version is 1.2 or later",
    fix='declare cloudflare.ZoneSetting(setting_id="min_tls_version", value="1.2")',
    sources=(),
)
def cloudflare_min_tls(stack: Stack) -> Iterator[tuple[str, str]]:
    yield from _setting_rule(
        stack, "min_tls_version", MIN_TLS_VERSIONS, "no min_tls_version: TLS 1.0 is accepted"
    )


@rules.stack(
    "cloudflare-always-use-https",
    ADVISORY,
    checks="The zone redirects every plain-HTTP request to HTTPS at the edge",
    fix='declare cloudflare.ZoneSetting(setting_id="always_use_https", value="on")',
    sources=(),
)
def cloudflare_always_use_https(stack: Stack) -> Iterator[tuple[str, str]]:
    yield from _setting_rule(stack, "always_use_https", ("on",), "no always_use_https setting")


@rules.stack(
    "cloudflare-tls-1-3",
    ADVISORY,
    checks="The zone offers TLS 1.3",
    fix='declare cloudflare.ZoneSetting(setting_id="tls_1_3", value="on")',
    sources=(),
)
def cloudflare_tls_1_3(stack: Stack) -> Iterator[tuple[str, str]]:
    yield from _setting_rule(stack, "tls_1_3", ("on", "zrt"), "no tls_1_3 setting")


def _hsts(value: Any) -> Mapping[str, Any] | None:
    for key in ("strict_transport_security", "strictTransportSecurity"):
        found = dig(value, key)
        if isinstance(found, Mapping):
            return found
    return None


def _field(hsts: Mapping[str, Any], snake: str, camel: str) -> Any:
    return hsts.get(snake, hsts.get(camel))


@rules.stack(
    "cloudflare-hsts",
    ADVISORY,
    checks="The zone sends HSTS; with preload, max-age >= 1 year and includeSubDomains (the "
    "preload list's terms)",
    fix="declare the security_header setting with strict_transport_security enabled; drop "
    "preload where max_age is short (staging)",
    sources=(),
)
def cloudflare_hsts(stack: Stack) -> Iterator[tuple[str, str]]:
    for zone, settings in _zones(stack).items():
        declared = settings.get("security_header", [])
        if not declared and "?" not in settings:
            yield _anchor(settings), f"zone {zone}: no security_header (HSTS) setting"
        for setting in declared:
            value = setting.props.get("value")
            if is_unknown(value):
                continue
            hsts = _hsts(value)
            if hsts is None or flag(_field(hsts, "enabled", "enabled")) is not True:
                yield setting.urn, f"zone {zone}: HSTS is off"
                continue
            age = number(_field(hsts, "max_age", "maxAge"))
            if flag(_field(hsts, "preload", "preload")) is True:
                if age is not None and age < HSTS_PRELOAD_MIN_AGE:
                    yield setting.urn, f"zone {zone}: preload with max_age {age} (< 1 year)"
                if flag(_field(hsts, "include_subdomains", "includeSubdomains")) is False:
                    yield setting.urn, f"zone {zone}: preload without include_subdomains"


@rules.resource(
    "cloudflare-origin-proxied",
    MANDATORY,
    types=(*DNS_RECORDS, tk.CF_LOAD_BALANCER),
    checks="Names that lead to the AWS load balancers are proxied through Cloudflare",
    fix="set proxied=True: the load balancers admit only Cloudflare's ranges, and a DNS-only "
    "name both bypasses the WAF and reveals the origin",
    sources=(),
)
def cloudflare_origin_proxied(res: Res) -> Iterator[str]:
    proxied = res.props.get("proxied")
    if is_unknown(proxied) or flag(proxied) is True:
        return
    if res.type == tk.CF_LOAD_BALANCER:
        yield "the load balancer answers with the origins' addresses (DNS only)"
        return
    content = res.props.get("content", res.props.get("value"))
    if isinstance(content, str) and ".elb.amazonaws.com" in content:
        yield f"{res.props.get('name')} points at {content} without the proxy"


@rules.stack(
    "cloudflare-waf-managed",
    ADVISORY,
    checks="A zone managed here runs a managed WAF ruleset (the WAF the load balancers don't have)",
    fix='declare a cloudflare.Ruleset in phase "http_request_firewall_managed" that executes '
    "the Cloudflare Managed Ruleset",
    sources=(),
)
def cloudflare_waf_managed(stack: Stack) -> Iterator[tuple[str, str]]:
    executing: set[str] = set()
    for ruleset in stack.of_type(tk.RULESET):
        if ruleset.props.get("phase") != "http_request_firewall_managed":
            continue
        zone = ruleset.props.get("zoneId")
        if not (isinstance(zone, str) and known(zone)):
            return  # can't tell which zone it protects: judge once known
        rules_ = ruleset.props.get("rules")
        if is_unknown(rules_) or any(
            dig(r, "action") == "execute" and flag(dig(r, "enabled")) is not False
            for r in items(rules_)
        ):
            executing.add(zone)
    for zone, settings in _zones(stack).items():
        if zone not in executing and zone != "(unknown zone)":
            yield _anchor(settings), f"zone {zone}: no managed WAF ruleset runs"
