"""Helpers shared by the whole-stack tests (tests/test_stacks_*.py)."""

from __future__ import annotations

from infra.review.mocks import resources as mock_resources

PROD_REGIONS = ("us-east-2", "eu-west-1", "ap-southeast-1")
RDS = "aws:rds/instance:Instance"


def mocked_password() -> str:
    """The value the mocks generate for the Django secret key."""
    return mock_resources._random_password("django-secret-key", {"length": 64}, "")[1]["result"]  # type: ignore[no-any-return]


def mocked_passwords() -> list[str]:
    """Every password the mocks generate: the Django key and the database's two."""
    db = [
        mock_resources._random_password(name, {"length": 40}, "")[1]["result"]
        for name in ("db-master-password", "db-app-password")
    ]
    return [mocked_password(), *db]
