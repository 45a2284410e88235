"""The plan diff: what applying one synthesized graph over another would do, offline.

`diff_graphs(old, new)` matches custom resources by URN (and a new resource whose `aliases`
name a URN that is gone is the same resource, renamed or moved: an update, not a delete and a
create), compares their inputs and options, and classifies each as a create, update, replace or
delete, as `pulumi preview` would:

- **Replacements** come from the providers' own schemas (`infra/data/replacements.json`, built
  by `scripts/extract_replacements` from the Terraform providers' `ForceNew` / `RequiresReplace`
  at the versions the pinned SDKs bridge), and Pulumi's own rules on top: a changed or replaced
  provider, the resource's `replaceOnChanges`.
- **Unknowns propagate**: an input computed from a resource that this diff creates or replaces
  (the synthesis records each input's `propertyDependencies`) changes to "known after apply";
  if that input forces a replacement, the dependent resource is replaced too, and so on down the
  graph.
- **Dangers**, each with what to do about it, in four classes: data loss (a stateful resource
  deleted or replaced, directly or by cascade), safeguards removed (`protect`,
  `retainOnDelete`, deletion protection, final snapshot, force-destroy), exposure (ingress open
  to the internet, a public bucket or policy), and outage (a serving resource replaced in
  production).

Choices (where Pulumi's own preview could differ):
- Inputs listed in a resource's `ignoreChanges` are still shown when they change, marked
  ignored; they never make a replacement or a danger, since `pulumi up` will not apply them.
- Component resources are not diffed (they have no cloud state); their children are.
- Secret values are never in a Graph (only the `[secret]` mask). When both graphs carry keyed
  digests of their secrets under one key (`scripts/preview --base` gives both revisions the same
  random per-run key), a masked value whose digest differs is a change, shown as `changed
  (secret)`; the digests themselves never leave the diff. Without digests on both sides a change
  of a secret's value alone is invisible here; the real preview in CI shows it, masked.
- Values the mocks invented (ids, ARNs, generated names, the zone id) are marked wherever they
  are shown (`infra.review.placeholders`): they stand for values known only after apply.
- Paths a provider function decides (`conditional` in the data file, e.g. an instance's
  `userData` with `userDataReplaceOnChange`) are marked "may force replacement", not counted.

Pure functions over `infra.review.graph.Graph`: nothing here runs the program or imports Pulumi.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import enum
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from infra.review import replacement_data
from infra.review.graph import SECRET, UNKNOWN, Graph, Resource, join_path
from infra.review.placeholders import Placeholders
from infra.review.plan import component_label, region_of, short_type, sort_regions

COMPUTED = "(known after apply)"  # a new value computed from a created or replaced resource


class Kind(enum.Enum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"

    @property
    def symbol(self) -> str:
        return {"create": "+", "update": "~", "replace": "+-", "delete": "-"}[self.value]


class Absent:
    """The value of a property that is not set on one side of a change."""

    _instance: Absent | None = None

    def __new__(cls) -> Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "(absent)"


ABSENT = Absent()


class DangerClass(enum.Enum):
    DATA_LOSS = "data-loss"
    SAFEGUARD = "safeguard-removed"
    EXPOSURE = "exposure"
    OUTAGE = "outage"


class DangerCode(enum.Enum):
    STATEFUL_DELETE = "stateful-delete"
    STATEFUL_REPLACE = "stateful-replace"
    POSSIBLE_REPLACE = "possible-replace"
    PROTECT_REMOVED = "protect-removed"
    RETAIN_REMOVED = "retain-removed"
    SAFEGUARD_REMOVED = "safeguard-removed"
    OPEN_INGRESS = "open-ingress"
    PUBLIC_BUCKET = "public-bucket"
    PUBLIC_POLICY = "public-policy"
    SERVING_REPLACE = "serving-replace"

    @property
    def danger_class(self) -> DangerClass:
        return _CLASS[self]


_CLASS = {
    DangerCode.STATEFUL_DELETE: DangerClass.DATA_LOSS,
    DangerCode.STATEFUL_REPLACE: DangerClass.DATA_LOSS,
    DangerCode.POSSIBLE_REPLACE: DangerClass.DATA_LOSS,
    DangerCode.PROTECT_REMOVED: DangerClass.SAFEGUARD,
    DangerCode.RETAIN_REMOVED: DangerClass.SAFEGUARD,
    DangerCode.SAFEGUARD_REMOVED: DangerClass.SAFEGUARD,
    DangerCode.OPEN_INGRESS: DangerClass.EXPOSURE,
    DangerCode.PUBLIC_BUCKET: DangerClass.EXPOSURE,
    DangerCode.PUBLIC_POLICY: DangerClass.EXPOSURE,
    DangerCode.SERVING_REPLACE: DangerClass.OUTAGE,
}
# `--fail-on-danger` fails on these; outage has its own flag (`--fail-on-outage`).
FAILING_CLASSES = (DangerClass.DATA_LOSS, DangerClass.SAFEGUARD, DangerClass.EXPOSURE)

_SEVERITY = {
    DangerClass.OUTAGE: 0,
    DangerClass.DATA_LOSS: 1,
    DangerClass.EXPOSURE: 2,
    DangerClass.SAFEGUARD: 3,
}

# What a resource of each stateful type holds: its deletion or replacement loses that (the
# policy pack's `stateful-protected` rule guards the same types, policy/tokens.py STATEFUL).
STATEFUL: dict[str, str] = {
    "aws:rds/instance:Instance": "database",
    "aws:rds/cluster:Cluster": "database cluster",
    "aws:s3/bucket:Bucket": "bucket",
    "aws:s3/bucketV2:BucketV2": "bucket",
    "aws:kms/key:Key": "KMS key",
    "aws:ebs/volume:Volume": "volume",
    "aws:dynamodb/table:Table": "table",
    "aws:efs/fileSystem:FileSystem": "file system",
    "aws:elasticache/replicationGroup:ReplicationGroup": "cache",
    "aws:opensearch/domain:Domain": "search domain",
    "aws:backup/vault:Vault": "backup vault",
    "aws:secretsmanager/secret:Secret": "secret",
    "random:index/randomPassword:RandomPassword": "generated secret",
}

# What serves python.org: replacing one in production drops or reroutes live traffic.
SERVING: dict[str, str] = {
    "aws:ec2/vpc:Vpc": "VPC",
    "aws:ec2/subnet:Subnet": "subnet",
    "aws:ec2/natGateway:NatGateway": "NAT gateway",
    "aws:lb/loadBalancer:LoadBalancer": "load balancer",
    "aws:lb/targetGroup:TargetGroup": "target group",
    "aws:lb/listener:Listener": "listener",
    "aws:autoscaling/group:Group": "autoscaling group",
    "cloudflare:index/loadBalancer:LoadBalancer": "Cloudflare load balancer",
    "cloudflare:index/loadBalancerPool:LoadBalancerPool": "Cloudflare pool",
}

RUNBOOK = "docs/policies.md (Removing a region)"


@dataclass(frozen=True)
class Danger:
    code: DangerCode
    message: str
    remedy: str

    @property
    def danger_class(self) -> DangerClass:
        return self.code.danger_class


@dataclass(frozen=True)
class PropertyChange:
    path: str  # `instanceClass`, `tags.environment`, `ingress[0].cidrBlocks`
    old: Any  # ABSENT when not set before
    new: Any  # ABSENT when not set any more; COMPUTED when known only after apply
    forces_replacement: bool = False
    ignored: bool = False  # in the resource's ignoreChanges: shown, never applied
    conditional: bool = False  # the provider decides at apply whether this replaces
    computed_from: tuple[str, ...] = ()  # URNs of the created/replaced resources it comes from
    secret_changed: bool = False  # old and new are both the mask; their keyed digests differ

    @property
    def top(self) -> str:
        return top_level(self.path)


@dataclass(frozen=True)
class Change:
    kind: Kind
    urn: str
    type: str
    name: str
    region: str
    component: str  # `Database us-east-2`, or `(stack)`
    properties: tuple[PropertyChange, ...] = ()
    options: tuple[PropertyChange, ...] = ()  # protect, retainOnDelete, provider, ...
    replace_reasons: tuple[str, ...] = ()
    previous_urn: str | None = None  # set when matched through an alias
    caused_by: tuple[str, ...] = ()  # created or replaced resources this one's inputs come from
    stateful: str | None = None
    protected: bool = False
    dangers: tuple[Danger, ...] = ()

    @property
    def label(self) -> str:
        return f"{short_type(self.type)} {self.name}"

    @property
    def only_ignored(self) -> bool:
        """Every change is in ignoreChanges: `pulumi up` leaves the resource alone."""
        return (
            bool(self.properties)
            and all(p.ignored for p in self.properties)
            and not (self.options or self.previous_urn or self.caused_by)
        )


@dataclass
class StackDiff:
    stack: str
    base: str  # what the old graph is, e.g. `HEAD~1 (081315f)`
    head: str  # what the new graph is, e.g. `working tree`
    changes: list[Change] = field(default_factory=list)
    outputs: list[PropertyChange] = field(default_factory=list)
    unchanged: int = 0
    preview: bool = True
    error: str | None = None  # synthesis failed: nothing to compare
    regions: list[str] = field(default_factory=list)  # display order
    # Values the mocks invented (in either graph) -> what they stand for.
    placeholders: Placeholders = field(default_factory=Placeholders)

    @property
    def empty(self) -> bool:
        return not self.changes and not self.outputs and self.error is None

    def counts(self, region: str | None = None) -> Counter[str]:
        counts: Counter[str] = Counter({k.value: 0 for k in Kind})
        for change in self.changes:
            if region is None or change.region == region:
                counts[change.kind.value] += 1
                counts["danger"] += len(change.dangers)
        return counts

    def dangers(self, *classes: DangerClass) -> list[tuple[Change, Danger]]:
        """Every danger (of `classes`, default all): outage first, then data loss, exposure,
        safeguards; within a class in the changes' display order."""
        found = [
            (c, d)
            for c in self.changes
            for d in c.dangers
            if not classes or d.danger_class in classes
        ]
        return sorted(found, key=lambda cd: _SEVERITY[cd[1].danger_class])

    def by_region(self) -> dict[str, dict[str, list[Change]]]:
        """Region -> component label -> changes, in the stack's region order."""
        out: dict[str, dict[str, list[Change]]] = {}
        for region in self.regions:
            in_region = [c for c in self.changes if c.region == region]
            if not in_region:
                continue
            comps: dict[str, list[Change]] = {}
            for change in sorted(in_region, key=lambda c: (c.component, c.type, c.name, c.urn)):
                comps.setdefault(change.component, []).append(change)
            out[region] = comps
        return out


# --- matching and comparing -------------------------------------------------------------------


def diff_graphs(old: Graph, new: Graph, *, base: str = "base", head: str = "head") -> StackDiff:
    """What changes from `old` to `new` (two syntheses of one stack)."""
    olds = {r.urn: r for r in old if r.custom}
    news = {r.urn: r for r in new if r.custom}
    matched = match_resources(old, new)
    pairs = {n: o for n, o in matched.items() if n in news and o in olds}  # new URN -> old URN
    taken = set(pairs.values())
    renamed = {old_urn: new_urn for new_urn, old_urn in pairs.items()}

    changes: dict[str, Change] = {}
    # Providers first: a replaced provider replaces what it manages.
    for new_urn in sorted(pairs, key=lambda u: not news[u].is_provider):
        change = _compare(new, olds[pairs[new_urn]], news[new_urn], renamed, changes)
        if change is not None:
            changes[new_urn] = change
    for urn, res in news.items():
        if urn not in pairs:
            changes[urn] = _change(Kind.CREATE, new, res, properties=_created_props(res))
    _propagate(new, olds, pairs, changes)
    unchanged = sum(1 for u in pairs if u not in changes)
    production = _environment(new) == "production" or _environment(old) == "production"
    context = _Context(old, new, news, production)
    for urn, change in list(changes.items()):
        changes[urn] = _with_dangers(change, olds.get(pairs.get(urn, "")), news[urn], context)
    for urn, res in olds.items():
        if urn not in taken:
            changes[urn] = _with_dangers(_change(Kind.DELETE, old, res), res, None, context)

    regions = sort_regions({c.region for c in changes.values()}, new, old)
    position = {r: i for i, r in enumerate(regions)}
    result = sorted(
        changes.values(), key=lambda c: (position[c.region], c.component, c.type, c.name, c.urn)
    )
    return StackDiff(
        stack=new.stack or old.stack,
        base=base,
        head=head,
        changes=result,
        outputs=diff_values(old.outputs, new.outputs),
        unchanged=unchanged,
        preview=new.preview,
        regions=regions,
        placeholders=_placeholders(old, new),
    )


def match_resources(old: Graph, new: Graph) -> dict[str, str]:
    """New URN -> old URN of the same resource: the same URN, else one of its aliases, else the
    alias it inherits from a parent that moved (the engine gives children their parent's
    aliases; the recorded graph has only the aliases the program wrote). Parents come before
    their children in registration order, so a parent is matched first."""
    pairs: dict[str, str] = {}
    taken: set[str] = set()
    for urn, res in new.resources.items():
        candidates = [urn, *res.aliases]
        parent_was = pairs.get(res.parent) if res.parent else None
        if res.parent and parent_was and parent_was != res.parent:
            candidates.append(_child_urn(parent_was, res.type, res.name))
        for candidate in candidates:
            # An alias never takes a URN that still exists: that one is its own resource.
            if (
                candidate in old.resources
                and candidate not in taken
                and (candidate == urn or candidate not in new.resources)
            ):
                pairs[urn] = candidate
                taken.add(candidate)
                break
    return pairs


def _child_urn(parent: str, type_: str, name: str) -> str:
    """The URN of a child of `parent` (the engine's rule: the parent's type chain, then the
    child's type; the stack is not part of the chain)."""
    head, _, rest = parent.partition("::")  # urn:pulumi:<stack>
    project, qualified, _ = rest.split("::", 2)
    return f"{head}::{project}::{qualified}${type_}::{name}"


def _change(kind: Kind, graph: Graph, res: Resource, **details: Any) -> Change:
    """A change of `res` (as declared in `graph`), with what every change says about it."""
    return Change(
        kind=kind,
        urn=res.urn,
        type=res.type,
        name=res.name,
        region=region_of(graph, res),
        component=component_label(graph, res),
        stateful=STATEFUL.get(res.type),
        protected=res.protect,
        **details,
    )


def _created_props(res: Resource) -> tuple[PropertyChange, ...]:
    """Top-level inputs of a created resource (shown whole, not flattened)."""
    return tuple(PropertyChange(p, ABSENT, v) for p, v in sorted(res.inputs.items()))


def _changed_secrets(old: Resource, new: Resource) -> list[str]:
    """Input paths masked on both sides whose keyed digests differ: a secret value changed.
    Only where both syntheses recorded a digest (under the same per-run key)."""
    before, after = old.secret_digests, new.secret_digests
    return sorted(
        path
        for path in before.keys() & after.keys()
        if before[path] != after[path]
        and _at_path(old.inputs, path) == SECRET
        and _at_path(new.inputs, path) == SECRET
    )


def _at_path(tree: Any, path: str) -> Any:
    """The value at a concrete property path (`a.b[0]["c.d"]`), or ABSENT."""
    for seg in replacement_data.segments(path):
        if seg.startswith("["):
            inner = seg[1:-1]
            if isinstance(tree, list) and inner.isdigit() and int(inner) < len(tree):
                tree = tree[int(inner)]
                continue
            key = json.loads(inner) if inner.startswith('"') else inner
        else:
            key = seg
        if not isinstance(tree, dict) or key not in tree:
            return ABSENT
        tree = tree[key]
    return tree


def _forced_paths(
    rule: replacement_data.Rule | None,
    old: Resource,
    new: Resource,
    secrets: Sequence[str] = (),
) -> tuple[list[str], list[str]]:
    """The replacement-forcing (and the conditional) paths whose values differ (a masked value
    differs when its digest does: `secrets`)."""
    forced: list[str] = []
    maybe: list[str] = []
    patterns = [(p, False) for p in (rule.replace if rule else ())]
    patterns += [(p, True) for p in (rule.conditional if rule else ())]
    for pattern, conditional in patterns:
        if _matches(pattern, new.ignore_changes):
            continue
        before = replacement_data.values_at(old.inputs, pattern)
        after = replacement_data.values_at(new.inputs, pattern)
        if before != after or any(replacement_data.overlaps(p, pattern) for p in secrets):
            (maybe if conditional else forced).append(pattern)
    return forced, maybe


def _compare(
    new_graph: Graph,
    old: Resource,
    new: Resource,
    renamed: dict[str, str],
    done: dict[str, Change],
) -> Change | None:
    rule = replacement_data.rule_for(new.type)
    secrets = _changed_secrets(old, new)
    forced, maybe = _forced_paths(rule, old, new, secrets)
    props: list[PropertyChange] = []
    reasons: list[str] = []
    changed = _changed(old.inputs, new.inputs) + [(p, SECRET, SECRET) for p in secrets]
    for path, before, after in sorted(changed, key=lambda c: c[0]):
        ignored = _matches(path, new.ignore_changes)
        by_rule = [p for p in forced if replacement_data.overlaps(path, p)]
        by_option = not ignored and _matches(path, new.replace_on_changes)
        props.append(
            PropertyChange(
                path,
                before,
                after,
                forces_replacement=not ignored and bool(by_rule or by_option),
                ignored=ignored,
                conditional=not ignored and any(replacement_data.overlaps(path, p) for p in maybe),
                secret_changed=path in secrets,
            )
        )
        if by_option and top_level(path) not in reasons:
            reasons.append(top_level(path))
    for pattern in forced:
        reason = pattern.replace("[*]", "[]")
        if reason not in reasons:
            reasons.append(reason)

    options: list[PropertyChange] = []
    for name, before, after in (
        ("protect", old.protect, new.protect),
        ("retainOnDelete", old.retain_on_delete, new.retain_on_delete),
        ("deleteBeforeReplace", old.delete_before_replace, new.delete_before_replace),
        ("ignoreChanges", list(old.ignore_changes), list(new.ignore_changes)),
        ("replaceOnChanges", list(old.replace_on_changes), list(new.replace_on_changes)),
    ):
        if before != after:
            options.append(PropertyChange(name, before, after))
    # Through an alias the provider may be the same one under a new name.
    if (
        old.provider != new.provider
        and renamed.get(old.provider or "", old.provider) != new.provider
    ):
        options.append(
            PropertyChange("provider", _short_urn(old.provider), _short_urn(new.provider))
        )
        reasons.append("provider changed")
    provider_change = done.get(new.provider or "")
    if provider_change is not None and provider_change.kind is Kind.REPLACE:
        reasons.append(f"provider {provider_change.name} replaced")

    previous = old.urn if old.urn != new.urn else None
    if not props and not options and not reasons and previous is None:
        return None
    return _change(
        Kind.REPLACE if reasons else Kind.UPDATE,
        new_graph,
        new,
        properties=tuple(props),
        options=tuple(options),
        replace_reasons=tuple(reasons),
        previous_urn=previous,
    )


def _propagate(
    new_graph: Graph,
    olds: dict[str, Resource],
    pairs: dict[str, str],
    changes: dict[str, Change],
) -> None:
    """Unknowns down the graph, as `pulumi preview` shows them: an input computed from a
    resource this diff creates or replaces is known only after apply; if it forces a
    replacement, its resource is replaced, and what is computed from that in turn."""
    dependents: dict[str, list[str]] = {}
    for res in new_graph:
        for deps in res.property_dependencies.values():
            for dep in deps:
                dependents.setdefault(dep, []).append(res.urn)
    pending = sorted(u for u, c in changes.items() if c.kind in (Kind.CREATE, Kind.REPLACE))
    while pending:
        cause = pending.pop(0)
        for urn in sorted(set(dependents.get(cause, ()))):
            if urn not in pairs:
                continue  # created: every input is new anyway
            before = changes.get(urn)
            if before is not None and before.kind is Kind.REPLACE and cause in before.caused_by:
                continue
            after = _computed_change(new_graph, olds[pairs[urn]], urn, cause, before, changes)
            if after is None or after is before:
                continue
            changes[urn] = after
            if after.kind is Kind.REPLACE and urn not in pending:
                pending.append(urn)


def _computed_change(
    graph: Graph,
    old: Resource,
    urn: str,
    cause: str,
    before: Change | None,
    changes: dict[str, Change],
) -> Change | None:
    res = graph.get(urn)
    rule = replacement_data.rule_for(res.type)
    cause_change = changes[cause]
    known = {p.path for p in before.properties} if before else set()
    props = list(before.properties) if before else []
    reasons = list(before.replace_reasons) if before else []
    added = False
    for key, deps in sorted(res.property_dependencies.items()):
        detailed = any(top_level(k) == key for k in known)
        if cause in deps and detailed:
            added = True  # already shown changing: one more resource it comes from
            continue
        if cause not in deps or key in known or _matches(key, res.ignore_changes):
            continue
        patterns = rule.replace if rule else ()
        maybe = rule.conditional if rule else ()
        forces = any(replacement_data.overlaps(key, p) for p in patterns) or _matches(
            key, res.replace_on_changes
        )
        props.append(
            PropertyChange(
                key,
                old.inputs.get(key, ABSENT),
                COMPUTED,
                forces_replacement=forces,
                conditional=not forces and any(replacement_data.overlaps(key, p) for p in maybe),
                computed_from=(cause,),
            )
        )
        known.add(key)
        added = True
        if forces:
            reasons.append(f"{key} ({cause_change.kind.value}d {cause_change.label})")
    if not added:
        return before
    caused_by = tuple(dict.fromkeys([*(before.caused_by if before else ()), cause]))
    props.sort(key=lambda p: p.path)
    if before is None:
        return _change(
            Kind.REPLACE if reasons else Kind.UPDATE,
            graph,
            res,
            properties=tuple(props),
            replace_reasons=tuple(reasons),
            caused_by=caused_by,
            previous_urn=old.urn if old.urn != urn else None,
        )
    return dataclasses.replace(
        before,
        kind=Kind.REPLACE if reasons else before.kind,
        properties=tuple(props),
        replace_reasons=tuple(reasons),
        caused_by=caused_by,
    )


def _environment(graph: Graph) -> str | None:
    """The stack's environment, as its resources are tagged."""
    for res in graph:
        tags = res.inputs.get("tags")
        if isinstance(tags, dict) and isinstance(tags.get("environment"), str):
            return str(tags["environment"])
    return None


def _placeholders(old: Graph, new: Graph) -> Placeholders:
    """What the mocks invented in either graph, as the synthesis recorded it; for a graph of a
    revision that predates that record, its resources' mocked ids and ARNs."""
    records: list[dict[str, str]] = [new.placeholders, old.placeholders]
    for graph in (new, old):
        if graph.placeholders:
            continue
        found: dict[str, str] = {}
        for res in graph:
            for key in ("id", "arn"):
                value = res.outputs.get(key)
                if isinstance(value, str) and len(value) > 3 and value not in (UNKNOWN, SECRET):
                    found.setdefault(value, f"{short_type(res.type)} {res.name}")
        records.append(found)
    return Placeholders.merged(records)


# --- dangers ----------------------------------------------------------------------------------

# Inputs that guard against data loss, and the value that turns the guard off.
_SAFEGUARDS: dict[str, dict[str, Any]] = {
    "aws:rds/instance:Instance": {"deletionProtection": False, "skipFinalSnapshot": True},
    "aws:rds/cluster:Cluster": {"deletionProtection": False, "skipFinalSnapshot": True},
    "aws:s3/bucket:Bucket": {"forceDestroy": True},
    "aws:s3/bucketV2:BucketV2": {"forceDestroy": True},
    "aws:lb/loadBalancer:LoadBalancer": {"enableDeletionProtection": False},
}
_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
_BLOCK_SETTINGS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)
_POLICY_TYPES = {
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/policy:Policy": "policy",
    "aws:kms/key:Key": "policy",
    "aws:secretsmanager/secretPolicy:SecretPolicy": "policy",
    "aws:sns/topicPolicy:TopicPolicy": "policy",
}


@dataclass
class _Context:
    old: Graph
    new: Graph
    news: dict[str, Resource]
    production: bool


def _with_dangers(
    change: Change, old: Resource | None, new: Resource | None, ctx: _Context
) -> Change:
    dangers: list[Danger] = []
    what = change.stateful
    if what and change.kind is Kind.DELETE:
        assert old is not None
        dangers.append(_stateful_delete(change, old, ctx))
    if what and change.kind is Kind.REPLACE:
        forced = ", ".join(change.replace_reasons)
        cascade = " (by cascade)" if change.caused_by else ""
        dangers.append(
            Danger(
                DangerCode.STATEFUL_REPLACE,
                f"{what} {change.name} is replaced{cascade}: {forced} forces a new one, and the "
                "old one is deleted with what it holds",
                "keep the replacement-forcing input as it is, or migrate in two steps: declare the "
                "new resource beside the old one under a new name, move the data, then remove the "
                "old one in a later change",
            )
        )
    if what and change.kind is Kind.UPDATE:
        maybe = sorted({p.path for p in change.properties if p.conditional})
        if maybe:
            dangers.append(
                Danger(
                    DangerCode.POSSIBLE_REPLACE,
                    f"{what} {change.name} may be replaced: the provider decides at apply "
                    f"whether a change of {', '.join(maybe)} forces a new one",
                    "check the real `pulumi preview` in CI before merging",
                )
            )
    if old is not None and new is not None:
        dangers += _safeguards(change, old, new)
    if new is not None:
        dangers += _exposure(change, old, new)
    if ctx.production and change.kind is Kind.REPLACE and change.type in SERVING:
        dangers.append(
            Danger(
                DangerCode.SERVING_REPLACE,
                f"{SERVING[change.type]} {change.name} is replaced in production: "
                f"{', '.join(change.replace_reasons)}; traffic through it is interrupted",
                "replace it in a maintenance window, or stand the new one up beside the old "
                "(a new name), move traffic, then remove the old one",
            )
        )
    return dataclasses.replace(change, dangers=tuple(dangers)) if dangers else change


def _stateful_delete(change: Change, old: Resource, ctx: _Context) -> Danger:
    keep = ""
    if old.protect:
        keep = " (it is protected: `pulumi up` refuses until protect is removed)"
    elif old.retain_on_delete:
        keep = " (retainOnDelete: it stays in AWS, no longer managed)"
    regions = {region_of(ctx.new, r) for r in ctx.new if r.custom}
    same = [
        r
        for r in ctx.news.values()
        if r.type == old.type and r.urn not in ctx.old.resources and r.urn != old.urn
    ]
    if change.region not in regions and change.region != "global":
        remedy = f"the region is removed: follow the runbook in {RUNBOOK}"
    elif same:
        remedy = (
            f"if {same[0].name} is this {change.stateful} renamed or moved, give it "
            f'`aliases=[pulumi.Alias(urn="{old.urn}")]` so that it keeps its identity'
        )
    else:
        remedy = "if the data must go, take a snapshot first and delete in a change of its own"
    return Danger(
        DangerCode.STATEFUL_DELETE, f"{change.stateful} {change.name} is deleted{keep}", remedy
    )


def _safeguards(change: Change, old: Resource, new: Resource) -> list[Danger]:
    out: list[Danger] = []
    keep = "keep it; turn it off only in a change of its own, right before a planned deletion"
    if old.protect and not new.protect:
        out.append(Danger(DangerCode.PROTECT_REMOVED, f"protect removed from {change.label}", keep))
    if old.retain_on_delete and not new.retain_on_delete:
        out.append(
            Danger(
                DangerCode.RETAIN_REMOVED,
                f"retainOnDelete removed from {change.label}: a later delete destroys it in the cloud",
                keep,
            )
        )
    for prop, off in _SAFEGUARDS.get(new.type, {}).items():
        before = old.inputs.get(prop, ABSENT)
        after = new.inputs.get(prop, ABSENT)
        if after == off and before != off:
            out.append(
                Danger(
                    DangerCode.SAFEGUARD_REMOVED,
                    f"{prop} = {json.dumps(off)} on {change.label}",
                    keep,
                )
            )
    return out


def _exposure(change: Change, old: Resource | None, new: Resource) -> list[Danger]:
    out: list[Danger] = []
    opened = _open_ingress(new) - (_open_ingress(old) if old is not None else set())
    for rule in sorted(opened):
        out.append(
            Danger(
                DangerCode.OPEN_INGRESS,
                f"{change.label} opens {rule} to the internet",
                "admit only Cloudflare's ranges (the edge) or a security group, not 0.0.0.0/0 or ::/0",
            )
        )
    if new.type == _PUBLIC_ACCESS_BLOCK and old is not None:
        off = [
            k
            for k in _BLOCK_SETTINGS
            if old.inputs.get(k) is True and new.inputs.get(k) is not True
        ]
        if off:
            out.append(
                Danger(
                    DangerCode.PUBLIC_BUCKET,
                    f"{change.label} stops blocking public access ({', '.join(off)})",
                    "keep all four settings on; serve public files through the edge",
                )
            )
    if new.type in _POLICY_TYPES:
        newly = _public_statements(new) - (_public_statements(old) if old is not None else set())
        for sid in sorted(newly):
            out.append(
                Danger(
                    DangerCode.PUBLIC_POLICY,
                    f'{change.label} allows {sid} to everyone (Principal "*", no condition)',
                    "name the principals, or add a condition (aws:SourceArn, aws:PrincipalOrgID)",
                )
            )
    return out


def _public_statements(res: Resource) -> set[str]:
    """`Allow` statements for every principal without a condition, by Sid or action."""
    doc = res.inputs.get("policy")
    if isinstance(doc, str):
        try:
            doc = json.loads(doc)
        except ValueError:
            return set()
    if not isinstance(doc, dict):
        return set()
    statements = doc.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    found: set[str] = set()
    for st in statements if isinstance(statements, list) else []:
        if not isinstance(st, dict) or st.get("Effect") != "Allow" or st.get("Condition"):
            continue
        principal = st.get("Principal")
        if principal == "*" or (
            isinstance(principal, dict) and "*" in _as_list(principal.get("AWS"))
        ):
            found.add(str(st.get("Sid") or ",".join(map(str, _as_list(st.get("Action"))))))
    return found


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


_OPEN = ("0.0.0.0/0", "::/0")


def _open_ingress(res: Resource) -> set[str]:
    """Ingress rules of a security group (inline or separate) admitting any address."""
    found: set[str] = set()
    inputs = res.inputs
    if res.type in (
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    ):
        for entry in inputs.get("ingress") or []:
            if isinstance(entry, dict):
                cidrs = [*(entry.get("cidrBlocks") or []), *(entry.get("ipv6CidrBlocks") or [])]
                found |= {_rule_text(entry, c) for c in cidrs if c in _OPEN}
    elif res.type == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
        for key in ("cidrIpv4", "cidrIpv6"):
            if inputs.get(key) in _OPEN:
                found.add(_rule_text(inputs, inputs[key], protocol_key="ipProtocol"))
    elif (
        res.type == "aws:ec2/securityGroupRule:SecurityGroupRule"
        and inputs.get("type") == "ingress"
    ):
        cidrs = [*(inputs.get("cidrBlocks") or []), *(inputs.get("ipv6CidrBlocks") or [])]
        found |= {_rule_text(inputs, c) for c in cidrs if c in _OPEN}
    return found


def _rule_text(entry: dict[str, Any], cidr: str, protocol_key: str = "protocol") -> str:
    protocol = str(entry.get(protocol_key, "?"))
    lo, hi = entry.get("fromPort"), entry.get("toPort")
    if protocol in ("-1", "all"):
        ports = "all traffic"
    else:
        ports = f"{protocol} {lo}" if lo == hi else f"{protocol} {lo}-{hi}"
    return f"{ports} ({cidr})"


# --- values -----------------------------------------------------------------------------------

_join = join_path


def top_level(path: str) -> str:
    """`tags.environment` -> `tags`; `ingress[0].cidrBlocks` -> `ingress`."""
    return re.split(r"[.\[]", path, maxsplit=1)[0]


def _normalize(path: str) -> str:
    """Pulumi's property paths allow `a["b"]` for `a.b`."""
    return re.sub(r'\["([A-Za-z_$][\w$:-]*)"\]', r".\1", path)


def _matches(path: str, patterns: tuple[str, ...]) -> bool:
    """Whether `path` is at or under one of the resource-option property paths."""
    path = _normalize(path)
    for raw in patterns:
        pattern = _normalize(raw)
        if pattern in ("*", path) or path.startswith((pattern + ".", pattern + "[")):
            return True
    return False


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _changed(old: Any, new: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """The leaf paths where two input trees differ, with the values on each side. Lists are
    matched element by element (an element added or removed is reported by itself, not as
    every later element changing)."""
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[tuple[str, Any, Any]] = []
        for key in sorted(set(old) | set(new)):
            out += _changed(old.get(key, ABSENT), new.get(key, ABSENT), _join(path, str(key)))
        return out
    if isinstance(old, list) and isinstance(new, list):
        return _changed_lists(old, new, path)
    # Policies and other JSON documents arrive as strings: compare their structure.
    parsed = _json_documents(old, new)
    if parsed is not None:
        return _changed(*parsed, path)
    return [(path, old, new)]


def _changed_lists(old: list[Any], new: list[Any], path: str) -> list[tuple[str, Any, Any]]:
    import difflib

    if len(old) == len(new):
        pairs = sum(1 for a, b in zip(old, new, strict=True) if a == b)
        if pairs >= len(old) - 1 or not all(isinstance(x, dict | list) for x in old + new):
            out: list[tuple[str, Any, Any]] = []
            for i, (a, b) in enumerate(zip(old, new, strict=True)):
                out += _changed(a, b, f"{path}[{i}]")
            return out
    matcher = difflib.SequenceMatcher(
        a=[_key(x) for x in old], b=[_key(x) for x in new], autojunk=False
    )
    out = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        common = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(common):
            out += _changed(old[i1 + k], new[j1 + k], f"{path}[{j1 + k}]")
        for k in range(i1 + common, i2):
            out.append((f"{path}[{k}]", old[k], ABSENT))
        for k in range(j1 + common, j2):
            out.append((f"{path}[{k}]", ABSENT, new[k]))
    return out


def _json_documents(old: Any, new: Any) -> tuple[Any, Any] | None:
    if not (isinstance(old, str) and isinstance(new, str)):
        return None
    if old[:1] not in "{[" or new[:1] not in "{[" or SECRET in (old, new):
        return None
    try:
        return json.loads(old), json.loads(new)
    except ValueError:
        return None


def diff_values(old: Any, new: Any) -> list[PropertyChange]:
    """Differences between two plain trees (stack outputs), leaf by leaf."""
    return [PropertyChange(p, a, b) for p, a, b in _changed(old, new)]


_QUOTED_LABEL = re.compile(r'"(‹[^"‹›]*›)"')


def show(value: Any, placeholders: Placeholders | None = None) -> str:
    """A value for display: JSON, the masks bare, what the mocks invented as `‹what it stands
    for›` (ids and ARNs by the resource they name). Never shortened: long values are wrapped or
    shown as a text diff by the renderers."""
    if value is ABSENT:
        return "(absent)"
    if value == COMPUTED:
        return COMPUTED
    if value in (SECRET, UNKNOWN):
        return str(value)
    text = json.dumps(value, sort_keys=True, default=str)
    if placeholders:
        text = _QUOTED_LABEL.sub(r"\1", placeholders.sub(text))
    return text


def decoded_text(value: Any) -> str | None:
    """A string as a reviewer reads it: base64 user data decoded, JSON pretty-printed (None
    for what is not a string, or only a mask)."""
    if not isinstance(value, str) or value in (UNKNOWN, COMPUTED, SECRET):
        return None
    text = value
    if len(value) >= 16 and "\n" not in value and " " not in value:
        try:
            raw = base64.b64decode(value, validate=True)
            text = raw.decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            text = value
    if text[:1] in "{[":
        with contextlib.suppress(ValueError):
            text = json.dumps(json.loads(text), indent=2, sort_keys=True)
    return text


def holds_placeholder(value: Any, placeholders: Placeholders) -> bool:
    """Whether a value holds something the mocks invented (also inside base64 text)."""
    if value is ABSENT or not placeholders:
        return False
    if placeholders.found_in(value):
        return True
    text = decoded_text(value)
    return text is not None and text != value and placeholders.found_in(text)


def plain(value: Any) -> Any:
    """A value for JSON output (ABSENT becomes None)."""
    return None if value is ABSENT else value


def _short_urn(urn: str | None) -> str:
    return _urn_name(urn) if urn else "(default)"


def _urn_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def to_dict(diff: StackDiff) -> dict[str, Any]:
    """The JSON form of a stack's diff (its shape: infra/data/plan-diff.schema.json). Values are
    as synthesized, secrets masked; `placeholder` flags a value that holds what the mocks
    invented, `secretChanged` a masked value that changed."""

    def prop(p: PropertyChange) -> dict[str, Any]:
        out: dict[str, Any] = {"path": p.path}
        if p.old is not ABSENT:
            out["old"] = p.old
        if p.new is not ABSENT:
            out["new"] = p.new
        if p.new == COMPUTED:
            out["computed"] = True
        if p.forces_replacement:
            out["forcesReplacement"] = True
        if p.conditional:
            out["mayForceReplacement"] = True
        if p.ignored:
            out["ignored"] = True
        if p.computed_from:
            out["computedFrom"] = list(p.computed_from)
        if p.secret_changed:
            out["secretChanged"] = True
        if holds_placeholder(p.old, diff.placeholders) or holds_placeholder(
            p.new, diff.placeholders
        ):
            out["placeholder"] = True
        return out

    def danger(d: Danger) -> dict[str, Any]:
        return {
            "class": d.danger_class.value,
            "code": d.code.value,
            "message": d.message,
            "remedy": d.remedy,
        }

    return {
        "stack": diff.stack,
        "base": diff.base,
        "head": diff.head,
        "preview": diff.preview,
        "error": diff.error,
        "summary": {**diff.counts(), "unchanged": diff.unchanged},
        "regions": {
            region: dict(diff.counts(region))
            for region in diff.regions
            if diff.counts(region).total()
        },
        "dangers": [{"urn": c.urn, "kind": c.kind.value, **danger(d)} for c, d in diff.dangers()],
        "changes": [
            {
                "kind": c.kind.value,
                "urn": c.urn,
                "type": c.type,
                "name": c.name,
                "region": c.region,
                "component": c.component,
                "protected": c.protected,
                **({"stateful": c.stateful} if c.stateful else {}),
                **({"previousUrn": c.previous_urn} if c.previous_urn else {}),
                "why": {
                    "replaceReasons": list(c.replace_reasons),
                    "causedBy": list(c.caused_by),
                },
                "properties": [prop(p) for p in c.properties],
                "options": [prop(p) for p in c.options],
                "dangers": [danger(d) for d in c.dangers],
            }
            for c in diff.changes
        ],
        "outputs": [prop(p) for p in diff.outputs],
    }
