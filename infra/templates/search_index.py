"""The search indexer of one region, run in the app's image (docs/app-contract.md, "Search").

Each region has its own OpenSearch domain and keeps its index current from its own database (a
read replica is enough: indexing only reads). A timer starts this on every web server of the
region; a PostgreSQL advisory lock (they work on a hot standby) lets one at a time through, the
others exit at once.

With the domain's master user it first keeps the app's own user and role (fine-grained access
control): the app's client, elasticsearch-py 7.17, refuses any server that answers `GET /` and
is not Elasticsearch (OpenSearch included), except when `GET /` is refused with 401/403
(elasticsearch/transport.py, `_do_verify_elasticsearch`). So the app's role grants its index
and the cluster's bulk and multi-get/search actions, and not `cluster:monitor/main` (`GET /`).
Then it runs haystack's `update_index --remove`: the app's indexes have no updated field, so
each run reindexes everything and drops what was deleted.
"""

import base64
import json
import os
import ssl
import urllib.request

import django
from django.core.management import call_command
from django.db import connection

ROLE = "pythondotorg_app"
CA = "/var/run/secrets/cabotage.io/ca.crt"


def app_role(index: str) -> dict[str, object]:
    """The app's role: its index, and bulk/multi-search at cluster level (no GET /)."""
    return {
        "cluster_permissions": ["cluster_composite_ops"],
        "index_permissions": [{"index_patterns": [index], "allowed_actions": ["indices_all"]}],
    }


def security_requests(user: str, password: str, index: str) -> list[tuple[str, dict[str, object]]]:
    """(path, body) of every PUT that keeps the app's user, role and mapping."""
    api = "/_plugins/_security/api"
    return [
        (f"{api}/roles/{ROLE}", app_role(index)),
        (f"{api}/internalusers/{user}", {"password": password, "backend_roles": []}),
        (f"{api}/rolesmapping/{ROLE}", {"users": [user]}),
    ]


def put(endpoint: str, auth: str, path: str, body: dict[str, object]) -> None:
    request = urllib.request.Request(  # noqa: S310 (an https:// endpoint from the manifest)
        endpoint + path,
        data=json.dumps(body).encode(),
        method="PUT",
        headers={"Content-Type": "application/json", "Authorization": f"Basic {auth}"},
    )
    context = ssl.create_default_context(cafile=CA)
    with urllib.request.urlopen(request, timeout=30, context=context) as response:  # noqa: S310
        response.read()


def main() -> None:
    django.setup()
    env = os.environ
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [int(env["INDEX_LOCK"])])
        if not cursor.fetchone()[0]:
            print("search_index: another instance of this region is indexing")
            return
        master = f"{env['SEARCH_MASTER_USER']}:{env['SEARCH_MASTER_PASSWORD']}"
        auth = base64.b64encode(master.encode()).decode()
        for path, body in security_requests(
            env["SEARCH_APP_USER"], env["SEARCH_APP_PASSWORD"], env["SEARCH_INDEX"]
        ):
            put(env["SEARCH_ENDPOINT"], auth, path, body)
        call_command("update_index", remove=True, verbosity=1)


if __name__ == "__main__":
    main()
