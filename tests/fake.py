"""Drive the fake provider server from tests over its control API (real HTTP)."""

from __future__ import annotations

import httpx


class FakeControl:
    def __init__(self, app) -> None:
        self.app = app
        self.url = app.url
        self.hostport = self.url.removeprefix("http://")

    def base(self, provider: str) -> str:
        return f"{self.url}/{provider}"

    def _post(self, action: str, data: dict | None = None) -> None:
        httpx.post(f"{self.url}/_control/{action}", json=data or {}, timeout=5).raise_for_status()

    def reset(self) -> None:
        self._post("reset")

    def fault(
        self, provider: str, op: str, fault: str, times: int = 1, seconds: float | None = None
    ):
        self._post(
            "faults",
            {"provider": provider, "op": op, "fault": fault, "times": times, "seconds": seconds},
        )

    def timing(self, *, queue_seconds: float = 0.2, run_seconds: float = 0.5) -> None:
        self._post("config", {"queue_seconds": queue_seconds, "run_seconds": run_seconds})

    def requests(self, provider: str | None = None) -> list[dict]:
        params = {"provider": provider} if provider else {}
        return httpx.get(f"{self.url}/_control/requests", params=params, timeout=5).json()

    def jobs(self) -> list[dict]:
        return httpx.get(f"{self.url}/_control/jobs", timeout=5).json()
