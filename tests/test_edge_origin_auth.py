"""Origin authentication: the load balancers refuse requests without the edge's secret, and its
rotation."""

from __future__ import annotations

import json
import re
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.components.origin_auth import OriginSecret, OriginSecretArgs
from infra.review.graph import SECRET, Graph
from infra.review.mocks.resources import _random_password
from infra.review.synth import synthesize
from tests import alb_rules
from tests.edge_helpers import MONITOR, RULESET, _rule

LISTENER = "aws:lb/listener:Listener"
LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"
PASSWORD = "random:index/randomPassword:RandomPassword"


def _secrets(g: Graph) -> dict[str, str]:
    """What the mocks generated for the two origin secrets (the graph masks them)."""
    return {
        r.name.removeprefix("origin-secret-"): _random_password(r.name, r.inputs, "")[1]["result"]
        for r in g.of_type(PASSWORD)
        if r.name.startswith("origin-secret-")
    }


def test_a_request_without_the_edges_secret_is_refused_by_every_listener(prod: Graph) -> None:
    secrets = _secrets(prod)
    assert set(secrets) == {"a", "b"}
    assert secrets["a"] != secrets["b"]
    assert all(re.fullmatch("[a-z0-9]{64}", s) for s in secrets.values())  # no ALB wildcards
    passwords = {r.urn for r in prod.of_type(PASSWORD) if r.name.startswith("origin-secret-")}
    listeners = [lst for lst in prod.of_type(LISTENER) if lst.inputs["protocol"] == "HTTPS"]
    assert len(listeners) == 3
    for listener in listeners:
        rules = [
            r
            for r in prod.of_type(LISTENER_RULE)
            if r.inputs["listenerArn"] == listener.outputs["arn"]
        ]
        (rule,) = rules
        assert rule.inputs["conditions"][0]["httpHeader"]["values"] == SECRET  # kept secret
        assert passwords <= set(rule.dependencies)  # ...and made of the two passwords
        declared = json.loads(json.dumps(rule.inputs))
        declared["conditions"][0]["httpHeader"]["values"] = [secrets["a"], secrets["b"]]
        default = listener.inputs["defaultActions"]

        def send(headers: dict[str, str], default: Any = default, rule: Any = declared) -> Any:
            return dict(alb_rules.route(default, [rule], headers))

        refused = {"type": "fixed-response", "fixedResponse": {"contentType": "text/plain",
                   "messageBody": "Forbidden\n", "statusCode": "403"}}  # fmt: skip
        assert send({}) == refused
        assert send({"X-Python-Org-Edge": "guess"}) == refused
        assert send({"X-Python-Org-Edge": "*"}) == refused
        assert send({"X-Other": secrets["a"]}) == refused
        for value in secrets.values():  # both accepted: rotation without downtime
            assert send({"x-python-org-edge": value})["type"] == "forward"
            assert send({"X-Python-Org-Edge": value.upper()})["type"] == "forward"


def test_the_edge_and_the_monitor_send_the_active_secret(prod: Graph) -> None:
    rule = _rule(prod, "http_request_late_transform", "origin_secret")
    header = rule["actionParameters"]["headers"]["X-Python-Org-Edge"]
    assert header == {"operation": "set", "value": SECRET}
    active = next(r for r in prod.of_type(PASSWORD) if r.name == "origin-secret-a")
    ruleset = prod.one(RULESET, "edge-request-headers")
    assert active.urn in ruleset.dependencies
    (monitor,) = prod.of_type(MONITOR)
    # The app's ALLOWED_HOSTS holds the public names: the monitor sends the canonical one.
    assert monitor.inputs["header"] == {"Host": ["www.python.org"], "X-Python-Org-Edge": SECRET}
    assert active.urn in monitor.dependencies


def test_rotation_switches_what_the_edge_sends_and_regenerates_only_the_bumped_secret() -> None:
    def program() -> None:
        secret = OriginSecret(
            "origin-secret",
            OriginSecretArgs(header="X-Python-Org-Edge", active="b", generations={"a": 2, "b": 1}),
        )
        aws.ssm.Parameter("probe-active", type="SecureString", value=secret.active)
        aws.ssm.Parameter(
            "probe-accepted",
            type="SecureString",
            value=secret.check.accepted.apply(",".join),
        )
        pulumi.export("header", secret.check.header)

    g = synthesize("prod", raw_config={}, program=program)
    passwords = {r.name: r for r in g.of_type(PASSWORD)}
    assert passwords["origin-secret-a"].inputs["keepers"] == {"generation": "2"}
    assert passwords["origin-secret-b"].inputs["keepers"] == {"generation": "1"}
    assert all(
        p.inputs["upper"] is False and p.inputs["special"] is False for p in passwords.values()
    )
    active = g.one("aws:ssm/parameter:Parameter", "probe-active")
    accepted = g.one("aws:ssm/parameter:Parameter", "probe-accepted")
    assert set(active.dependencies) & {p.urn for p in passwords.values()} == {
        passwords["origin-secret-b"].urn
    }
    assert {p.urn for p in passwords.values()} <= set(accepted.dependencies)
    assert active.inputs["value"] == SECRET
