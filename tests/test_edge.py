"""The Cloudflare edge: pools, monitor, steering, DNS, TLS settings, cache, WAF, origin lock."""

from __future__ import annotations

from typing import Any

import pytest

from infra.components.edge import CLOUDFLARE_MANAGED_RULESET, OWASP_CORE_RULESET
from infra.graph import UNKNOWN, Graph, Resource
from infra.stackfile import load_stack_config, stack_names
from tests.conftest import SynthVariant

POOL = "cloudflare:index/loadBalancerPool:LoadBalancerPool"
LB = "cloudflare:index/loadBalancer:LoadBalancer"
MONITOR = "cloudflare:index/loadBalancerMonitor:LoadBalancerMonitor"
RECORD = "cloudflare:index/dnsRecord:DnsRecord"
SETTING = "cloudflare:index/zoneSetting:ZoneSetting"
RULESET = "cloudflare:index/ruleset:Ruleset"


def pools_by_region(g: Graph) -> dict[str, Resource]:
    return {p.inputs["origins"][0]["name"]: p for p in g.of_type(POOL)}


def pool_region_by_id(g: Graph) -> dict[str, str]:
    return {p.outputs["id"]: region for region, p in pools_by_region(g).items()}


def alb_dns(g: Graph, region: str) -> str:
    dns: str = g.outputs["regions"][region]["load_balancer_dns_name"]
    return dns


def test_one_pool_per_region_whose_origin_is_that_regions_load_balancer(prod: Graph) -> None:
    pools = pools_by_region(prod)
    assert set(pools) == set(prod.outputs["regions"])
    for region, pool in pools.items():
        (origin,) = pool.inputs["origins"]
        assert origin["address"] == alb_dns(prod, region)
        assert origin["address"].endswith(f".{region}.elb.amazonaws.com")
        assert origin["enabled"] is True
        assert "header" not in origin  # would override the write-pinning origin rule
        assert pool.inputs["name"] == f"python-org-prod-{region}"


def test_https_monitor_on_health_path_is_attached_to_every_pool(prod: Graph) -> None:
    (monitor,) = prod.of_type(MONITOR)
    i = monitor.inputs
    assert (i["type"], i["method"], i["path"], i["port"]) == ("https", "GET", "/_health/", 443)
    assert i["expectedCodes"] == "200"
    assert i["allowInsecure"] is False
    assert i["header"] == {"Host": ["python.org"]}
    assert {p.inputs["monitor"] for p in prod.of_type(POOL)} == {monitor.outputs["id"]}


def test_load_balancer_per_hostname_steers_by_geo_with_home_fallback(prod: Graph) -> None:
    cfg = load_stack_config("prod")
    names = pool_region_by_id(prod)
    lbs = {lb.inputs["name"]: lb for lb in prod.of_type(LB)}
    assert set(lbs) == {"python.org", "www.python.org"}
    for lb in lbs.values():
        i = lb.inputs
        assert i["proxied"] is True
        assert i["steeringPolicy"] == "geo"
        assert names[i["fallbackPool"]] == "us-east-2"
        assert next(names[p] for p in i["defaultPools"]) == "us-east-2"
        # Every mapped Cloudflare region is steered to its AWS region first, and can fail
        # over to every other region.
        assert set(i["regionPools"]) == set(cfg.edge.pool_regions)
        for code, pools in i["regionPools"].items():
            regions = [names[p] for p in pools]
            assert regions[0] == cfg.edge.pool_regions[code]
            assert sorted(regions) == sorted(cfg.region_names)
            assert regions[1] == "us-east-2" or regions[0] == "us-east-2"
        assert i["adaptiveRouting"] == {"failoverAcrossPools": True}


def test_writes_are_pinned_to_the_home_regions_origin_by_an_origin_rule(prod: Graph) -> None:
    (rule,) = _ruleset(prod, "http_request_origin")["rules"]
    assert rule["action"] == "route"
    assert rule["actionParameters"] == {"origin": {"host": "origin-prod-us-east-2.python.org"}}
    assert 'not (http.request.method in {"GET" "HEAD" "OPTIONS"})' in rule["expression"]
    assert 'starts_with(http.request.uri.path, "/admin/")' in rule["expression"]
    # Load balancer rules are ignored under geo steering: none are declared.
    assert all("rules" not in lb.inputs for lb in prod.of_type(LB))


def test_hostnames_have_proxied_records_and_validation_records_are_dns_only(
    prod: Graph,
) -> None:
    records = prod.of_type(RECORD)
    proxied = {r.inputs["name"]: r.inputs["content"] for r in records if r.inputs["proxied"]}
    home = alb_dns(prod, "us-east-2")
    assert proxied == {
        "python.org": home,
        "www.python.org": home,
        **{f"origin-prod-{r}.python.org": alb_dns(prod, r) for r in prod.outputs["regions"]},
    }
    validation = [r for r in records if not r.inputs["proxied"]]
    assert len(validation) == 2 + 3  # the public names once, each region's origin name
    expected = {
        (o["resourceRecordName"].rstrip("."), o["resourceRecordValue"].rstrip("."))
        for c in prod.of_type("aws:acm/certificate:Certificate")
        for o in c.outputs["domainValidationOptions"]
    }
    assert {(r.inputs["name"], r.inputs["content"]) for r in validation} == expected
    assert all(r.inputs["type"] == "CNAME" for r in validation)


def test_every_regions_certificate_validation_waits_on_the_cloudflare_records(
    prod: Graph,
) -> None:
    records = {r.inputs["name"]: r for r in prod.of_type(RECORD) if not r.inputs["proxied"]}
    certs = {c.region: c for c in prod.of_type("aws:acm/certificate:Certificate")}
    checks = prod.of_type("aws:acm/certificateValidation:CertificateValidation")
    assert len(checks) == 3
    for check in checks:
        assert check.region
        names = {
            o["resourceRecordName"].rstrip(".")
            for o in certs[check.region].outputs["domainValidationOptions"]
        }
        assert set(check.inputs["validationRecordFqdns"]) == names
        assert {records[n].urn for n in names} <= set(check.dependencies)


def test_zone_settings_enforce_strict_tls_and_hsts(prod: Graph) -> None:
    settings = {s.inputs["settingId"]: s.inputs["value"] for s in prod.of_type(SETTING)}
    assert settings["ssl"] == "strict"
    assert settings["min_tls_version"] == "1.2"
    assert settings["always_use_https"] == "on"
    assert settings["http3"] == "on"
    assert "brotli" not in settings  # retired by Cloudflare: a compression rule instead
    hsts = settings["security_header"]["strict_transport_security"]
    assert hsts["enabled"] is True
    assert hsts["max_age"] >= 31536000
    assert hsts["include_subdomains"] is True


def test_every_stack_has_a_zone_of_its_own(prod: Graph, staging: Graph) -> None:
    """Zone settings and a zone's phase rulesets exist once per zone: two stacks declaring them
    in one zone would overwrite each other on every deploy."""
    stacks = {name: load_stack_config(name) for name in stack_names()}
    domains = [cfg.domain for cfg in stacks.values()]
    assert len(set(domains)) == len(domains), domains
    zones = {g.outputs["edge"]["zone_id"] for g in (prod, staging)}
    assert len(zones) == 2


def test_hsts_preload_only_with_a_max_age_the_preload_list_accepts(
    prod: Graph, staging: Graph
) -> None:
    def hsts(g: Graph) -> dict[str, Any]:
        (setting,) = [s for s in g.of_type(SETTING) if s.inputs["settingId"] == "security_header"]
        value: dict[str, Any] = setting.inputs["value"]["strict_transport_security"]
        return value

    assert hsts(prod)["preload"] is True
    assert hsts(prod)["max_age"] >= 31536000
    assert hsts(staging)["preload"] is False  # one day: the preload list would reject it


def _ruleset(g: Graph, phase: str) -> dict[str, Any]:
    (ruleset,) = [r for r in g.of_type(RULESET) if r.inputs["phase"] == phase]
    return ruleset.inputs


def test_cache_rules_long_ttl_for_static_short_for_html_bypass_last(prod: Graph) -> None:
    html, static, bypass = _ruleset(prod, "http_request_cache_settings")["rules"]
    assert static["expression"] == (
        'starts_with(http.request.uri.path, "/static/") or '
        'starts_with(http.request.uri.path, "/media/")'
    )
    assert static["actionParameters"]["edgeTtl"] == {"mode": "override_origin", "default": 2592000}
    assert html["actionParameters"]["edgeTtl"]["default"] == 300
    assert 'not http.cookie contains "sessionid"' in html["expression"]
    # Later cache rules override earlier ones: bypass must be last to win.
    assert bypass["actionParameters"] == {"cache": False}
    for path in ("/admin/", "/accounts/", "/users/"):
        assert f'starts_with(http.request.uri.path, "{path}")' in bypass["expression"]
    assert all(r["action"] == "set_cache_settings" for r in (html, static, bypass))


def test_brotli_is_preferred_by_a_compression_rule(prod: Graph) -> None:
    (rule,) = _ruleset(prod, "http_response_compression")["rules"]
    assert rule["action"] == "compress_response"
    assert rule["expression"] == "true"
    assert [a["name"] for a in rule["actionParameters"]["algorithms"]] == ["brotli", "gzip"]


def test_waf_deploys_the_managed_rulesets(prod: Graph) -> None:
    rules = _ruleset(prod, "http_request_firewall_managed")["rules"]
    executed = {r["actionParameters"]["id"] for r in rules if r["action"] == "execute"}
    assert executed == {CLOUDFLARE_MANAGED_RULESET, OWASP_CORE_RULESET}
    assert all(r["expression"] == "true" and r["enabled"] for r in rules)


def test_rate_limits_on_login_and_upload_from_config(prod: Graph) -> None:
    rules = _ruleset(prod, "http_ratelimit")["rules"]
    by_path = {r["expression"]: r for r in rules}
    login = by_path['starts_with(http.request.uri.path, "/accounts/login/")']
    upload = by_path['starts_with(http.request.uri.path, "/uploads/")']
    assert login["action"] == upload["action"] == "block"
    assert login["ratelimit"]["requestsPerPeriod"] == 10
    assert login["ratelimit"]["period"] == 60
    assert upload["ratelimit"]["requestsPerPeriod"] == 30
    assert "ip.src" in login["ratelimit"]["characteristics"]


def test_staging_edge_serves_its_own_hostname(staging: Graph) -> None:
    lbs = staging.of_type(LB)
    assert {lb.inputs["name"] for lb in lbs} == {"staging.python.org"}
    (rule,) = _ruleset(staging, "http_request_origin")["rules"]
    assert rule["actionParameters"]["origin"]["host"] == (
        "origin-staging-us-east-2.staging.python.org"
    )
    assert len(staging.of_type(POOL)) == 2
    (login,) = _ruleset(staging, "http_ratelimit")["rules"]
    assert login["ratelimit"]["requestsPerPeriod"] == 20


def test_adding_a_region_adds_its_pool_and_steering_entry(synth_variant: SynthVariant) -> None:
    def add(raw: dict[str, Any]) -> None:
        raw["python-org:regions"]["us-west-2"] = {
            "vpcCidr": "10.40.0.0/16",
            "availabilityZones": ["us-west-2a", "us-west-2b"],
        }
        raw["python-org:edge"]["poolRegions"]["WNAM"] = "us-west-2"

    g = synth_variant("prod", add)
    names = pool_region_by_id(g)
    assert set(pools_by_region(g)) == {"us-east-2", "eu-west-1", "ap-southeast-1", "us-west-2"}
    for lb in g.of_type(LB):
        assert names[lb.inputs["regionPools"]["WNAM"][0]] == "us-west-2"
        assert names[lb.inputs["regionPools"]["ENAM"][0]] == "us-east-2"
    assert g.outputs["edge"]["region_pools"]["WNAM"][0] == "us-west-2"


def test_latency_steering_has_no_region_map(synth_variant: SynthVariant) -> None:
    def latency(raw: dict[str, Any]) -> None:
        raw["python-org:edge"]["steering"] = "dynamic_latency"
        raw["python-org:edge"]["poolRegions"] = {}

    g = synth_variant("prod", latency)
    for lb in g.of_type(LB):
        assert lb.inputs["steeringPolicy"] == "dynamic_latency"
        assert "regionPools" not in lb.inputs
        assert len(lb.inputs["defaultPools"]) == 3


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_edge_declares_in_preview_with_unknown_origins(
    stack: str, prod_preview: Graph, staging_preview: Graph
) -> None:
    g = prod_preview if stack == "prod" else staging_preview
    pools = g.of_type(POOL)
    assert pools
    assert all(p.inputs["origins"][0]["address"] == UNKNOWN for p in pools)
    # What is known at preview time is shown: the steering map by region name.
    assert g.outputs["edge"]["fallback_pool"] == "us-east-2"
