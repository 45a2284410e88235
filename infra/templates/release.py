"""The release step of python.org (Procfile `release`), run in the app's image in the home region.

Runs as the database's master user (the owner of the schema) before the instance serves, one
instance at a time (a PostgreSQL advisory lock): the first new instance of a deploy applies the
migrations, every later one finds nothing to apply. Never runs against a read replica: the unit
that starts it exists only where the manifest has a release environment (the home region).

It also keeps the app's database user, the user every web process logs in as:
`pythondotorg_g<generation>` (APP_DB_USER), created with the password from Secrets Manager and
given a web process's privileges on the schema. Rotating credentials bumps the generation:
the new user is created here, instances still running keep the previous one, and users two generations old are
dropped (by then every instance using them has been replaced: docs/app-contract.md).
"""

import os
import re
from typing import Any

import django
from django.core.management import call_command
from django.db import connection
from psycopg2.extensions import encrypt_password

PREFIX = "pythondotorg_g"


TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER"
SEQUENCE_PRIVILEGES = "USAGE, SELECT, UPDATE"


def generation_of(user: str) -> int:
    match = re.fullmatch(re.escape(PREFIX) + r"(\d+)", user)
    if not match:
        raise SystemExit(f"release: unexpected app user name {user!r}")
    return int(match.group(1))


def keep_app_user(cursor: Any, user: str, password: str) -> None:
    """Create (or re-password) the app's user, with the privileges of a web process on what
    the master user creates (not membership of the master role: PostgreSQL 16 lets a role grant
    only roles it has ADMIN OPTION on)."""
    generation_of(user)
    # Only the verifier goes over the wire and into any log, never the password itself.
    verifier = encrypt_password(password, user, connection.connection, "scram-sha-256")
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [user])
    verb = "ALTER" if cursor.fetchone() else "CREATE"
    # Identifiers can't be parameters; the name is checked above.
    cursor.execute(f'{verb} ROLE "{user}" WITH LOGIN PASSWORD %s', [verifier])
    cursor.execute(f'GRANT USAGE ON SCHEMA public TO "{user}"')
    cursor.execute(
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {TABLE_PRIVILEGES} ON TABLES TO "{user}"'
    )
    cursor.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {SEQUENCE_PRIVILEGES} "
        f'ON SEQUENCES TO "{user}"'
    )


def grant_existing(cursor: Any, user: str) -> None:
    """Privileges on every table and sequence, including what this release's migrations made."""
    cursor.execute(f'GRANT {TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA public TO "{user}"')
    cursor.execute(f'GRANT {SEQUENCE_PRIVILEGES} ON ALL SEQUENCES IN SCHEMA public TO "{user}"')


def drop_old_users(cursor: Any, user: str) -> None:
    """Users two or more generations older than `user`: no instance uses them any more."""
    current = generation_of(user)
    cursor.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE %s", [PREFIX + "%"])
    for (name,) in cursor.fetchall():
        if not re.fullmatch(re.escape(PREFIX) + r"\d+", name) or generation_of(name) >= current - 1:
            continue
        for statement in (
            f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{name}"',
            f'REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM "{name}"',
            f'ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM "{name}"',
            f'ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM "{name}"',
            f'REVOKE ALL ON SCHEMA public FROM "{name}"',
            f'DROP ROLE "{name}"',
        ):
            cursor.execute(statement)


def main() -> None:
    django.setup()
    user, password = os.environ["APP_DB_USER"], os.environ["APP_DB_PASSWORD"]
    with connection.cursor() as cursor:
        # Held until this process exits; a second instance waits here, then finds nothing to do.
        cursor.execute("SELECT pg_advisory_lock(%s)", [int(os.environ["MIGRATION_LOCK"])])
        keep_app_user(cursor, user, password)
    call_command("migrate", interactive=False, verbosity=1)
    # No createcachetable: the settings overlay caches in Redis, not in a database table.
    with connection.cursor() as cursor:
        grant_existing(cursor, user)
        drop_old_users(cursor, user)


if __name__ == "__main__":
    main()
