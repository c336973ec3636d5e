import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import httpx
import pytest
from django.urls import reverse

from studio.generation import pipeline
from studio.generation.models import Generation, Status, WebhookDelivery
from studio.lib import http
from studio.providers import catalog, sandbox
from studio.providers.base import (
    ErrorKind,
    ProviderError,
    RemoteStatus,
    WebhookRejected,
)
from studio.providers.catalog import Params
from tests import factories
from tests.providers.helpers import (
    adapter,
    call,
    image,
    request,
    run_take,
    sandbox_account,
    statuses,
    wait_for,
)

SLUG = "replicate"
KEYS = sandbox.credentials(SLUG)


@pytest.fixture
def replicate(fake):
    return adapter(SLUG, fake)


# -- the request ----------------------------------------------------------------------------


def test_submit_sends_the_documented_request(replicate, fake):
    req = request(
        SLUG,
        "kling-3.0",
        duration=7,
        aspect_ratio="9:16",
        resolution="1080p",
        audio=False,
        negative_prompt="blurry",
        callback_url="http://127.0.0.1:1/hook",
    )
    replicate.submit(req)
    [sent] = fake.requests(SLUG)
    assert sent["method"] == "POST"
    assert sent["path"] == "/replicate/v1/models/kwaivgi/kling-v3-video/predictions"
    assert sent["headers"]["authorization"] == f"Bearer {KEYS.api_key}"
    assert sent["headers"]["cancel-after"] == "30m"
    assert "prefer" not in sent["headers"]
    assert sent["body"] == {
        "input": {
            "prompt": req.prompt,
            "negative_prompt": "blurry",
            "mode": "pro",
            "aspect_ratio": "9:16",
            "duration": 7,
            "generate_audio": False,
        },
        "webhook": "http://127.0.0.1:1/hook",
        "webhook_events_filter": ["completed"],
    }


@pytest.mark.parametrize(("resolution", "mode"), [("720p", "standard"), ("4k", "4k")])
def test_kling_3_mode_follows_the_resolution_and_shots_are_a_json_string(
    replicate, fake, resolution, mode
):
    replicate.submit(
        request(
            SLUG, "kling-3.0", resolution=resolution, duration=8, shots=(("wide", 3), ("close", 5))
        )
    )
    values = fake.requests(SLUG)[0]["body"]["input"]
    assert values["mode"] == mode
    assert json.loads(values["multi_prompt"]) == [
        {"prompt": "wide", "duration": 3},
        {"prompt": "close", "duration": 5},
    ]


def test_a_start_image_replaces_the_aspect_ratio(replicate, fake):
    replicate.submit(
        request(SLUG, "kling-3.0", start_image=image("first"), end_image=image("last"))
    )
    values = fake.requests(SLUG)[0]["body"]["input"]
    assert values["start_image"] == "data:image/png;base64,cG5n"  # b"png"
    assert values["end_image"] == "data:image/png;base64,cG5n"
    assert "aspect_ratio" not in values


def test_kling_2_6_goes_to_its_own_model_as_pro(replicate, fake):
    replicate.submit(request(SLUG, "kling-2.6-pro", duration=10, audio=True))
    [sent] = fake.requests(SLUG)
    assert sent["path"] == "/replicate/v1/models/kwaivgi/kling-v2.6/predictions"
    values = sent["body"]["input"]
    assert (values["mode"], values["duration"], values["generate_audio"]) == ("pro", 10, True)


# -- statuses -------------------------------------------------------------------------------


def test_a_prediction_goes_from_starting_to_processing_to_succeeded_with_its_output(
    replicate, fake
):
    req = request(SLUG, "kling-3.0")
    job = replicate.submit(req)
    assert job.status == RemoteStatus.QUEUED
    assert job.poll_hint == f"{fake.base(SLUG)}/v1/predictions/{job.external_id}"  # urls.get
    assert statuses(replicate, req, job) == [
        RemoteStatus.QUEUED,
        RemoteStatus.RUNNING,
        RemoteStatus.SUCCEEDED,
    ]
    done = replicate.poll(req, job)
    assert done.video_url == f"{fake.url}/_media/{job.external_id}.mp4"
    assert fake.requests(SLUG)[-1]["path"] == f"/replicate/v1/predictions/{job.external_id}"


@pytest.mark.parametrize(
    ("fault", "kind"), [("moderation", ErrorKind.MODERATION), ("fail", ErrorKind.PERMANENT)]
)
def test_a_failed_prediction_keeps_its_error_and_flagged_content_is_moderation(
    replicate, fake, fault, kind
):
    req = request(SLUG, "kling-3.0")
    job = replicate.submit(req)
    fake.fault(SLUG, "poll", fault)
    done = wait_for(replicate, req, job)
    assert done.status == RemoteStatus.FAILED
    assert done.error.kind == kind


def test_an_output_deleted_after_its_hour_is_gone(replicate, fake, tmp_path: Path):
    req = request(SLUG, "kling-3.0")
    done = wait_for(replicate, req, replicate.submit(req))
    fake.fault(SLUG, "download", "expired")
    for _ in range(2):  # deleted for good, not just once
        with pytest.raises(http.HttpStatusError) as caught:
            http.download(done.video_url, tmp_path / "v.mp4", kind="video", max_bytes=10**8)
        assert caught.value.status_code == 404
    later = replicate.poll(req, done)
    assert later.status == RemoteStatus.FAILED and later.error.kind == ErrorKind.PERMANENT


# -- errors ---------------------------------------------------------------------------------


def test_an_input_replicate_refuses_is_a_permanent_422(replicate, fake):
    answer = httpx.post(
        f"{fake.base(SLUG)}/v1/models/kwaivgi/kling-v3-video/predictions",
        json={"input": {"prompt": "x", "duration": "5", "sound": True}},
        headers={"Authorization": f"Bearer {KEYS.api_key}"},
    )
    assert answer.status_code == 422
    fields = [f["field"] for f in answer.json()["invalid_fields"]]
    assert fields == ["input.duration", "input.sound"]
    with pytest.raises(ProviderError) as caught:
        replicate.submit(request(SLUG, "kling-2.6-pro", duration=7))  # past the catalog
    assert (caught.value.kind, caught.value.status_code) == (ErrorKind.PERMANENT, 422)


def test_the_connection_check_reads_the_account(replicate, fake):
    replicate.check_connection()
    [sent] = fake.requests(SLUG)
    assert (sent["method"], sent["path"]) == ("GET", "/replicate/v1/account")


def test_a_dropped_answer_cannot_be_reconciled(replicate, fake):
    req = request(SLUG, "kling-3.0")
    fake.fault(SLUG, "submit", "drop")
    with pytest.raises(ProviderError) as caught:
        replicate.submit(req)
    assert caught.value.kind == ErrorKind.AMBIGUOUS
    assert replicate.reconcilable is False and replicate.reconcile(req) is None


def test_the_catalog_refuses_what_replicate_would_reject_before_anything_is_sent(fake):
    offer = catalog.offer(SLUG, "kling-2.6-pro")
    framed = Params(
        duration=5,
        aspect_ratio="16:9",
        resolution="1080p",
        audio=False,
        has_start_image=True,
        has_end_image=True,
    )
    assert "end_image" in catalog.check(offer, framed, prompt="x")
    seven = Params(duration=7, aspect_ratio="16:9", resolution="1080p", audio=False)
    assert "duration" in catalog.check(offer, seven, prompt="x")
    assert fake.requests(SLUG) == []


def test_prices_are_usd_per_second_with_the_4k_and_2_6_gaps_filled():
    v3 = catalog.offer(SLUG, "kling-3.0")
    assert v3.price(5, "720p", True).usd_micros == 630_000
    assert v3.price(5, "1080p", True).usd_micros == 840_000
    assert v3.price(5, "4k", False).usd_micros == 2_100_000  # Kling's own 4K rate
    assert catalog.offer(SLUG, "kling-2.6-pro").price(5, "1080p", True).usd_micros == 700_000


# -- webhooks -------------------------------------------------------------------------------


def _signature(body: bytes, secret: str, webhook_id: str, timestamp: str) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def _signed(
    body: bytes,
    *,
    secret: str = KEYS.webhook_secret,
    at: float | None = None,
    webhook_id: str = "msg_1",
) -> dict[str, str]:
    timestamp = str(int(time.time() if at is None else at))
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": _signature(body, secret, webhook_id, timestamp),
    }


# The shape of Replicate's own link in a webhook body; data only, never requested.
EXPECTED_GET = "https://api.replicate.com/v1/predictions/p1"
PREDICTION = {
    "id": "p1",
    "status": "succeeded",
    "output": "https://replicate.delivery/p1.mp4",
    "error": None,
    "urls": {"get": EXPECTED_GET},
}
BODY = json.dumps(PREDICTION).encode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"another-webhook-secret").decode()


def test_a_correctly_signed_webhook_is_trusted(replicate):
    event = replicate.parse_webhook(call(BODY, _signed(BODY)))
    assert (event.external_id, event.event_key) == ("p1", "msg_1")
    assert event.job.status == RemoteStatus.SUCCEEDED
    assert event.job.video_url == "https://replicate.delivery/p1.mp4"


def test_a_rotated_secret_is_accepted_beside_the_old_one(replicate):
    headers = _signed(BODY)
    old = _signature(BODY, OTHER_SECRET, "msg_1", headers["webhook-timestamp"])
    headers["webhook-signature"] = f"{old} {headers['webhook-signature']}"
    assert replicate.parse_webhook(call(BODY, headers)).job.status == RemoteStatus.SUCCEEDED


def _missing(name: str):
    return lambda: {k: v for k, v in _signed(BODY).items() if k != name}


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (BODY.replace(b"p1.mp4", b"evil.mp4"), lambda: _signed(BODY)),
        (json.dumps(PREDICTION, indent=2).encode(), lambda: _signed(BODY)),
        (BODY, lambda: _signed(BODY, secret=OTHER_SECRET)),
        (BODY, lambda: _signed(BODY, at=time.time() - 301)),
        (
            BODY,
            lambda: _signed(BODY, at=time.time() + 310),
        ),  # past the 300 s window even on a slow machine
        (BODY, _missing("webhook-id")),
        (BODY, _missing("webhook-timestamp")),
        (BODY, _missing("webhook-signature")),
        (BODY, lambda: _signed(BODY) | {"webhook-signature": "v1"}),
    ],
    ids=[
        "tampered body",
        "re-serialized body",
        "wrong secret",
        "stale by 301 s",
        "310 s ahead",
        "no id",
        "no timestamp",
        "no signature",
        "garbled signature",
    ],
)
def test_a_webhook_that_does_not_verify_is_rejected(replicate, body, headers):
    with pytest.raises(WebhookRejected):
        replicate.parse_webhook(call(body, headers()))


def test_a_status_word_we_do_not_know_asks_for_a_re_fetch(replicate):
    body = json.dumps(PREDICTION | {"status": "rebooting"}).encode()
    event = replicate.parse_webhook(call(body, _signed(body)))
    assert (event.external_id, event.job) == ("p1", None)


def test_without_a_webhook_secret_nothing_is_trusted(fake):
    with pytest.raises(WebhookRejected):
        adapter(SLUG, fake, webhook_secret="").parse_webhook(call(BODY, _signed(BODY)))


def test_the_fakes_webhooks_verify_and_a_re_delivery_keeps_its_id(replicate, fake):
    req = request(SLUG, "kling-3.0")
    job = replicate.submit(req)
    wait_for(replicate, req, job)
    fake_job = fake.app.state.find(SLUG, job.external_id)
    body, headers = fake.app.fakes[SLUG].webhook(fake_job, "succeeded")
    _, again = fake.app.fakes[SLUG].webhook(fake_job, "succeeded")
    assert again["webhook-id"] == headers["webhook-id"]
    event = replicate.parse_webhook(call(body, headers))
    assert event.job.video_url == f"{fake.url}/_media/{job.external_id}.mp4"


# -- through Studio -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_duplicate_webhook_changes_nothing(client, fake, owner):
    fake.timing(queue_seconds=0, run_seconds=60)
    take = factories.take(
        owner,
        provider=SLUG,
        model="kling-3.0",
        account=sandbox_account(owner.workspace, SLUG, fake),
    )
    pipeline.advance(str(take.pk))
    take.refresh_from_db()
    assert take.status == Status.RUNNING
    fake_job = fake.app.state.find(SLUG, take.external_id)
    body, headers = fake.app.fakes[SLUG].webhook(fake_job, "succeeded")
    url = reverse("webhooks:receive", args=[SLUG, take.webhook_token])

    first = client.post(url, body, content_type="application/json", headers=headers)
    assert first.status_code == 200
    after_first = Generation.objects.values().get(pk=take.pk)
    assert after_first["status"] == Status.DOWNLOADING  # a signed payload is applied

    second = client.post(url, body, content_type="application/json", headers=headers)
    assert second.status_code == 200
    assert Generation.objects.values().get(pk=take.pk) == after_first
    assert WebhookDelivery.objects.filter(generation=take).count() == 1


@pytest.mark.django_db
def test_a_take_with_sound_runs_through_the_pipeline_to_a_clip(fake, owner):
    take = factories.take(
        owner,
        provider=SLUG,
        model="kling-3.0",
        params=Params(duration=5, aspect_ratio="9:16", resolution="1080p", audio=True),
        account=sandbox_account(owner.workspace, SLUG, fake),
    )
    take = run_take(take)
    assert take.status == Status.SUCCEEDED, take.failure_detail
    assert take.clip.has_audio is True
    [job] = fake.jobs()
    assert job["body"]["input"]["generate_audio"] is True
