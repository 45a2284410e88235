"""Whole stacks under the mocks: the load balancer's listeners and certificate, and the instances
behind it."""

from __future__ import annotations

import re

import pytest

from infra.instances import decode_user_data
from infra.review.graph import Graph
from tests.stacks_helpers import PROD_REGIONS, mocked_passwords


def test_https_listener_uses_validated_certificate_and_modern_tls(prod: Graph) -> None:
    listeners = prod.of_type("aws:lb/listener:Listener")
    https = [x for x in listeners if x.inputs["protocol"] == "HTTPS"]
    assert len(https) == 3
    for listener in https:
        assert listener.inputs["port"] == 443
        assert listener.inputs["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
        assert listener.inputs["certificateArn"].startswith(f"arn:aws:acm:{listener.region}:")
        (action,) = listener.inputs["defaultActions"]
        # Only requests with the edge's secret are forwarded (tests/test_edge_origin_auth.py).
        assert action["type"] == "fixed-response"
        assert action["fixedResponse"]["statusCode"] == "403"
    validations = prod.of_type("aws:acm/certificateValidation:CertificateValidation")
    assert {v.region for v in validations} == set(PROD_REGIONS)


def test_no_plain_http_listener(prod: Graph) -> None:
    # Cloudflare's "Full (strict)" SSL mode connects to the origin on 443 only, and redirects
    # plain HTTP at the edge: a port-80 listener would only be one more way in.
    listeners = prod.of_type("aws:lb/listener:Listener")
    assert {x.inputs["protocol"] for x in listeners} == {"HTTPS"}
    assert {x.inputs["port"] for x in listeners} == {443}


def test_certificate_covers_every_public_hostname(prod: Graph) -> None:
    for cert in prod.of_type("aws:acm/certificate:Certificate"):
        names = {cert.inputs["domainName"], *cert.inputs.get("subjectAlternativeNames", [])}
        assert names == {"python.org", "www.python.org", f"origin-prod-{cert.region}.python.org"}
        assert cert.inputs["validationMethod"] == "DNS"


def test_launch_template_requires_imdsv2_and_encrypts_root_volume(prod: Graph) -> None:
    for lt in prod.of_type("aws:ec2/launchTemplate:LaunchTemplate"):
        assert lt.inputs["metadataOptions"]["httpTokens"] == "required"
        (device,) = lt.inputs["blockDeviceMappings"]
        assert device["ebs"]["encrypted"] == "true"
        assert lt.inputs["imageId"].startswith("resolve:ssm:/aws/service/ami-amazon-linux-latest/")
        assert lt.inputs["instanceType"] == "m7g.large"


def test_user_data_starts_the_app_without_secrets_inline(prod: Graph) -> None:
    for lt in prod.of_type("aws:ec2/launchTemplate:LaunchTemplate"):
        script = decode_user_data(lt.inputs["userData"])
        assert "systemctl enable --now pythondotorg.service" in script
        assert "ghcr.io/python/pythondotorg@sha256:" in script
        assert not re.search(r"{{\w+}}", script)  # every placeholder filled ({{.ID}} is Docker's)
        assert not any(p in script for p in mocked_passwords())
        assert re.search(r"secretsmanager\W{1,6}get-secret-value", script)
        # Every secret it names is in its own region: boots while the home region is down.
        arns = re.findall(r"arn:aws:secretsmanager:([a-z0-9-]+):", script)
        assert arns
        assert set(arns) == {lt.region}


def test_autoscaling_group_in_private_subnets_with_config_sizes(prod: Graph) -> None:
    private_ids = {
        s.outputs.get("id", None)
        for s in prod.of_type("aws:ec2/subnet:Subnet")
        if s.inputs["tags"]["tier"] == "private"
    }
    web = [a for a in prod.of_type("aws:autoscaling/group:Group") if a.name.endswith("-web")]
    assert len(web) == 3
    for asg in web:
        assert (asg.inputs["minSize"], asg.inputs["desiredCapacity"], asg.inputs["maxSize"]) == (
            2,
            3,
            9,
        )
        assert asg.inputs["instanceRefresh"]["strategy"] == "Rolling"
        assert asg.inputs["healthCheckType"] == "ELB"
        assert len(asg.inputs["vpcZoneIdentifiers"]) == 3
        assert asg.inputs["name"] == f"pyorg-prod-{asg.region}-web"
        assert "desiredCapacity" in asg.ignore_changes
        assert private_ids  # subnets exist; their ids are provider-assigned


def test_target_group_health_checks_the_health_path(prod: Graph) -> None:
    for tg in prod.of_type("aws:lb/targetGroup:TargetGroup"):
        assert tg.inputs["healthCheck"]["path"] == "/_health/"
        assert tg.inputs["healthCheck"]["matcher"] == "200"
        assert tg.inputs["port"] == 8000


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_instance_refresh_launches_before_it_terminates(
    stack: str, request: pytest.FixtureRequest
) -> None:
    g: Graph = request.getfixturevalue(stack)
    for asg in g.of_type("aws:autoscaling/group:Group"):
        if asg.name.endswith("-beat"):
            continue  # the one group that must terminate first: test_exactly_one_beat
        prefs = asg.inputs["instanceRefresh"]["preferences"]
        # Staging runs one instance: 90% of 1 is 0, and the refresh would terminate it first.
        assert prefs["minHealthyPercentage"] == 100
        assert 100 < prefs["maxHealthyPercentage"] <= 200
