import hashlib
import hmac
import json
import time

import pytest
from django.urls import reverse

from studio.generation.models import Generation, Status, WebhookDelivery
from studio.generation.services import transition
from studio.providers import catalog, sandbox
from studio.providers.base import (
    ErrorKind,
    ImageInput,
    ProviderError,
    RemoteStatus,
    WebhookCall,
    WebhookRejected,
)
from studio.providers.catalog import Params
from tests import factories
from tests.providers.helpers import adapter, request, run_take, sandbox_account, wait_for

SLUG = "wavespeed"
SECRET = sandbox.credentials(SLUG).webhook_secret
IMAGE = ImageInput(
    url="https://studio.example/signed/start.png", data=b"png", content_type="image/png"
)
END = ImageInput(url="https://studio.example/signed/end.png", data=b"png", content_type="image/png")


@pytest.fixture
def wavespeed(fake):
    return adapter(SLUG, fake)


# -- the request ------------------------------------------------------------------------


def test_submit_sends_the_documented_request(wavespeed, fake):
    req = request(
        SLUG,
        "kling-2.6-pro",
        duration=10,
        aspect_ratio="9:16",
        audio=True,
        negative_prompt="blurry",
        callback_url="http://127.0.0.1:1/hook",
    )
    wavespeed.submit(req)
    [sent] = fake.requests(SLUG)
    assert sent["method"] == "POST"
    assert sent["path"] == "/wavespeed/api/v3/kwaivgi/kling-v2.6-pro/text-to-video"
    assert sent["query"] == {"webhook": "http://127.0.0.1:1/hook"}
    assert sent["headers"]["authorization"] == "Bearer sandbox-wavespeed-key"
    assert sent["body"] == {
        "prompt": req.prompt,
        "duration": 10,
        "negative_prompt": "blurry",
        "sound": True,
        "aspect_ratio": "9:16",
    }
    assert type(sent["body"]["duration"]) is int and type(sent["body"]["sound"]) is bool


def test_a_start_image_picks_image_to_video_and_std_sends_no_sound(wavespeed, fake):
    wavespeed.submit(request(SLUG, "kling-2.6", start_image=IMAGE))
    [sent] = fake.requests(SLUG)
    assert sent["path"] == "/wavespeed/api/v3/kwaivgi/kling-v2.6-std/image-to-video"
    assert sent["query"] == {}
    assert sent["body"] == {"prompt": sent["body"]["prompt"], "duration": 5, "image": IMAGE.url}


def test_kling_3_picks_the_tier_by_resolution_and_sends_an_end_image(wavespeed, fake):
    wavespeed.submit(
        request(SLUG, "kling-3.0", resolution="720p", audio=False, start_image=IMAGE, end_image=END)
    )
    [sent] = fake.requests(SLUG)
    assert sent["path"] == "/wavespeed/api/v3/kwaivgi/kling-v3.0-std/image-to-video"
    assert sent["body"]["sound"] is False
    assert (sent["body"]["image"], sent["body"]["end_image"]) == (IMAGE.url, END.url)


def test_kling_3_multi_shot_sends_multi_prompt_instead_of_prompt(wavespeed, fake):
    wavespeed.submit(
        request(
            SLUG, "kling-3.0", duration=8, resolution="1080p", shots=(("wide", 3), ("close", 5))
        )
    )
    [sent] = fake.requests(SLUG)
    assert sent["path"] == "/wavespeed/api/v3/kwaivgi/kling-v3.0-pro/text-to-video"
    assert "prompt" not in sent["body"]
    assert sent["body"]["shot_type"] == "customize"
    assert sent["body"]["multi_prompt"] == [
        {"prompt": "wide", "duration": 3},
        {"prompt": "close", "duration": 5},
    ]


# -- following a job --------------------------------------------------------------------


def test_a_prediction_goes_from_created_to_processing_to_completed(wavespeed, fake):
    fake.timing(queue_seconds=0.4, run_seconds=1.2)
    req = request(SLUG, "kling-2.6-pro")
    job = wavespeed.submit(req)
    assert job.status == RemoteStatus.QUEUED
    assert job.poll_hint == f"{fake.base(SLUG)}/api/v3/predictions/{job.external_id}/result"
    time.sleep(0.7)
    assert wavespeed.poll(req, job).status == RemoteStatus.RUNNING
    done = wait_for(wavespeed, req, job)
    assert done.status == RemoteStatus.SUCCEEDED
    assert done.video_url == f"{fake.url}/_media/{job.external_id}.mp4"
    assert fake.requests(SLUG)[-1]["path"].endswith(f"/predictions/{job.external_id}/result")


def test_a_failed_prediction_is_permanent_with_its_error(wavespeed, fake):
    req = request(SLUG, "kling-2.6-pro")
    fake.fault(SLUG, "submit", "fail")
    done = wait_for(wavespeed, req, wavespeed.submit(req))
    assert done.status == RemoteStatus.FAILED
    assert done.error.kind == ErrorKind.PERMANENT
    assert done.error.detail == "generation failed on the provider's side"


def test_an_nsfw_flagged_prediction_fails_as_moderation(wavespeed, fake):
    req = request(SLUG, "kling-2.6-pro")
    fake.fault(SLUG, "submit", "moderation")
    done = wait_for(wavespeed, req, wavespeed.submit(req))
    assert done.status == RemoteStatus.FAILED
    assert done.error.kind == ErrorKind.MODERATION


def test_a_poll_hint_on_another_host_is_not_followed_with_our_key(wavespeed, fake):
    req = request(SLUG, "kling-2.6-pro")
    job = wavespeed.submit(req)
    elsewhere = type(job)(
        external_id=job.external_id,
        status=RemoteStatus.RUNNING,
        poll_hint="http://203.0.113.9/steal",
    )
    wavespeed.poll(req, elsewhere)
    assert fake.requests(SLUG)[-1]["path"] == (
        f"/wavespeed/api/v3/predictions/{job.external_id}/result"
    )


# -- errors -----------------------------------------------------------------------------


def test_a_dropped_answer_cannot_be_reconciled(wavespeed, fake):
    req = request(SLUG, "kling-2.6-pro")
    fake.fault(SLUG, "submit", "drop")
    with pytest.raises(ProviderError):
        wavespeed.submit(req)
    assert not wavespeed.reconcilable
    assert wavespeed.reconcile(req) is None
    assert len(fake.jobs()) == 1  # the job exists, and nothing sent a second one


def test_a_validation_error_is_permanent(wavespeed, fake):
    # Past the catalog on purpose: the fake answers in WaveSpeed's 400 envelope.
    with pytest.raises(ProviderError) as caught:
        wavespeed.submit(request(SLUG, "kling-2.6-pro", duration=7))
    assert caught.value.kind == ErrorKind.PERMANENT
    assert "duration" in caught.value.detail


def test_the_connection_check_reads_the_balance(wavespeed, fake):
    wavespeed.check_connection()
    assert fake.requests(SLUG)[0]["path"] == "/wavespeed/api/v3/balance"


def test_the_catalog_refuses_what_wavespeed_would_reject_before_anything_is_sent(fake):
    kling3 = catalog.offer(SLUG, "kling-3.0")
    four_k = catalog.check(
        kling3, Params(duration=5, aspect_ratio="16:9", resolution="4k", audio=True), prompt="x"
    )
    assert four_k == {"resolution": ["Choose 720p or 1080p."]}
    std = catalog.offer(SLUG, "kling-2.6")
    loud = catalog.check(
        std,
        Params(duration=5, aspect_ratio="16:9", resolution="720p", audio=True),
        prompt="x" * 2501,
    )
    assert set(loud) == {"audio", "prompt"}
    assert fake.requests(SLUG) == []


def test_prices_follow_the_published_rates():
    assert catalog.offer(SLUG, "kling-2.6").price(10, "720p", False).usd_micros == 420_000
    assert catalog.offer(SLUG, "kling-2.6-pro").price(5, "1080p", True).usd_micros == 700_000
    assert catalog.offer(SLUG, "kling-3.0").price(10, "1080p", True).usd_micros == 1_680_000


# -- webhooks ---------------------------------------------------------------------------


def _signed(
    body: bytes, *, secret: str = SECRET, webhook_id: str = "msg_1", timestamp: int | None = None
) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    key = secret.removeprefix("whsec_").encode()
    digest = hmac.new(key, f"{webhook_id}.{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": stamp,
        "webhook-signature": f"v3,{digest}",
    }


# The shape of WaveSpeed's own link in a webhook body; data only, never requested.
EXPECTED_GET = "https://api.wavespeed.ai/api/v3/predictions/pred-1/result"
BODY = json.dumps(
    {
        "id": "pred-1",
        "model": "kwaivgi/kling-v2.6-pro/text-to-video",
        "outputs": ["https://cdn.example/1.mp4"],
        "has_nsfw_contents": [False],
        "urls": {"get": EXPECTED_GET},
        "status": "completed",
        "error": "",
    }
).encode()


def test_a_correctly_signed_webhook_is_trusted(wavespeed):
    event = wavespeed.parse_webhook(WebhookCall(body=BODY, headers=_signed(BODY), query={}))
    assert (event.external_id, event.event_key) == ("pred-1", "msg_1")
    assert event.job.status == RemoteStatus.SUCCEEDED
    assert event.job.video_url == "https://cdn.example/1.mp4"


def test_a_signed_webhook_without_a_usable_result_only_rings_the_poller(wavespeed):
    body = json.dumps({"id": "pred-1", "status": "completed", "outputs": []}).encode()
    event = wavespeed.parse_webhook(WebhookCall(body=body, headers=_signed(body), query={}))
    assert (event.external_id, event.job) == ("pred-1", None)


def test_the_fakes_own_webhook_verifies(wavespeed, fake):
    job = wavespeed.submit(request(SLUG, "kling-2.6-pro"))
    fake_job = fake.app.state.find(SLUG, job.external_id)
    body, headers = fake.app.fakes[SLUG].webhook(fake_job, "succeeded")
    headers = {k.lower(): v for k, v in headers.items()}
    assert wavespeed.parse_webhook(WebhookCall(body=body, headers=headers, query={})).job


@pytest.mark.parametrize(
    "headers",
    [
        _signed(BODY.replace(b"pred-1", b"pred-2")),  # what was signed is not what came
        _signed(BODY, secret="whsec_another"),
        _signed(BODY, timestamp=int(time.time()) - 301),
        {k: v for k, v in _signed(BODY).items() if k != "webhook-signature"},
        {k: v for k, v in _signed(BODY).items() if k != "webhook-timestamp"},
    ],
    ids=[
        "tampered body",
        "wrong secret",
        "stale timestamp",
        "missing signature",
        "missing timestamp",
    ],
)
def test_a_webhook_that_does_not_verify_is_rejected(wavespeed, headers):
    with pytest.raises(WebhookRejected):
        wavespeed.parse_webhook(WebhookCall(body=BODY, headers=headers, query={}))


# -- through Studio ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_duplicate_webhook_delivery_changes_nothing(client, fake, owner):
    take = factories.take(
        owner,
        provider=SLUG,
        model="kling-2.6-pro",
        account=sandbox_account(owner.workspace, SLUG, fake),
    )
    transition(take.pk, Status.QUEUED, Status.SUBMITTING)
    transition(take.pk, Status.SUBMITTING, Status.RUNNING, external_id="pred-1")
    url = reverse("webhooks:receive", args=[SLUG, take.webhook_token])
    headers = _signed(BODY)

    first = client.post(url, BODY, content_type="application/json", headers=headers)
    assert first.status_code == 200
    after_first = Generation.objects.values().get(pk=take.pk)
    assert after_first["status"] == Status.DOWNLOADING
    assert after_first["result_url"] == "https://cdn.example/1.mp4"

    second = client.post(url, BODY, content_type="application/json", headers=headers)
    assert second.status_code == 200
    assert Generation.objects.values().get(pk=take.pk) == after_first
    assert WebhookDelivery.objects.filter(generation=take).count() == 1


@pytest.mark.django_db
def test_a_take_runs_through_the_pipeline_to_a_clip_with_sound(fake, owner):
    take = factories.take(
        owner,
        provider=SLUG,
        model="kling-2.6-pro",
        account=sandbox_account(owner.workspace, SLUG, fake),
    )
    take = run_take(take)
    assert take.status == Status.SUCCEEDED, take.failure_detail
    assert take.clip.has_audio is True
    assert len(fake.jobs()) == 1
