"""On call, on both stacks: alarms on an encrypted topic in every region, their thresholds, the
dashboard, and runbooks that match the graph."""

from __future__ import annotations

import json
import re
from pathlib import Path

from infra import naming, region_alarms
from infra.components import alarms
from infra.config import Thresholds
from infra.review.graph import Graph
from infra.review.runbook import block, current_block, stateful_by_region
from infra.review.stackfile import load_stack_config
from policy import tokens as tk
from tests.oncall_helpers import in_region

RUNBOOK = Path(__file__).resolve().parent.parent / "docs" / "runbook-alarms.md"
WEB_KEYS = {
    "target-5xx-rate",
    "elb-5xx-rate",
    "unhealthy-hosts",
    "response-time-p95",
    "in-service-below-min",
}
DB_KEYS = {
    "database-cpu",
    "database-free-storage",
    "database-freeable-memory",
    "database-connections",
}
HOME_KEYS = {"backup-job-failed", "backup-copy-failed"}
# The app's services (infra/service_alarms.py): Redis per node, search per region; the workers,
# beat, Redis as Celery's broker and mail in the home region only.
SERVICE_KEYS = {
    "redis-cpu",
    "redis-memory",
    "search-red",
    "search-writes-blocked",
    "search-free-storage",
    "search-jvm-pressure",
    "search-cpu",
    "search-snapshot-failed",
}
HOME_SERVICE_KEYS = {
    "redis-evictions",
    "workers-below-count",
    "beat-missing",
    "beat-twice",
    "mail-bounce-rate",
    "mail-complaint-rate",
}


def alarm_keys(g: Graph, region: str) -> set[str]:
    prefix = naming.prefix(g.stack, region) + "-"
    names = [a.inputs["name"].removeprefix(prefix) for a in in_region(g, tk.METRIC_ALARM, region)]
    return {re.sub(r"-([a-z]{2}-[a-z]+-\d|\d{3})$", "", n) for n in names}


def test_every_region_has_its_alarms_on_its_encrypted_topic(graph: Graph) -> None:
    cfg = load_stack_config(graph.stack)
    for r in cfg.regions:
        keys = alarm_keys(graph, r.name)
        expected = WEB_KEYS | DB_KEYS | SERVICE_KEYS | {"canary-failed"}
        if r.is_home:
            expected |= HOME_KEYS | HOME_SERVICE_KEYS | {"media-replication-failures"}
        else:
            expected |= {"replica-lag"}
        assert keys == expected, r.name
        (topic,) = [t for t in in_region(graph, tk.SNS_TOPIC, r.name) if t.name.endswith("-alerts")]
        (key,) = [k for k in in_region(graph, tk.KMS_KEY, r.name) if k.name.endswith("-alerts-key")]
        assert topic.inputs["kmsMasterKeyId"] == key.outputs["arn"]
        assert key.protect
        assert key.retain_on_delete
        statements = json.loads(key.inputs["policy"])["Statement"]
        cloudwatch = next(
            s for s in statements if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
        )
        assert set(cloudwatch["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
        for alarm in in_region(graph, tk.METRIC_ALARM, r.name):
            assert alarm.inputs["alarmActions"] == [topic.outputs["arn"]], alarm.name
            assert alarm.inputs["okActions"] == [topic.outputs["arn"]], alarm.name


def test_replication_alarms_cover_every_destination(prod: Graph) -> None:
    home = "us-east-2"
    found = {
        a.inputs["name"]: a
        for a in in_region(prod, tk.METRIC_ALARM, home)
        if "media-replication" in a.name
    }
    assert set(found) == {
        f"pyorg-prod-{home}-media-replication-failures-{r}" for r in ("eu-west-1", "ap-southeast-1")
    }
    media = {
        b.region: b.outputs["bucket"] for b in prod.of_type(tk.BUCKET) if b.name.endswith("-media")
    }
    alarm = found[f"pyorg-prod-{home}-media-replication-failures-eu-west-1"]
    assert alarm.inputs["dimensions"] == {
        "SourceBucket": media[home],
        "DestinationBucket": media["eu-west-1"],
        "RuleId": "media-to-eu-west-1",
    }
    # The metric exists only where the rule enables replication metrics; an event threshold
    # without Replication Time Control is refused by S3 (pulumi/pulumi-aws#5806).
    (config,) = prod.of_type(tk.BUCKET_REPLICATION)
    for rule in config.inputs["rules"]:
        assert rule["destination"]["metrics"] == {"status": "Enabled"}
        assert "replicationTime" not in rule["destination"]


def test_every_alarm_links_a_section_of_the_runbook(graph: Graph) -> None:
    sections = set(re.findall(r"^## ([a-z0-9-]+)$", RUNBOOK.read_text(), re.MULTILINE))
    url = load_stack_config(graph.stack).oncall.alerts.runbook_url
    for alarm in graph.of_type(tk.METRIC_ALARM):
        link = re.search(
            rf"Runbook: {re.escape(url)}#([a-z0-9-]+)$", alarm.inputs["alarmDescription"]
        )
        assert link, alarm.inputs["alarmDescription"]
        assert link.group(1) in sections, (
            f"{alarm.name}: no section {link.group(1)} in {RUNBOOK.name}"
        )
        assert len(alarm.inputs["alarmDescription"]) <= 1024  # PutMetricAlarm's limit


def test_thresholds_come_from_config() -> None:
    t = Thresholds(
        target_5xx_percent=2.5,
        elb_5xx_percent=1,
        unhealthy_hosts=2,
        response_time_p95_seconds=0.8,
        db_cpu_percent=70,
        db_free_storage_gb=25,
        db_freeable_memory_mb=512,
        db_connections=100,
        replica_lag_seconds=12,
        canary_latency_ms=1500,
    )
    web = {
        s.key: s
        for s in region_alarms.web_alarms(
            t, load_balancer="lb", target_group="tg", autoscaling_group="asg", min_size=4
        )
    }
    assert web["target-5xx-rate"].threshold == 2.5
    assert web["response-time-p95"].threshold == 0.8
    assert web["response-time-p95"].metric is not None
    assert web["response-time-p95"].metric.stat == "p95"  # an extended statistic
    assert web["in-service-below-min"].threshold == 4
    assert web["in-service-below-min"].comparison == "LessThanThreshold"
    db = {s.key: s for s in region_alarms.database_alarms(t, identifier="db", replica=True)}
    assert db["database-free-storage"].threshold == 25 * 1024**3
    assert db["database-freeable-memory"].threshold == 512 * 1024**2
    assert db["replica-lag"].threshold == 12
    assert db["replica-lag"].missing == alarms.BREACHING  # no data: replication has stopped
    assert "replica-lag" not in {
        s.key for s in region_alarms.database_alarms(t, identifier="db", replica=False)
    }


def test_rates_are_metric_math_and_percentiles_extended_statistics(prod: Graph) -> None:
    by_name = {a.inputs["name"]: a for a in prod.of_type(tk.METRIC_ALARM)}
    rate = by_name["pyorg-prod-eu-west-1-target-5xx-rate"]
    queries = {q["id"]: q for q in rate.inputs["metricQueries"]}
    assert queries["result"]["returnData"] is True
    assert "100 * FILL(errors, 0) / requests" in queries["result"]["expression"]
    assert queries["errors"]["metric"]["metricName"] == "HTTPCode_Target_5XX_Count"
    lb = next(x for x in prod.of_type(tk.LOAD_BALANCER) if x.region == "eu-west-1")
    assert queries["requests"]["metric"]["dimensions"] == {"LoadBalancer": lb.outputs["arnSuffix"]}
    p95 = by_name["pyorg-prod-eu-west-1-response-time-p95"]
    assert p95.inputs["extendedStatistic"] == "p95"
    assert "statistic" not in p95.inputs


def test_the_dashboard_shows_every_region_side_by_side(graph: Graph) -> None:
    cfg = load_stack_config(graph.stack)
    (dash,) = graph.of_type("aws:cloudwatch/dashboard:Dashboard")
    assert dash.region == cfg.home_region
    assert dash.inputs["dashboardName"] == naming.dashboard(cfg.stack)
    widgets = json.loads(dash.inputs["dashboardBody"])["widgets"]
    columns = {w["properties"]["region"]: w["x"] for w in widgets}
    assert list(columns) == list(cfg.region_names)  # stack order, left to right
    assert len(set(columns.values())) == len(cfg.regions)
    for w in widgets:
        assert all(
            m[-1] == {"region": w["properties"]["region"]} for m in w["properties"]["metrics"]
        )


def test_the_region_removal_runbook_lists_what_the_graph_holds(prod: Graph, staging: Graph) -> None:
    assert current_block() == block(prod), "run: .venv/bin/python -m infra.review.runbook"
    # The same resources per region in staging: the list is the program's, not prod's.
    assert [row[:2] for row in stateful_by_region(staging)] == [
        row[:2] for row in stateful_by_region(prod)
    ]


def test_every_redis_node_and_the_single_beat_are_watched(prod: Graph) -> None:
    cfg = load_stack_config("prod")
    home = cfg.home_region
    alarms = {a.inputs["name"]: a for a in prod.of_type(tk.METRIC_ALARM)}
    for r in cfg.regions:
        group = naming.redis_group_id("prod", r.name)
        for n in range(1, cfg.redis.nodes + 1):
            alarm = alarms[f"{naming.prefix('prod', r.name)}-redis-cpu-{n:03d}"]
            assert alarm.inputs["dimensions"] == {"CacheClusterId": f"{group}-{n:03d}"}
    beat = naming.beat_asg_name("prod", home)
    missing = alarms[f"{naming.prefix('prod', home)}-beat-missing"].inputs
    twice = alarms[f"{naming.prefix('prod', home)}-beat-twice"].inputs
    assert missing["dimensions"] == twice["dimensions"] == {"AutoScalingGroupName": beat}
    assert (missing["comparisonOperator"], missing["threshold"]) == ("LessThanThreshold", 1)
    assert (twice["comparisonOperator"], twice["threshold"]) == ("GreaterThanThreshold", 1)
    search = alarms[f"{naming.prefix('prod', home)}-search-red"].inputs["dimensions"]
    assert search["DomainName"] == naming.search_domain_name("prod", home)
    assert search["ClientId"].isdigit()  # the AWS account, which AWS/ES publishes under
