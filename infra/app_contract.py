"""The application contract: how an instance starts python.org's app, and with what settings.

Pure data and functions, no resources. The web tier renders `manifest(...)` into the user data
(`infra/templates/user-data.sh`), whose boot script turns it into the container's environment;
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
  `ALLOWED_HOSTS`, so each instance adds its own private IP at boot;
- the production settings hard-code a database cache, which a read replica can't write; a
  settings overlay of this repository (`infra/templates/python/pythondotorg_infra_settings.py`)
  star-imports them and points CACHES at the region's Redis, media URLs at the public hostname
  and WhiteNoise's max-age at the real site's (docs/app-contract.md, "The settings overlay");
- Celery (Procfile `worker`, `worker-beat`) reads its broker from REDIS_URL; on a rediss:// URL
  kombu falls back to CERT_NONE without `ssl_cert_reqs` (kombu/connection.py) and Celery's
  result backend refuses it (celery/backends/redis.py), so the URL says `ssl_cert_reqs=required`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

SETTINGS_MODULE = "pydotorg.settings.cabotage"  # the app's production settings
OVERLAY_MODULE = "pythondotorg_infra_settings"  # ours: star-imports SETTINGS_MODULE
CODE_DIR = "/code"  # WORKDIR of Dockerfile.cabotage; gunicorn.conf is read relative to it
VENV_BIN = f"{CODE_DIR}/.venv/bin"  # VIRTUAL_ENV=/code/.venv in Dockerfile.cabotage
GUNICORN = f"{VENV_BIN}/gunicorn"
CELERY = f"{VENV_BIN}/celery"
PYTHON = f"{VENV_BIN}/python"
ETC = "/etc/pythondotorg"  # host path, mounted read-only at the same path in the container
OVERLAY_DIR = f"{ETC}/python"  # the overlay's modules
# The image installs no package of the app (pyproject: `packages = []`): /code must be on the
# path for a script run from elsewhere (the release step), and the overlay's directory too.
PYTHONPATH = f"{OVERLAY_DIR}:{CODE_DIR}"
CA_BUNDLE = f"{ETC}/rds-ca.pem"
# The RDS certificate bundle of a region ("Certificate bundles by AWS Region", RDS User Guide:
# Using SSL/TLS to encrypt a connection to a DB instance).
CA_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/{region}/{region}-bundle.pem"
# The CA file the production settings hand the search client (HAYSTACK_CONNECTIONS KWARGS
# ca_certs, cabotage's path), and what is mounted there: Amazon Linux 2023's system bundle,
# which has the Amazon roots that sign OpenSearch Service's certificates.
SEARCH_CA = "/var/run/secrets/cabotage.io/ca.crt"
HOST_CA_BUNDLE = "/etc/pki/tls/certs/ca-bundle.crt"
SEARCH_INDEX = "haystack-prod"  # HAYSTACK_INDEX's default; the app's search role covers it
MEDIA_ACL = "bucket-owner-full-control"
# The only ACL S3 accepts on a bucket with ACLs disabled (BucketOwnerEnforced) besides none: the
# app's default, public-read, is refused with AccessControlListNotSupported (S3 User Guide,
# "Controlling ownership of objects and disabling ACLs").
APP_USER_PREFIX = "pythondotorg_g"  # the app's database user: prefix + generation
MIGRATION_LOCK = 0x70796F7267  # pg_advisory_lock key: "pyorg"; one migration at a time
BEAT_LOCK = 0x70796265617400  # "pybeat": held by the one beat, on the primary
INDEX_LOCK = 0x7079696478  # "pyidx": one search indexer per region (advisory locks work on a
# hot standby: PostgreSQL docs, "Hot Standby", 26.4.1)
REDIS_PORT = 6379
CELERY_DB = 0  # the broker and result store (home region)
CACHE_DB = 1  # the regional cache
# What a replica region's web process gets as REDIS_URL: no broker. Nothing there sends a task
# (the app's one task is sent by beat and django-celery-beat's admin action, and /admin/ is
# pinned to the home region); should something try, `.invalid` never resolves (RFC 2606), so it
# fails at once, in Sentry, instead of queueing in a region where no worker consumes.
NO_BROKER = "redis://celery-runs-in-the-home-region-only.invalid:6379/0"
# SES SMTP: STARTTLS on 587 (the settings set EMAIL_USE_TLS = True), the home region's endpoint
# ("Connecting to an Amazon SES SMTP endpoint", SES Developer Guide).
SMTP_PORT = 587
SMTP_HOST = "email-smtp.{region}.amazonaws.com"


class Process(enum.Enum):
    """A Procfile process this repository runs (`release` runs before `web`, at home)."""

    WEB = "web"
    WORKER = "worker"
    BEAT = "worker-beat"


def web_command(port: int) -> list[str]:
    """Procfile `web` without cabotage's nginx wrapper, bound to the app port."""
    return [
        GUNICORN,
        "--config=gunicorn.conf",
        f"--bind=0.0.0.0:{port}",
        "--forwarded-allow-ips=*",
        "pydotorg.wsgi",
    ]


def worker_command() -> list[str]:
    """Procfile `worker`."""
    return [CELERY, "-A", "pydotorg", "worker", "-l", "INFO"]


def beat_command() -> list[str]:
    """Procfile `worker-beat`, inside `singleton.py`: beat runs only while it holds an advisory
    lock on the primary, so a second beat anywhere waits instead of sending every task twice."""
    return [
        PYTHON,
        f"{ETC}/singleton.py",
        str(BEAT_LOCK),
        CELERY,
        "-A",
        "pydotorg",
        "beat",
        "-l",
        "INFO",
        "--scheduler",
        "django_celery_beat.schedulers:DatabaseScheduler",
    ]


def command(process: Process, port: int) -> list[str]:
    if process is Process.WEB:
        return web_command(port)
    return worker_command() if process is Process.WORKER else beat_command()


def release_command() -> list[str]:
    """Procfile `release` (`manage.py migrate --noinput`), under an advisory lock (see
    `infra/templates/release.py`)."""
    return [PYTHON, f"{ETC}/release.py"]


def search_index_command() -> list[str]:
    """The region's search indexer (`infra/templates/search_index.py`)."""
    return [PYTHON, f"{ETC}/search_index.py"]


def app_user(generation: int) -> str:
    return f"{APP_USER_PREFIX}{generation}"


@dataclass(frozen=True, kw_only=True)
class Settings:
    """What the program knows of one region when it renders the user data."""

    region: str
    home_region: str  # migrations, Celery and SES live there
    allowed_hosts: tuple[str, ...]  # public hostnames and the region's origin hostname
    media_domain: str  # the public hostname media URLs use (the edge routes /media/ to S3)
    image: str  # by digest
    media_bucket: str
    app_secret_id: str  # Secrets Manager, this region: secret_key, sentry_dsn, smtp_*
    db_secret_id: str  # Secrets Manager, this region: username, password (+ master_* at home)
    db_host: str
    db_port: int
    db_name: str
    cache_host: str  # the region's Redis primary endpoint
    cache_secret_id: str  # auth_token
    cache_max_timeout: int  # seconds: no cache entry outlives this (edge HTML TTL)
    search_host: str  # the region's OpenSearch endpoint
    search_secret_id: str  # app_username, app_password, master_username, master_password
    from_email: str

    @property
    def home(self) -> bool:
        return self.region == self.home_region


def _database_url(s: Settings, user: str, password: str) -> str:
    return (
        f"postgres://${{secret:database:{user}|url}}:${{secret:database:{password}|url}}"
        f"@{s.db_host}:{s.db_port}/{s.db_name}?sslmode=verify-full&sslrootcert={CA_BUNDLE}"
    )


def redis_url(s: Settings, db: int) -> str:
    return (
        f"rediss://:${{secret:cache:auth_token|url}}@{s.cache_host}:{REDIS_PORT}/{db}"
        "?ssl_cert_reqs=required"
    )


def environment(s: Settings) -> dict[str, str]:
    """The container's environment, by variable: `${...}` parts are filled in at boot."""
    digest = s.image.rsplit("@", 1)[1]
    return {
        "DJANGO_SETTINGS_MODULE": OVERLAY_MODULE,
        "PYTHONPATH": PYTHONPATH,
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
        "EMAIL_HOST": SMTP_HOST.format(region=s.home_region),
        "EMAIL_PORT": str(SMTP_PORT),
        "EMAIL_HOST_USER": "${secret:app:smtp_username}",
        "EMAIL_HOST_PASSWORD": "${secret:app:smtp_password}",
        "DEFAULT_FROM_EMAIL": s.from_email,
        "SEARCHBOX_SSL_URL": (
            "https://${secret:search:app_username|url}:${secret:search:app_password|url}"
            f"@{s.search_host}:443/"
        ),
        "REDIS_URL": redis_url(s, CELERY_DB) if s.home else NO_BROKER,
        # The overlay's own variables.
        "PYTHONDOTORG_CACHE_URL": redis_url(s, CACHE_DB),
        "PYTHONDOTORG_CACHE_MAX_TIMEOUT": str(s.cache_max_timeout),
        "PYTHONDOTORG_MEDIA_DOMAIN": s.media_domain,
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


def search_environment(s: Settings) -> dict[str, str]:
    """What the search indexer sets on top of `environment`: the domain's master user, which
    keeps the app's own user and role (fine-grained access control)."""
    return {
        "SEARCH_ENDPOINT": f"https://{s.search_host}",
        "SEARCH_MASTER_USER": "${secret:search:master_username}",
        "SEARCH_MASTER_PASSWORD": "${secret:search:master_password}",
        "SEARCH_APP_USER": "${secret:search:app_username}",
        "SEARCH_APP_PASSWORD": "${secret:search:app_password}",
        "SEARCH_INDEX": SEARCH_INDEX,
        "INDEX_LOCK": str(INDEX_LOCK),
    }


def manifest(s: Settings, process: Process) -> dict[str, Any]:
    """What the user data carries: secrets by id (never their values), the environment, and
    the environments of the steps that run beside the process: the release step on the home
    region's web servers, the search indexer on every region's."""
    web = process is Process.WEB
    return {
        "region": s.region,
        "process": process.value,
        "secrets": {
            "app": s.app_secret_id,
            "database": s.db_secret_id,
            "cache": s.cache_secret_id,
            "search": s.search_secret_id,
        },
        "env": environment(s),
        "release_env": release_environment(s) if web and s.home else None,
        "search_env": search_environment(s) if web else None,
    }
