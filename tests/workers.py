"""Real Celery worker processes for the integration and browser tests.

The worker runs as a separate process with the test settings and the test database
(the SQLite file or PostgreSQL test database the test run created), so nothing is
emulated: the broker, the database and the worker are the real ones.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    """The URL of the database this test run uses (its test database, not the real one)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


class Worker:
    """A `celery worker` (optionally with an embedded beat) the test can kill and restart."""

    def __init__(self, *, beat: bool = False, extra_env: dict[str, str] | None = None) -> None:
        self.beat = beat
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen | None = None
        self.log = Path(settings.MEDIA_ROOT).parent / f"worker-{os.getpid()}-{time.time_ns()}.log"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="tests.settings",
            DATABASE_URL=database_url(),
            STUDIO_TEST_MEDIA_ROOT=str(settings.MEDIA_ROOT),
            STUDIO_OUTBOUND_ALLOW=",".join(settings.STUDIO_OUTBOUND_ALLOW),
            STUDIO_PUBLIC_URL=settings.STUDIO_PUBLIC_URL,
            STUDIO_FAKE_PROVIDER_URL=settings.STUDIO_FAKE_PROVIDER_URL,
            STUDIO_LEASE_SECONDS=str(settings.STUDIO_LEASE_SECONDS),
            PYTHONPATH=str(ROOT),
        )
        env.update(self.extra_env)
        return env

    def start(self) -> Worker:
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "studio",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            "2",
            "--without-gossip",
            "--without-mingle",
        ]
        if self.beat:
            schedule = Path(settings.MEDIA_ROOT).parent / f"beat-{time.time_ns()}"
            command += ["-B", "--schedule", str(schedule)]
        handle = self.log.open("ab")
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env(),
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool children), like a crash."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def wait_until(condition, timeout: float = 60, interval: float = 0.25, message: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(message or f"condition not met within {timeout}s")
