"""The plan diff: what applying one synthesized graph over another would do, offline.

`diff_graphs(old, new)` matches custom resources by URN (and a new resource whose `aliases`
name a URN that is gone is the same resource, renamed or moved: an update, not a delete and a
create), compares their inputs and options, and classifies each as a create, update, replace or
delete. Replacements come from `infra.replacements` (the provider's replacement-forcing
properties), the resource's `replaceOnChanges`, and a changed or replaced provider.

Dangers are the changes a reviewer must not miss: a stateful resource (database, replica,
bucket, KMS key, secret) deleted or replaced, or possibly replaced because something its
replacement-forcing inputs are computed from is replaced; `protect` removed; a safeguard input
turned off (deletion protection, final snapshot, force-destroy); an ingress opened to the whole
internet.

Choices (where Pulumi's own preview could differ):
- Inputs listed in a resource's `ignoreChanges` are still shown when they change, marked
  ignored; they never make a replacement or a danger, since `pulumi up` will not apply them.
- Component resources are not diffed (they have no cloud state); their children are.
- Secret values are never in a Graph (only the `[secret]` mask), so a change of a secret's value
  alone is invisible here; the real preview in CI shows it, masked.

Pure functions over `infra.graph.Graph`: nothing here runs the program or imports Pulumi.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from infra.graph import SECRET, UNKNOWN, Graph, Resource
from infra.plan import component_label, region_of, short_type, sort_regions
from infra.replacements import rule_for, stateful_kind


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


class DangerCode(enum.Enum):
    STATEFUL_DELETE = "stateful-delete"
    STATEFUL_REPLACE = "stateful-replace"
    POSSIBLE_REPLACE = "possible-replace"
    PROTECT_REMOVED = "protect-removed"
    SAFEGUARD_REMOVED = "safeguard-removed"
    OPEN_INGRESS = "open-ingress"


_SEVERITY = {
    DangerCode.STATEFUL_DELETE: 0,
    DangerCode.STATEFUL_REPLACE: 0,
    DangerCode.OPEN_INGRESS: 1,
    DangerCode.PROTECT_REMOVED: 2,
    DangerCode.SAFEGUARD_REMOVED: 2,
    DangerCode.POSSIBLE_REPLACE: 3,
}


@dataclass(frozen=True)
class Danger:
    code: DangerCode
    message: str


@dataclass(frozen=True)
class PropertyChange:
    path: str  # `instanceClass`, `tags.environment`, `ingress[0].cidrBlocks`
    old: Any  # ABSENT when not set before
    new: Any  # ABSENT when not set any more
    forces_replacement: bool = False
    ignored: bool = False  # in the resource's ignoreChanges: shown, never applied

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
    caused_by: tuple[str, ...] = ()  # replaced resources this one depends on
    stateful: str | None = None
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

    def dangers(self) -> list[tuple[Change, Danger]]:
        """Every danger, the most serious first (data lost for sure before data maybe lost)."""
        found = [(c, d) for c in self.changes for d in c.dangers]
        return sorted(found, key=lambda cd: _SEVERITY[cd[1].code])

    def by_region(self) -> dict[str, dict[str, list[Change]]]:
        """Region -> component label -> changes, in the stack's region order."""
        out: dict[str, dict[str, list[Change]]] = {}
        for region in self.regions:
            in_region = [c for c in self.changes if c.region == region]
            if not in_region:
                continue
            comps: dict[str, list[Change]] = {}
            for change in sorted(in_region, key=lambda c: (c.component, c.type, c.name)):
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
    unchanged = 0
    # Providers first: a replaced provider replaces what it manages.
    ordered = sorted(pairs, key=lambda u: not news[u].is_provider)
    for new_urn in ordered:
        change = _compare(new, olds[pairs[new_urn]], news[new_urn], renamed, changes)
        if change is None:
            unchanged += 1
        else:
            changes[new_urn] = change
    for urn, res in news.items():
        if urn not in pairs:
            changes[urn] = _created(new, res)
    for urn, res in olds.items():
        if urn not in taken:
            changes[urn] = _deleted(old, res)

    _possible_replacements(new, changes, renamed)
    regions = sort_regions({c.region for c in changes.values()}, new, old)
    position = {r: i for i, r in enumerate(regions)}
    result = sorted(
        changes.values(), key=lambda c: (position[c.region], c.component, c.type, c.name)
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
        stateful=stateful_kind(res.type),
        **details,
    )


def _created(graph: Graph, res: Resource) -> Change:
    change = _change(
        Kind.CREATE,
        graph,
        res,
        properties=tuple(PropertyChange(p, ABSENT, v) for p, v in _leaves(res.inputs)),
    )
    return _with_dangers(change, None, res)


def _deleted(graph: Graph, res: Resource) -> Change:
    return _with_dangers(_change(Kind.DELETE, graph, res), res, None)


def _compare(
    new_graph: Graph,
    old: Resource,
    new: Resource,
    renamed: dict[str, str],
    done: dict[str, Change],
) -> Change | None:
    rule = rule_for(new.type)
    props: list[PropertyChange] = []
    reasons: list[str] = []
    for path, before, after in _changed(old.inputs, new.inputs):
        ignored = _matches(path, new.ignore_changes)
        forced = not ignored and (
            (rule is not None and top_level(path) in rule.forces_replacement)
            or _matches(path, new.replace_on_changes)
        )
        props.append(
            PropertyChange(path, before, after, forces_replacement=forced, ignored=ignored)
        )
        if forced and top_level(path) not in reasons:
            reasons.append(top_level(path))

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
    kind = Kind.REPLACE if reasons else Kind.UPDATE
    change = _change(
        kind,
        new_graph,
        new,
        properties=tuple(props),
        options=tuple(options),
        replace_reasons=tuple(reasons),
        previous_urn=previous,
    )
    return _with_dangers(change, old, new)


def _possible_replacements(
    new_graph: Graph, changes: dict[str, Change], renamed: dict[str, str]
) -> None:
    """A stateful resource that depends on a replaced resource, with a replacement-forcing input
    computed from it, may be replaced too (the engine decides at apply). "Computed from it": the
    input is unknown (preview mode), or holds one of the replaced resource's ids or ARNs (mocked
    mode: the mocks' values are plain strings)."""
    replaced = {u for u, c in changes.items() if c.kind is Kind.REPLACE}
    if not replaced:
        return
    for res in new_graph:
        rule = rule_for(res.type)
        if not res.custom or rule is None or rule.stateful is None:
            continue
        existing = changes.get(res.urn)
        if existing is not None and existing.kind is not Kind.UPDATE:
            continue
        causes = tuple(d for d in res.dependencies if renamed.get(d, d) in replaced)
        if not causes:
            continue
        produced = {
            v
            for cause in causes
            if cause in new_graph.resources
            for k, v in new_graph.get(cause).outputs.items()
            if k in ("id", "arn", "keyId", "name", "bucket") and isinstance(v, str) and v
        }
        cause_types = {new_graph.get(c).type for c in causes if c in new_graph.resources}
        computed = sorted(
            p
            for p in rule.forces_replacement
            if p in res.inputs
            and not _matches(p, res.ignore_changes)
            and (res.inputs[p] == UNKNOWN or _mentions(res.inputs[p], produced))
            and _could_come_from(p, cause_types)
        )
        if not computed:
            continue
        names = ", ".join(_urn_name(u) for u in causes)
        danger = Danger(
            DangerCode.POSSIBLE_REPLACE,
            f"{rule.stateful} {res.name} may be replaced too: its {', '.join(computed)} "
            f"(replacement-forcing) may take a new value from replaced {names}",
        )
        if existing is None:
            existing = Change(
                kind=Kind.UPDATE,
                urn=res.urn,
                type=res.type,
                name=res.name,
                region=region_of(new_graph, res),
                component=component_label(new_graph, res),
                stateful=rule.stateful,
            )
        changes[res.urn] = dataclasses.replace(
            existing, caused_by=causes, dangers=(*existing.dangers, danger)
        )


# Without per-property dependencies, an unknown input could come from any dependency; these
# inputs can only come from resources of these types (a replica's own kmsKeyId is not computed
# from the primary it also depends on).
_PRODUCERS = {
    "kmsKeyId": ("aws:kms/key:Key",),
    "masterUserSecretKmsKeyId": ("aws:kms/key:Key",),
    "performanceInsightsKmsKeyId": ("aws:kms/key:Key",),
    "customKeyStoreId": ("aws:kms/customKeyStore:CustomKeyStore",),
}


def _could_come_from(prop: str, types: set[str]) -> bool:
    producers = _PRODUCERS.get(prop)
    return producers is None or bool(types.intersection(producers))


def _mentions(value: Any, strings: set[str]) -> bool:
    if isinstance(value, str):
        return any(s in value for s in strings)
    if isinstance(value, dict):
        return any(_mentions(v, strings) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, strings) for v in value)
    return False


# --- dangers ----------------------------------------------------------------------------------

# Inputs that guard against data loss, and the value that turns the guard off.
_SAFEGUARDS: dict[str, dict[str, Any]] = {
    "aws:rds/instance:Instance": {"deletionProtection": False, "skipFinalSnapshot": True},
    "aws:rds/cluster:Cluster": {"deletionProtection": False, "skipFinalSnapshot": True},
    "aws:s3/bucket:Bucket": {"forceDestroy": True},
    "aws:s3/bucketV2:BucketV2": {"forceDestroy": True},
    "aws:lb/loadBalancer:LoadBalancer": {"enableDeletionProtection": False},
}


def _with_dangers(change: Change, old: Resource | None, new: Resource | None) -> Change:
    dangers: list[Danger] = []
    what = change.stateful
    if what and change.kind is Kind.DELETE:
        assert old is not None
        keep = ""
        if old.protect:
            keep = " (it is protected: `pulumi up` will refuse until protect is removed)"
        elif old.retain_on_delete:
            keep = " (retainOnDelete: it stays in AWS, no longer managed)"
        dangers.append(Danger(DangerCode.STATEFUL_DELETE, f"{what} {change.name} is deleted{keep}"))
    if what and change.kind is Kind.REPLACE:
        forced = ", ".join(change.replace_reasons)
        dangers.append(
            Danger(
                DangerCode.STATEFUL_REPLACE,
                f"{what} {change.name} is replaced: {forced} forces a new one, and the old one "
                "is deleted with what it holds",
            )
        )
    if old is not None and new is not None and old.protect and not new.protect:
        dangers.append(Danger(DangerCode.PROTECT_REMOVED, f"protect removed from {change.label}"))
    if new is not None:
        for prop, off in _SAFEGUARDS.get(new.type, {}).items():
            before = old.inputs.get(prop, ABSENT) if old is not None else ABSENT
            after = new.inputs.get(prop, ABSENT)
            if old is not None and after == off and before != off:
                dangers.append(
                    Danger(
                        DangerCode.SAFEGUARD_REMOVED,
                        f"{prop} = {json.dumps(off)} on {change.label}",
                    )
                )
        opened = _open_ingress(new) - (_open_ingress(old) if old is not None else set())
        for rule in sorted(opened):
            dangers.append(
                Danger(DangerCode.OPEN_INGRESS, f"{change.label} opens {rule} to the internet")
            )
    return dataclasses.replace(change, dangers=tuple(dangers)) if dangers else change


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

_SIMPLE_KEY = re.compile(r"[A-Za-z_$][\w$:-]*")


def _join(path: str, key: str) -> str:
    if _SIMPLE_KEY.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


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


def _leaves(value: dict[str, Any]) -> list[tuple[str, Any]]:
    """Top-level inputs of a created resource (shown whole, not flattened)."""
    return sorted(value.items())


def _changed(old: Any, new: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """The leaf paths where two input trees differ, with the values on each side."""
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[tuple[str, Any, Any]] = []
        for key in sorted(set(old) | set(new)):
            out += _changed(old.get(key, ABSENT), new.get(key, ABSENT), _join(path, str(key)))
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        out = []
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            out += _changed(a, b, f"{path}[{i}]")
        return out
    # Policies and other JSON documents arrive as strings: compare their structure.
    parsed = _json_documents(old, new)
    if parsed is not None:
        return _changed(*parsed, path)
    return [(path, old, new)]


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


def show(value: Any, limit: int = 100) -> str:
    """A value for display: JSON, the masks bare, long values shortened."""
    if value is ABSENT:
        return "(absent)"
    if value in (SECRET, UNKNOWN):
        return str(value)
    text = json.dumps(value, sort_keys=True, default=str)
    if len(text) > limit:
        text = f"{text[: limit - 12]}… ({len(text)} chars)"
    return text


def plain(value: Any) -> Any:
    """A value for JSON output (ABSENT becomes None)."""
    return None if value is ABSENT else value


def _short_urn(urn: str | None) -> str:
    return _urn_name(urn) if urn else "(default)"


def _urn_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def to_dict(diff: StackDiff) -> dict[str, Any]:
    """The JSON form of a stack's diff."""

    def prop(p: PropertyChange) -> dict[str, Any]:
        out: dict[str, Any] = {"path": p.path}
        if p.old is not ABSENT:
            out["old"] = p.old
        if p.new is not ABSENT:
            out["new"] = p.new
        if p.forces_replacement:
            out["forcesReplacement"] = True
        if p.ignored:
            out["ignored"] = True
        return out

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
        "dangers": [
            {"code": d.code.value, "urn": c.urn, "kind": c.kind.value, "message": d.message}
            for c, d in diff.dangers()
        ],
        "changes": [
            {
                "kind": c.kind.value,
                "urn": c.urn,
                "type": c.type,
                "name": c.name,
                "region": c.region,
                "component": c.component,
                **({"stateful": c.stateful} if c.stateful else {}),
                **({"previousUrn": c.previous_urn} if c.previous_urn else {}),
                **({"replaceReasons": list(c.replace_reasons)} if c.replace_reasons else {}),
                **({"causedBy": list(c.caused_by)} if c.caused_by else {}),
                "properties": [prop(p) for p in c.properties],
                "options": [prop(p) for p in c.options],
                "dangers": [{"code": d.code.value, "message": d.message} for d in c.dangers],
            }
            for c in diff.changes
        ],
        "outputs": [prop(p) for p in diff.outputs],
    }
