"""On call: Cloudflare's notifications reach the same people as the alarms, and the paging endpoint
stays secret."""

from __future__ import annotations

from infra.review.graph import SECRET, Graph
from infra.review.stackfile import load_stack_config, read_stack_file
from infra.review.synth import synthesize
from tests.conftest import encode, raw_stack


def test_cloudflare_tells_the_same_people_about_pool_health(prod: Graph, staging: Graph) -> None:
    cfg = load_stack_config("prod")
    policies = {
        p.inputs["alertType"]: p
        for p in prod.of_type("cloudflare:index/notificationPolicy:NotificationPolicy")
    }
    assert set(policies) == {"load_balancing_health_alert", "load_balancing_pool_enablement_alert"}
    pools = sorted(
        prod.of_type("cloudflare:index/loadBalancerPool:LoadBalancerPool"),
        key=lambda p: p.inputs["name"],
    )
    health = policies["load_balancing_health_alert"].inputs
    assert sorted(health["filters"]["poolIds"]) == sorted(p.outputs["id"] for p in pools)
    assert health["filters"]["eventSources"] == ["pool", "origin"]
    assert health["mechanisms"]["emails"] == [{"id": e} for e in cfg.oncall.alerts.emails]
    emails = {
        s.inputs["endpoint"] for s in prod.of_type("aws:sns/topicSubscription:TopicSubscription")
    }
    assert emails == set(cfg.oncall.alerts.emails)
    # Staging tells nobody: no subscriptions, and no Cloudflare policy without a mechanism.
    assert not staging.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert not staging.of_type("cloudflare:index/notificationPolicy:NotificationPolicy")


def test_the_paging_endpoint_stays_secret() -> None:
    raw = raw_stack("staging")
    raw["python-org:pagingUrl"] = "https://events.pagerduty.invalid/integration/S3cr3tK3y/enqueue"
    _, secrets = read_stack_file("staging")
    g = synthesize(
        "staging", raw_config=encode(raw), secret_keys=[*secrets, "python-org:pagingUrl"]
    )
    paging = [
        s
        for s in g.of_type("aws:sns/topicSubscription:TopicSubscription")
        if s.inputs["protocol"] == "https"
    ]
    assert len(paging) == len(g.outputs["regions"])
    assert all(s.inputs["endpoint"] == SECRET for s in paging)
    (hook,) = g.of_type("cloudflare:index/notificationPolicyWebhooks:NotificationPolicyWebhooks")
    assert hook.inputs["url"] == SECRET
    assert "S3cr3tK3y" not in g.to_json()
