"""The fake provider server: every provider's wire format on one local port.

Each provider lives under its own prefix (``/apiframe/v2/videos/generate``,
``/kling/v1/videos/text2video``...), so a sandbox account is just the real adapter with
its base URL pointed at ``http://127.0.0.1:8765/<provider>``. Around them:

* ``/_control/...``: reset, inject faults, tune timing, read the request log (tests);
* ``/_media/<job>.mp4``: real MP4 results (rendered once per shape with the Preview
  renderer, labelled as sandbox output), which can be made to expire;
* a ticker thread that sends each provider's signed webhooks on status changes.

Run it with ``python manage.py fakeprovider``; tests start it in a thread.
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.utils.module_loading import import_string
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from studio.providers.fake.core import Drop, FakeJob, FakeState, drop_connection, json_response

log = logging.getLogger(__name__)

# One line per provider fake, like the adapter registry.
FAKES: dict[str, str] = {
    "apiframe": "studio.providers.fake.apiframe.ApiframeFake",
    "fal": "studio.providers.fake.fal.FalFake",
    "kling": "studio.providers.fake.kling.KlingFake",
    "replicate": "studio.providers.fake.replicate.ReplicateFake",
    "wavespeed": "studio.providers.fake.wavespeed.WaveSpeedFake",
    "kie": "studio.providers.fake.kie.KieFake",
    "givon": "studio.providers.fake.givon.GivonFake",
}


class FakeServer:
    def __init__(self, url: str = "", providers: dict[str, str] | None = None) -> None:
        self.url = url.rstrip("/")
        self.state = FakeState()
        self.fakes = {
            slug: import_string(path)(self)
            for slug, path in (providers if providers is not None else FAKES).items()
        }
        self._media_dir = Path(tempfile.mkdtemp(prefix="studio-fake-media-"))
        self._media_lock = threading.Lock()
        self._stop = threading.Event()
        self._senders = ThreadPoolExecutor(max_workers=4, thread_name_prefix="fake-webhook")
        self._ticker = threading.Thread(target=self._tick, name="fake-ticker", daemon=True)
        self._ticker.start()

    # -- WSGI -----------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except Drop:
            start_response("500 Dropped", [])
            return [b""]
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        head, _, rest = request.path.lstrip("/").partition("/")
        if head == "_control":
            return self.control(request, rest)
        if head == "_media":
            return self.media(request, rest.removesuffix(".mp4"))
        fake = self.fakes.get(head)
        if fake is None:
            return Response("no such provider", status=404)
        adapter = fake.url_map.bind("fake", path_info="/" + rest, url_scheme="http")
        try:
            endpoint, args = adapter.match(method=request.method)
        except HTTPException as error:
            self.state.log(head, request, fake.body(request))
            return error.get_response()
        self.state.log(head, request, fake.body(request))
        if not fake.authorized(request):
            return fake.error("auth")
        return getattr(fake, endpoint)(request, **args)

    # -- control API (tests) --------------------------------------------------------------

    def control(self, request: Request, action: str) -> Response:
        data = json.loads(request.get_data() or b"{}") if request.method == "POST" else {}
        if action == "reset":
            self.state.reset()
        elif action == "faults":
            self.state.push_fault(
                data["provider"],
                data["op"],
                data["fault"],
                int(data.get("times", 1)),
                data.get("seconds"),
            )
        elif action == "config":
            self.state.config.update({k: float(v) for k, v in data.items()})
        elif action == "requests":
            provider = request.args.get("provider")
            with self.state.lock:
                rows = [r for r in self.state.requests if not provider or r["provider"] == provider]
            return json_response(rows)
        elif action == "jobs":
            with self.state.lock:
                rows = [
                    {
                        "id": j.id,
                        "provider": j.provider,
                        "model": j.model,
                        "key": j.key,
                        "status": j.status(),
                        "body": j.body,
                    }
                    for j in self.state.jobs.values()
                ]
            return json_response(rows)
        else:
            raise NotFound
        return json_response({"ok": True})

    # -- results --------------------------------------------------------------------------

    def media(self, request: Request, job_id: str) -> Response:
        with self.state.lock:
            job = self.state.jobs.get(job_id)
        if job is None or job.expired or job.status() != "succeeded":
            return Response("not found", status=404)
        fake = self.fakes[job.provider]
        fault = fake.fault(request, "download", job)
        if fault is not None:
            return fault
        data = self.video_for(job).read_bytes()
        if request.environ.get("fake.drop"):
            # Promise the whole file, send half, then cut the connection.
            def half_then_cut():
                yield data[: len(data) // 2]
                drop_connection(request)

            return Response(
                half_then_cut(),
                content_type="video/mp4",
                direct_passthrough=True,
                headers={"Content-Length": str(len(data))},
            )
        return Response(data, content_type="video/mp4")

    def video_for(self, job: FakeJob) -> Path:
        """A real MP4 of the job's length, shape and sound, rendered once per shape."""
        from studio.media.animatic import render_animatic
        from studio.media.storyboard import AnimaticSpec
        from studio.prompts.fields import PromptFields

        shape = job.aspect_ratio.replace(":", "x")
        path = self._media_dir / f"{job.provider}-{job.duration}-{shape}-{int(job.audio)}.mp4"
        with self._media_lock:
            if not path.exists():
                spec = AnimaticSpec.from_prompt(
                    PromptFields(
                        subject=f"Sandbox result from {job.provider}",
                        action=f"{job.model}, {job.duration} seconds",
                        ambience="soft room tone" if job.audio else "",
                    ),
                    title=f"{job.provider} · {job.model}",
                    label="Sandbox: fake provider output",
                    duration=job.duration,
                    aspect_ratio=job.aspect_ratio,
                    audio=job.audio,
                )
                render_animatic(spec, path)
        return path

    # -- webhooks -------------------------------------------------------------------------

    def _tick(self) -> None:
        while not self._stop.wait(0.2):
            now = time.time()
            with self.state.lock:
                jobs = list(self.state.jobs.values())
            for job in jobs:
                # Only web callbacks: the fake must not become a way to reach file: or
                # other schemes on this machine.
                if not job.webhook_url.startswith(("http://", "https://")):
                    continue
                fake = self.fakes[job.provider]
                status = job.status(now)
                wanted = "all" in fake.webhook_on or status in fake.webhook_on
                if wanted and status not in job.notified:
                    job.notified.add(status)
                    self._senders.submit(self._deliver, fake, job, status)

    def _deliver(self, fake, job: FakeJob, status: str) -> None:
        fault = fake.state.take_fault(fake.slug, "webhook")
        times = 2 if fault and fault.kind == "duplicate" else 1
        for _ in range(times):
            body, headers = fake.webhook(job, status)
            for attempt in range(3):
                # An http(s) URL (checked in _tick): Studio's callback, as the adapter sent it.
                request = urllib.request.Request(  # noqa: S310
                    job.webhook_url,
                    data=body,
                    method="POST",
                    headers={"Content-Type": "application/json", **headers},
                )
                try:
                    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                        if response.status < 500:
                            break
                except urllib.error.HTTPError as error:
                    if error.code < 500:
                        break
                except OSError:
                    pass
                time.sleep(0.5 * (attempt + 1))

    # -- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        self._stop.set()
        self._senders.shutdown(wait=False)


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    background: bool = False,
    providers: dict[str, str] | None = None,
):
    """Start the server. With ``background`` it runs in a thread and returns
    ``(app, http_server)``; ``port=0`` picks a free port (tests)."""
    app = FakeServer(providers=providers)
    server = make_server(host, port, app, threaded=True)
    app.url = f"http://{host}:{server.server_port}"
    if background:
        threading.Thread(target=server.serve_forever, name="fake-provider", daemon=True).start()
        return app, server
    log.info("fake provider on %s", app.url)
    try:
        server.serve_forever()
    finally:
        app.close()
    return app, server
