"""The synthesized resource graph: what a program declared, as plain data.

Produced by `infra.review.synth`, consumed by the preview, the plan diff, the policy runner and the
tests. Secret input values never enter it: they are replaced by `SECRET` when recorded, and
values unknown during a preview by `UNKNOWN`. Two records say what the plain values cannot:

- `Resource.secret_digests`: beside each `SECRET` mask, a keyed hash of the value it hides, only
  when the synthesis was given a key (`scripts/preview --base` gives both revisions one random
  key per run, so that the diff can tell a changed secret from an unchanged one; the key dies with
  the run, and no renderer ever prints a digest).
- `Graph.placeholders`: every value the mocks invented (ids, ARNs, generated names, endpoints, the
  zone id) -> what it stands for, so that renderers can mark them instead of showing them as real.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

SECRET = "[secret]"  # noqa: S105 (a mask, not a password)
UNKNOWN = "[unknown]"

_SIMPLE_KEY = re.compile(r"[A-Za-z_$][\w$:-]*")


def join_path(path: str, key: str) -> str:
    """A property path one key deeper, as Pulumi writes them: `tags.environment`,
    `tags["aws:cloudformation"]`; list elements are `ingress[0]`."""
    if _SIMPLE_KEY.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


@dataclass(frozen=True)
class Resource:
    urn: str
    type: str
    name: str
    custom: bool
    parent: str | None
    provider: str | None  # URN of the provider resource, for custom resources
    inputs: dict[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)
    protect: bool = False
    retain_on_delete: bool = False
    delete_before_replace: bool = False
    ignore_changes: tuple[str, ...] = ()
    replace_on_changes: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()
    region: str | None = None  # AWS region the resource is pinned to, if any
    # Top-level input -> URNs of the resources its value is computed from (the SDK's
    # `propertyDependencies`): what `pulumi preview` shows as known only after apply.
    property_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Input path of a `SECRET` mask -> truncated HMAC-SHA256 of the hidden value under the
    # synthesis's per-run key (empty without a key). Equal digests: the same secret value.
    secret_digests: dict[str, str] = field(default_factory=dict)

    @property
    def is_provider(self) -> bool:
        return self.type.startswith("pulumi:providers:")


@dataclass
class Graph:
    project: str
    stack: str
    resources: dict[str, Resource]
    outputs: dict[str, Any]
    preview: bool = False
    # A value the mocks invented -> what it stands for (`ec2.Vpc us-east-2-vpc`,
    # `rds.Instance us-east-2-db address`, `zone python.org`).
    placeholders: dict[str, str] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Resource]:
        return iter(self.resources.values())

    def __len__(self) -> int:
        return len(self.resources)

    def of_type(self, type_: str) -> list[Resource]:
        return [r for r in self if r.type == type_]

    def one(self, type_: str, name: str) -> Resource:
        found = [r for r in self if r.type == type_ and r.name == name]
        if len(found) != 1:
            names = sorted(r.name for r in self.of_type(type_))
            raise KeyError(f"{len(found)} resources of type {type_} named {name}; have {names}")
        return found[0]

    def get(self, urn: str) -> Resource:
        return self.resources[urn]

    def children(self, urn: str) -> list[Resource]:
        return [r for r in self if r.parent == urn]

    def ancestors(self, res: Resource) -> list[Resource]:
        chain: list[Resource] = []
        parent = res.parent
        while parent and parent in self.resources:
            chain.append(self.resources[parent])
            parent = self.resources[parent].parent
        return chain

    def component_of(self, res: Resource) -> Resource | None:
        """The nearest enclosing component (not the stack)."""
        for anc in self.ancestors(res):
            if not anc.custom:
                return anc
        return None

    def to_json(self) -> str:
        return json.dumps(
            {
                "project": self.project,
                "stack": self.stack,
                "preview": self.preview,
                "outputs": self.outputs,
                "placeholders": self.placeholders,
                "resources": [asdict(r) for r in self],
            },
            indent=1,
            sort_keys=True,
            default=str,
        )

    @classmethod
    def from_json(cls, text: str) -> Graph:
        doc = json.loads(text)
        resources = {}
        for item in doc["resources"]:
            for key in ("ignore_changes", "replace_on_changes", "aliases", "dependencies"):
                item[key] = tuple(item[key])
            deps = item.get("property_dependencies") or {}
            item["property_dependencies"] = {k: tuple(v) for k, v in deps.items()}
            item.setdefault("secret_digests", {})  # absent in graphs of older revisions
            res = Resource(**item)
            resources[res.urn] = res
        return cls(
            project=doc["project"],
            stack=doc["stack"],
            resources=resources,
            outputs=doc["outputs"],
            preview=doc["preview"],
            placeholders=doc.get("placeholders") or {},
        )
