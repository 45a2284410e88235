"""`scripts/preview`: the plain preview, and the plan diff against a git revision."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra.cli import preview
from infra.review import revisions
from infra.review.diff import StackDiff, diff_graphs
from infra.review.graph import Graph
from infra.review.stackfile import ROOT
from tests.conftest import SynthVariant


def worktrees() -> list[str]:
    out = subprocess.run(
        ["git", "worktree", "list", "--porcelain"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line for line in out.splitlines() if line.startswith("worktree ")]


def test_diff_against_head_through_a_git_worktree(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The real thing, end to end: a worktree at HEAD and the working tree, synthesized in two
    subprocesses as applied, under one random key that is in neither's argv; the secrets'
    digests reach the diff and nothing else; the worktree is gone afterwards."""
    real, added = revisions._git, []
    real_start = revisions._start
    starts: list[tuple[bytes, list[str]]] = []
    real_graph = revisions._graph
    graphs: list[Graph] = []

    def git(*args: str, cwd: Path = ROOT) -> str:
        if args[:2] == ("worktree", "add"):
            added.append(args[-2])
        return real(*args, cwd=cwd)

    def start(*args: Any) -> Any:
        run = real_start(*args)
        starts.append((args[-1], list(run.proc.args)))  # type: ignore[arg-type]
        return run

    def graph(*args: Any) -> Graph:
        graphs.append(real_graph(*args))
        return graphs[-1]

    monkeypatch.setattr(revisions, "_git", git)
    monkeypatch.setattr(revisions, "_start", start)
    monkeypatch.setattr(revisions, "_graph", graph)
    status = preview.main(["--base", "HEAD", "staging", "--format", "json"])
    out = capsys.readouterr().out
    assert status == 0, out
    doc = json.loads(out)
    (stack,) = doc["stacks"]
    assert stack["stack"] == "staging"
    assert stack["base"].startswith("HEAD (")
    assert stack["head"] == "working tree"
    assert stack["error"] is None
    assert stack["preview"] is False  # both revisions as applied
    # Whatever is uncommitted, most of the stack is the same on both sides.
    assert stack["summary"]["unchanged"] > 50
    (head_key, head_argv), (base_key, base_argv) = starts
    assert head_key == base_key
    assert len(head_key) == 32
    assert not [a for a in [*head_argv, *base_argv] if head_key.hex() in str(a)]
    digests = {d for g in graphs for r in g for d in r.secret_digests.values()}
    assert len(graphs) == 2
    assert digests  # the working tree's side at least records them
    assert not [d for d in digests if d in out]
    (path,) = added
    assert not Path(path).exists()
    assert f"worktree {path}" not in worktrees()


def test_an_unknown_revision_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert preview.main(["--base", "no-such-branch-8b22a445"]) == preview.EXIT_ERROR
    assert "unknown git revision 'no-such-branch-8b22a445'" in capsys.readouterr().err


def test_a_revision_before_in_process_synthesis_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = revisions._git

    def git(*args: str, cwd: Path = ROOT) -> str:
        if args[0] == "cat-file":
            raise revisions.DiffError("missing")
        return real(*args, cwd=cwd)

    monkeypatch.setattr(revisions, "_git", git)
    assert preview.main(["--base", "HEAD"]) == preview.EXIT_ERROR
    err = capsys.readouterr().err
    assert "predates the in-process synthesis" in err
    assert "pick a later base revision" in err


def test_fail_on_danger_needs_a_base() -> None:
    with pytest.raises(SystemExit) as exc:
        preview.main(["--fail-on-danger"])
    assert exc.value.code == 2


def _fake_diff(
    monkeypatch: pytest.MonkeyPatch, diffs: list[StackDiff], graphs: dict[str, Graph]
) -> None:
    def diff_revisions(ref: str, stacks: Any, *, preview: bool = False) -> Any:
        return diffs, graphs

    monkeypatch.setattr(revisions, "diff_revisions", diff_revisions)


def test_fail_on_danger_exits_3_and_the_comment_shows_the_danger(
    prod_preview: Graph, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    new = Graph.from_json(prod_preview.to_json())
    del new.resources[new.one("aws:s3/bucket:Bucket", "us-east-2-media").urn]
    _fake_diff(monkeypatch, [diff_graphs(prod_preview, new, base="main (abc)", head="pr")], {})

    assert preview.main(["--base", "main", "--format", "markdown"]) == 0
    comment = capsys.readouterr().out
    assert "Dangers (1)" in comment
    assert "bucket us-east-2-media is deleted" in comment
    assert "Reproduce with `scripts/preview --base main`" in comment

    status = preview.main(["--base", "main", "--fail-on-danger"])
    captured = capsys.readouterr()
    assert status == preview.EXIT_DANGER
    assert captured.out.startswith("DANGER: 1")
    assert "--fail-on-danger" in captured.err


def test_a_stack_that_no_longer_synthesizes_fails_the_diff(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = StackDiff(stack="prod", base="main", head="working tree", error="ConfigError: x")
    _fake_diff(monkeypatch, [broken], {})
    assert preview.main(["--base", "main", "--format", "markdown"]) == preview.EXIT_ERROR
    assert "synthesis failed: ConfigError: x" in capsys.readouterr().out


def test_diff_results_of_both_sides_are_paired_by_stack(
    staging_preview: Graph, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stack new in the working tree is all creates; one that is gone is all deletes."""

    def as_stack(name: str) -> dict[str, str]:
        return {"graph": dataclasses.replace(staging_preview, stack=name).to_json()}

    base = {"staging": as_stack("staging"), "old": as_stack("old")}
    head = {"staging": as_stack("staging"), "old": {"missing": True}, "new": as_stack("new")}
    monkeypatch.setattr(
        revisions, "synthesize_revisions", lambda ref, stacks, preview: ("0" * 40, base, head)
    )
    diffs, graphs = revisions.diff_revisions("main", None)
    by_stack = {d.stack: d for d in diffs}
    assert by_stack["staging"].empty
    assert by_stack["old"].counts()["delete"] == by_stack["staging"].unchanged
    assert by_stack["new"].counts()["create"] == by_stack["staging"].unchanged
    assert set(graphs) == {"staging", "new"}


def test_plain_preview_keeps_its_json_summary(
    staging_preview: Graph, capsys: pytest.CaptureFixture[str]
) -> None:
    assert preview.main(["staging", "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["stack"] == "staging"
    assert summary["resources"] == sum(1 for r in staging_preview if r.custom)


def test_plain_preview_of_an_unknown_stack_lists_the_stacks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert preview.main(["nope"]) == preview.EXIT_ERROR
    # One line, the stacks listed once; not "invalid config" (nothing is wrong with any config).
    assert capsys.readouterr().err == (
        "error: no such stack 'nope': there is no Pulumi.nope.yaml (stacks here: prod, staging)\n"
    )


def test_graph_option_writes_the_diagram(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    staging_preview: Graph,
    synth_variant: SynthVariant,
) -> None:
    _fake_diff(
        monkeypatch, [diff_graphs(staging_preview, staging_preview)], {"staging": staging_preview}
    )
    dot_file = tmp_path / "staging.dot"
    assert preview.main(["--base", "main", "staging", "--graph", str(dot_file)]) == 0
    assert dot_file.read_text().startswith('digraph "python-org/staging"')
    if shutil.which("dot"):
        svg = tmp_path / "staging.svg"
        assert preview.main(["--base", "main", "staging", "--graph", str(svg)]) == 0
        assert "<svg" in svg.read_text()


def test_two_stacks_get_one_diagram_each(tmp_path: Path) -> None:
    empty = Graph(project="python-org", stack="a", resources={}, outputs={})
    graphs = [empty, dataclasses.replace(empty, stack="b")]
    assert preview._draw(tmp_path / "g.dot", graphs) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g-a.dot", "g-b.dot"]


def test_plain_preview_tree_groups_by_region_and_shows_unknown_outputs(
    prod_preview: Graph,
) -> None:
    from infra.review.plan import render_tree

    tree = render_tree(prod_preview)
    headings = [line for line in tree.splitlines() if line.startswith("+ ")]
    assert headings[0].startswith("+ us-east-2 (home: database primary, media origin)")
    assert [h.split()[1] for h in headings[1:3]] == ["eu-west-1", "ap-southeast-1"]
    assert headings[-1].startswith("+ global")
    assert "    + Edge edge" in tree
    assert "database_endpoint: (known after apply)" in tree
    assert "[unknown]" not in tree.split("Outputs:")[1]
    outputs = tree.split("Outputs:")[1]
    assert (
        outputs.index("us-east-2:") < outputs.index("eu-west-1:") < outputs.index("ap-southeast-1:")
    )


def test_the_bootstrap_project_previews_offline(
    bootstrap_preview: Graph, capsys: pytest.CaptureFixture[str]
) -> None:
    assert preview.main(["--project", "bootstrap", "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["stack"] == "account"
    assert summary["resources"] == sum(1 for r in bootstrap_preview if r.custom)
    assert preview.main(["--project", "bootstrap", "prod"]) == preview.EXIT_ERROR
    assert "(stacks here: account)" in capsys.readouterr().err


def test_the_bootstrap_is_not_diffed_against_a_revision() -> None:
    with pytest.raises(SystemExit):
        preview.main(["--project", "bootstrap", "--base", "HEAD"])
