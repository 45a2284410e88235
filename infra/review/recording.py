"""What the synthesis records of each registration: `RecordingMonitor`, the SDK's mock monitor
keeping every resource's inputs, outputs and options as a `infra.review.graph.Resource`.

Engine wire values become plain data (secrets masked, unknowns marked, references as URNs);
given a per-run key, each secret input's keyed digest is kept beside its mask
(`_SecretDigests`); and what the mocks made up in an answer is kept with what it stands for
(the graph's `placeholders`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi.runtime.mocks import MockMonitor

from infra.review.graph import SECRET, UNKNOWN, Resource, join_path
from infra.review.mocks import CloudMocks
from infra.review.mocks.ids import ACCOUNT_ID
from infra.review.plan import short_type

_SIG = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 (wire signature)
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


class _SecretDigests:
    """Truncated HMAC-SHA256 of secret values under a per-run key, by property path. With a
    random key that only the processes of one run hold, a digest says nothing about the value
    (not even of a short one: there is no dictionary to try it against), yet two syntheses under
    the same key agree exactly when the value is the same."""

    SIZE = 16  # hex digits (64 bits): a collision by chance is out of reach

    def __init__(self, key: bytes) -> None:
        self._key = key
        self.found: dict[str, str] = {}

    def record(self, path: str, value: Any) -> None:
        if value == _UNKNOWN_VALUE:
            return  # not a value yet: nothing to compare
        text = json.dumps(value, sort_keys=True, separators=(",", ":"))
        mac = hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()
        self.found[path] = mac[: self.SIZE]


def _plain(struct: struct_pb2.Struct, secrets: _SecretDigests | None = None) -> dict[str, Any]:
    doc = json_format.MessageToDict(struct)
    return {k: _plain_value(v, k, secrets) for k, v in doc.items()}


def _plain_value(value: Any, path: str = "", secrets: _SecretDigests | None = None) -> Any:
    """Engine wire values to plain data: secrets masked, unknowns marked, references as URNs.
    With `secrets`, each masked value's digest is recorded under its path (paths are built only
    then: the common case pays nothing)."""
    if isinstance(value, dict):
        sig = value.get(_SIG)
        if sig == _SECRET_SIG:
            if secrets is not None:
                secrets.record(path, value.get("value"))
            return SECRET
        if sig == _RESOURCE_SIG:
            return value.get("urn", "")
        if secrets is None:
            return {k: _plain_value(v) for k, v in value.items()}
        return {k: _plain_value(v, join_path(path, k), secrets) for k, v in value.items()}
    if isinstance(value, list):
        if secrets is None:
            return [_plain_value(v) for v in value]
        return [_plain_value(v, f"{path}[{i}]", secrets) for i, v in enumerate(value)]
    if value == _UNKNOWN_VALUE:
        return UNKNOWN
    if isinstance(value, float) and value.is_integer():
        return int(value)  # protobuf numbers are all doubles
    return value


# Every value the mocks make up carries a digest of the resource's name (`mock_hash`) or the
# mock account id; what else they answer (a region, a port, `ISSUED`) is a fact, not an invention.
_INVENTION = re.compile(rf"[0-9a-fA-F]{{6,}}|{ACCOUNT_ID}")


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, string) for every string leaf of a plain tree."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, join_path(path, str(k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{path}[{i}]")


def _inventions(
    type_: str, name: str, inputs: dict[str, Any], outputs: dict[str, Any]
) -> dict[str, str]:
    """The values of a mocked answer that the mocks made up (not echoed from the inputs), with
    what each stands for: the resource for its id and ARN, else the resource and attribute."""
    given = {v for _, v in _strings(inputs)}
    what = f"{short_type(type_)} {name}"
    found: dict[str, str] = {}
    for key in ("id", "arn"):
        value = outputs.get(key)
        if isinstance(value, str) and value not in given and _INVENTION.search(value):
            found.setdefault(value, what)
    for path, value in _strings(outputs):
        if value in (SECRET, UNKNOWN) or value in given or not _INVENTION.search(value):
            continue
        found.setdefault(value, f"{what} {path}")
    return found


class RecordingMonitor(MockMonitor):
    """The SDK's mock monitor, also keeping every registration's options."""

    def __init__(
        self, mocks: CloudMocks, stack: str, project: str, secret_digest_key: bytes | None
    ) -> None:
        super().__init__(mocks)
        self._cloud = mocks
        self._stack = stack
        self._project = project
        self._secret_digest_key = secret_digest_key
        self.recorded: dict[str, Resource] = {}
        self.stack_outputs: dict[str, Any] = {}

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        provider = request.provider.rsplit("::", 1)[0] if request.provider else None
        region = _plain(request.object).get("region") if request.custom else None
        if request.type.startswith("pulumi:providers:"):
            provider = None
        elif request.custom and not region:
            region = self._cloud.region_of(request.provider)
        secrets = _SecretDigests(self._secret_digest_key) if self._secret_digest_key else None
        inputs = _plain(request.object, secrets)
        outputs = self._outputs(request, response) if request.custom else {}
        if outputs and not request.type.startswith("pulumi:providers:"):
            for value, what in _inventions(request.type, request.name, inputs, outputs).items():
                self._cloud.invented.setdefault(value, what)
        self.recorded[response.urn] = Resource(
            urn=response.urn,
            type=request.type,
            name=request.name,
            custom=request.custom,
            parent=request.parent or None,
            provider=provider,
            inputs=inputs,
            outputs=outputs,
            protect=bool(request.protect),
            retain_on_delete=bool(request.retainOnDelete),
            delete_before_replace=bool(request.deleteBeforeReplace),
            ignore_changes=tuple(request.ignoreChanges),
            replace_on_changes=tuple(request.replaceOnChanges),
            aliases=tuple(self._alias_urns(request)),
            dependencies=tuple(request.dependencies),
            region=region if isinstance(region, str) else None,
            property_dependencies={
                key: tuple(sorted(deps.urns))
                for key, deps in sorted(request.propertyDependencies.items())
                if deps.urns
            },
            secret_digests=secrets.found if secrets else {},
        )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802
        if "::pulumi:pulumi:Stack::" in request.urn:
            self.stack_outputs = _plain(request.outputs)
        return super().RegisterResourceOutputs(request)

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """URNs as the engine makes them: the parent's whole type chain, the stack left out
        (the SDK's mock keeps only the parent's own type)."""
        qualified = type_
        if parent and "::pulumi:pulumi:Stack::" not in parent:
            qualified = parent.split("::")[2] + "$" + type_
        return f"urn:pulumi:{self._stack}::{self._project}::{qualified}::{name}"

    def _outputs(self, request: Any, response: Any) -> dict[str, Any]:
        """The mocks' answer; what the provider marks secret stays masked."""
        outputs = _plain(response.object)
        for key in request.additionalSecretOutputs:
            if key in outputs:
                outputs[key] = SECRET
        if response.id:
            outputs["id"] = response.id
        return outputs

    def _alias_urns(self, request: Any) -> list[str]:
        urns = list(request.aliasURNs)
        for alias in request.aliases:
            if alias.urn:
                urns.append(alias.urn)
                continue
            spec = alias.spec
            parent = "" if spec.noParent else (spec.parentUrn or request.parent)
            urns.append(self.make_urn(parent, spec.type or request.type, spec.name or request.name))
        return urns
