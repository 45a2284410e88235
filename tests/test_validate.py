"""`scripts/validate`: every stack file checked; a broken one fails with its reason."""

from __future__ import annotations

import importlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.cli import validate
from infra.review import synth
from infra.review.graph import Graph
from infra.review.plan import component_label, short_type
from infra.review.stackfile import ROOT


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A directory with the real staging stack file and a broken copy of it."""
    shutil.copy(ROOT / "Pulumi.staging.yaml", tmp_path)
    text = (ROOT / "Pulumi.staging.yaml").read_text()
    broken = text.replace("minSize: 1", "minSize: 5").replace("t4g.medium", "t4g.gigantic")
    assert broken != text
    (tmp_path / "Pulumi.bad.yaml").write_text(broken)
    return tmp_path


def test_a_broken_stack_fails_with_its_reasons_and_the_good_one_passes(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert validate.main(["--root", str(root)]) == validate.EXIT_FAILED
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert any(line.startswith("bad: FAILED") for line in lines)
    assert "  error: config: web.minSize = 5: must be <= web.desiredCapacity (1)" in lines
    assert any("web.instanceType = 't4g.gigantic'" in line for line in lines)
    staging = next(line for line in lines if line.startswith("staging:"))
    assert staging.startswith("staging: ok")
    assert "preview: " in staging
    assert "applied: " in staging
    assert lines[-1] == "FAILED: 1 of 2 stacks (bad)"


def test_only_the_named_stacks_are_checked(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert validate.main(["--root", str(root), "bad"]) == validate.EXIT_FAILED
    out = capsys.readouterr().out
    assert "staging" not in out


def test_yaml_that_does_not_parse_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Pulumi.typo.yaml").write_text("config:\n  python-org:regions: [unclosed\n")
    assert validate.main(["--root", str(tmp_path)]) == validate.EXIT_FAILED
    assert "Pulumi.typo.yaml is not valid YAML" in capsys.readouterr().out


def test_no_stack_files_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert validate.main(["--root", str(tmp_path)]) == validate.EXIT_USAGE
    assert "no Pulumi.<stack>.yaml" in capsys.readouterr().err


def test_a_program_that_raises_fails_the_stack_with_where(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = synth.synthesize

    def synthesize(stack: str, *, preview: bool = False, **kwargs: Any) -> Graph:
        if not preview:
            raise RuntimeError("boom in the applied run")
        return real(stack, preview=preview, **kwargs)

    monkeypatch.setattr(synth, "synthesize", synthesize)
    report = validate.validate_stack("staging", root, None)
    assert not report.ok
    (problem,) = report.problems
    assert problem.startswith("synthesis (applied): RuntimeError: boom in the applied run")
    assert "(at tests/test_validate.py:" in problem


@dataclass
class Violation:
    rule: str
    severity: str
    urn: str
    message: str


def test_mandatory_violations_fail_and_advisory_ones_warn(
    root: Path, staging: Graph, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(synth, "synthesize", lambda *args, **kwargs: staging)
    urn = next(iter(staging.resources))

    def evaluate(graph: Graph) -> list[Violation]:
        assert graph is staging  # the applied graph: computed values known
        return [
            Violation("no-public-buckets", "mandatory", urn, "bucket is public; block it"),
            Violation("cost-tags", "advisory", urn, "add a cost-center tag"),
        ]

    report = validate.validate_stack("staging", root, evaluate)
    res = staging.get(urn)
    where = f"{short_type(res.type)} {res.name} ({component_label(staging, res)})"
    # Named by type, name and component, never by the 250-character URN.
    assert report.problems == [f"policy [no-public-buckets] {where}: bucket is public; block it"]
    assert report.warnings == [f"policy (advisory) [cost-tags] {where}: add a cost-center tag"]
    assert all(urn not in line for line in report.problems + report.warnings)
    assert "policies: 1 mandatory, 1 advisory violations" in report.notes


def test_the_policy_runner_is_optional_until_it_lands(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> Any:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    monkeypatch.setattr(importlib, "import_module", missing)
    assert validate._policy_runner() is None

    def broken(name: str) -> Any:
        raise ModuleNotFoundError("No module named 'yaml2'", name="yaml2")

    monkeypatch.setattr(importlib, "import_module", broken)
    with pytest.raises(ModuleNotFoundError):
        validate._policy_runner()


def test_github_actions_gets_annotations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    (tmp_path / "Pulumi.x.yaml").write_text("config:\n  python-org:environment: qa\n")
    assert validate.main(["--root", str(tmp_path)]) == validate.EXIT_FAILED
    out = capsys.readouterr().out
    assert "::error file=Pulumi.x.yaml,title=stack x::config: python-org:environment" in out


def test_the_bootstrap_project_is_validated_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every project's stacks by default; a bootstrap stack file is reported by its path."""
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    shutil.copy(ROOT / "Pulumi.staging.yaml", tmp_path)
    (tmp_path / "bootstrap").mkdir()
    (tmp_path / "bootstrap" / "Pulumi.acct.yaml").write_text(
        "config:\n"
        "  python-org-bootstrap:repository: python/*\n"
        "  python-org-bootstrap:environments: {staging: [staging]}\n"
        "  python-org-bootstrap:region: us-east-2\n"
    )
    assert validate.main(["--root", str(tmp_path), "--project", "bootstrap"]) == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "staging" not in out.split("FAILED")[0].replace("[staging]", "")  # bootstrap only
    assert any(line.startswith("bootstrap/acct: FAILED") for line in lines)
    assert any("config: python-org-bootstrap:repository = 'python/*'" in line for line in lines)
    assert any(
        "python-org-bootstrap:environments" in line and "include production" in line
        for line in lines
    )
    assert "::error file=bootstrap/Pulumi.acct.yaml,title=stack bootstrap/acct::config:" in out
    assert lines[-1] == "FAILED: 1 of 1 stacks (bootstrap/acct)"
    # A stack name is looked up in each project.
    assert validate.main(["--root", str(tmp_path), "acct"]) == 1
    assert "bootstrap/acct: FAILED" in capsys.readouterr().out
