"""The GitHub workflows: valid against GitHub's schema, clean under zizmor's security audit, and
shaped as the project needs (OIDC, no AWS keys, staging before an approved prod)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.stackfile import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
BIN = Path(sys.executable).parent
PR = "pull-request.yml"
DEPLOY = "deploy.yml"


def load(name: str) -> dict[str, Any]:
    raw: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as True.
    doc: dict[str, Any] = {("on" if k is True else k): v for k, v in raw.items()}
    return doc


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = job["steps"]
    return result


def uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in steps(job) if str(s.get("uses", "")).startswith(action + "@")]


def workflow_files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml"))


def run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    exe = BIN / tool
    assert exe.exists(), f"{tool} is not installed in the venv (requirements.lock)"
    return subprocess.run(
        [str(exe), *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_workflows_exist() -> None:
    assert {p.name for p in workflow_files()} >= {PR, DEPLOY}


def test_workflows_match_githubs_schema() -> None:
    proc = run(
        "check-jsonschema",
        "--builtin-schema",
        "vendor.github-workflows",
        *map(str, workflow_files()),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zizmor_finds_nothing() -> None:
    proc = run("zizmor", "--offline", "--no-progress", str(WORKFLOWS))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings" in proc.stdout + proc.stderr


@pytest.mark.parametrize("name", [PR, DEPLOY])
def test_every_action_is_pinned_to_a_commit(name: str) -> None:
    for job in load(name)["jobs"].values():
        for step in steps(job):
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), step["uses"]


@pytest.mark.parametrize("name", [PR, DEPLOY])
def test_aws_credentials_only_through_oidc(name: str) -> None:
    text = (WORKFLOWS / name).read_text()
    for key in ("aws-access-key-id", "aws-secret-access-key", "AWS_ACCESS_KEY_ID", "AWS_SECRET"):
        assert key not in text
    doc = load(name)
    assert doc["permissions"] == {}  # nothing by default; each job asks for what it needs
    for job_name, job in doc["jobs"].items():
        aws = uses(job, "aws-actions/configure-aws-credentials")
        if aws:
            assert job["permissions"]["id-token"] == "write", job_name
            assert aws[0]["with"]["role-to-assume"].startswith("${{ vars."), job_name
        else:
            assert "id-token" not in job.get("permissions", {}), job_name


def test_pull_requests_get_tests_validation_and_the_offline_plan_as_a_sticky_comment() -> None:
    doc = load(PR)
    assert set(doc["on"]) == {"pull_request"}  # never pull_request_target: forks run no secrets
    jobs = doc["jobs"]
    assert any("make test" in s.get("run", "") for s in steps(jobs["test"]))
    assert any("make validate" in s.get("run", "") for s in steps(jobs["validate"]))
    plan = jobs["offline-plan"]
    assert plan["steps"][0]["with"]["fetch-depth"] == 0
    command = next(s["run"] for s in steps(plan) if "scripts/preview" in s.get("run", ""))
    for flag in ("--base", "--all", "--format markdown", "--fail-on-danger", "--graph"):
        assert flag in command
    assert "${{" not in command  # the base ref reaches the shell as an environment variable
    (comment,) = uses(plan, "marocchino/sticky-pull-request-comment")
    assert comment["with"]["path"] == "plan/plan.md"
    assert plan["permissions"] == {"contents": "read", "pull-requests": "write"}


def test_the_real_preview_runs_where_secrets_exist_and_comments() -> None:
    job = load(PR)["jobs"]["pulumi-preview"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"]
    assert set(job["strategy"]["matrix"]["stack"]) == {"staging", "prod"}
    (pulumi,) = uses(job, "pulumi/actions")
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["comment-on-pr"] is True


def test_main_deploys_staging_then_prod_behind_an_approval() -> None:
    doc = load(DEPLOY)
    assert doc["on"]["push"]["branches"] == ["main"]
    assert doc["concurrency"]["cancel-in-progress"] is False
    jobs = doc["jobs"]
    staging, prod = jobs["staging"], jobs["prod"]
    assert staging["needs"] == "check"
    assert prod["needs"] == "staging"
    assert staging["environment"] == "staging"
    assert prod["environment"] == "production"  # its required reviewers are the approval
    for job, stack in ((staging, "staging"), (prod, "prod")):
        (up,) = uses(job, "pulumi/actions")
        assert (up["with"]["command"], up["with"]["stack-name"]) == ("up", stack)
        assert up["env"]["PULUMI_ACCESS_TOKEN"] == "${{ secrets.PULUMI_ACCESS_TOKEN }}"


def test_checkouts_do_not_keep_the_token() -> None:
    for name in (PR, DEPLOY):
        for job in load(name)["jobs"].values():
            for step in uses(job, "actions/checkout"):
                assert step["with"]["persist-credentials"] is False
