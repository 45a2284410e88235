"""Data-loss guards beyond the policy rules: URNs that survive refactoring, and regions that can't
be dropped by accident.

A stateful resource whose URN changes is, to the engine, one resource deleted and another
created: a new empty database or bucket. So renaming or re-parenting a component must keep its
stateful children's URNs through aliases; the tests synthesize the program before and after
such a change and require every old stateful URN to be the new URN or among its aliases.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest

import infra.components.region as region_module
from infra.components.database import Database
from infra.components.region import Region
from infra.review.graph import Graph, Resource
from infra.review.synth import synthesize
from policy import tokens as tk
from policy.runner import evaluate, mandatory
from stacks import website
from tests.conftest import SynthVariant

DOCS = Path(__file__).resolve().parent.parent / "docs" / "policies.md"


def stateful(g: Graph) -> list[Resource]:
    found = [r for r in g if r.type in tk.STATEFUL]
    assert {r.urn for r in found} == {r.urn for r in g if r.protect}
    return found


def lost(before: Graph, after: Graph) -> list[str]:
    """The stateful URNs of `before` that `after` would delete: neither kept nor aliased."""
    kept = {urn for r in after for urn in (r.urn, *r.aliases)}
    return sorted(r.urn for r in stateful(before) if r.urn not in kept)


def successor(after: Graph, urn: str) -> Resource:
    (found,) = [r for r in after if r.urn == urn or urn in r.aliases]
    return found


def with_aliases(opts: pulumi.ResourceOptions | None, *aliases: pulumi.Alias) -> Any:
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=list(aliases)))


Patch = Callable[[pytest.MonkeyPatch], None]


def rename_regions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Region component renamed ("us-east-2" -> "site-us-east-2"), with an alias."""

    def renamed(name: str, args: Any, opts: pulumi.ResourceOptions | None = None) -> Region:
        return Region(f"site-{name}", args, with_aliases(opts, pulumi.Alias(name=name)))

    monkeypatch.setattr(website, "Region", renamed)


def move_regions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Region moved under a new top-level component, with an alias to the stack root."""
    site: list[pulumi.ComponentResource] = []

    def moved(name: str, args: Any, opts: pulumi.ResourceOptions | None = None) -> Region:
        if not site:
            site.append(pulumi.ComponentResource("python-org:site:Site", "site"))
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(parent=site[0]))
        return Region(name, args, with_aliases(opts, pulumi.Alias(parent=None)))

    monkeypatch.setattr(website, "Region", moved)


def rename_databases(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each region's Database component renamed ("us-east-2" -> "us-east-2-data")."""

    def renamed(name: str, args: Any, opts: pulumi.ResourceOptions | None = None) -> Database:
        return Database(f"{name}-data", args, with_aliases(opts, pulumi.Alias(name=name)))

    monkeypatch.setattr(region_module, "Database", renamed)


@pytest.mark.parametrize(
    "patch",
    [rename_regions, move_regions, rename_databases],
    ids=["region renamed", "region re-parented", "database component renamed"],
)
def test_refactoring_a_component_keeps_its_stateful_urns(
    patch: Patch, monkeypatch: pytest.MonkeyPatch, staging: Graph
) -> None:
    patch(monkeypatch)
    after = synthesize("staging")
    moved = [r for r in stateful(after) if r.urn not in staging.resources]
    assert moved, "the change renamed nothing: the test proves nothing"
    assert lost(staging, after) == []
    for old in stateful(staging):
        new = successor(after, old.urn)
        assert (new.type, new.protect, new.retain_on_delete) == (old.type, True, True)
    assert not mandatory(evaluate(after))


def test_a_rename_without_aliases_would_replace_every_stateful_resource(
    monkeypatch: pytest.MonkeyPatch, staging: Graph
) -> None:
    """The control: the same rename, no alias, and every database, bucket and key is lost."""

    def renamed(name: str, args: Any, opts: pulumi.ResourceOptions | None = None) -> Region:
        return Region(f"site-{name}", args, opts)

    monkeypatch.setattr(website, "Region", renamed)
    after = synthesize("staging")
    in_regions = sorted(r.urn for r in stateful(staging) if "python-org:region:Region$" in r.urn)
    assert lost(staging, after) == in_regions


# --- removing a region ------------------------------------------------------------------------


def drop_region(region: str) -> Callable[[dict[str, Any]], None]:
    def edit(raw: dict[str, Any]) -> None:
        del raw["python-org:regions"][region]
        edge = raw["python-org:edge"]
        edge["poolRegions"] = {k: v for k, v in edge["poolRegions"].items() if v != region}
        # A region that holds the backup copies hands them over (the runbook's step 1).
        backup = raw["python-org:backup"]
        if backup.get("copyRegion") == region:
            del backup["copyRegion"]

    return edit


def test_removing_a_region_deletes_its_replica_only_through_the_explicit_step(
    synth_variant: SynthVariant, staging: Graph
) -> None:
    """Dropping eu-west-1 from the config leaves its replica, buckets and keys to be deleted;
    every one is protected, so `pulumi up` refuses until they are unprotected one by one (the
    runbook in docs/policies.md), and retain_on_delete keeps them in AWS even then."""
    smaller = synth_variant("staging", drop_region("eu-west-1"))
    gone = [staging.get(urn) for urn in sorted(set(staging.resources) - set(smaller.resources))]
    assert gone
    # Only eu-west-1, its edge entries, and the home region's replication to it (and its alarm).
    assert all(
        r.region != "us-east-2"
        or "MediaReplication" in r.urn
        or r.name == "us-east-2-media-replication-failures-eu-west-1"
        for r in gone
    ), [r.urn for r in gone if r.region == "us-east-2"]

    doomed = [r for r in gone if r.type in tk.STATEFUL]
    replica = staging.one(tk.RDS_INSTANCE, "eu-west-1-db")
    assert replica in doomed
    assert replica.inputs["replicateSourceDb"]
    assert {r.type for r in doomed} == {
        tk.RDS_INSTANCE,
        tk.BUCKET,
        tk.KMS_KEY,
        tk.BACKUP_VAULT,
        tk.ELASTICACHE_GROUP,
        tk.OPENSEARCH_DOMAIN,
    }
    unguarded = [r.urn for r in doomed if not (r.protect and r.retain_on_delete)]
    assert unguarded == [], "the engine would delete these without an explicit step"

    # The home region's data is untouched, and what remains still passes every mandatory rule.
    assert all(r.urn in smaller.resources for r in stateful(staging) if r.region == "us-east-2")
    assert not mandatory(evaluate(smaller))


def test_the_explicit_step_is_documented() -> None:
    text = DOCS.read_text()
    assert "pulumi state unprotect" in text
    assert "retain_on_delete" in text
