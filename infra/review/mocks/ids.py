"""How the mocks make up what a cloud would assign: a short digest of the resource's name (and
region), and the mock AWS account. Every invented value carries one of the two, which is how the
synthesis tells an invention from a fact (`infra.review.recording`)."""

from __future__ import annotations

import hashlib

ACCOUNT_ID = "123456789012"


def mock_hash(*parts: str, n: int = 12) -> str:
    """The first `n` hex digits of a SHA-256 of `parts`: the same answer on every run."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:n]


def mock_arn(service: str, region: str, resource: str, account: str = ACCOUNT_ID) -> str:
    """An ARN in `region` and the mock account."""
    return f"arn:aws:{service}:{region}:{account}:{resource}"
