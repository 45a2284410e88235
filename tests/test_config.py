"""The config model: the real stacks parse, and the checks that span a whole stack (names, zones,
stack files, the README's example)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from infra.config import (
    ConfigError,
    Environment,
    NatGateways,
    Steering,
    parse_config,
)
from infra.review.stackfile import load_stack_config, read_stack_file
from infra.review.synth import synthesize
from tests.config_helpers import _all, _edge, _set
from tests.conftest import encode, raw_stack


def test_prod_config_parses_three_regions_home_first() -> None:
    cfg = load_stack_config("prod")
    assert cfg.environment is Environment.PRODUCTION
    assert cfg.region_names == ("us-east-2", "eu-west-1", "ap-southeast-1")
    assert cfg.home.name == cfg.home_region == "us-east-2"
    assert cfg.home.is_home
    assert cfg.network.nat_gateways is NatGateways.ONE_PER_AZ
    assert cfg.database.multi_az
    assert cfg.database.backup_retention_days >= 7
    assert cfg.edge.steering is Steering.GEO
    assert set(cfg.edge.pool_regions.values()) == set(cfg.region_names)


def test_staging_config_is_smaller() -> None:
    cfg = load_stack_config("staging")
    assert len(cfg.regions) == 2
    assert cfg.network.nat_gateways is NatGateways.SINGLE
    assert cfg.web.max_size < load_stack_config("prod").web.max_size


def test_an_image_pinned_by_digest_is_accepted_with_or_without_its_tag() -> None:
    for image in (
        "ghcr.io/python/pythondotorg@sha256:" + "a" * 64,
        "ghcr.io/python/pythondotorg:2026.12@sha256:" + "b" * 64,
    ):
        raw = copy.deepcopy(raw_stack("prod"))
        _set("web.appImage", image)(raw)
        assert parse_config("prod", encode(raw)).web.app_image == image


def test_a_stack_name_that_makes_names_too_long_is_refused_for_the_longest_region() -> None:
    # pyorg-<stack>-<region>: the load balancer name has 32 characters; ap-southeast-1 is the
    # longest region name in use, so it is the one named.
    raw = raw_stack("prod")
    with pytest.raises(ConfigError) as info:
        parse_config("production-blue", encode(raw))
    problems = info.value.problems
    (lb,) = [p for p in problems if "load balancer" in p]
    assert lb.startswith("python-org:regions.ap-southeast-1: in stack 'production-blue'")
    assert "'pyorg-production-blue-ap-southeast-1' is 36 characters; AWS allows 32" in lb
    # The search domain's 28 characters are the tightest: every region's is too long here.
    search = [p for p in problems if "search domain" in p]
    assert len(search) == 3
    assert all("AWS allows 28 (OpenSearch CreateDomain: DomainName)" in p for p in search)
    # Both real stacks fit, with the longest region name of AWS's partition too.
    from infra.config import aws_regions
    from infra.naming import name_length_problems

    longest = max(aws_regions(), key=len)
    assert all(not name_length_problems(stack, longest) for stack in ("prod", "staging"))


def test_a_subdomain_zone_needs_enterprise() -> None:
    """staging.python.org is a zone of its own under python.org: Enterprise-only."""
    raw = copy.deepcopy(raw_stack("staging"))
    _edge("plan", value="business")(raw)
    with pytest.raises(ConfigError) as info:
        parse_config("staging", encode(raw))
    (line,) = [p for p in info.value.problems if p.startswith("python-org:domain")]
    assert "'staging.python.org': is a subdomain zone (under python.org)" in line
    assert "which the business plan cannot have: subdomain zone setup is Enterprise-only" in line


def test_a_stack_that_owns_its_zone_may_send_hsts_for_every_subdomain() -> None:
    raw = copy.deepcopy(raw_stack("staging"))
    _edge("hsts", "staging.python.org", "includeSubdomains", value=True)(raw)
    policy = parse_config("staging", encode(raw)).edge.hsts["staging.python.org"]
    assert policy.header() == "max-age=86400; includeSubDomains"


def test_bad_config_stops_the_program_before_any_resource() -> None:
    raw = copy.deepcopy(raw_stack("prod"))
    _set("web.minSize", 5)(raw)
    with pytest.raises(ConfigError, match=r"web\.minSize = 5"):
        synthesize("prod", raw_config=encode(raw))


def test_all_problems_are_reported_at_once() -> None:
    raw = copy.deepcopy(raw_stack("prod"))
    _set("web.minSize", 50)(raw)
    _set("database.backupRetentionDays", 99)(raw)
    with pytest.raises(ConfigError) as info:
        parse_config("prod", encode(raw))
    assert len(info.value.problems) == 2


def test_duplicate_region_in_stack_file_is_rejected(tmp_path: Path) -> None:
    text = Path("Pulumi.staging.yaml").read_text()
    text = text.replace(
        "    eu-west-1:\n", "    us-east-2:\n      vpcCidr: 10.99.0.0/16\n    eu-west-1:\n", 1
    )
    (tmp_path / "Pulumi.staging.yaml").write_text(text)
    with pytest.raises(ConfigError, match=r"duplicate key 'us-east-2'"):
        read_stack_file("staging", tmp_path)


def test_staging_may_tell_nobody_and_defaults_apply() -> None:
    cfg = load_stack_config("staging")
    assert cfg.oncall.alerts.emails == ()
    assert cfg.oncall.alerts.thresholds.replica_lag_seconds == 30
    assert cfg.oncall.backup.copy_region == "eu-west-1"
    assert cfg.oncall.logs.app_retention_days == 30


def test_the_architecture_rule_agrees_with_ec2_for_every_type() -> None:
    """infra/config/catalog.py derives an instance type's architecture from AWS's naming
    convention; here it is held to EC2's own DescribeInstanceTypes answers (the copy moto ships,
    ProcessorInfo.SupportedArchitectures) for every type botocore and moto both know."""
    import gzip
    import importlib.util

    from infra.config import ec2_instance_types, instance_architecture

    spec = importlib.util.find_spec("moto")
    assert spec is not None
    assert spec.submodule_search_locations
    data = Path(spec.submodule_search_locations[0]) / "ec2/resources/instance_types.json.gz"
    described = json.loads(gzip.decompress(data.read_bytes()))
    common = sorted(ec2_instance_types() & set(described))
    assert len(common) > 1000  # the comparison covers the catalogue, not a sample
    wrong = [
        (t, instance_architecture(t), described[t]["ProcessorInfo"]["SupportedArchitectures"])
        for t in common
        if instance_architecture(t) not in described[t]["ProcessorInfo"]["SupportedArchitectures"]
    ]
    assert wrong == []
    # Both architectures are really there (the rule is not one answer for everything).
    assert {instance_architecture(t) for t in common} >= {"arm64", "x86_64", "arm64_mac"}


def test_a_stack_without_a_stack_file_is_no_such_stack_once() -> None:
    from infra.config import NoSuchStackError

    with pytest.raises(NoSuchStackError) as info:
        load_stack_config("prdo")
    message = "no such stack 'prdo': there is no Pulumi.prdo.yaml (stacks here: prod, staging)"
    assert str(info.value) == message
    assert info.value.problems == [message]  # what scripts/validate lists
    assert isinstance(info.value, ConfigError)  # every CLI that catches config errors stops


def test_a_zone_the_account_lacks_is_refused_before_any_resource() -> None:
    """infra/zones.py asks each region's provider which zones the account has (the mocks'
    account: a, b and c); eu-west-1d has the right form, but this account has no such zone."""
    raw = copy.deepcopy(raw_stack("staging"))
    _set("regions.eu-west-1.availabilityZones", ["eu-west-1a", "eu-west-1d", "eu-west-1q"])(raw)
    with pytest.raises(ConfigError) as info:
        synthesize("staging", raw_config=encode(raw), preview=True)
    assert info.value.problems == [
        f"regions.eu-west-1.availabilityZones = '{zone}': is not a zone of this AWS account in "
        "eu-west-1 (it has eu-west-1a, eu-west-1b, eu-west-1c)"
        for zone in ("eu-west-1d", "eu-west-1q")
    ]
    assert "stack 'staging'" in str(info.value)


def test_the_readme_shows_the_message_the_config_gives() -> None:
    readme = Path("README.md").read_text()
    section = readme[readme.index("## Config\n") :]
    shown = section[section.index("```\n") + 4 : section.index("\n```", section.index("```\n"))]
    raw = copy.deepcopy(raw_stack("prod"))
    _all(_set("web.instanceType", "m7i.large"), _set("database.engineVersion", 16))(raw)
    with pytest.raises(ConfigError) as info:
        parse_config("prod", encode(raw))
    assert shown == str(info.value)
