"""On call, on both stacks: alarms on an encrypted topic in every region, canaries, app logs,
backups copied across regions, Cloudflare notifications, and runbooks that match the graph."""

from __future__ import annotations

import http.server
import importlib.util
import io
import json
import re
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra import naming, region_alarms
from infra.components import alarms, canary
from infra.config import Thresholds
from infra.instances import decode_user_data
from infra.review.graph import SECRET, Graph, Resource
from infra.review.runbook import block, current_block, stateful_by_region
from infra.review.stackfile import load_stack_config, read_stack_file
from infra.review.synth import synthesize
from policy import tokens as tk
from tests.conftest import encode, raw_stack

RUNBOOK = Path(__file__).resolve().parent.parent / "docs" / "runbook-alarms.md"
_SCRIPT = Path(canary.__file__).resolve().parent.parent / "templates" / "synthetics_canary.py"
_spec = importlib.util.spec_from_file_location("synthetics_canary", _SCRIPT)
assert _spec is not None
assert _spec.loader is not None
synthetics_canary = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(synthetics_canary)
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


@pytest.fixture(params=["prod", "staging"])
def graph(request: pytest.FixtureRequest) -> Graph:
    g: Graph = request.getfixturevalue(request.param)
    return g


def in_region(g: Graph, type_: str, region: str) -> list[Resource]:
    return [r for r in g.of_type(type_) if r.region == region]


def alarm_keys(g: Graph, region: str) -> set[str]:
    prefix = naming.prefix(g.stack, region) + "-"
    names = [a.inputs["name"].removeprefix(prefix) for a in in_region(g, tk.METRIC_ALARM, region)]
    return {re.sub(r"-([a-z]{2}-[a-z]+-\d|\d{3})$", "", n) for n in names}


# --- alarms and their topic --------------------------------------------------------------------


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


# --- synthetic checks --------------------------------------------------------------------------


def test_a_canary_per_region_checks_the_public_names_and_its_origin(graph: Graph) -> None:
    cfg = load_stack_config(graph.stack)
    for r in cfg.regions:
        (c,) = in_region(graph, tk.CANARY, r.name)
        assert c.inputs["name"] == naming.canary_name(cfg.stack, r.name)
        assert c.inputs["runtimeVersion"].startswith("syn-python-selenium-")
        assert c.inputs["handler"] == f"{canary.MODULE}.handler"
        env = c.inputs["runConfig"]["environmentVariables"]
        urls = [check["url"] for check in json.loads(env["CANARY_CHECKS"])]
        origin = f"https://{naming.origin_hostname(cfg.stack, r.name, cfg.domain)}"
        assert urls == [
            *(f"https://{h}/" for h in cfg.hostnames),
            f"{origin}{cfg.web.health_check_path}",
            f"{origin}/",
            f"{origin}{canary.STATIC_ASSET}",
        ]
        assert env["CANARY_LATENCY_MS"] == str(cfg.oncall.alerts.thresholds.canary_latency_ms)
        logs = next(
            b for b in in_region(graph, tk.BUCKET, r.name) if b.name.endswith("-access-logs")
        )
        assert c.inputs["artifactS3Location"] == f"s3://{logs.outputs['bucket']}/synthetics/"
        with zipfile.ZipFile(c.inputs["zipFile"]) as archive:
            assert archive.namelist() == [f"python/{canary.MODULE}.py"]


class _Site(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/slow":
            time.sleep(0.3)
        status = 500 if self.path == "/broken" else 200
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def site() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_canary_script_fails_on_an_error_or_a_slow_answer(site: str) -> None:
    def run(paths: list[str], budget: int) -> str:
        checks = [{"name": p, "url": f"{site}{p}"} for p in paths]
        result: str = synthetics_canary.run(
            {"CANARY_CHECKS": json.dumps(checks), "CANARY_LATENCY_MS": str(budget)}
        )
        return result

    assert run(["/", "/_health/"], 2000) == "2 checks passed"
    with pytest.raises(RuntimeError, match=r"/broken answered 500, not 200"):
        run(["/", "/broken"], 2000)
    with pytest.raises(RuntimeError, match=r"/slow took \d+ ms \(budget 100 ms\)"):
        run(["/slow"], 100)
    nobody = [{"name": "down", "url": "http://127.0.0.1:1/"}]
    with pytest.raises(RuntimeError, match=r"down: http://127.0.0.1:1/ did not answer"):
        synthetics_canary.run({"CANARY_CHECKS": json.dumps(nobody), "CANARY_LATENCY_MS": "500"})


def test_the_canary_package_is_deterministic() -> None:
    first = canary.package().read_bytes()
    canary.package().unlink()
    assert canary.package().read_bytes() == first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        source = archive.read(f"python/{canary.MODULE}.py")
    assert source == _SCRIPT.read_bytes()


# --- logs ---------------------------------------------------------------------------------------


def test_app_logs_reach_the_regions_encrypted_log_group(graph: Graph) -> None:
    cfg = load_stack_config(graph.stack)
    for r in cfg.regions:
        group = next(
            g for g in in_region(graph, tk.LOG_GROUP, r.name) if g.name.endswith("-app-logs")
        )
        assert group.inputs["name"] == naming.app_log_group(cfg.stack, r.name)
        assert group.inputs["retentionInDays"] == cfg.oncall.logs.app_retention_days
        key = next(
            k for k in in_region(graph, tk.KMS_KEY, r.name) if k.name.endswith("-app-logs-key")
        )
        assert group.inputs["kmsKeyId"] == key.outputs["arn"]
        # Every launch template (web; worker and beat at home) ships its logs the same way.
        (lt,) = [t for t in in_region(graph, tk.LAUNCH_TEMPLATE, r.name) if t.name.endswith("-web")]
        script = decode_user_data(lt.inputs["userData"])
        daemon = json.loads(
            script.split("cat > /etc/docker/daemon.json <<'JSON'\n")[1].split("\nJSON\n")[0]
        )
        assert daemon["log-driver"] == "awslogs"
        assert daemon["log-opts"]["awslogs-group"] == group.inputs["name"]
        assert daemon["log-opts"]["awslogs-region"] == r.name
        assert daemon["log-opts"]["awslogs-create-group"] == "false"
        assert all(isinstance(v, str) for v in daemon["log-opts"].values())  # dockerd wants strings
        # Written before Docker starts: the daemon reads it once, at start.
        assert script.index("/etc/docker/daemon.json") < script.index(
            "systemctl enable --now docker"
        )
        policy = next(
            p for p in in_region(graph, tk.ROLE_POLICY, r.name) if p.name == f"{r.name}-web"
        )
        (logs,) = [
            s for s in json.loads(policy.inputs["policy"])["Statement"] if s.get("Sid") == "AppLogs"
        ]
        assert logs["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
        assert logs["Resource"] == [group.outputs["arn"], f"{group.outputs['arn']}:*"]


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


# --- backups ------------------------------------------------------------------------------------


def test_the_backup_plan_copies_to_the_other_regions_vault(graph: Graph) -> None:
    cfg = load_stack_config(graph.stack)
    backup = cfg.oncall.backup
    vaults = {v.region: v for v in graph.of_type(tk.BACKUP_VAULT)}
    assert set(vaults) == {cfg.home_region, backup.copy_region}
    for vault in vaults.values():
        assert vault.region is not None
        assert vault.protect
        assert vault.retain_on_delete
        key = next(
            k for k in in_region(graph, tk.KMS_KEY, vault.region) if k.name.endswith("-backup-key")
        )
        assert vault.inputs["kmsKeyArn"] == key.outputs["arn"]
        assert key.protect
        assert key.retain_on_delete
    (plan,) = graph.of_type(tk.BACKUP_PLAN)
    assert plan.region == cfg.home_region
    (rule,) = plan.inputs["rules"]
    assert rule["targetVaultName"] == vaults[cfg.home_region].inputs["name"]
    assert rule["schedule"] == backup.schedule
    assert rule["lifecycle"]["deleteAfter"] == backup.retention_days
    (copy,) = rule["copyActions"]
    assert copy["destinationVaultArn"] == vaults[backup.copy_region].outputs["arn"]
    assert copy["destinationVaultArn"].split(":")[3] == backup.copy_region != cfg.home_region
    assert copy["lifecycle"]["deleteAfter"] == backup.retention_days
    (selection,) = graph.of_type("aws:backup/selection:Selection")
    primary = graph.one(tk.RDS_INSTANCE, f"{cfg.home_region}-db")
    media = graph.one(tk.BUCKET, f"{cfg.home_region}-media")
    assert selection.inputs["resources"] == [primary.outputs["arn"], media.outputs["arn"]]


# --- notifications ------------------------------------------------------------------------------


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


# --- runbooks -----------------------------------------------------------------------------------


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
