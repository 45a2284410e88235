"""A Terraform resource's schema read from Go: which attributes force a replacement.

`SchemaReader` finds a resource's schema in a `Source` (`infra.maintain.tf_sources`) and reads
it into `TfAttr`s: `ForceNew` on an SDKv2 attribute (and the attributes a `CustomizeDiff` may
force new), a `RequiresReplace` plan modifier on a plugin-framework attribute or block. It
follows the helpers, package variables and constants schema code is written with, through the
Go reader `infra.maintain.golang`. Part of `scripts/extract_replacements`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from infra.maintain import golang
from infra.maintain.golang import Node
from infra.maintain.tf_sources import Source

# --- a provider's schema, as Terraform sees it --------------------------------------------------


@dataclass
class TfAttr:
    """One attribute or block of a Terraform resource schema."""

    name: str
    force_new: bool = False  # changing it always replaces the resource
    conditional: bool = False  # a function decides (RequiresReplaceIf, CustomizeDiff ForceNew)
    settable: bool = True  # Optional or Required (not computed-only)
    children: dict[str, TfAttr] = field(default_factory=dict)


@dataclass
class TfResource:
    tf_type: str
    package: str  # directory of the Go package, e.g. internal/service/ec2
    origin: str  # the function or method the schema was read from
    attrs: dict[str, TfAttr] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


# --- reading schemas ----------------------------------------------------------------------------

# terraform-provider-aws' `names.Attr*` constants (names/attr_consts_gen.go) are the attribute
# names in CamelCase with these initialisms; the index does not carry the names package, so they
# are converted back here (and every converted name is checked against the Pulumi SDK's own
# property names when mapped).
_INITIALISMS = (
    "ARNs", "IDs", "IPv4", "IPv6", "ACL", "API", "ARN", "AWS", "AZ", "CA", "CIDR", "DB", "DNS",
    "EBS", "EC2", "ECS", "FIFO", "HTTP", "HTTPS", "IAM", "ID", "IP", "JSON", "KMS", "MFA", "OS",
    "S3", "SNS", "SQS", "SSE", "SSL", "TLS", "TTL", "URI", "URL", "VPC", "VPCs",
)  # fmt: skip


def attr_const_name(const: str) -> str:
    """`AttrCIDRBlock` -> `cidr_block`, `AttrVPCID` -> `vpc_id`, `AttrKMSKeyID` -> `kms_key_id`."""
    rest = const.removeprefix("Attr")
    words: list[str] = []
    while rest:
        for ini in sorted(_INITIALISMS, key=len, reverse=True):
            if rest.startswith(ini) and (
                len(rest) == len(ini) or not rest[len(ini)].islower() or ini.endswith("s")
            ):
                words.append(ini.lower())
                rest = rest[len(ini) :]
                break
        else:
            m = re.match(r"[A-Z]+(?=[A-Z][a-z]|\d|$)|[A-Z][a-z0-9]*|[a-z0-9]+", rest)
            if m is None:
                words.append(rest.lower())
                break
            words.append(m.group().lower())
            rest = rest[m.end() :]
    return "_".join(words)


_MODIFIER = re.compile(r"(\w*)RequiresReplace(\w*)$")


class SchemaReader:
    def __init__(self, source: Source) -> None:
        self.source = source

    # names and functions

    def key_name(self, key: Node | None, package: str) -> str | None:
        if key is None:
            return None
        if key.kind == "lit":
            return key.text
        if key.kind == "name":
            head, _, tail = key.text.rpartition(".")
            if head == "names":
                consts = self._names_consts()
                return consts.get(tail) or attr_const_name(tail)
            decls = self.source.package(package)
            value = decls.consts.get(key.text)
            if value is not None:
                return value
            alias = decls.aliases.get(key.text)
            if alias is not None:
                return self.key_name(Node("name", alias), package)
        return None

    @cache  # noqa: B019 (one reader per run)
    def _names_consts(self) -> dict[str, str]:
        for package in ("names",):
            decls = self.source.package(package)
            if decls.consts:
                return decls.consts
        return {}

    def resolve_func(self, package: str, name: str) -> tuple[str, list[golang.Tok]] | None:
        """The body of function `name` (`f` or `pkg.f`) seen from `package`."""
        alias, _, func = name.rpartition(".")
        if not alias:
            decls = self.source.package(package)
            body = decls.funcs.get(func)
            if body is None:  # the index spells some factory names in another case
                lowered = {k.lower(): v for k, v in decls.funcs.items()}
                body = lowered.get(func.lower())
            return (package, body) if body is not None else None
        for candidate in self.source.package_dirs():
            if candidate.rsplit("/", 1)[-1] == alias:
                body = self.source.package(candidate).funcs.get(func)
                if body is not None:
                    return candidate, body
        return None

    def _value(self, node: Node, package: str, depth: int = 0) -> tuple[Node, str]:
        """Follow a call to a local helper (`fooSchema()`) to the composite it returns, a
        package variable to its value, and `maps.Clone(m)` to `m`."""
        if depth >= 4:
            return node, package
        if node.kind == "call" and node.text == "maps.Clone" and node.args:
            return self._value(node.args[0], package, depth + 1)
        if node.kind == "name" and "." not in node.text:
            tokens = self.source.package(package).values.get(node.text)
            if tokens:
                return self._value(golang.parse_expr(tokens), package, depth + 1)
        if node.kind == "call":
            found = self.resolve_func(package, node.text)
            if found is not None:
                pkg, body = found
                for ret in golang.returned(body):
                    if ret.kind in ("composite", "call"):
                        return self._value(ret, pkg, depth + 1)
        return node, package

    # SDKv2

    def sdk_resource(self, tf_type: str, package: str, factory: str) -> TfResource:
        found = self.resolve_func(package, factory)
        if found is None:
            factory = self._factory_by_create(tf_type, package) or factory
            found = self.resolve_func(package, factory)
        res = TfResource(tf_type, package, f"{package} {factory}()")
        if found is None:
            res.warnings.append(f"factory {factory} not found in {package}")
            return res
        pkg, body = found
        resource = next((r for r in golang.returned(body) if r.kind == "composite"), None)
        if resource is None:
            res.warnings.append(f"{factory} returns no schema.Resource literal")
            return res
        res.attrs = self._sdk_schema(resource, pkg, res)
        for attr in self._customize_diff(resource, pkg):
            if attr in res.attrs and not res.attrs[attr].force_new:
                res.attrs[attr].conditional = True
        return res

    def _factory_by_create(self, tf_type: str, package: str) -> str | None:
        """The function returning a `schema.Resource` whose Create is the resource's own."""
        create = self.source.create_function(tf_type)
        if create is None:
            return None
        keys = ("CreateWithoutTimeout", "CreateContext", "Create")
        for name, body in self.source.package(package).funcs.items():
            texts = [t.text for t in body]
            for i in range(len(texts) - 2):
                if texts[i] in keys and texts[i + 1] == ":" and texts[i + 2] == create:
                    return name
        return None

    def _sdk_schema(self, resource: Node, package: str, res: TfResource) -> dict[str, TfAttr]:
        node = resource.get("Schema")
        if node is None:
            func = resource.get("SchemaFunc")
            if func is None:
                return {}
            if func.kind == "func":
                node = next((r for r in golang.returned(func.body)), None)
            elif func.kind == "name":
                found = self.resolve_func(package, func.text)
                node = next(iter(golang.returned(found[1])), None) if found else None
                package = found[0] if found else package
        if node is None:
            res.warnings.append("no schema map")
            return {}
        node, package = self._value(node, package)
        if node.kind != "composite":
            res.warnings.append(f"schema map is {node.kind} {node.text}")
            return {}
        return self._sdk_map(node, package, res)

    def _sdk_map(self, node: Node, package: str, res: TfResource) -> dict[str, TfAttr]:
        out: dict[str, TfAttr] = {}
        for key, raw in node.elements:
            name = self.key_name(key, package)
            if name is None:
                res.warnings.append(f"unresolved key {key.text if key else '?'}")
                continue
            value, pkg = self._value(raw, package)
            if value.kind != "composite":
                continue  # a variable or an external helper (tags, timeouts): never ForceNew
            attr = TfAttr(
                name,
                force_new=value.is_true("ForceNew"),
                settable=value.is_true("Optional") or value.is_true("Required"),
            )
            elem = value.get("Elem")
            if elem is not None:
                elem, epkg = self._value(elem, pkg)
                if elem.kind == "composite" and elem.text.endswith("Resource"):
                    inner = elem.get("Schema")
                    if inner is None and elem.get("SchemaFunc") is not None:
                        fn = elem.get("SchemaFunc")
                        inner = next(iter(golang.returned(fn.body)), None) if fn else None
                    if inner is not None:
                        inner, ipkg = self._value(inner, epkg)
                        if inner.kind == "composite":
                            attr.children = self._sdk_map(inner, ipkg, res)
            out[name] = attr
        return out

    def _customize_diff(self, resource: Node, package: str) -> set[str]:
        """Attributes a CustomizeDiff function may ForceNew (`d.ForceNew(...)`,
        `customdiff.ForceNewIf*("attr", ...)`), one call level deep."""
        node = resource.get("CustomizeDiff")
        if node is None:
            return set()
        found: set[str] = set()
        pending = [node]
        seen: set[str] = set()
        while pending:
            n = pending.pop()
            if n.kind == "call" and n.text.startswith("customdiff.ForceNewIf"):
                name = self.key_name(n.args[0], package) if n.args else None
                if name:
                    found.add(name)
                continue
            if n.kind == "call":
                pending += n.args
            if n.kind == "name" and n.text not in seen and "." not in n.text:
                seen.add(n.text)
                resolved = self.resolve_func(package, n.text)
                if resolved is not None:
                    found |= self._force_new_calls(resolved[1], package)
        return found

    def _force_new_calls(self, body: list[golang.Tok], package: str) -> set[str]:
        out: set[str] = set()
        for i in range(len(body) - 3):
            if body[i].text == "." and body[i + 1].text == "ForceNew" and body[i + 2].text == "(":
                node, _ = golang.expr_at(body, i + 3)
                name = self.key_name(node, package)
                if name:
                    out.add(name)
        return out

    # plugin framework

    def framework_resource(self, tf_type: str, package: str, struct: str) -> TfResource:
        decls = self.source.package(package)
        if struct.startswith("factory:"):
            # Only the factory is known: the struct is what it returns (`&fooResource{}`).
            guess = struct.removeprefix("factory:")
            found = self.resolve_func(package, guess)
            if found is None:  # the master index prefixes some names with the service
                middle = guess.lower().removeprefix("new").removesuffix("resource")
                for name in sorted(decls.funcs, key=len, reverse=True):
                    low = name.lower()
                    if low.startswith("new") and low.endswith("resource"):
                        inner = low[3 : -len("resource")]
                        if inner and middle.endswith(inner):
                            found = (package, decls.funcs[name])
                            break
            names: list[str] = []
            factory_body = found[1] if found else []
            for ret in golang.returned(factory_body):
                values = (
                    [ret] if ret.kind == "composite" else golang.assignments(factory_body, ret.text)
                )
                names += [v.text for v in values if v.kind == "composite"]
            struct = names[0] if names else struct
        res = TfResource(tf_type, package, f"{package} ({struct}).Schema")
        body = decls.methods.get((struct, "Schema"))
        if body is None:
            # The method may belong to an embedded struct.
            for tok in decls.types.get(struct, []):
                body = decls.methods.get((tok.text, "Schema"))
                if body is not None:
                    res.origin = f"{package} ({tok.text}).Schema"
                    break
        if body is None:
            res.warnings.append(f"no Schema method for {struct} in {package}")
            return res
        schema = None
        for value in golang.assignments(body, "resp.Schema") + golang.assignments(
            body, "response.Schema"
        ):
            schema, package = self._value(value, package)
            break
        if schema is None or schema.kind != "composite":
            # Built in a local variable first: take the first schema.Schema literal.
            for i, tok in enumerate(body):
                if tok.text == "schema" and body[i + 2 : i + 4] and body[i + 2].text == "Schema":
                    node, _ = golang.expr_at(body, i)
                    if node.kind == "composite":
                        schema = node
                        break
        if schema is None or schema.kind != "composite":
            res.warnings.append("no schema.Schema literal")
            return res
        res.attrs = self._fw_object(schema, package, res)
        return res

    def _fw_object(self, node: Node, package: str, res: TfResource) -> dict[str, TfAttr]:
        out: dict[str, TfAttr] = {}
        for field_name in ("Attributes", "Blocks"):
            group = node.get(field_name)
            if group is None:
                continue
            group, pkg = self._value(group, package)
            if group.kind != "composite":
                continue
            for key, raw in group.elements:
                name = self.key_name(key, pkg)
                if name is None:
                    res.warnings.append(f"unresolved key {key.text if key else '?'}")
                    continue
                value, vpkg = self._value(raw, pkg)
                if value.kind != "composite":
                    continue
                out[name] = self._fw_attr(name, value, vpkg, res, block=field_name == "Blocks")
        return out

    def _fw_attr(
        self, name: str, node: Node, package: str, res: TfResource, *, block: bool
    ) -> TfAttr:
        attr = TfAttr(name, settable=block or node.is_true("Optional") or node.is_true("Required"))
        modifiers = node.get("PlanModifiers")
        if modifiers is not None:
            for _, call in modifiers.elements:
                m = _MODIFIER.search(call.text) if call.kind == "call" else None
                if m is None:
                    continue
                if m.group(2) in ("", "IfConfigured"):
                    attr.force_new = True
                else:
                    attr.conditional = True
        nested = node.get("NestedObject")
        target = nested if nested is not None and nested.kind == "composite" else node
        if target.get("Attributes") is not None or target.get("Blocks") is not None:
            attr.children = self._fw_object(target, package, res)
        return attr

    def read(self, tf_type: str, info: tuple[str, str, str]) -> TfResource:
        package, kind, name = info
        if kind == "sdk":
            return self.sdk_resource(tf_type, package, name)
        return self.framework_resource(tf_type, package, name)
