#!/usr/bin/python3
"""Turns /etc/pythondotorg/manifest.json into the app container's environment (docs/app-contract.md).

Installed as /usr/local/bin/pythondotorg-env by the user data; runs before every start of the
app's units, so a restart picks up a rotated secret. Standard library and the AWS CLI only (both
ship with Amazon Linux 2023). Secrets are read in this instance's own region, through the
instance role; they go to files of mode 0600 under /run (memory), never to the user data.

  pythondotorg-env                      write /run/pythondotorg/{app,release,search}.env, fetch
                                        the RDS CA
  pythondotorg-env --has STEP           exit 0 if this instance runs STEP (release, search)
  pythondotorg-env --wait-for-database  wait until the app's database user can log in
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from typing import Any
from urllib.parse import quote

MANIFEST = "/etc/pythondotorg/manifest.json"
RUN = "/run/pythondotorg"
PLACEHOLDER = re.compile(r"\$\{(instance_ip|secret:(\w+):(\w+)(\|url)?)\}")
IMDS = "http://169.254.169.254/latest"
STEPS = ("release", "search")  # steps beside the process, each with its own env file


def instance_ip() -> str:
    """The instance's private IPv4 address, from the metadata service (IMDSv2)."""
    token_request = urllib.request.Request(  # noqa: S310 (a constant http:// URL)
        f"{IMDS}/api/token",
        method="PUT",
        headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"},
    )
    with urllib.request.urlopen(token_request, timeout=5) as response:  # noqa: S310
        token = response.read().decode()
    request = urllib.request.Request(  # noqa: S310 (a constant http:// URL)
        f"{IMDS}/meta-data/local-ipv4", headers={"X-aws-ec2-metadata-token": token}
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        return str(response.read().decode())


def secret(region: str, secret_id: str) -> dict[str, str]:
    text = subprocess.run(
        ["aws", "secretsmanager", "get-secret-value", "--region", region,
         "--secret-id", secret_id, "--query", "SecretString", "--output", "text"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    value: dict[str, str] = json.loads(text)
    return value


def render(env: dict[str, str], ip: str, secrets: dict[str, dict[str, str]]) -> str:
    """An env file (KEY=value lines, as `docker run --env-file` reads them)."""

    def fill(m: re.Match[str]) -> str:
        if m.group(1) == "instance_ip":
            return ip
        text = secrets[m.group(2)][m.group(3)]
        return quote(text, safe="") if m.group(4) else text

    lines = []
    for name, value in sorted(env.items()):
        filled = PLACEHOLDER.sub(fill, value)
        if "\n" in filled or "${" in filled:
            raise SystemExit(f"pythondotorg-env: {name} cannot be written to an env file")
        lines.append(f"{name}={filled}\n")
    return "".join(lines)


def write(path: str, text: str) -> None:
    fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(path + ".tmp", path)


def fetch_ca_bundle(url: str, path: str) -> None:
    """The region's RDS CA bundle, for sslmode=verify-full (refreshed at each start)."""
    for attempt in range(5):
        try:
            with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
                body = response.read()
            if b"BEGIN CERTIFICATE" not in body:
                raise ValueError(f"{url} did not return certificates")
            with open(path + ".tmp", "wb") as handle:
                handle.write(body)
            os.replace(path + ".tmp", path)
            return
        except (OSError, ValueError) as exc:
            print(f"pythondotorg-env: CA bundle, attempt {attempt + 1}: {exc}", file=sys.stderr)
            time.sleep(2**attempt)
    if not os.path.exists(path):
        raise SystemExit(f"pythondotorg-env: no RDS CA bundle at {path}")


def wait_for_database(manifest: dict[str, Any], attempts: int = 60) -> None:
    """Log in as the app's user, from the app's image, until it works (a replica region may
    boot before the home region's release step has created a rotated user)."""
    probe = "import os, psycopg2; psycopg2.connect(os.environ['DATABASE_URL']).close()"
    command = ["docker", "run", "--rm", "--network", "host",
               "--env-file", f"{RUN}/app.env", "-v", f"{manifest['ca_bundle']}:"
               f"{manifest['ca_bundle']}:ro", manifest["image"], manifest["python"], "-c", probe]  # fmt: skip
    for attempt in range(attempts):
        if subprocess.run(command, check=False).returncode == 0:
            return
        print(f"pythondotorg-env: database not ready (attempt {attempt + 1})", file=sys.stderr)
        time.sleep(10)
    raise SystemExit("pythondotorg-env: the app's database user cannot log in")


def main(argv: list[str]) -> int:
    with open(MANIFEST) as handle:
        manifest = json.load(handle)
    if argv[1:2] == ["--has"] and len(argv) == 3:
        return 0 if manifest.get(f"{argv[2]}_env") else 1
    if argv[1:] == ["--wait-for-database"]:
        wait_for_database(manifest)
        return 0
    os.makedirs(RUN, mode=0o700, exist_ok=True)
    region = manifest["region"]
    fetch_ca_bundle(manifest["ca_bundle_url"], manifest["ca_bundle"])
    secrets = {name: secret(region, sid) for name, sid in manifest["secrets"].items()}
    ip = instance_ip()
    write(f"{RUN}/app.env", render(manifest["env"], ip, secrets))
    for step in STEPS:
        if manifest.get(f"{step}_env"):
            merged = {**manifest["env"], **manifest[f"{step}_env"]}
            write(f"{RUN}/{step}.env", render(merged, ip, secrets))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
