"""Adopting what already exists in a live zone before the stack's first deploy.

python.org's zone already has records for python.org and www, and entry-point rulesets made in
the dashboard. A first `pulumi up` would fail on the records (a name can hold one CNAME) and
silently replace every rule of the phases the stack declares (an entry-point ruleset's rules are
exactly the declared ones). So, before it:

1. `wanted(graph)`: what the stack declares in the zone (its records and phase rulesets, from the
   program synthesized offline, so this is the very program `pulumi up` runs);
2. `read_zone(client, ...)`: what the zone holds, through Cloudflare's API with read calls only
   (a transport hook refuses any other method, so a bug here cannot write to the zone);
3. `plan(wanted, zone)`: a `pulumi import --file` document for what exists already (records of
   the same name and type, the phases' entry-point rulesets), records that block a declared
   one, and a report of the existing rules each imported ruleset would lose, to carry over first.

`infra/cli/import_zone.py` is the command line around it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from infra.review.graph import UNKNOWN, Graph

RECORD = "cloudflare:index/dnsRecord:DnsRecord"
RULESET = "cloudflare:index/ruleset:Ruleset"
EDGE = "python-org:edge:Edge"
MAIL = "python-org:mail:Mail"  # its DKIM, MAIL FROM and DMARC records (mail.py)
# Record types that may not share a name with a CNAME (RFC 1034 section 3.6.2; Cloudflare
# refuses the create with "An A, AAAA, or CNAME record with that host already exists").
ADDRESS_TYPES = ("A", "AAAA", "CNAME")


class WriteRefusedError(RuntimeError):
    """Something tried to send a request other than GET to the Cloudflare API."""


def refuse_writes(request: httpx.Request) -> None:
    """httpx request hook: only GET leaves this process."""
    if request.method != "GET":
        raise WriteRefusedError(
            f"refused {request.method} {request.url.path}: import_zone only reads"
        )


@dataclass(frozen=True, kw_only=True)
class WantedRecord:
    name: str  # the logical (Pulumi) name
    parent: str  # the logical name of its component
    hostname: str
    type: str
    data: Mapping[str, Any] | None  # CAA: flags, tag, value


@dataclass(frozen=True, kw_only=True)
class WantedRuleset:
    name: str
    parent: str
    phase: str
    refs: frozenset[str]  # the refs of the stack's own rules


@dataclass(frozen=True, kw_only=True)
class Wanted:
    stack: str
    records: tuple[WantedRecord, ...]
    rulesets: tuple[WantedRuleset, ...]
    computed: tuple[str, ...]  # records whose names are known only once other resources exist
    components: Mapping[str, str]  # logical name -> type of the parents to create


def wanted(graph: Graph) -> Wanted:
    """What the stack declares in its zone, from its synthesized graph."""
    by_urn = graph.resources
    records: list[WantedRecord] = []
    computed: list[str] = []
    rulesets: list[WantedRuleset] = []
    components: dict[str, str] = {}
    for res in graph.of_type(RECORD):
        parent = by_urn.get(res.parent or "")
        hostname, kind = res.inputs.get("name"), res.inputs.get("type")
        if parent is None or parent.type not in (EDGE, MAIL) or hostname in (None, UNKNOWN):
            computed.append(res.name)
            continue
        components[parent.name] = parent.type
        records.append(
            WantedRecord(
                name=res.name,
                parent=parent.name,
                hostname=str(hostname),
                type=str(kind),
                data=res.inputs.get("data"),
            )
        )
    for res in graph.of_type(RULESET):
        parent = by_urn.get(res.parent or "")
        if parent is None:
            raise ValueError(f"ruleset {res.name} has no parent component")
        components[parent.name] = parent.type
        rulesets.append(
            WantedRuleset(
                name=res.name,
                parent=parent.name,
                phase=res.inputs["phase"],
                refs=frozenset(r.get("ref", "") for r in res.inputs["rules"]),
            )
        )
    return Wanted(
        stack=graph.stack,
        records=tuple(records),
        rulesets=tuple(rulesets),
        computed=tuple(computed),
        components=components,
    )


@dataclass(frozen=True, kw_only=True)
class Zone:
    id: str
    name: str
    records: tuple[Mapping[str, Any], ...]
    entrypoints: Mapping[str, Mapping[str, Any]]  # phase -> its entry-point ruleset


def find_zone_id(client: Any, name: str) -> str:
    """The id of the zone called `name` (GET /zones?name=...)."""
    found = [z for z in client.zones.list(name=name) if z.name == name]
    if not found:
        raise LookupError(f"no zone named {name} is visible to this token")
    return str(found[0].id)


def read_zone(
    client: Any, zone_id: str, zone_name: str, phases: Iterable[str], per_page: int = 100
) -> Zone:
    """Every DNS record of the zone (all pages) and the entry-point ruleset of each phase."""
    import cloudflare

    listed = client.dns.records.list(zone_id=zone_id, per_page=per_page)
    records = tuple(r.to_dict() for r in listed)
    entrypoints: dict[str, Mapping[str, Any]] = {}
    for phase in sorted(set(phases)):
        try:
            # The raw body: the typed rule union of the library misreads some actions.
            raw = client.rulesets.phases.with_raw_response.get(phase, zone_id=zone_id).json()
        except cloudflare.NotFoundError:
            continue  # no entry point yet: the stack creates it
        entrypoints[phase] = raw["result"]
    return Zone(id=zone_id, name=zone_name, records=records, entrypoints=entrypoints)


@dataclass(frozen=True, kw_only=True)
class ForeignRule:
    phase: str
    rule_id: str
    description: str
    expression: str
    action: str
    enabled: bool


@dataclass(kw_only=True)
class Plan:
    stack: str
    zone: str
    imports: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    replaced_rules: list[ForeignRule] = field(default_factory=list)
    computed: list[str] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        """The `pulumi import --file` document: the parent components first (created empty,
        Pulumi 3.94 and later), then the resources to adopt."""
        return {"resources": self.imports}


def plan(want: Wanted, zone: Zone) -> Plan:
    result = Plan(stack=want.stack, zone=zone.name, computed=list(want.computed))
    parents: set[str] = set()
    by_name: dict[str, list[Mapping[str, Any]]] = {}
    for record in zone.records:
        by_name.setdefault(str(record.get("name", "")).lower(), []).append(record)
    claimed: set[str] = set()
    for rec in want.records:
        existing = by_name.get(rec.hostname.lower(), [])
        match = next(
            (
                r
                for r in existing
                if r.get("type") == rec.type
                and str(r.get("id")) not in claimed
                and (rec.type != "CAA" or _same_caa(r.get("data"), rec.data))
            ),
            None,
        )
        if match is not None:
            claimed.add(str(match["id"]))
            parents.add(rec.parent)
            result.imports.append(_entry(RECORD, rec.name, f"{zone.id}/{match['id']}", rec.parent))
            continue
        if rec.type == "CNAME":
            blocking = [r for r in existing if r.get("type") in ADDRESS_TYPES]
            for r in blocking:
                result.conflicts.append(
                    f"{rec.hostname}: the stack declares a CNAME but a {r.get('type')} record "
                    f"({r.get('content')}, id {r.get('id')}) holds the name; remove it in the "
                    "cutover window, just before `pulumi up`"
                )
            if blocking:
                continue
        result.created.append(f"{rec.type} {rec.hostname}" + _caa_text(rec.data))
    # CAA records the stack does not declare at a name it declares CAA for: they would go on
    # authorizing their CA (a CA takes the union of a name's issue records, RFC 8659).
    caa_names = {rec.hostname.lower() for rec in want.records if rec.type == "CAA"}
    for name in sorted(caa_names):
        for r in by_name.get(name, []):
            if r.get("type") == "CAA" and str(r.get("id")) not in claimed:
                result.conflicts.append(
                    f"{name}: CAA {r.get('content')} (id {r.get('id')}) is not one the stack "
                    "declares and would go on allowing that CA: delete it, or add the CA to "
                    "the stack's issuers"
                )
    for ruleset in want.rulesets:
        entry = zone.entrypoints.get(ruleset.phase)
        if entry is None:
            result.created.append(f"ruleset {ruleset.phase}")
            continue
        parents.add(ruleset.parent)
        result.imports.append(
            _entry(RULESET, ruleset.name, f"zones/{zone.id}/{entry['id']}", ruleset.parent)
        )
        for rule in entry.get("rules") or []:
            if rule.get("ref") in ruleset.refs:
                continue  # one of the stack's own rules (a re-run after a deploy)
            result.replaced_rules.append(
                ForeignRule(
                    phase=ruleset.phase,
                    rule_id=str(rule.get("id", "")),
                    description=str(rule.get("description") or ""),
                    expression=str(rule.get("expression", "")),
                    action=str(rule.get("action", "")),
                    enabled=rule.get("enabled", True) is not False,
                )
            )
    components = [
        {"type": want.components[name], "name": name, "component": True} for name in sorted(parents)
    ]
    result.imports[:0] = components
    return result


def _entry(type_: str, name: str, id_: str, parent: str) -> dict[str, Any]:
    return {"type": type_, "name": name, "id": id_, "parent": parent}


def _same_caa(found: Any, want: Mapping[str, Any] | None) -> bool:
    if not isinstance(found, Mapping) or want is None:
        return False
    return (str(found.get("tag")), str(found.get("value")).strip('"')) == (
        str(want.get("tag")),
        str(want.get("value")),
    )


def _caa_text(data: Mapping[str, Any] | None) -> str:
    return f" {data.get('tag')} {data.get('value')!r}" if data else ""


def report(result: Plan) -> str:
    """What the import does and what a deploy after it would change, for a person."""
    lines = [f"Zone {result.zone}, stack {result.stack}:", ""]
    adopted = [i for i in result.imports if not i.get("component")]
    lines.append(f"Import ({len(adopted)}): pulumi import --file <document> adopts")
    lines += [f"  {i['name']}  ({i['type'].rsplit(':', 1)[-1]} {i['id']})" for i in adopted]
    if not adopted:
        lines.append("  nothing: the zone has none of the stack's records or phase rulesets")
    lines += [
        "",
        f"Existing rules the first `pulumi up` would REPLACE ({len(result.replaced_rules)}):",
    ]
    if result.replaced_rules:
        lines.append("  An entry-point ruleset holds exactly the rules the stack declares: carry")
        lines.append("  each of these over (into the stack, or elsewhere) before deploying.")
        for rule in result.replaced_rules:
            state = "" if rule.enabled else " (disabled)"
            lines.append(f"  [{rule.phase}] {rule.description or rule.rule_id}{state}")
            lines.append(f"      {rule.action} when {rule.expression}")
    else:
        lines.append("  none")
    lines += ["", f"Blocking records ({len(result.conflicts)}):"]
    lines += [f"  {c}" for c in result.conflicts] or ["  none"]
    lines += ["", f"Created by the deploy ({len(result.created)}):"]
    lines += [f"  {c}" for c in result.created] or ["  none"]
    if result.computed:
        lines += [
            "",
            f"Not checked ({len(result.computed)}): records named only once other resources "
            "exist (ACM validation); ACM reuses existing ones of the same name.",
        ]
    return "\n".join(lines) + "\n"


def client(token: str, base_url: str | None = None, max_retries: int = 3) -> Any:
    """A Cloudflare API client that can only read (see `refuse_writes`); 429s and 5xx are
    retried by the library, honouring Retry-After."""
    import cloudflare

    return cloudflare.Cloudflare(
        api_token=token,
        base_url=base_url,
        max_retries=max_retries,
        http_client=httpx.Client(event_hooks={"request": [refuse_writes]}, timeout=30.0),
    )
