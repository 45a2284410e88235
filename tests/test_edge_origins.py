"""The Cloudflare edge's origins: one pool per region, health monitors, failover order and the media
bucket."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.review.graph import UNKNOWN, Graph, Resource
from infra.review.mocks import CLOUDFLARE_IPV4, CLOUDFLARE_IPV6
from infra.review.stackfile import load_stack_config
from infra.zone_scope import scoped_hosts
from tests.conftest import SynthVariant
from tests.edge_helpers import LB, MONITOR, RECORD, RULESET, _rule, _ruleset, alb_dns

POOL = "cloudflare:index/loadBalancerPool:LoadBalancerPool"


def pools_by_region(g: Graph) -> dict[str, Resource]:
    return {p.inputs["origins"][0]["name"]: p for p in g.of_type(POOL)}


def pool_region_by_id(g: Graph) -> dict[str, str]:
    return {p.outputs["id"]: region for region, p in pools_by_region(g).items()}


def test_one_pool_per_region_whose_origin_is_that_regions_load_balancer(prod: Graph) -> None:
    pools = pools_by_region(prod)
    assert set(pools) == set(prod.outputs["regions"])
    for region, pool in pools.items():
        (origin,) = pool.inputs["origins"]
        assert origin["address"] == alb_dns(prod, region)
        assert origin["address"].endswith(f".{region}.elb.amazonaws.com")
        assert "header" not in origin  # would override the write-pinning origin rule
        assert pool.inputs["name"] == f"python-org-prod-{region}"


def test_https_monitor_on_health_path_is_attached_to_every_pool(prod: Graph) -> None:
    (monitor,) = prod.of_type(MONITOR)
    i = monitor.inputs
    assert (i["type"], i["method"], i["path"], i["port"]) == ("https", "GET", "/_health/", 443)
    assert i["expectedCodes"] == "200"
    assert i["allowInsecure"] is False
    assert {p.inputs["monitor"] for p in prod.of_type(POOL)} == {monitor.outputs["id"]}


def test_failover_after_the_mapped_pool_and_home_goes_by_distance(prod: Graph) -> None:
    cfg = load_stack_config("prod")
    names = pool_region_by_id(prod)
    (lb,) = prod.of_type(LB)
    i = lb.inputs
    assert i["proxied"] is True
    assert i["steeringPolicy"] == "geo"
    assert names[i["fallbackPool"]] == "us-east-2"
    assert set(i["regionPools"]) == set(cfg.edge.pool_regions)
    order = {code: [names[p] for p in pools] for code, pools in i["regionPools"].items()}
    # East-coast US: Ohio, then Ireland (5,600 km), then Singapore (15,000 km); by name the
    # last two were the other way round.
    assert order["ENAM"] == ["us-east-2", "eu-west-1", "ap-southeast-1"]
    assert order["WEU"] == ["eu-west-1", "us-east-2", "ap-southeast-1"]
    assert order["SEAS"] == ["ap-southeast-1", "us-east-2", "eu-west-1"]
    assert prod.outputs["edge"]["region_pools"]["ENAM"] == order["ENAM"]
    assert i["adaptiveRouting"] == {"failoverAcrossPools": True}


def test_adding_a_region_adds_its_pool_and_steering_entry(synth_variant: SynthVariant) -> None:
    def add(raw: dict[str, Any]) -> None:
        raw["python-org:regions"]["us-west-2"] = {
            "vpcCidr": "10.40.0.0/16",
            # Three, as prod's search.zones asks of every region.
            "availabilityZones": ["us-west-2a", "us-west-2b", "us-west-2c"],
        }
        raw["python-org:edge"]["poolRegions"]["WNAM"] = "us-west-2"

    g = synth_variant("prod", add)
    names = pool_region_by_id(g)
    assert set(pools_by_region(g)) == {"us-east-2", "eu-west-1", "ap-southeast-1", "us-west-2"}
    (lb,) = g.of_type(LB)
    assert [names[p] for p in lb.inputs["regionPools"]["WNAM"]] == [
        "us-west-2", "us-east-2", "eu-west-1", "ap-southeast-1"
    ]  # fmt: skip
    # Ohio's users now fail over to Oregon before Ireland.
    assert [names[p] for p in lb.inputs["regionPools"]["ENAM"]][:3] == [
        "us-east-2", "us-west-2", "eu-west-1"
    ]  # fmt: skip
    assert "origin-prod-us-west-2.python.org" in g.outputs["edge"]["hostnames"]


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_edge_declares_in_preview_with_unknown_origins(
    stack: str, prod_preview: Graph, staging_preview: Graph
) -> None:
    g = prod_preview if stack == "prod" else staging_preview
    pools = g.of_type(POOL)
    assert pools
    assert all(p.inputs["origins"][0]["address"] == UNKNOWN for p in pools)
    assert g.outputs["edge"]["fallback_pool"] == "us-east-2"
    for ruleset in g.of_type(RULESET):
        for rule in ruleset.inputs["rules"]:
            assert scoped_hosts(rule["expression"]), rule


def test_media_comes_from_the_home_regions_bucket_through_the_edge(prod: Graph) -> None:
    """The app's media URLs are https://<public host>/media/... (the settings overlay): GET and
    HEAD of /media/ on the public names go to the home region's media bucket, whose policy lets
    only Cloudflare's addresses read it."""
    rule = _rule(prod, "http_request_origin", "media")
    bucket = prod.outputs["regions"]["us-east-2"]["media_bucket"]
    bucket_host = f"{bucket}.s3.us-east-2.amazonaws.com"
    assert rule["action"] == "route"
    assert rule["actionParameters"] == {
        "hostHeader": bucket_host,  # S3 needs its own name as Host (and SNI, which follows)
        "origin": {"host": "media-origin-prod.python.org"},
    }
    # On the names that serve (the apex redirects to www), GET and HEAD only.
    assert scoped_hosts(rule["expression"]) == frozenset({"www.python.org"})
    assert rule["expression"].endswith(
        '(http.request.method in {"GET" "HEAD"} and starts_with(http.request.uri.path, "/media/"))'
    )
    # After the write rule: the later rule wins where both match (they never do: other methods).
    refs = [r["ref"] for r in _ruleset(prod, "http_request_origin")["rules"]]
    assert refs.index("pyorg_prod_writes") < refs.index("pyorg_prod_media")
    # The resolve override names a DNS-only record of the zone that points at the bucket.
    (record,) = [
        r for r in prod.of_type(RECORD) if r.inputs["name"] == "media-origin-prod.python.org"
    ]
    assert record.inputs["content"] == bucket_host
    assert record.inputs["proxied"] is False
    policy = prod.one("aws:s3/bucketPolicy:BucketPolicy", "us-east-2-media")
    (read,) = [
        s for s in json.loads(policy.inputs["policy"])["Statement"] if s["Effect"] == "Allow"
    ]
    assert read["Condition"]["IpAddress"]["aws:SourceIp"] == sorted(
        CLOUDFLARE_IPV4 + CLOUDFLARE_IPV6
    )
