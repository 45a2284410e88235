"""Rules for the Cloudflare edge: TLS, HSTS, WAF, proxied origins, and good manners in a shared zone.

A zone's settings are `cloudflare.ZoneSetting(zone_id, setting_id, value)`, one resource per
setting; a stack that does not own the zone declares none and sets what it needs per hostname
instead: a configuration rule (`http_config_settings`, `set_config` with `ssl`), a redirect rule
(`http_request_dynamic_redirect` on `not ssl`) and response header rules for HSTS. The rules
below accept either form and fail on what either form gets wrong. The zones a stack "uses" are
those it declares settings, rulesets, records or load balancers in.

In a shared zone every rule of every zone ruleset must be limited to the stack's hostnames
(`cloudflare-rules-host-scoped`): a rule that matches `true` or a path alone applies to every
other service in the zone.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

from policy import tokens as tk
from policy.framework import ADVISORY, MANDATORY, Registry, Stack
from policy.load_balancers import LISTENERS
from policy.view import Res, dig, flag, is_unknown, items, known, number

rules = Registry()

MIN_TLS_VERSIONS = ("1.2", "1.3")
HSTS_PRELOAD_MIN_AGE = 31536000  # the preload list's minimum (hstspreload.org)
DNS_RECORDS = (tk.DNS_RECORD, "cloudflare:index/record:Record")
HOSTNAME_TLS_SETTING = "cloudflare:index/hostnameTlsSetting:HostnameTlsSetting"
UNKNOWN_ZONE = "(unknown zone)"
# A rule limited to hostnames: `(http.host in {"a" "b"})` or `(http.host eq "a")`, alone or
# as the first term of a top-level `and` (infra/zone_scope.py builds them so).
_HOST_SCOPE = re.compile(
    r'^\((http\.host in \{("[a-z0-9.-]+" ?)+\}|http\.host eq "[a-z0-9.-]+")\)( and \(.+\))?$', re.S
)


def _zone_of(res: Res) -> str:
    zone = res.props.get("zoneId")
    return zone if isinstance(zone, str) and known(zone) else UNKNOWN_ZONE


def _zones(stack: Stack) -> dict[str, dict[str, list[Res]]]:
    """zone -> setting id -> the settings declared for it. An unknown zone id is one zone."""
    zones: dict[str, dict[str, list[Res]]] = defaultdict(lambda: defaultdict(list))
    for setting in stack.of_type(tk.ZONE_SETTING):
        setting_id = setting.props.get("settingId")
        known_id = setting_id if isinstance(setting_id, str) and known(setting_id) else "?"
        zones[_zone_of(setting)][known_id].append(setting)
    return zones


def _used_zones(stack: Stack) -> dict[str, list[Res]]:
    """zone -> what the stack declares in it (settings, rulesets, records, load balancers)."""
    zones: dict[str, list[Res]] = defaultdict(list)
    for res in stack.of_type(tk.ZONE_SETTING, tk.RULESET, *DNS_RECORDS, tk.CF_LOAD_BALANCER):
        if res.type != tk.RULESET or res.props.get("kind") == "zone":
            zones[_zone_of(res)].append(res)
    return zones


def _anchor(found: list[Res]) -> str:
    """Where to report what a zone lacks: the first thing the stack declares in it."""
    return min(r.urn for r in found)


def _rules_in(stack: Stack, zone: str, phase: str) -> list[tuple[Res, Mapping[str, Any]]] | None:
    """(ruleset, rule) for the enabled rules of `zone`'s `phase`; None if one can't be read."""
    found: list[tuple[Res, Mapping[str, Any]]] = []
    for ruleset in stack.of_type(tk.RULESET):
        if ruleset.props.get("phase") != phase or _zone_of(ruleset) != zone:
            continue
        rules_ = ruleset.props.get("rules")
        if is_unknown(rules_):
            return None
        for rule in items(rules_):
            if isinstance(rule, Mapping) and flag(rule.get("enabled")) is not False:
                found.append((ruleset, rule))
    return found


def _setting_rule(
    stack: Stack, setting_id: str, allowed: tuple[str, ...], missing: str
) -> Iterator[tuple[str, str]]:
    """A zone setting's value, for the zones whose settings the stack declares (owns)."""
    for zone, settings in _zones(stack).items():
        declared = settings.get(setting_id, [])
        if not declared and "?" not in settings:
            yield (
                _anchor([r for found in settings.values() for r in found]),
                f"zone {zone}: {missing}",
            )
        for setting in declared:
            value = setting.props.get("value")
            if known(value) and str(value) not in allowed:
                yield setting.urn, f"zone {zone}: {setting_id} is {value!r}"


@rules.stack(
    "cloudflare-ssl-strict",
    MANDATORY,
    checks='SSL is "strict" (Full (strict): Cloudflare verifies the origin certificate), by the '
    "zone's setting or, in a zone the stack does not own, a configuration rule for its hostnames",
    fix='declare cloudflare.ZoneSetting(setting_id="ssl", value="strict") in an owned zone, or a '
    'set_config rule with ssl="strict" in phase http_config_settings',
    sources=(),
)
def cloudflare_ssl_strict(stack: Stack) -> Iterator[tuple[str, str]]:
    settings = _zones(stack)
    for zone, found in _used_zones(stack).items():
        if zone == UNKNOWN_ZONE:
            continue
        config = _rules_in(stack, zone, "http_config_settings")
        if config is None:
            continue
        for ruleset, rule in config:
            mode = dig(rule, "actionParameters", "ssl")
            if known(mode) and mode != "strict":
                yield ruleset.urn, f"zone {zone}: a configuration rule sets ssl {mode!r}"
        zone_modes = [s.props.get("value") for s in settings.get(zone, {}).get("ssl", [])]
        for setting in settings.get(zone, {}).get("ssl", []):
            value = setting.props.get("value")
            if known(value) and value != "strict":
                yield setting.urn, f"zone {zone}: ssl is {value!r}"
        if "?" in settings.get(zone, {}) or any(not known(m) for m in zone_modes):
            continue
        per_host = any(dig(r, "actionParameters", "ssl") == "strict" for _, r in config)
        if "strict" not in zone_modes and not per_host:
            yield (
                _anchor(found),
                f"zone {zone}: nothing sets ssl strict: the origin certificate is not verified",
            )


@rules.stack(
    "cloudflare-min-tls",
    MANDATORY,
    checks="The minimum TLS version, where the stack sets one (zone setting or per hostname), "
    "is 1.2 or later",
    fix='set min_tls_version "1.2" (cloudflare.ZoneSetting in an owned zone, or '
    "cloudflare.HostnameTlsSetting with Advanced Certificate Manager)",
    sources=(),
)
def cloudflare_min_tls(stack: Stack) -> Iterator[tuple[str, str]]:
    yield from _setting_rule(
        stack, "min_tls_version", MIN_TLS_VERSIONS, "no min_tls_version: TLS 1.0 is accepted"
    )
    for setting in stack.of_type(HOSTNAME_TLS_SETTING):
        value = setting.props.get("value")
        tls_setting = setting.props.get("settingId") == "min_tls_version"
        if tls_setting and known(value) and str(value) not in MIN_TLS_VERSIONS:
            yield setting.urn, f"{setting.props.get('hostname')}: min_tls_version is {value!r}"


@rules.stack(
    "cloudflare-always-use-https",
    ADVISORY,
    checks="Plain-HTTP requests are redirected to HTTPS at the edge (the zone's Always Use HTTPS, "
    "or a redirect rule on `not ssl` for the stack's hostnames)",
    fix='declare cloudflare.ZoneSetting(setting_id="always_use_https", value="on") in an owned '
    "zone, or a redirect rule matching `not ssl` in phase http_request_dynamic_redirect",
    sources=(),
)
def cloudflare_always_use_https(stack: Stack) -> Iterator[tuple[str, str]]:
    settings = _zones(stack)
    for zone, found in _used_zones(stack).items():
        if zone == UNKNOWN_ZONE:
            continue
        declared = settings.get(zone, {}).get("always_use_https", [])
        for setting in declared:
            value = setting.props.get("value")
            if known(value) and value != "on":
                yield setting.urn, f"zone {zone}: always_use_https is {value!r}"
        redirects = _rules_in(stack, zone, "http_request_dynamic_redirect")
        if redirects is None or "?" in settings.get(zone, {}):
            continue
        by_rule = any(
            r.get("action") == "redirect" and "not ssl" in str(r.get("expression", ""))
            for _, r in redirects
        )
        if not declared and not by_rule:
            yield _anchor(found), f"zone {zone}: plain HTTP is served"


@rules.stack(
    "cloudflare-tls-1-3",
    ADVISORY,
    checks="A zone whose settings the stack declares offers TLS 1.3",
    fix='declare cloudflare.ZoneSetting(setting_id="tls_1_3", value="on")',
    sources=(),
)
def cloudflare_tls_1_3(stack: Stack) -> Iterator[tuple[str, str]]:
    yield from _setting_rule(stack, "tls_1_3", ("on", "zrt"), "no tls_1_3 setting")


def _hsts_setting(value: Any) -> Mapping[str, Any] | None:
    for key in ("strict_transport_security", "strictTransportSecurity"):
        found = dig(value, key)
        if isinstance(found, Mapping):
            return found
    return None


def _hsts_header(value: str) -> tuple[int | None, bool, bool]:
    """(max-age, includeSubDomains, preload) of a Strict-Transport-Security value (RFC 6797)."""
    directives = [d.strip().lower() for d in value.split(";")]
    age = next(
        (number(d.split("=", 1)[1].strip('"')) for d in directives if d.startswith("max-age=")),
        None,
    )
    return age, "includesubdomains" in directives, "preload" in directives


def _header_rules(stack: Stack, zone: str) -> list[tuple[Res, str]] | None:
    """(ruleset, Strict-Transport-Security value) set by the zone's response header rules."""
    found = _rules_in(stack, zone, "http_response_headers_transform")
    if found is None:
        return None
    out = []
    for ruleset, rule in found:
        headers = dig(rule, "actionParameters", "headers")
        for name, header in (headers or {}).items() if isinstance(headers, Mapping) else ():
            value = dig(header, "value")
            if name.lower() == "strict-transport-security" and dig(header, "operation") != "remove":
                out.append((ruleset, value if isinstance(value, str) else ""))
    return out


@rules.stack(
    "cloudflare-hsts",
    ADVISORY,
    checks="The stack's hostnames send HSTS (the zone's setting or response header rules); with "
    "preload, max-age >= 1 year (the preload list's minimum)",
    fix="set Strict-Transport-Security with a response header rule per hostname (or the "
    "security_header setting in an owned zone); drop preload where max-age is short (staging)",
    sources=(),
)
def cloudflare_hsts(stack: Stack) -> Iterator[tuple[str, str]]:
    settings = _zones(stack)
    for zone, found in _used_zones(stack).items():
        if zone == UNKNOWN_ZONE:
            continue
        headers = _header_rules(stack, zone)
        declared = settings.get(zone, {}).get("security_header", [])
        if headers is None or "?" in settings.get(zone, {}):
            continue
        if not headers and not declared:
            yield _anchor(found), f"zone {zone}: no HSTS"
        for ruleset, value in headers:
            if not known(value):
                continue
            age, _, preload = _hsts_header(value)
            if age is None:
                yield ruleset.urn, f"zone {zone}: HSTS {value!r} has no max-age"
            elif preload and age < HSTS_PRELOAD_MIN_AGE:
                yield ruleset.urn, f"zone {zone}: preload with max-age {age} (< 1 year)"
        for setting in declared:
            setting_value = setting.props.get("value")
            if is_unknown(setting_value):
                continue
            hsts = _hsts_setting(setting_value)
            if hsts is None or flag(hsts.get("enabled")) is not True:
                yield setting.urn, f"zone {zone}: HSTS is off"
                continue
            age_ = number(hsts.get("max_age", hsts.get("maxAge")))
            if (
                flag(hsts.get("preload")) is True
                and age_ is not None
                and age_ < HSTS_PRELOAD_MIN_AGE
            ):
                yield setting.urn, f"zone {zone}: preload with max_age {age_} (< 1 year)"


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


@rules.resource(
    "cloudflare-rules-host-scoped",
    MANDATORY,
    types=(tk.RULESET,),
    checks="Every rule of a zone ruleset matches only named hostnames (`http.host in {...}` "
    "first): in a shared zone, anything wider changes other services",
    fix="build the expression with ZoneScope.scoped() (infra/zone_scope.py)",
    sources=(),
)
def cloudflare_rules_host_scoped(res: Res) -> Iterator[str]:
    if res.props.get("kind") != "zone":
        return
    rules_ = res.props.get("rules")
    for i, rule in enumerate(items(rules_)):
        expression = dig(rule, "expression")
        if not isinstance(expression, str) or not known(expression):
            continue
        if not _HOST_SCOPE.match(expression):
            yield f"rule {i} ({dig(rule, 'description') or 'no description'}) matches {expression!r}"


@rules.stack(
    "cloudflare-waf-managed",
    ADVISORY,
    checks="A zone the stack serves from runs a managed WAF ruleset (the WAF the load balancers "
    "don't have)",
    fix='declare a cloudflare.Ruleset in phase "http_request_firewall_managed" that executes '
    "the Cloudflare Managed Ruleset",
    sources=(),
)
def cloudflare_waf_managed(stack: Stack) -> Iterator[tuple[str, str]]:
    for zone, found in _used_zones(stack).items():
        if zone == UNKNOWN_ZONE:
            continue
        waf = _rules_in(stack, zone, "http_request_firewall_managed")
        if waf is None:
            continue
        if not any(r.get("action") == "execute" for _, r in waf):
            yield _anchor(found), f"zone {zone}: no managed WAF ruleset runs"


def _forwards(actions: Any) -> bool | None:
    listed = items(actions)
    if is_unknown(actions) or any(is_unknown(dig(a, "type")) for a in listed):
        return None
    return any(dig(a, "type") == "forward" for a in listed)


@rules.stack(
    "https-listener-requires-edge-secret",
    MANDATORY,
    checks="HTTPS listeners forward only requests that carry the edge's secret header (an "
    "http-header listener rule); their default action refuses",
    fix="give the HTTPS listener a fixed-response 403 default and a listener rule with an "
    "http_header condition that forwards (infra/components/origin_auth.py)",
    sources=(),
)
def https_listener_requires_edge_secret(stack: Stack) -> Iterator[tuple[str, str]]:
    https = [r for r in stack.of_type(*LISTENERS) if r.props.get("protocol") == "HTTPS"]
    https_urns = {r.urn for r in https}
    guarded: set[str] = set()
    for rule in stack.of_type(tk.LISTENER_RULE):
        targets = {t.urn for t in stack.referenced(rule, "listenerArn", LISTENERS)}
        conditions = rule.props.get("conditions")
        if is_unknown(conditions):
            guarded |= targets
            continue
        has_header = any(dig(c, "httpHeader", "httpHeaderName") for c in items(conditions))
        if _forwards(rule.props.get("actions")) and not has_header and targets & https_urns:
            yield rule.urn, "a rule forwards without requiring the edge's header"
        elif has_header:
            guarded |= targets
    for listener in https:
        if _forwards(listener.props.get("defaultActions")):
            yield listener.urn, "the HTTPS listener forwards every request by default"
        elif listener.urn not in guarded:
            yield listener.urn, "no listener rule admits the edge"
