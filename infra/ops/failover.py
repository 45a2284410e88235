"""Regional failover: promote a region's read replica to a standalone primary.

`plan()` only reads: the replica, its source, its lag (the data a promotion now would lose) and
whatever can still be learnt of the old primary. `promote()` acts and waits until RDS reports
the instance available and no longer a replica. What to change next is computed, not typed:
`config_change()` edits the stack file's values in memory and validates them with the same
model as the program, and the runbook steps are read from docs/runbook-regional-failover.md so
the script and the document cannot drift apart.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from infra import naming
from infra.config import NAMESPACE, ConfigError, StackConfig, parse_config
from infra.ops.aws import Aws, NotFoundError, OpsError, SetupError, aws_errors
from infra.ops.smoke import replica_lag
from infra.ops.waiting import Progress, TimedOutError, wait_until
from infra.review.stackfile import ROOT, read_stack_file

RUNBOOK = ROOT / "docs" / "runbook-regional-failover.md"


@dataclass(frozen=True, kw_only=True)
class Plan:
    stack: str
    region: str  # whose replica is promoted: the new home region
    old_home: str
    replica_id: str
    replica_status: str
    source: str  # ARN (or identifier) of the primary the replica follows
    lag_seconds: float | None
    primary_state: str  # what could be learnt of the old primary, for the operator
    primary_available: bool
    backup_retention_days: int
    other_replicas: tuple[str, ...]  # regions whose replicas still follow the old primary


def plan(
    aws: Aws,
    cfg: StackConfig,
    region: str,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Plan:
    """Check that `region` has a replica that can be promoted; raise an `OpsError` if not."""
    if region not in cfg.region_names:
        raise SetupError(
            f"region {region!r} is not in stack {cfg.stack!r} "
            f"(regions: {', '.join(cfg.region_names)})"
        )
    others = [r for r in cfg.region_names if r != cfg.home_region]
    if region == cfg.home_region:
        raise OpsError(
            f"refusing: {region} is the home region of stack {cfg.stack!r}, its database is the "
            f"primary and there is no replica to promote (replica regions: "
            f"{', '.join(others) or 'none'})"
        )
    replica_id = naming.db_identifier(cfg.stack, region)
    rds = aws.client("rds", region)
    try:
        with aws_errors(region):
            replica = rds.describe_db_instances(DBInstanceIdentifier=replica_id)["DBInstances"][0]
    except NotFoundError:
        raise NotFoundError(
            f"refusing: {region} has no database {replica_id!r}, so no replica to promote"
        ) from None
    source = replica.get("ReadReplicaSourceDBInstanceIdentifier")
    status = str(replica.get("DBInstanceStatus", "unknown"))
    if not source:
        raise OpsError(
            f"refusing: {replica_id} in {region} is not a read replica (already promoted?); "
            "there is nothing to promote"
        )
    if status != "available":
        raise OpsError(
            f"refusing: replica {replica_id} in {region} is {status!r}; promote it once it "
            "is available"
        )
    with aws_errors(region):
        lag = replica_lag(aws, region, replica_id, now())
    primary_state, primary_available = _probe_primary(aws, cfg)
    return Plan(
        stack=cfg.stack,
        region=region,
        old_home=cfg.home_region,
        replica_id=replica_id,
        replica_status=status,
        source=str(source),
        lag_seconds=lag,
        primary_state=primary_state,
        primary_available=primary_available,
        backup_retention_days=cfg.database.backup_retention_days,
        other_replicas=tuple(r for r in others if r != region),
    )


def _probe_primary(aws: Aws, cfg: StackConfig) -> tuple[str, bool]:
    """What the old primary looks like from here. Failing to learn it is the usual case in a
    regional outage and must not stop the failover."""
    primary_id = naming.db_identifier(cfg.stack, cfg.home_region)
    try:
        with aws_errors(cfg.home_region):
            found = aws.client("rds", cfg.home_region).describe_db_instances(
                DBInstanceIdentifier=primary_id
            )["DBInstances"]
    except SetupError:
        raise
    except OpsError as exc:
        return f"{primary_id} in {cfg.home_region}: not answering ({exc})", False
    status = str(found[0].get("DBInstanceStatus", "unknown")) if found else "missing"
    return f"{primary_id} in {cfg.home_region}: {status}", status == "available"


def promote(
    aws: Aws,
    the_plan: Plan,
    *,
    timeout: float,
    interval: float,
    progress: Progress | None = None,
) -> str:
    """Promote the replica and wait until it is a standalone, available primary."""
    region, replica_id = the_plan.region, the_plan.replica_id
    rds = aws.client("rds", region)
    with aws_errors(region):
        # A replica keeps no automated backups of its own; the new primary must.
        rds.promote_read_replica(
            DBInstanceIdentifier=replica_id,
            BackupRetentionPeriod=the_plan.backup_retention_days,
        )

    def poll() -> tuple[bool, str]:
        with aws_errors(region):
            db = rds.describe_db_instances(DBInstanceIdentifier=replica_id)["DBInstances"][0]
        status = str(db.get("DBInstanceStatus", "unknown"))
        still_replica = bool(db.get("ReadReplicaSourceDBInstanceIdentifier"))
        done = status == "available" and not still_replica
        return done, f"{status}, still a replica" if still_replica else status

    try:
        return wait_until(
            poll,
            what=f"promotion of {replica_id}",
            timeout=timeout,
            interval=interval,
            progress=progress,
        )
    except TimedOutError as exc:
        raise OpsError(
            f"{exc}; the promotion was requested and RDS carries on with it: do not run "
            f"--execute again, watch it with: aws rds describe-db-instances --region {region} "
            f"--db-instance-identifier {replica_id}"
        ) from exc


@dataclass(frozen=True, kw_only=True)
class ConfigChange:
    lines: tuple[str, ...]
    problems: tuple[str, ...]  # empty when the changed config validates
    raw: dict[str, str] = field(default_factory=dict)  # the changed config, as the engine has it


def config_change(stack: str, new_home: str, root: Path = ROOT) -> ConfigChange:
    """The edit of Pulumi.<stack>.yaml that makes `new_home` the home region, validated.

    The old home region leaves `regions`: declared again, its old primary would have to become
    a replica of the new one in place, which RDS cannot do. Cloudflare regions that were
    steered to it are steered to the new home instead."""
    raw, _ = read_stack_file(stack, root)
    values = {k: _decoded(v) for k, v in raw.items()}
    home_key, regions_key, edge_key, backup_key = (
        f"{NAMESPACE}:homeRegion",
        f"{NAMESPACE}:regions",
        f"{NAMESPACE}:edge",
        f"{NAMESPACE}:backup",
    )
    old_home = values[home_key]
    lines = [f"{home_key}: {old_home} -> {new_home}"]
    values[home_key] = new_home
    regions = values.get(regions_key)
    if isinstance(regions, dict) and old_home in regions:
        del regions[old_home]
        lines.append(
            f"{regions_key}: remove {old_home} (re-add it later as a new replica, see the runbook)"
        )
    edge = values.get(edge_key)
    pools = edge.get("poolRegions") if isinstance(edge, dict) else None
    if isinstance(pools, dict):
        moved = sorted(code for code, region in pools.items() if region == old_home)
        for code in moved:
            pools[code] = new_home
        if moved:
            lines.append(f"{edge_key}.poolRegions: {', '.join(moved)}: {old_home} -> {new_home}")
    backup = values.get(backup_key)
    copy = backup.get("copyRegion") if isinstance(backup, dict) else None
    if isinstance(backup, dict) and copy in (old_home, new_home):
        # The copies must stay out of the home region: the next region of the stack takes them.
        others = [r for r in (regions or {}) if r != new_home]
        if others:
            backup["copyRegion"] = others[0]
            lines.append(f"{backup_key}.copyRegion: {copy} -> {others[0]}")
        else:
            del backup["copyRegion"]
            lines.append(f"{backup_key}.copyRegion: remove {copy} (no other region is left)")
    encoded = {k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}
    try:
        parse_config(stack, encoded)
    except ConfigError as exc:
        return ConfigChange(lines=tuple(lines), problems=tuple(exc.problems), raw=encoded)
    return ConfigChange(lines=tuple(lines), problems=(), raw=encoded)


@dataclass(frozen=True, kw_only=True)
class Deploy:
    """The break-glass deploy after a promotion, computed from the program itself."""

    targets: tuple[str, ...]  # `pulumi up --target`: everything but the old home region
    state_only: tuple[str, ...]  # the old home region: dropped from the state, kept in AWS


def break_glass_deploy(
    stack: str, old_home: str, change: ConfigChange, root: Path = ROOT
) -> Deploy:
    """What the targeted `pulumi up` of the runbook's step 5 must name, and what it must leave.

    Both programs are synthesized offline (the real program under the mocks: the URNs are the
    engine's): the current config, and `change` applied. Targets are every resource of the new
    program, and every resource the change removes outside the old home region (Cloudflare's
    pool and record of it: deleting those is the point). Resources of the old home region are
    never targeted: their API may be down, and the data there is kept (retain_on_delete); they
    leave the state with `pulumi state delete` instead, children first.

    Nor is a component above any of them: the engine takes a targeted component's children in
    with it (pulumi/pulumi#7605, "Include children when targeting components"), so targeting
    the lost region's `Region` (it also holds that region's Cloudflare records) would delete
    every resource of the region, protected ones included, and fail. Such a component leaves
    the state too, after its children: its Cloudflare children are custom resources, targeted
    on their own, so the deploy has deleted them by then."""
    before = _synthesized(stack, root, None)
    after = _synthesized(stack, root, json.dumps(change.raw, sort_keys=True))
    gone = [r for r in before if r.urn not in after.resources]
    in_old_home = {r.urn for r in gone if _in_region(before, r, old_home)}
    # Components with a descendant in the old home region: never targeted (see above).
    above_old_home = {
        a.urn for urn in in_old_home for a in before.ancestors(before.get(urn)) if not a.custom
    }
    elsewhere = {r.urn for r in gone} - in_old_home - above_old_home

    def depth(urn: str) -> int:
        return len(before.ancestors(before.get(urn)))

    gone_above = above_old_home - set(after.resources)
    return Deploy(
        targets=tuple(sorted((set(after.resources) | elsewhere) - above_old_home)),
        state_only=tuple(sorted(in_old_home | gone_above, key=lambda u: (-depth(u), u))),
    )


def read_home(stack: str, root: Path = ROOT) -> str:
    raw, _ = read_stack_file(stack, root)
    return str(_decoded(raw[f"{NAMESPACE}:homeRegion"]))


def break_glass_since(stack: str, ref: str, root: Path = ROOT) -> tuple[str, Deploy]:
    """The break-glass deploy from the branch that already has the config change: `ref` is the
    commit before it (the stack file there names the lost home region). Returns (old home,
    deploy). The program at `ref` is synthesized with the old and the new config, in a
    temporary git worktree that is removed again."""
    import subprocess
    import tempfile

    raw, _ = read_stack_file(stack, root)
    with tempfile.TemporaryDirectory(prefix="failover-") as tmp:
        worktree = Path(tmp) / "before"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "--quiet", str(worktree), ref],
            cwd=root,
            check=True,
            capture_output=True,
            text=True,
        )
        try:
            before, _ = read_stack_file(stack, worktree)
            old_home = str(_decoded(before[f"{NAMESPACE}:homeRegion"]))
            new_home = str(_decoded(raw[f"{NAMESPACE}:homeRegion"]))
            if old_home == new_home:
                raise SetupError(
                    f"Pulumi.{stack}.yaml names {new_home} as the home region at {ref} too: "
                    "--break-glass-since must name the commit before the config change"
                )
            change = ConfigChange(lines=(), problems=(), raw=dict(raw))
            return old_home, break_glass_deploy(stack, old_home, change, worktree)
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(worktree)],
                cwd=root,
                check=False,
                capture_output=True,
            )


@cache
def _synthesized(stack: str, root: Path, raw: str | None) -> Any:
    from infra.review.synth import synthesize

    return synthesize(stack, root=root, raw_config=None if raw is None else json.loads(raw))


def _in_region(graph: Any, res: Any, region: str) -> bool:
    """Whether `res` lives in `region`: pinned there, the region's provider, or a component
    whose every descendant is (a component has no region of its own)."""
    if res.custom:
        return bool(res.region == region) or (
            res.type == "pulumi:providers:aws" and res.inputs.get("region") == region
        )
    below = [r for r in graph if r.custom and res in graph.ancestors(r)]
    return bool(below) and all(r.region == region for r in below)


def _decoded(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def runbook_steps(the_plan: Plan, path: Path = RUNBOOK) -> list[str]:
    """The headlines of the runbook's numbered steps, with this failover's names filled in."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    section = re.search(r"^## Steps\s*$(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    if section is None:
        return []
    names = {
        "<stack>": the_plan.stack,
        "<new-home>": the_plan.region,
        "<old-home>": the_plan.old_home,
        "<replica>": the_plan.replica_id,
    }

    def filled(headline: str) -> str:
        for placeholder, value in names.items():
            headline = headline.replace(placeholder, value)
        return headline.replace("`", "")

    items = re.findall(r"^(\d+)\. \*\*(.+?)\*\*", section.group(1), re.MULTILINE)
    return [f"{number}. {filled(headline)}" for number, headline in items]
