"""The application contract: how an instance starts python.org's app, and with what settings.

Pure data and functions, no resources. The web tier renders `manifest(...)` into the user data
(`infra/templates/web-user-data.sh`), whose boot script turns it into the container's environment;
`docs/app-contract.md` explains every entry, and the tests hold both to the app's own facts
(`infra/data/app_settings.json`, read from python/pythondotorg by `scripts/extract_app_settings`).

What the app needs, from its repository (commit in the data file):

- the image is built from `Dockerfile.cabotage` (the only one with `--extra prod`: gunicorn,
  whitenoise, django-storages, sentry) and has no CMD: the command is given here;
- Procfile `web` runs gunicorn with `gunicorn.conf`, which binds a unix socket for cabotage's
  nginx; `--bind` on the command line overrides the file (gunicorn: command-line settings win);
- `DJANGO_SETTINGS_MODULE` must name the production module: manage.py and wsgi.py default to
  `pydotorg.settings.local`;
- the production settings trust `SECURE_PROXY_SSL_HEADER = ("HTTP_FASTLY_SSL", "1")`, a Fastly
  header nobody sends here. Django falls back to the WSGI scheme when that header is absent
  (`HttpRequest.scheme`), so gunicorn sets it from the ALB's `X-Forwarded-Proto: https` once told
  to trust the peer (`--forwarded-allow-ips`; gunicorn 23 takes addresses or `*`, not networks:
  the instance security group admits the app port from the load balancer only). Without it the
  app builds `http://` URLs, e.g. apps/pages/middleware.py's slash redirect, which Cloudflare
  sends back to https: a redirect loop, and Django's CSRF origin check refuses every POST;
- ALB health checks send the target's IP as Host; Django answers 400 to a host not in
  `ALLOWED_HOSTS`, so each instance adds its own private IP at boot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SETTINGS_MODULE = "pydotorg.settings.cabotage"
CODE_DIR = "/code"  # WORKDIR of Dockerfile.cabotage; gunicorn.conf is read relative to it
GUNICORN = f"{CODE_DIR}/.venv/bin/gunicorn"  # VIRTUAL_ENV=/code/.venv in Dockerfile.cabotage
PYTHON = f"{CODE_DIR}/.venv/bin/python"
CA_BUNDLE = "/etc/pythondotorg/rds-ca.pem"  # host path, mounted read-only at the same path
# The RDS certificate bundle of a region ("Certificate bundles by AWS Region", RDS User Guide:
# Using SSL/TLS to encrypt a connection to a DB instance).
CA_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/{region}/{region}-bundle.pem"
MEDIA_ACL = "bucket-owner-full-control"
# The only ACL S3 accepts on a bucket with ACLs disabled (BucketOwnerEnforced) besides none: the
# app's default, public-read, is refused with AccessControlListNotSupported (S3 User Guide,
# "Controlling ownership of objects and disabling ACLs").
APP_USER_PREFIX = "pythondotorg_g"  # the app's database user: prefix + generation
MIGRATION_LOCK = 0x70796F7267  # pg_advisory_lock key: "pyorg"; one migration at a time


def web_command(port: int) -> list[str]:
    """Procfile `web` without cabotage's nginx wrapper, bound to the app port."""
    return [
        GUNICORN,
        "--config=gunicorn.conf",
        f"--bind=0.0.0.0:{port}",
        "--forwarded-allow-ips=*",
        "pydotorg.wsgi",
    ]


def release_command() -> list[str]:
    """Procfile `release` (`manage.py migrate --noinput`), under an advisory lock (see
    `infra/templates/release.py`)."""
    return [PYTHON, "/etc/pythondotorg/release.py"]


def app_user(generation: int) -> str:
    return f"{APP_USER_PREFIX}{generation}"


@dataclass(frozen=True, kw_only=True)
class Settings:
    """What the program knows of one region when it renders the user data."""

    region: str
    home: bool  # the home region runs the release step (migrations) before serving
    allowed_hosts: tuple[str, ...]  # public hostnames and the region's origin hostname
    image: str  # by digest
    media_bucket: str
    app_secret_id: str  # Secrets Manager, this region: secret_key, sentry_dsn
    db_secret_id: str  # Secrets Manager, this region: username, password (+ master_* at home)
    db_host: str
    db_port: int
    db_name: str


def _database_url(s: Settings, user: str, password: str) -> str:
    return (
        f"postgres://${{secret:database:{user}|url}}:${{secret:database:{password}|url}}"
        f"@{s.db_host}:{s.db_port}/{s.db_name}?sslmode=verify-full&sslrootcert={CA_BUNDLE}"
    )


def environment(s: Settings) -> dict[str, str]:
    """The container's environment, by variable: `${...}` parts are filled in at boot."""
    digest = s.image.rsplit("@", 1)[1]
    return {
        "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
        "ALLOWED_HOSTS": ",".join((*s.allowed_hosts, "${instance_ip}")),
        "SECRET_KEY": "${secret:app:secret_key}",
        "SENTRY_DSN": "${secret:app:sentry_dsn}",
        "SOURCE_COMMIT": digest,
        "DATABASE_URL": _database_url(s, "username", "password"),
        # Media through django-storages with the instance role: empty keys make it fall back
        # to boto3's default credential chain (instance metadata).
        "AWS_ACCESS_KEY_ID": "",
        "AWS_SECRET_ACCESS_KEY": "",
        "AWS_STORAGE_BUCKET_NAME": s.media_bucket,
        "AWS_S3_REGION_NAME": s.region,
        "AWS_S3_ENDPOINT_URL": f"https://s3.{s.region}.amazonaws.com",
        "AWS_DEFAULT_ACL": MEDIA_ACL,
        # Fastly purges: this site is behind Cloudflare; empty turns them off (fastly/utils.py).
        "FASTLY_API_KEY": "",
        # Interim, until the mail and search of issue 12 exist: values the settings accept, so
        # that the app imports; sending mail and searching fail until then.
        "EMAIL_HOST": "localhost",
        "EMAIL_PORT": "25",
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
        "DEFAULT_FROM_EMAIL": "noreply@python.org",
        "SEARCHBOX_SSL_URL": "https://localhost:9200/",
    }


def release_environment(s: Settings) -> dict[str, str]:
    """What the release step sets on top of `environment`: it migrates as the master user and
    creates the app's user (the master user owns the schema)."""
    return {
        "DATABASE_URL": _database_url(s, "master_username", "master_password"),
        "APP_DB_USER": "${secret:database:username}",
        "APP_DB_PASSWORD": "${secret:database:password}",
        "MIGRATION_LOCK": str(MIGRATION_LOCK),
    }


def manifest(s: Settings) -> dict[str, Any]:
    """What the user data carries: secrets by id (never their values), the environment, and,
    in the home region, the release step's."""
    return {
        "region": s.region,
        "secrets": {"app": s.app_secret_id, "database": s.db_secret_id},
        "env": environment(s),
        "release_env": release_environment(s) if s.home else None,
    }
