"""What a plan diff is made of: a stack's changes, each resource's property and option changes
(with the markers `ABSENT` and `COMPUTED`), and the dangers' classes and codes.

Plain data: built by `infra.review.diff.stack.diff_graphs`, read by the renderers
(`infra.review.render_diff`) and the JSON form (`infra.review.diff.json_form`).
"""

from __future__ import annotations

import enum
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from infra.review.graph import Graph, Resource
from infra.review.placeholders import Placeholders
from infra.review.plan import component_label, region_of, short_type

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


def top_level(path: str) -> str:
    """`tags.environment` -> `tags`; `ingress[0].cidrBlocks` -> `ingress`."""
    return re.split(r"[.\[]", path, maxsplit=1)[0]


def change_of(kind: Kind, graph: Graph, res: Resource, **details: Any) -> Change:
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
