"""The reader every section is read with, and what the sections share.

`_Reader` walks one mapping of raw config and records one problem per bad key (the key, the bad
value, what is allowed); a read that fails returns None. None means "bad or missing": a check
that depends on a value is skipped while that value is None, so one bad value is reported once,
never again by everything that depends on it.

Why not pydantic (v2, installed here for the Cloudflare client): tried on the web, database
and network sections, its errors need this module's wording rebuilt from each error type and
field (ranges, allowed keys, what a pattern means); a model's validators run only when all its
fields are valid, and a field's see only the fields before it, which would hide independent
problems or pin them on the wrong key; and it costs 0.10-0.15 s to import and 6-9 ms per model
class (some 28 here): 0.3-0.4 s at every start of the program (`make preview` takes about 4 s),
for checks that take 10 ms once botocore's data is loaded.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

NAMESPACE = "python-org"
SECRET_KEYS = frozenset({"sentryDsn", "pagingUrl"})
_MISSING: Any = object()
T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class SecretStr:
    """A secret config value. It prints as [secret]; `reveal()` is the only way to read it."""

    _value: str = field(repr=False)

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return "[secret]"


# --- the reader ------------------------------------------------------------------------------


class _Reader:
    """Walks one mapping of raw config, records problems, and returns None for bad values so
    that later checks can skip what depends on them."""

    def __init__(self, problems: list[str], path: str, data: Mapping[str, Any]) -> None:
        self.problems = problems
        self.path = path
        self.data = data
        self.seen: set[str] = set()
        self.missing: dict[str, str] = {}  # required key -> its "is missing" problem

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else f"{NAMESPACE}:{name}"

    def fail(self, name: str, value: Any, allowed: str) -> None:
        shown = "[secret]" if name in SECRET_KEYS else _show(value)
        self.problems.append(f"{self.key(name)} = {shown}: {allowed}")

    def get(self, name: str, default: Any = _MISSING) -> Any:
        self.seen.add(name)
        if name in self.data and self.data[name] is not None:
            return self.data[name]
        if default is _MISSING:
            self.missing[name] = f"{self.key(name)} is missing: it is required"
            self.problems.append(self.missing[name])
        return default

    def typed(self, name: str, kind: type[T], what: str, default: Any = _MISSING) -> T | None:
        value = self.get(name, default)
        if value is _MISSING or value is None:
            return None
        # bool is an int in Python: never accept one for the other.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.fail(name, value, f"must be {what}{_quote_hint(value) if kind is str else ''}")
            return None
        return value

    def string(
        self,
        name: str,
        default: Any = _MISSING,
        *,
        pattern: str | None = None,
        allowed: str = "a non-empty string",
    ) -> str | None:
        value = self.typed(name, str, "a string", default)
        if value is None:
            return None
        if not value or (pattern is not None and not re.fullmatch(pattern, value)):
            self.fail(name, value, f"must be {allowed}")
            return None
        return value

    def integer(self, name: str, lo: int, hi: int, default: Any = _MISSING) -> int | None:
        value = self.typed(name, int, f"an integer from {lo} to {hi}", default)
        if value is None:
            return None
        if not lo <= value <= hi:
            self.fail(name, value, f"must be an integer from {lo} to {hi}")
            return None
        return value

    def boolean(self, name: str, default: Any = _MISSING) -> bool | None:
        return self.typed(name, bool, "true or false", default)

    def choice(self, name: str, enum_type: type[Any], default: Any = _MISSING) -> Any:
        value = self.get(name, default)
        if value is _MISSING or isinstance(value, enum_type):
            return value if value is not _MISSING else None
        choices = [e.value for e in enum_type]
        if value not in choices:
            self.fail(name, value, f"must be one of {', '.join(choices)}")
            return None
        return enum_type(value)

    def member(self, name: str, known: Callable[[], frozenset[str]], what: str) -> str | None:
        value = self.string(name)
        if value is not None and value not in known():
            family = value.rsplit(".", 1)[0] + "."
            close = sorted(k for k in known() if k.startswith(family))[:6]
            hint = f" (similar: {', '.join(close)})" if close else ""
            self.fail(name, value, f"is not {what} known to botocore{hint}")
            return None
        return value

    def str_list(
        self, name: str, default: Any = _MISSING, *, min_len: int = 0
    ) -> tuple[str, ...] | None:
        value = self.get(name, default)
        if value is _MISSING:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            scalars = (
                [v for v in value if not isinstance(v, str)] if isinstance(value, list) else []
            )
            hint = _quote_hint(scalars[0]) if scalars else ""
            self.fail(name, value, f"must be a list of non-empty strings{hint}")
            return None
        if len(value) < min_len:
            self.fail(name, value, f"must list at least {min_len}")
            return None
        if len(set(value)) != len(value):
            dupes = sorted({v for v in value if value.count(v) > 1})
            self.fail(name, value, f"must not repeat entries (repeated: {', '.join(dupes)})")
            return None
        return tuple(value)

    def section(self, name: str, default: Any = _MISSING) -> _Reader | None:
        value = self.get(name, default)
        if value is _MISSING:
            return None
        if not isinstance(value, dict):
            self.fail(name, value, "must be a mapping of keys to values")
            return None
        return _Reader(self.problems, self.key(name).removeprefix(f"{NAMESPACE}:"), value)

    def finish(self, known_keys: Iterable[str] = ()) -> None:
        unknown = sorted(set(self.data) - self.seen - set(known_keys))
        for name in unknown:
            # A mistyped required key is one problem, not "missing" plus "unknown".
            meant = difflib.get_close_matches(name, [m for m in self.missing if m], n=1)
            if meant and self.missing[meant[0]] in self.problems:
                self.problems.remove(self.missing.pop(meant[0]))
                self.fail(name, self.data[name], f"unknown key: did you mean {meant[0]}?")
                continue
            allowed = ", ".join(sorted(self.seen | set(known_keys)))
            self.fail(name, self.data[name], f"unknown key (allowed keys: {allowed})")


def _quote_hint(value: Any) -> str:
    """Where a string is expected: YAML reads `engineVersion: 16` as a number, `"16"` is meant."""
    if isinstance(value, bool):
        return ": quote it (YAML reads an unquoted yes, no, true, false, on or off as a boolean)"
    if isinstance(value, int | float):
        return f': quote it, "{value}" (YAML reads an unquoted {value} as a number)'
    return ""


def _show(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


_HOSTNAME = r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"


_PATH_PREFIX = r"/[A-Za-z0-9._~/-]*"


def _decode(value: Any) -> Any:
    """The engine passes structured values as JSON text; YAML gives them decoded."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    if isinstance(value, str) and value in ("true", "false"):
        return value == "true"
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    return value
