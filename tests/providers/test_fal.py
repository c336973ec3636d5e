import hashlib
import json
import time

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.urls import reverse

from studio.generation import pipeline
from studio.generation.models import Generation, Status, WebhookDelivery
from studio.providers import catalog, fal, sandbox
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

SLUG = "fal"
KEYS = sandbox.credentials(SLUG)


@pytest.fixture
def fal_(fake):
    return adapter(SLUG, fake)


@pytest.fixture
def fal_key(fake) -> Ed25519PrivateKey:
    """The private half of the key pair the fake publishes in its JWKS."""
    return fake.app.fakes[SLUG].signing_key


# -- the request ----------------------------------------------------------------------------


def test_submit_sends_the_raw_input_to_the_model_path_with_the_webhook_in_the_query(fal_, fake):
    req = request(
        SLUG,
        "kling-2.6-pro",
        duration=10,
        aspect_ratio="9:16",
        audio=False,
        negative_prompt="blurry",
        callback_url="http://127.0.0.1:1/hook",
    )
    fal_.submit(req)
    [sent] = fake.requests(SLUG)
    assert sent["method"] == "POST"
    assert sent["path"] == "/fal/fal-ai/kling-video/v2.6/pro/text-to-video"
    assert sent["query"] == {"fal_webhook": "http://127.0.0.1:1/hook"}
    assert sent["headers"]["authorization"] == f"Key {KEYS.api_key}"
    assert sent["body"] == {
        "prompt": req.prompt,
        "duration": "10",
        "generate_audio": False,
        "negative_prompt": "blurry",
        "aspect_ratio": "9:16",
    }


@pytest.mark.parametrize(("resolution", "tier"), [("720p", "standard"), ("1080p", "pro")])
def test_kling_3_goes_to_the_standard_or_pro_endpoint_by_resolution(fal_, fake, resolution, tier):
    fal_.submit(
        request(
            SLUG, "kling-3.0", resolution=resolution, duration=8, shots=(("wide", 3), ("close", 5))
        )
    )
    [sent] = fake.requests(SLUG)
    assert sent["path"] == f"/fal/fal-ai/kling-video/v3/{tier}/text-to-video"
    assert sent["body"]["duration"] == "8"
    assert sent["body"]["multi_prompt"] == [
        {"prompt": "wide", "duration": "3"},
        {"prompt": "close", "duration": "5"},
    ]


def test_image_to_video_sends_the_images_inline_and_no_aspect_ratio(fal_, fake):
    fal_.submit(
        request(
            SLUG,
            "kling-2.6-pro",
            audio=False,
            start_image=image("first"),
            end_image=image("last"),
        )
    )
    [sent] = fake.requests(SLUG)
    assert sent["path"] == "/fal/fal-ai/kling-video/v2.6/pro/image-to-video"
    assert sent["body"]["start_image_url"] == "data:image/png;base64,cG5n"  # b"png"
    assert sent["body"]["end_image_url"] == "data:image/png;base64,cG5n"
    assert "aspect_ratio" not in sent["body"]


def test_the_status_and_result_urls_are_kept_and_used_as_given(fal_, fake):
    req = request(SLUG, "kling-3.0", resolution="1080p")
    job = fal_.submit(req)
    urls = json.loads(job.poll_hint)
    base = f"{fake.base(SLUG)}/fal-ai/kling-video/requests/{job.external_id}"  # no subpath
    assert urls == {"status_url": f"{base}/status", "response_url": base}
    wait_for(fal_, req, job)
    paths = [r["path"] for r in fake.requests(SLUG)[1:]]
    prefix = f"/fal/fal-ai/kling-video/requests/{job.external_id}"
    assert set(paths) == {f"{prefix}/status", prefix}
    assert paths[-1] == prefix  # the result is fetched once the status says COMPLETED


def test_a_wrapped_or_mistyped_input_is_refused_the_way_fal_refuses_it(fake):
    url = f"{fake.base(SLUG)}/fal-ai/kling-video/v2.6/pro/text-to-video"
    headers = {"Authorization": f"Key {KEYS.api_key}"}
    wrapped = httpx.post(url, json={"input": {"prompt": "x", "duration": "5"}}, headers=headers)
    assert wrapped.status_code == 422
    assert [d["loc"] for d in wrapped.json()["detail"]] == [["body", "prompt"]]
    number = httpx.post(url, json={"prompt": "x", "duration": 5}, headers=headers)
    assert number.status_code == 422
    assert [d["loc"] for d in number.json()["detail"]] == [["body", "duration"]]


# -- statuses -------------------------------------------------------------------------------


def test_a_request_goes_from_in_queue_to_in_progress_to_completed_with_its_video(fal_, fake):
    req = request(SLUG, "kling-2.6-pro")
    job = fal_.submit(req)
    assert job.status == RemoteStatus.QUEUED
    assert statuses(fal_, req, job) == [
        RemoteStatus.QUEUED,
        RemoteStatus.RUNNING,
        RemoteStatus.SUCCEEDED,
    ]
    done = fal_.poll(req, job)
    assert done.video_url == f"{fake.url}/_media/{job.external_id}.mp4"
    assert done.cost_units is None  # fal reports no cost: the estimate settles the take


def test_a_failed_request_is_completed_and_its_result_fetch_says_why(fal_, fake):
    req = request(SLUG, "kling-2.6-pro")
    job = fal_.submit(req)
    fake.fault(SLUG, "poll", "fail")
    done = wait_for(fal_, req, job)
    assert done.status == RemoteStatus.FAILED
    assert done.error.status_code == 500
    assert done.error.detail == "Generation failed on the provider's side"


def test_moderation_is_a_422_content_policy_violation(fal_, fake):
    req = request(SLUG, "kling-2.6-pro")
    fake.fault(SLUG, "submit", "moderation")
    done = wait_for(fal_, req, fal_.submit(req))
    assert done.status == RemoteStatus.FAILED
    assert done.error.kind == ErrorKind.MODERATION
    assert done.error.status_code == 422


# -- errors ---------------------------------------------------------------------------------


def test_an_exhausted_balance_is_a_403_but_out_of_credit(fal_, fake):
    fake.fault(SLUG, "submit", "out_of_credit")
    with pytest.raises(ProviderError) as caught:
        fal_.submit(request(SLUG, "kling-2.6-pro"))
    assert (caught.value.kind, caught.value.status_code) == (ErrorKind.OUT_OF_CREDIT, 403)


def test_the_connection_check_asks_the_platform_api_for_a_price(fal_, fake):
    fal_.check_connection()
    [sent] = fake.requests(SLUG)
    assert (sent["method"], sent["path"]) == ("GET", "/fal/v1/models/pricing")
    assert sent["query"] == {"endpoint_id": "fal-ai/kling-video/v2.6/pro/text-to-video"}


def test_a_dropped_answer_cannot_be_reconciled(fal_, fake):
    req = request(SLUG, "kling-2.6-pro")
    fake.fault(SLUG, "submit", "drop")
    with pytest.raises(ProviderError) as caught:
        fal_.submit(req)
    assert caught.value.kind == ErrorKind.AMBIGUOUS
    assert fal_.reconcilable is False and fal_.reconcile(req) is None
    assert len(fake.jobs()) == 1  # the job exists; Studio fails the take with a refund


def test_the_catalog_refuses_what_fal_does_not_serve_before_anything_is_sent(fake):
    offer = catalog.offer(SLUG, "kling-3.0")
    four_k = Params(duration=5, aspect_ratio="16:9", resolution="4k", audio=True)
    assert "resolution" in catalog.check(offer, four_k, prompt="x")
    assert catalog.offer(SLUG, "kling-2.6") is None  # fal has no 2.6 std endpoint
    assert fake.requests(SLUG) == []


def test_prices_are_usd_per_second():
    assert catalog.offer(SLUG, "kling-2.6-pro").price(5, "1080p", True).usd_micros == 700_000
    assert catalog.offer(SLUG, "kling-2.6-pro").price(10, "1080p", False).usd_micros == 700_000
    assert catalog.offer(SLUG, "kling-3.0").price(5, "720p", True).usd_micros == 630_000
    assert catalog.offer(SLUG, "kling-3.0").price(5, "1080p", False).usd_micros == 560_000


# -- webhooks -------------------------------------------------------------------------------


def _sign(
    key: Ed25519PrivateKey, body: bytes, *, request_id: str = "req-1", at: float | None = None
) -> dict[str, str]:
    timestamp = str(int(time.time() if at is None else at))
    message = f"{request_id}\nuser-1\n{timestamp}\n{hashlib.sha256(body).hexdigest()}"
    return {
        "x-fal-webhook-request-id": request_id,
        "x-fal-webhook-user-id": "user-1",
        "x-fal-webhook-timestamp": timestamp,
        "x-fal-webhook-signature": key.sign(message.encode()).hex(),
    }


OK = {
    "request_id": "req-1",
    "gateway_request_id": "req-1",
    "status": "OK",
    "payload": {"video": {"url": "https://v3.fal.media/files/out.mp4"}},
}
BODY = json.dumps(OK).encode()


def test_a_correctly_signed_webhook_is_trusted(fal_, fal_key):
    event = fal_.parse_webhook(call(BODY, _sign(fal_key, BODY)))
    assert (event.external_id, event.event_key) == ("req-1", "req-1")
    assert event.job.status == RemoteStatus.SUCCEEDED
    assert event.job.video_url == "https://v3.fal.media/files/out.mp4"


def test_the_keys_come_from_the_jwks_of_the_base_url_and_are_cached(fal_, fal_key, fake):
    fal._jwks_cache.clear()
    fal_.parse_webhook(call(BODY, _sign(fal_key, BODY)))
    fal_.parse_webhook(call(BODY, _sign(fal_key, BODY)))
    fetched = [r for r in fake.requests(SLUG) if r["path"].endswith("jwks.json")]
    assert [r["path"] for r in fetched] == ["/fal/.well-known/jwks.json"]
    assert "authorization" not in fetched[0]["headers"]  # our key never goes there


def test_an_error_webhook_fails_the_job_and_keeps_moderation_apart(fal_, fal_key):
    refused = json.dumps(
        {
            "request_id": "req-1",
            "status": "ERROR",
            "error": "Invalid status code: 422",
            "payload": {
                "detail": [
                    {"loc": ["body", "prompt"], "msg": "no", "type": "content_policy_violation"}
                ]
            },
        }
    ).encode()
    event = fal_.parse_webhook(call(refused, _sign(fal_key, refused)))
    assert event.job.status == RemoteStatus.FAILED
    assert event.job.error.kind == ErrorKind.MODERATION


def test_an_ok_webhook_without_a_readable_payload_asks_for_a_re_fetch(fal_, fal_key):
    body = json.dumps(
        {
            "request_id": "req-1",
            "status": "OK",
            "payload": None,
            "payload_error": "could not serialize",
        }
    ).encode()
    assert fal_.parse_webhook(call(body, _sign(fal_key, body))).job is None


def _missing(name: str):
    return lambda key: {k: v for k, v in _sign(key, BODY).items() if k != name}


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (BODY.replace(b"out.mp4", b"evil.mp4"), lambda key: _sign(key, BODY)),
        (json.dumps(OK, indent=2).encode(), lambda key: _sign(key, BODY)),
        (BODY, lambda key: _sign(Ed25519PrivateKey.generate(), BODY)),
        (BODY, lambda key: _sign(key, BODY, at=time.time() - 301)),
        (
            BODY,
            lambda key: _sign(key, BODY, at=time.time() + 310),
        ),  # past the 300 s window even on a slow machine
        (BODY, lambda key: _sign(key, BODY, request_id="someone-elses-request")),
        (BODY, _missing("x-fal-webhook-request-id")),
        (BODY, _missing("x-fal-webhook-user-id")),
        (BODY, _missing("x-fal-webhook-timestamp")),
        (BODY, _missing("x-fal-webhook-signature")),
    ],
    ids=[
        "tampered body",
        "re-serialized body",
        "foreign key",
        "stale by 301 s",
        "310 s ahead",
        "signed for another request",
        "no request id",
        "no user id",
        "no timestamp",
        "no signature",
    ],
)
def test_a_webhook_that_does_not_verify_is_rejected(fal_, fal_key, body, headers):
    with pytest.raises(WebhookRejected):
        fal_.parse_webhook(call(body, headers(fal_key)))


def test_the_fakes_own_webhooks_verify(fal_, fake):
    req = request(SLUG, "kling-2.6-pro")
    job = fal_.submit(req)
    wait_for(fal_, req, job)
    fake_job = fake.app.state.find(SLUG, job.external_id)
    body, headers = fake.app.fakes[SLUG].webhook(fake_job, "succeeded")
    event = fal_.parse_webhook(call(body, {k.lower(): v for k, v in headers.items()}))
    assert event.job.video_url == f"{fake.url}/_media/{job.external_id}.mp4"


# -- through Studio -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_duplicate_webhook_changes_nothing(client, fake, owner):
    fake.timing(queue_seconds=0, run_seconds=60)
    take = factories.take(
        owner,
        provider=SLUG,
        model="kling-2.6-pro",
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
    assert after_first["result_url"] == fake.app.fakes[SLUG].result_url(fake_job)

    second = client.post(url, body, content_type="application/json", headers=headers)
    assert second.status_code == 200
    assert Generation.objects.values().get(pk=take.pk) == after_first
    assert WebhookDelivery.objects.filter(generation=take).count() == 1


@pytest.mark.django_db
def test_a_silent_take_runs_through_the_pipeline_to_a_clip(fake, owner):
    take = factories.take(
        owner,
        provider=SLUG,
        model="kling-3.0",
        params=Params(duration=5, aspect_ratio="16:9", resolution="720p", audio=False),
        account=sandbox_account(owner.workspace, SLUG, fake),
    )
    take = run_take(take)
    assert take.status == Status.SUCCEEDED, take.failure_detail
    assert take.clip.has_audio is False
    [job] = fake.jobs()
    assert job["model"] == "v3/standard/text-to-video" and job["body"]["generate_audio"] is False
