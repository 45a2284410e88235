"""Which inputs force a replacement, read from the Terraform providers' own sources.

pulumi-aws, pulumi-cloudflare and pulumi-random bridge Terraform providers, and the bridge
reports a replacement exactly when the Terraform schema says so: `ForceNew: true` on an SDKv2
attribute (terraform-provider-aws' older resources), a `RequiresReplace` plan modifier on a
plugin-framework attribute or block (terraform-provider-aws' newer resources, all of
terraform-provider-cloudflare v5 and terraform-provider-random). This module reads those schemas
from the Go sources (`infra.maintain.golang`), maps Terraform attribute names onto the Pulumi property
names of the installed SDKs (snake_case to camelCase, the bridge's pluralized list names and
flattened single-item blocks, read from the SDKs' own input types), and builds the data file
`infra/data/replacements.json` that the plan diff reads (`infra.review.replacement_data`).

Sources are git directories (a bare mirror or a clone) read at a tag with `git`, never a work
tree, so any maintainer can rebuild the file from public repositories:
- `GitSource`: a provider repository (terraform-provider-cloudflare, terraform-provider-random,
  or terraform-provider-aws itself, whose resources carry `@SDKResource`/`@FrameworkResource`
  annotations);
- `AwsIndexSource`: lonegunmanb/terraform-provider-aws-index, which republishes every function,
  method and type of terraform-provider-aws at each release tag, one file each (used where the
  full terraform-provider-aws repository is too large to fetch).

Run through `scripts/extract_replacements` (`infra.cli.extract_replacements`). Nothing here is
imported by the program, the preview or the diff.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from infra.maintain import golang
from infra.maintain.golang import Declarations, Node

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


class SourceError(Exception):
    pass


def _git(gitdir: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "--git-dir", str(gitdir), *args], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise SourceError(f"git {' '.join(args)} in {gitdir}: {proc.stderr.strip()}")
    return proc.stdout


class _Blobs:
    """Many files of one tree, read with one `git cat-file --batch`."""

    def __init__(self, gitdir: Path, ref: str) -> None:
        self.gitdir, self.ref = gitdir, ref
        self.commit = _git(gitdir, "rev-parse", f"{ref}^{{commit}}").strip()
        self.paths = _git(gitdir, "ls-tree", "-r", "--name-only", self.commit).splitlines()
        self._cache: dict[str, str] = {}

    def read_many(self, paths: list[str]) -> dict[str, str]:
        missing = [p for p in paths if p not in self._cache]
        if missing:
            request = "".join(f"{self.commit}:{p}\n" for p in missing).encode()
            proc = subprocess.run(
                ["git", "--git-dir", str(self.gitdir), "cat-file", "--batch"],
                input=request,
                capture_output=True,
                check=True,
            )
            out, pos = proc.stdout, 0
            for path in missing:
                header_end = out.index(b"\n", pos)
                header = out[pos:header_end].split()
                if header[-1] == b"missing":
                    self._cache[path] = ""
                    pos = header_end + 1
                    continue
                size = int(header[2])
                body = out[header_end + 1 : header_end + 1 + size]
                self._cache[path] = body.decode("utf-8", "replace")
                pos = header_end + 1 + size + 1
        return {p: self._cache[p] for p in paths}


class Source:
    """A provider's Go sources at one version: packages by directory, resources by type."""

    repo: str
    version: str
    commit: str
    via: str | None = None

    def __init__(self) -> None:
        self._packages: dict[str, Declarations] = {}

    # Subclasses: where the packages' files are, and which resources there are.
    def package_files(self, package: str) -> list[str]:
        raise NotImplementedError

    def read_many(self, paths: list[str]) -> dict[str, str]:
        raise NotImplementedError

    def resources(self) -> dict[str, tuple[str, str, str]]:
        """Terraform type -> (package, "sdk" | "framework", factory function or struct type)."""
        raise NotImplementedError

    def package_dirs(self) -> list[str]:
        raise NotImplementedError

    def create_function(self, tf_type: str) -> str | None:
        """The name of a resource's Create function, where the source records it."""
        return None

    def package(self, package: str) -> Declarations:
        if package not in self._packages:
            decls = Declarations()
            for text in self.read_many(self.package_files(package)).values():
                decls.update(golang.declarations(text))
            self._packages[package] = decls
        return self._packages[package]

    def provenance(self) -> dict[str, str]:
        out = {"repo": self.repo, "version": self.version, "commit": self.commit}
        if self.via:
            out["via"] = self.via
        return out


class GitSource(Source):
    """A provider repository read at `ref` (`git clone --bare`, or a `fetch` mirror)."""

    def __init__(self, gitdir: Path, ref: str, repo: str, roots: tuple[str, ...]) -> None:
        super().__init__()
        self.blobs = _Blobs(gitdir, ref)
        self.repo, self.version, self.commit = repo, ref, self.blobs.commit
        self.roots = roots
        self._dirs: dict[str, list[str]] = {}
        for path in self.blobs.paths:
            if path.endswith(".go") and not path.endswith("_test.go") and path.startswith(roots):
                self._dirs.setdefault(path.rsplit("/", 1)[0], []).append(path)

    def package_files(self, package: str) -> list[str]:
        return self._dirs.get(package, [])

    def package_dirs(self) -> list[str]:
        return sorted(self._dirs)

    def read_many(self, paths: list[str]) -> dict[str, str]:
        return self.blobs.read_many(paths)

    def resources(self) -> dict[str, tuple[str, str, str]]:
        found: dict[str, tuple[str, str, str]] = {}
        annotation = re.compile(
            r'@(SDK|Framework)Resource\("(\w+)"[^\n]*\n(?://[^\n]*\n)*func (\w+)'
        )
        type_name = re.compile(
            r"func \(\w+ \*?(\w+)\) Metadata\([^)]*\)[^{]*\{\s*resp\.TypeName = "
            r'req\.ProviderTypeName \+ "(\w+)"'
        )
        prefix = self.repo.rsplit("terraform-provider-", 1)[-1]
        for package in self.package_dirs():
            files = self.read_many(self.package_files(package))
            for path, text in sorted(files.items()):
                name = path.rsplit("/", 1)[-1]
                for kind, tf_type, func in annotation.findall(text):
                    found[tf_type] = (package, "sdk" if kind == "SDK" else "framework", func)
                if "data_source" in name or "ephemeral" in name or "list_" in name:
                    continue
                for struct, suffix in type_name.findall(text):
                    if struct.endswith("Resource") and "DataSource" not in struct:
                        found.setdefault(prefix + suffix, (package, "framework", struct))
        return found


class AwsIndexSource(Source):
    """lonegunmanb/terraform-provider-aws-index at a release tag: terraform-provider-aws' own
    functions, methods and types, one `index/<package>/<kind>.<name>.goindex` file each."""

    def __init__(self, gitdir: Path, ref: str) -> None:
        super().__init__()
        self.blobs = _Blobs(gitdir, ref)
        self.repo = "hashicorp/terraform-provider-aws"
        self.version = ref
        index_commit = self.blobs.commit
        self.commit = ""  # the index records the release, not the upstream commit
        self.via = f"lonegunmanb/terraform-provider-aws-index {ref} ({index_commit})"
        self._dirs: dict[str, list[str]] = {}
        for path in self.blobs.paths:
            if path.startswith("index/internal/") and path.endswith(".goindex"):
                self._dirs.setdefault(path[len("index/") :].rsplit("/", 1)[0], []).append(path)
        master = self.read_many(["index/terraform-provider-aws-index.json"])
        self.master = json.loads(master["index/terraform-provider-aws-index.json"])
        if self.master.get("version") != ref:
            raise SourceError(f"the index at {ref} describes {self.master.get('version')}")

    def package_files(self, package: str) -> list[str]:
        return self._dirs.get(package, [])

    def package_dirs(self) -> list[str]:
        return sorted(self._dirs)

    def read_many(self, paths: list[str]) -> dict[str, str]:
        # Each file is `package ...`, the imports, then one declaration.
        return self.blobs.read_many(paths)

    def create_function(self, tf_type: str) -> str | None:
        path = f"index/resources/{tf_type}.json"
        text = self.read_many([path])[path]
        if not text:
            return None
        index = json.loads(text).get("create_index") or ""
        m = re.fullmatch(r"func\.(\w+)\.goindex", index)
        return m.group(1) if m else None

    def resources(self) -> dict[str, tuple[str, str, str]]:
        found: dict[str, tuple[str, str, str]] = {}
        for service in self.master["services"]:
            package = service["package_path"].split("terraform-provider-aws/", 1)[1]
            for tf_type, info in service.get("aws_sdk_resources", {}).items():
                # The master index guesses factory names from the type (`resourceAcmCertificate`
                # for `resourceCertificate`); the per-resource file names the real Create
                # function, which identifies the factory (see `SchemaReader.sdk_resource`).
                found[tf_type] = (package, "sdk", info["factory_function"])
            for tf_type, info in service.get("aws_framework_resources", {}).items():
                struct = info.get("struct_type") or ""
                if not struct:
                    path = f"index/resources/{tf_type}.json"
                    text = self.read_many([path])[path]
                    struct = json.loads(text).get("struct_type", "") if text else ""
                found[tf_type] = (
                    package,
                    "framework",
                    struct or f"factory:{info['factory_function']}",
                )
        return found


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
                node, _ = golang._expr(body, i + 3)
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
                    node, _ = golang._expr(body, i)
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


# --- Pulumi's side: types and property names ----------------------------------------------------


@dataclass(frozen=True)
class PulumiType:
    token: str  # aws:ec2/vpc:Vpc
    module: str  # pulumi_aws.ec2
    cls: str  # Vpc


def pulumi_types(package: str) -> list[PulumiType]:
    """Every resource type of an installed Pulumi SDK (from its registration table)."""
    mod = importlib.import_module(package)
    init = Path(mod.__file__ or "").read_text()
    m = re.search(r'resource_modules="""\s*(\[.*?\])\s*"""', init, re.DOTALL)
    if m is None:
        raise SourceError(f"{package}: no resource registration table in __init__.py")
    out = []
    for entry in json.loads(m.group(1)):
        for token, cls in entry["classes"].items():
            out.append(PulumiType(token, entry["fqn"], cls))
    return sorted(out, key=lambda t: t.token)


@dataclass
class PulumiProps:
    """An input type's properties: python name -> (pulumi name, is list/map, nested type)."""

    props: dict[str, tuple[str, str, type | None]]


def _nested(annotation: Any, module: Any) -> tuple[str, type | None]:
    text = str(annotation)
    m = re.search(r"ForwardRef\('(\w+Args)'\)", text)
    shape = "value"
    head = text.split("ForwardRef", 1)[0]
    if "Sequence[" in head:
        shape = "list"
    elif "Mapping[" in head:
        shape = "map"
    if m is None:
        return shape, None
    inputs = importlib.import_module(module.__name__.rsplit(".", 1)[0] + "._inputs")
    return shape, getattr(inputs, m.group(1), None)


@cache
def props_of(cls: type) -> PulumiProps:
    from pulumi._types import input_type_py_to_pulumi_names

    names = input_type_py_to_pulumi_names(cls)
    annotations = getattr(vars(cls).get("__init__"), "__annotations__", {})
    module = importlib.import_module(cls.__module__)
    out: dict[str, tuple[str, str, type | None]] = {}
    for py, pulumi_name in names.items():
        shape, nested = _nested(annotations.get(py, ""), module)
        out[py] = (pulumi_name, shape, nested)
    return PulumiProps(out)


def args_class(ptype: PulumiType) -> type | None:
    """The resource's own Args class (from its module: the package may export a nested input
    type of the same name, e.g. pulumi_aws.s3.BucketLoggingArgs)."""
    module = importlib.import_module(ptype.module)
    resource = getattr(module, ptype.cls, None)
    if resource is None:
        return None
    own = importlib.import_module(resource.__module__)
    return getattr(own, f"{ptype.cls}InitArgs", None) or getattr(own, f"{ptype.cls}Args", None)


def _plurals(name: str) -> Iterator[str]:
    yield name
    if name.endswith("y") and not name.endswith(("ay", "ey", "oy", "uy")):
        yield name[:-1] + "ies"
    if name.endswith(("s", "x", "ch", "sh")):
        yield name + "es"
    yield name + "s"
    if name.endswith("s"):
        yield name[:-1]


def python_name(tf_name: str, props: PulumiProps, tf_type: str = "") -> str | None:
    """The SDK's name for a Terraform attribute: the same snake_case name, or the bridge's
    plural of a list block (`ingress` stays, `block_device_mapping` -> `block_device_mappings`,
    `tag` -> `tags`), or one of pulumi-aws' renames of a reference (`log_group_name` ->
    `log_group`, `instance_id` -> `instance`) or of the resource's own name (`alarm_name` of
    aws_cloudwatch_metric_alarm -> `name`)."""
    for candidate in _plurals(tf_name):
        if candidate in props.props:
            return candidate
    for suffix in ("_name", "_id", "_arn"):
        stem = tf_name.removesuffix(suffix)
        if stem != tf_name and stem in props.props:
            return stem
    noun = tf_name.removesuffix("_name")
    if noun != tf_name and tf_type.endswith("_" + noun) and "name" in props.props:
        return "name"
    return None


# --- mapping Terraform onto Pulumi --------------------------------------------------------------


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


# Pulumi modules whose resources live in Terraform packages of another name, and Terraform name
# prefixes the bridge drops (pulumi-aws' provider/resources.go maps e.g. `aws_db_instance` to
# `aws:rds/instance:Instance` and `aws_lb_target_group` to `aws:lb/targetGroup:TargetGroup`).
AWS_PACKAGES = {
    "lb": ("elbv2",),
    "alb": ("elbv2",),
    "vpc": ("ec2",),
    "ec2transitgateway": ("ec2",),
    "ec2clientvpn": ("ec2",),
    "ebs": ("ec2",),
    "ec2": ("ec2", "autoscaling"),
    "cloudwatch": ("cloudwatch", "logs", "events"),
    "lambda_": ("lambda",),
    "cfg": ("configservice",),
    "rds": ("rds",),
    "autoscaling": ("autoscaling",),
    "ses": ("ses",),
}
AWS_PREFIXES = {
    "rds": ("db", "rds"),
    "lb": ("lb", "alb"),
    "ec2": ("", "ec2", "vpc"),
    "vpc": ("vpc",),
    "cloudwatch": ("cloudwatch", "cloudwatch_event", "cloudwatch_log"),
    "lambda_": ("lambda",),
}
# Types whose Pulumi name is not derived from the Terraform one (pulumi-aws resources.go).
AWS_RENAMES: dict[str, str | tuple[str, ...]] = {
    "aws:lb/loadBalancer:LoadBalancer": ("aws_lb", "aws_alb"),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": "aws_iam_openid_connect_provider",
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": "aws_s3_bucket_replication_configuration",
    "aws:ec2/eip:Eip": "aws_eip",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "aws_default_security_group",
}


def tf_type_for(ptype: PulumiType, provider: str, available: dict[str, Any]) -> str | None:
    """The Terraform type a Pulumi type bridges, among `available` (type -> info)."""
    pkg, rest = ptype.token.split(":", 1)
    module_file, kind = rest.split(":")
    module = module_file.split("/")[0]
    if provider == "aws":
        if ptype.token in AWS_RENAMES:
            names = AWS_RENAMES[ptype.token]
            for name in (names,) if isinstance(names, str) else names:
                if name in available:
                    return name
            return None
        snake = _snake(kind)
        prefixes = AWS_PREFIXES.get(module, (module,))
        packages = AWS_PACKAGES.get(module, (module,))
        candidates = [f"aws_{p}_{snake}" if p else f"aws_{snake}" for p in prefixes]
        candidates += [f"aws_{module}_{snake}", f"aws_{snake}"]
        if snake.endswith("_v2"):
            candidates += [c[: -len("_v2")] for c in candidates]
        for name in candidates:
            info = available.get(name)
            if info is not None and info[0].rsplit("/", 1)[-1] in packages:
                return name
        return None
    snake = _snake(kind)
    for name in (f"{pkg}_{snake}", f"{pkg}_{snake.removeprefix(pkg + '_')}"):
        if name in available:
            return name
    return None


@dataclass
class Mapped:
    replace: list[str] = field(default_factory=list)
    conditional: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)  # forced TF paths with no Pulumi name


def map_paths(
    attrs: dict[str, TfAttr], props: PulumiProps, prefix: str = "", tf_type: str = ""
) -> Mapped:
    out = Mapped()
    for name, attr in sorted(attrs.items()):
        if not attr.settable and not attr.children:
            continue
        if not (attr.force_new or attr.conditional or _any_forced(attr)):
            continue
        py = python_name(name, props, tf_type if not prefix else "")
        if py is None:
            if name not in ("id", "timeouts"):
                out.unmapped.append(prefix + name)
            continue
        pulumi_name, shape, nested = props.props[py]
        path = prefix + pulumi_name
        if attr.force_new:
            out.replace.append(path)
            continue
        if attr.conditional:
            out.conditional.append(path)
        if attr.children and nested is not None:
            child_prefix = path + ("[*]." if shape in ("list", "map") else ".")
            inner = map_paths(attr.children, props_of(nested), child_prefix, tf_type)
            out.replace += inner.replace
            out.conditional += inner.conditional
            out.unmapped += inner.unmapped
        elif attr.children:
            out.unmapped += [path + " (nested type unknown)"]
    return out


def _any_forced(attr: TfAttr) -> bool:
    return any(c.force_new or c.conditional or _any_forced(c) for c in attr.children.values())


# --- the data file --------------------------------------------------------------------------------


@dataclass
class Provider:
    name: str  # aws, cloudflare, random (the Pulumi package name)
    sdk: str  # pulumi_aws
    source: Source
    modules: tuple[str, ...] | None  # Pulumi modules to cover (None: every one)


@dataclass
class Report:
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def build(
    providers: Iterable[Provider], required: Iterable[str] = ()
) -> tuple[dict[str, Any], Report]:
    """The data file's content, and what could not be mapped."""
    report = Report()
    sources: dict[str, Any] = {}
    packages: dict[str, str] = {}
    required = set(required)
    for provider in providers:
        from importlib.metadata import version

        sources[provider.name] = provider.source.provenance()
        packages[provider.name] = version(provider.sdk.replace("_", "-"))
        available = provider.source.resources()
        reader = SchemaReader(provider.source)
        for ptype in pulumi_types(provider.sdk):
            module = ptype.token.split(":")[1].split("/")[0]
            wanted = provider.modules is None or module in provider.modules
            if not wanted and ptype.token not in required:
                continue
            tf_type = tf_type_for(ptype, provider.name, available)
            if tf_type is None:
                report.problems.append(f"{ptype.token}: no Terraform resource found")
                continue
            cls = args_class(ptype)
            if cls is None:
                report.problems.append(f"{ptype.token}: no {ptype.cls}Args in {ptype.module}")
                continue
            resource = reader.read(tf_type, available[tf_type])
            props = props_of(cls)
            mapped = map_paths(resource.attrs, props, tf_type=tf_type)
            if (
                provider.name == "aws"
                and "region" in props.props
                and "region" not in resource.attrs
            ):
                # terraform-provider-aws v6 adds `region` to every regional resource and forces
                # a new resource when it changes (internal/provider/sdkv2 forceNewIfRegionChanges,
                # internal/provider/framework resourceForceNewIfRegionChangesInterceptor).
                mapped.replace.append("region")
            report.problems += [f"{ptype.token} ({tf_type}): {w}" for w in resource.warnings]
            report.problems += [
                f"{ptype.token} ({tf_type}): forced {p} has no Pulumi property"
                for p in mapped.unmapped
            ]
            entry: dict[str, Any] = {"tf": tf_type, "replace": sorted(set(mapped.replace))}
            if mapped.conditional:
                entry["conditional"] = sorted(set(mapped.conditional) - set(mapped.replace))
            report.entries[ptype.token] = entry
    missing = sorted(required - set(report.entries))
    report.problems += [f"{t}: declared by the program but not extracted" for t in missing]
    doc = {
        "about": (
            "Input paths whose change forces a replacement, per Pulumi resource type, read from "
            "the bridged Terraform providers' schemas (ForceNew, RequiresReplace). Generated by "
            "scripts/extract_replacements; do not edit by hand."
        ),
        "paths": "camelCase Pulumi property paths; [*] is any element of a list or map",
        "sources": sources,
        "packages": packages,
        "types": dict(sorted(report.entries.items())),
    }
    return doc, report


def dump(doc: dict[str, Any]) -> str:
    """The data file's text: stable, one line per type (small, readable diffs)."""
    head = {k: v for k, v in doc.items() if k != "types"}
    lines = ["{"]
    for key, value in head.items():
        lines.append(f"  {json.dumps(key)}: {json.dumps(value, sort_keys=True)},")
    lines.append('  "types": {')
    items = list(doc["types"].items())
    for i, (token, entry) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        lines.append(f"    {json.dumps(token)}: {json.dumps(entry, sort_keys=True)}{comma}")
    lines += ["  }", "}", ""]
    return "\n".join(lines)
