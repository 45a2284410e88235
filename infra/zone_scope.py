"""What this stack owns in a Cloudflare zone it may share, and how its rules say so.

python.org is one zone for many services (docs, peps, mail, bugs, wiki, the /ftp/ downloads, ...)
of which this stack owns a few names. `ZoneScope` is that ownership: the public hostnames, the
per-region origin hostnames, and whether the stack owns the zone as a whole (only then may it
change zone-wide settings). Every rule the stack puts in one of the zone's rulesets is built with
`scoped()`, so that it matches only requests for the stack's own hostnames; streams that add to
the zone (notification policies, mail DNS records) use the same scope.

Pure helpers: no resources, no Pulumi.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# The Rules language's string literal: double quotes, backslash escapes (developers.cloudflare.com
# /ruleset-engine/rules-language/values/). Hostnames need no escaping; anything else is refused.
_HOST = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?")
_SCOPED = re.compile(r'^\(http\.host in \{("[a-z0-9.-]+" ?)+\}\)( and \(.+\))?$', re.S)


def host_expression(hosts: Iterable[str]) -> str:
    """`http.host in {"a" "b"}` for the given hostnames (sorted: stable across config order)."""
    names = sorted(set(hosts))
    if not names:
        raise ValueError("a host expression needs at least one hostname")
    for name in names:
        if not _HOST.fullmatch(name):
            raise ValueError(f"not a hostname: {name!r}")
    return "http.host in {" + " ".join(f'"{n}"' for n in names) + "}"


def scoped_hosts(expression: str) -> frozenset[str] | None:
    """The hostnames a `scoped()` expression is limited to, or None when it is not limited to
    any (e.g. `true`, or a path condition alone)."""
    if not _SCOPED.match(expression):
        return None
    inner = expression[1 : expression.index("})") + 1]
    return frozenset(re.findall(r'"([^"]+)"', inner))


@dataclass(frozen=True, kw_only=True)
class ZoneScope:
    zone: str  # the zone's name, e.g. python.org
    hostnames: tuple[str, ...]  # the public names the stack serves
    origin_hostnames: tuple[str, ...]  # per-region names that reach one region alone
    owns_zone: bool  # zone-wide settings are the stack's to change

    def __post_init__(self) -> None:
        for host in self.names:
            if not (host == self.zone or host.endswith("." + self.zone)):
                raise ValueError(f"{host} is not in the zone {self.zone}")

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the stack owns in the zone, public hostnames first."""
        return tuple(dict.fromkeys([*self.hostnames, *self.origin_hostnames]))

    @property
    def owns_apex(self) -> bool:
        return self.zone in self.hostnames

    def expression(self, hosts: Iterable[str] | None = None) -> str:
        chosen = tuple(self.names if hosts is None else hosts)
        foreign = set(chosen) - set(self.names)
        if foreign:
            raise ValueError(f"not this stack's hostnames: {sorted(foreign)}")
        return host_expression(chosen)

    def scoped(self, condition: str | None = None, hosts: Iterable[str] | None = None) -> str:
        """`condition`, limited to requests for the stack's hostnames (or `hosts` of them)."""
        scope = f"({self.expression(hosts)})"
        return scope if condition in (None, "", "true") else f"{scope} and ({condition})"
