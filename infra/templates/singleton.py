"""Run a command only while holding a PostgreSQL advisory lock (docs/app-contract.md, "Workers").

`singleton.py KEY COMMAND...`: waits for the session lock KEY on DATABASE_URL (the primary),
starts COMMAND, and checks the session every 15 s. If the session is lost, so is the lock: the
command is stopped and this exits non-zero (systemd starts it again, which waits for the lock
again). A TERM (docker stop) stops the command first. Beat runs inside it, so that two beats,
wherever they run, never schedule at once.
"""

import os
import signal
import subprocess
import sys
import time

import psycopg2

CHECK_SECONDS = 15


def acquire(key: int) -> object:
    connection = psycopg2.connect(os.environ["DATABASE_URL"])
    connection.autocommit = True
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            if cursor.fetchone()[0]:
                return connection
            print("singleton: another holder has the lock; waiting", file=sys.stderr, flush=True)
            time.sleep(CHECK_SECONDS)


def alive(connection: object) -> bool:
    try:
        with connection.cursor() as cursor:  # type: ignore[attr-defined]
            cursor.execute("SELECT 1")
        return True
    except psycopg2.Error:
        return False


def main(argv: list[str]) -> int:
    key, command = int(argv[1]), argv[2:]
    connection = acquire(key)
    child = subprocess.Popen(command)

    def stop(signum: int, frame: object) -> None:
        child.terminate()

    signal.signal(signal.SIGTERM, stop)
    while True:
        try:
            return child.wait(timeout=CHECK_SECONDS)
        except subprocess.TimeoutExpired:
            if not alive(connection):
                print("singleton: lost the database session and the lock", file=sys.stderr)
                child.terminate()
                child.wait()
                return 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
