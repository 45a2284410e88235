"""The GitHub workflows: valid against GitHub's schema, clean under zizmor's security audit, and
shaped as the project needs (OIDC, no AWS keys, staging before an approved prod, each deploy the
README's sequence: snapshot, preview and up with the policy pack, smoke test)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.review.graph import Graph
from infra.review.stackfile import ROOT, read_stack_file

WORKFLOWS = ROOT / ".github" / "workflows"
BIN = Path(sys.executable).parent
PR = "pull-request.yml"
DEPLOY = "deploy.yml"
FAILOVER = "failover.yml"
# The break-glass job's environment, per stack input (the expression below says the same).
FAILOVER_ENVIRONMENTS = {"prod": "production", "staging": "staging"}
FAILOVER_ENVIRONMENT = "${{ inputs.stack == 'prod' && 'production' || 'staging' }}"
ALL = [PR, DEPLOY, FAILOVER]


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
    assert {p.name for p in workflow_files()} >= set(ALL)


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


@pytest.mark.parametrize("name", ALL)
def test_every_action_is_pinned_to_a_commit(name: str) -> None:
    for job in load(name)["jobs"].values():
        for step in steps(job):
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), step["uses"]


@pytest.mark.parametrize("name", ALL)
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
    # Adding or removing allow-dangerous-changes re-runs the verdict without a push.
    assert {"opened", "synchronize", "reopened", "labeled", "unlabeled"} <= set(
        doc["on"]["pull_request"]["types"]
    )
    jobs = doc["jobs"]
    assert any("make test" in s.get("run", "") for s in steps(jobs["test"]))
    assert any("make validate" in s.get("run", "") for s in steps(jobs["validate"]))
    plan = jobs["offline-plan"]
    assert plan["steps"][0]["with"]["fetch-depth"] == 0
    command = next(s["run"] for s in steps(plan) if "scripts/preview" in s.get("run", ""))
    for flag in (
        "--base",
        "--all",
        "--format markdown",
        "--fail-on-danger",
        "--fail-on-outage",
        "--graph",
    ):
        assert flag in command
    assert "${{" not in command  # the base ref reaches the shell as an environment variable
    # Each danger class fails the check unless its own label accepts it.
    step = next(s for s in steps(plan) if "scripts/preview" in s.get("run", ""))
    for label, flag, var in (
        ("allow-dangerous-changes", "--fail-on-danger", "ALLOW_DANGER"),
        ("allow-outage", "--fail-on-outage", "ALLOW_OUTAGE"),
    ):
        assert f"'{label}'" in step["env"][var]
        assert f'if [ "${var}" != true ]; then flags+=({flag}); fi' in command
    (comment,) = uses(plan, "marocchino/sticky-pull-request-comment")
    assert comment["with"]["path"] == "plan/plan.md"
    assert plan["permissions"] == {"contents": "read", "pull-requests": "write"}


def test_the_real_preview_runs_where_secrets_exist_with_the_policy_pack() -> None:
    job = load(PR)["jobs"]["pulumi-preview"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"]
    assert set(job["strategy"]["matrix"]["stack"]) == {"staging", "prod"}
    (pulumi,) = uses(job, "pulumi/actions")
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["policyPacks"] == "policy"
    assert pulumi["with"]["comment-on-pr"] is True
    # A job in an environment gets the subject repo:O/N:environment:E, which the preview role
    # does not trust: the pull-request preview must stay outside any environment.
    assert "environment" not in job
    (aws,) = uses(job, "aws-actions/configure-aws-credentials")
    assert aws["with"]["role-to-assume"] == "${{ vars.AWS_PREVIEW_ROLE_ARN }}"


def _index(job: dict[str, Any], match: Any) -> int:
    found = [i for i, step in enumerate(steps(job)) if match(step)]
    assert len(found) == 1, [steps(job)[i].get("name") for i in found]
    return found[0]


def _runs(script: str) -> Any:
    return lambda step: f"scripts/{script} " in step.get("run", "")


def _pulumi(command: str) -> Any:
    return lambda step: (
        str(step.get("uses", "")).startswith("pulumi/actions@")
        and step["with"]["command"] == command
    )


@pytest.mark.parametrize(("job_name", "stack"), [("staging", "staging"), ("prod", "prod")])
def test_each_deploy_is_the_readmes_sequence(job_name: str, stack: str) -> None:
    """snapshot -> preview --policy-pack policy -> up --policy-pack policy -> smoke test, in
    that order, each once, on this job's stack, with the environment's deploy role."""
    job = load(DEPLOY)["jobs"][job_name]
    assert job["env"]["STACK"] == stack
    order = [
        _index(job, lambda s: "uses" in s and s["uses"].startswith("aws-actions/")),
        _index(job, _runs("snapshot_db")),
        _index(job, _pulumi("preview")),
        _index(job, _pulumi("up")),
        _index(job, _runs("smoke_test")),
    ]
    assert order == sorted(order), order
    for command in ("preview", "up"):
        step = steps(job)[_index(job, _pulumi(command))]
        assert step["with"]["stack-name"] == stack
        assert step["with"]["policyPacks"] == "policy"  # `pulumi <command> --policy-pack policy`
        assert step.get("if") is None  # never skipped
        assert step["env"]["PULUMI_ACCESS_TOKEN"] == "${{ secrets.PULUMI_ACCESS_TOKEN }}"
    assert '"$STACK"' in steps(job)[_index(job, _runs("snapshot_db"))]["run"]
    smoke = steps(job)[_index(job, _runs("smoke_test"))]
    assert smoke["id"] == "smoke"
    assert smoke.get("if") is None
    # The failure step runs only when the smoke test fails, and fails the job itself.
    (alarm,) = [s for s in steps(job) if "steps.smoke.outcome == 'failure'" in s.get("if", "")]
    assert "failure()" in alarm["if"]
    assert "::error" in alarm["run"]
    assert alarm["run"].rstrip().endswith("exit 1")
    assert "${{" not in alarm["run"]


def test_staging_gates_prod_which_waits_for_the_production_environment() -> None:
    doc = load(DEPLOY)
    assert doc["on"]["push"]["branches"] == ["main"]
    assert doc["concurrency"]["cancel-in-progress"] is False
    jobs = doc["jobs"]
    staging, prod = jobs["staging"], jobs["prod"]
    assert staging["needs"] == "check"
    # `needs` without `if: always()`: a failed staging deploy or smoke test skips prod.
    assert prod["needs"] == "staging"
    assert "if" not in prod
    assert staging["environment"] == "staging"
    assert prod["environment"] == "production"  # its required reviewers are the approval
    check = jobs["check"]
    assert any("make test" in s.get("run", "") for s in steps(check))
    assert any("make validate" in s.get("run", "") for s in steps(check))
    prod_alarm = next(s for s in steps(prod) if "steps.smoke.outcome" in s.get("if", ""))
    # What to do is written out: revert, the failover runbook, the pre-deploy snapshot.
    for words in ("revert", "runbook-regional-failover.md", "snapshot"):
        assert words in prod_alarm["run"]


@pytest.mark.parametrize("name", ALL)
def test_sessions_last_the_job_and_no_longer_than_the_role_allows(name: str) -> None:
    from infra.components.ci_access import DEPLOY_SESSION_SECONDS

    for job_name, job in load(name)["jobs"].items():
        for step in uses(job, "aws-actions/configure-aws-credentials"):
            seconds = int(step["with"].get("role-duration-seconds", 3600))
            if "DEPLOY" in step["with"]["role-to-assume"]:
                assert seconds <= DEPLOY_SESSION_SECONDS, job_name
            else:
                assert seconds <= 3600, job_name  # the preview role's maximum
            assert seconds >= job["timeout-minutes"] * 60, job_name


def test_the_break_glass_failover_is_manual_and_behind_production() -> None:
    doc = load(FAILOVER)
    assert set(doc["on"]) == {"workflow_dispatch"}
    inputs = doc["on"]["workflow_dispatch"]["inputs"]
    assert inputs["stack"]["type"] == "choice"
    assert inputs["new-home"]["required"] is True
    assert inputs["execute"] == {**inputs["execute"], "type": "boolean", "default": False}
    assert doc["concurrency"]["group"] == load(DEPLOY)["concurrency"]["group"]
    (job,) = doc["jobs"].values()
    # prod behind production's reviewers; a staging drill in staging (with staging's role).
    assert job["environment"] == FAILOVER_ENVIRONMENT
    # GitHub's `a == b && x || y`: x when the stack is the one named, else y.
    match = re.fullmatch(
        r"\$\{\{ inputs\.stack == '(\w+)' && '(\w+)' \|\| '(\w+)' \}\}", job["environment"]
    )
    assert match is not None
    named, then, otherwise = match.groups()
    for stack in inputs["stack"]["options"]:
        assert FAILOVER_ENVIRONMENTS[stack] == (then if stack == named else otherwise)
    assert inputs["stack"]["options"] == list(FAILOVER_ENVIRONMENTS)
    assert inputs["stack"]["default"] == "prod"
    # Inputs reach the shell as environment variables, never as ${{ }} in a script.
    assert job["env"]["NEW_HOME"] == "${{ inputs.new-home }}"
    for step in steps(job):
        assert "${{" not in step.get("run", "")


def test_the_break_glass_failover_follows_the_runbook() -> None:
    (job,) = load(FAILOVER)["jobs"].values()
    promote = _index(
        job, lambda s: "scripts/failover" in s.get("run", "") and "--break-glass" not in s["run"]
    )
    targets = _index(job, lambda s: "--break-glass-since" in s.get("run", ""))
    preview = _index(job, _pulumi("preview"))
    up = _index(job, _pulumi("up"))
    state = _index(job, lambda s: "pulumi state delete" in s.get("run", ""))
    smoke = _index(job, _runs("smoke_test"))
    assert promote < targets < preview < up < state < smoke
    # The targets and the state deletes are computed against the commit before the change.
    assert '--break-glass-since "$BEFORE"' in steps(job)[targets]["run"]
    assert '--state-deletes "$RUNNER_TEMP/state-deletes"' in steps(job)[targets]["run"]
    assert '< "$RUNNER_TEMP/state-deletes"' in steps(job)[state]["run"]
    assert "inputs.execute" in steps(job)[state]["if"]
    failover = steps(job)[promote]
    assert failover["if"] == "steps.phase.outputs.phase == 'promote'"
    # A dry run unless execute is ticked.
    assert 'if [ "$EXECUTE" = true ]; then args+=(--execute); fi' in failover["run"]
    assert 'args=("$STACK" --new-home "$NEW_HOME")' in failover["run"]
    for index in (targets, preview, up, smoke):
        assert "steps.phase.outputs.phase == 'deploy'" in steps(job)[index]["if"]
    for index in (up, smoke):
        assert "inputs.execute" in steps(job)[index]["if"]
    assert "inputs.execute" not in steps(job)[preview]["if"]
    for index in (preview, up):
        step = steps(job)[index]
        assert step["with"]["policyPacks"] == "policy"
        assert step["with"]["target"] == "${{ steps.targets.outputs.urns }}"
    assert '--region "$NEW_HOME"' in steps(job)[smoke]["run"]
    # Credentials from STS in the region taking over: the lost region's endpoint may be down.
    (credentials,) = uses(job, "aws-actions/configure-aws-credentials")
    assert credentials["with"]["aws-region"] == "${{ inputs.new-home }}"


def test_the_urn_listing_is_every_resource_of_the_stack(bootstrap_preview: Graph) -> None:
    """`scripts/preview --format urns` (the failover's targets): every URN, sorted, once. On
    the small bootstrap stack; the website's goes through the same lines."""
    import contextlib
    import io

    from infra.cli import preview

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert preview.main(["--project", "bootstrap", "--format", "urns"]) == 0
    assert out.getvalue().split() == sorted(bootstrap_preview.resources)


def test_the_failover_targets_leave_the_old_home_region_alone(staging_preview: Graph) -> None:
    """After the runbook's config change (home us-east-2 -> eu-west-1, us-east-2 removed), the
    program declares nothing in us-east-2: targeting all it declares leaves the old region be."""
    from infra.review.synth import synthesize
    from tests.conftest import encode, raw_stack

    raw = raw_stack("staging")
    old, new = raw["python-org:homeRegion"], "eu-west-1"
    raw["python-org:homeRegion"] = new
    del raw["python-org:regions"][old]
    pools = raw["python-org:edge"]["poolRegions"]
    raw["python-org:edge"]["poolRegions"] = {k: new if v == old else v for k, v in pools.items()}
    # The backup copies leave the new home region (scripts/failover prints this line too).
    if raw["python-org:backup"].get("copyRegion") == new:
        del raw["python-org:backup"]["copyRegion"]
    changed = synthesize("staging", preview=True, raw_config=encode(raw))
    assert any(old in urn for urn in staging_preview.resources)
    assert not [urn for urn in changed.resources if old in urn]
    assert not [r.urn for r in changed if r.region == old]
    assert changed.outputs["home_region"] == new


def test_checkouts_do_not_keep_the_token() -> None:
    for name in ALL:
        for job in load(name)["jobs"].values():
            for step in uses(job, "actions/checkout"):
                assert step["with"]["persist-credentials"] is False


def _readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"\n## {title}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_every_variable_and_secret_the_workflows_read_is_in_the_repository_setup() -> None:
    setup = _readme_section("Repository setup")
    names = set()
    for name in ALL:
        names |= set(
            re.findall(r"\$\{\{ (?:vars|secrets)\.([A-Z_]+) \}\}", (WORKFLOWS / name).read_text())
        )
    assert names >= {"AWS_PREVIEW_ROLE_ARN", "AWS_DEPLOY_ROLE_ARN", "PULUMI_ACCESS_TOKEN"}
    for var in sorted(names):
        assert f"`{var}`" in setup, var


def test_the_readme_names_what_the_bootstrap_outputs(bootstrap: Graph) -> None:
    setup = _readme_section("Repository setup")
    for output in bootstrap.outputs:
        if output not in ("repository", "deploy_stacks"):
            assert f"`{output}" in setup, output
    deploying = _readme_section("Deploying")
    assert "pulumi login s3://" in deploying
    assert f'--secrets-provider "{bootstrap.outputs["secrets_provider"]}"' in deploying


def test_the_deploy_jobs_use_the_environments_the_bootstrap_trusts() -> None:
    """Each job that assumes a deploy role runs in an environment the bootstrap made a role for,
    and deploys a stack that environment's role may deploy."""
    from infra.bootstrap_config import parse_bootstrap_config
    from infra.projects import BOOTSTRAP

    raw, _ = read_stack_file(BOOTSTRAP.default_stack, project=BOOTSTRAP)
    environments = parse_bootstrap_config(BOOTSTRAP.default_stack, raw).environments
    seen = set()
    for name in ALL:
        for job_name, job in load(name)["jobs"].items():
            for step in uses(job, "aws-actions/configure-aws-credentials"):
                if "DEPLOY" not in step["with"]["role-to-assume"]:
                    assert "environment" not in job, job_name  # the pull_request subject
                    continue
                pairs = [(job["environment"], job["env"]["STACK"])]
                if job["environment"] == FAILOVER_ENVIRONMENT:  # the stack is an input
                    pairs = [(e, s) for s, e in FAILOVER_ENVIRONMENTS.items()]
                for env, stack in pairs:
                    seen.add(env)
                    assert env in environments, (name, job_name, env)
                    assert stack in environments[env], (name, job_name, stack)
    assert seen == {"staging", "production"}
