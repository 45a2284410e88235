"""On call, on both stacks: app logs in the region's encrypted log group, and backups copied to the
other regions' vaults."""

from __future__ import annotations

import json

from infra import naming
from infra.instances import decode_user_data
from infra.review.graph import Graph
from infra.review.stackfile import load_stack_config
from policy import tokens as tk
from tests.oncall_helpers import in_region


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
