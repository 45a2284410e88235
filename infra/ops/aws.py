"""AWS access for the operations scripts, and AWS failures told in one line.

Sessions come from boto3 the standard way (`--profile` or AWS_PROFILE, environment variables,
the shared config and credentials files, SSO, instance or container roles), so the scripts need
no credential handling of their own. Every client uses botocore's standard retry mode; the
number of attempts follows AWS_MAX_ATTEMPTS or the profile's `max_attempts` (botocore's default
is 3), because that is where operators already tune it. `--endpoint-url` sends every call to one
AWS-compatible endpoint (a moto server, LocalStack) instead of AWS.

Expected failures become an `OpsError` whose text is meant for the operator as is; the CLIs
print it without a traceback and exit with its `exit_code`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    CredentialRetrievalError,
    HTTPClientError,
    NoAuthTokenError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
    UnknownRegionError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

# Only the mode is fixed: leaving max_attempts out lets AWS_MAX_ATTEMPTS and the profile decide.
CLIENT_CONFIG = Config(retries={"mode": "standard"}, user_agent_extra="python-org-ops")

# botocore's standard mode retries these (botocore.retries.standard); when one still reaches us,
# the retries are spent.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "InvalidAccessKeyId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "AuthFailure",
        "InvalidToken",
        "MissingAuthenticationToken",
    }
)
PERMISSION_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "NotAuthorized"}
)
CREDENTIAL_HELP = (
    "pass --profile, set AWS_PROFILE, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
    "(for SSO: aws sso login --profile NAME)"
)


class OpsError(Exception):
    """An expected failure of an operation or a check: one line for the operator, exit 1."""

    exit_code = 1


class SetupError(OpsError):
    """Bad usage, config or credentials: nothing was attempted, or AWS refused who we are."""

    exit_code = 2


class NotFoundError(OpsError):
    """A resource the stack should have does not exist."""


class UnreachableError(OpsError):
    """The endpoint of a region could not be reached, after the retries."""


class ThrottledError(OpsError):
    """AWS kept throttling a call after the retries."""


def new_session(profile: str | None) -> Any:
    """A boto3 session; the one place sessions are made, so that tests can hook its events."""
    return boto3.Session(profile_name=profile)


class Aws:
    """One session, and a client per (service, region), created on first use."""

    def __init__(self, session: Any, endpoint_url: str | None = None) -> None:
        self.session = session
        self.endpoint_url = endpoint_url
        self._clients: dict[tuple[str, str], Any] = {}

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = self.session.client(
                service, region_name=region, endpoint_url=self.endpoint_url, config=CLIENT_CONFIG
            )
        return self._clients[key]


def connect(profile: str | None = None, endpoint_url: str | None = None) -> Aws:
    """Open a session and make sure it has credentials, before any call is attempted."""
    try:
        session = new_session(profile)
        credentials = session.get_credentials()
    except ProfileNotFound as exc:
        # The profile may come from AWS_PROFILE rather than --profile.
        name = exc.kwargs.get("profile", profile)
        raise SetupError(f"AWS profile {name!r} is not in the AWS config files") from None
    except BotoCoreError as exc:
        raise SetupError(f"cannot load AWS credentials: {exc}") from None
    if credentials is None:
        raise SetupError(f"no AWS credentials found: {CREDENTIAL_HELP}")
    return Aws(session, endpoint_url)


def explain(exc: BaseException, region: str | None = None) -> OpsError:
    """The operator's reading of a boto3/botocore failure, as an `OpsError` of the right kind."""
    where = f"{region}: " if region else ""
    if isinstance(exc, OpsError):
        return exc
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        message = str(error.get("Message", "")).strip() or "no message"
        attempts = int(exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)) + 1
        call = exc.operation_name
        if code in CREDENTIAL_CODES:
            return SetupError(f"{where}AWS rejected the credentials ({code}: {message})")
        if code in PERMISSION_CODES:
            return SetupError(f"{where}{call} is not allowed for these credentials ({message})")
        if code in THROTTLING_CODES:
            return ThrottledError(
                f"{where}{call} was throttled ({code}) on all {attempts} attempts; "
                "try again later or raise AWS_MAX_ATTEMPTS"
            )
        if code.endswith(("NotFound", "NotFoundFault", "NotFoundException")):
            return NotFoundError(f"{where}{message}")
        return OpsError(f"{where}{call} failed ({code}: {message})")
    if isinstance(
        exc,
        NoCredentialsError
        | PartialCredentialsError
        | CredentialRetrievalError
        | TokenRetrievalError
        | NoAuthTokenError
        | SSOError,
    ):
        return SetupError(f"{where}AWS credentials: {exc} ({CREDENTIAL_HELP})")
    if isinstance(exc, ProfileNotFound):
        return SetupError(str(exc))
    if isinstance(exc, NoRegionError | UnknownRegionError):
        return SetupError(f"{where}{exc}")
    if isinstance(exc, BotoConnectionError | HTTPClientError):
        return UnreachableError(f"{where}unreachable after the retries: {exc}")
    return OpsError(f"{where}{exc}")


@contextmanager
def aws_errors(region: str | None = None) -> Iterator[None]:
    """Turn the boto3/botocore failures of the block into `OpsError`s naming the region."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise explain(exc, region) from exc
