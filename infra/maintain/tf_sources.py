"""A Terraform provider's Go sources at one version, read from a git directory.

`GitSource` reads a provider repository at a tag; `AwsIndexSource` reads
lonegunmanb/terraform-provider-aws-index, terraform-provider-aws republished one declaration per
file at each release tag. Both read with `git` (never a work tree) and give the schema reader
(`infra.maintain.tf_schema`) a package's declarations and the provider's resource types. Part of
`scripts/extract_replacements` (`infra.maintain.extract_replacements`).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from infra.maintain import golang
from infra.maintain.golang import Declarations


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
