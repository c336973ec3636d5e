import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from studio.generation.models import Generation, Status, WebhookDelivery
from studio.generation.services import transition
from studio.lib import http
from studio.providers import catalog, kie, sandbox, wire
from studio.providers.base import (
    ErrorKind,
    ImageInput,
    ProviderError,
    RemoteJob,
    RemoteStatus,
    WebhookCall,
    WebhookRejected,
)
from studio.providers.catalog import Params
from tests import factories
from tests.providers.helpers import adapter, request, run_take, sandbox_account, wait_for

SLUG = "kie"
SECRET = sandbox.credentials(SLUG).webhook_secret
FIRST = ImageInput(
    url="https://studio.example/signed/first.png", data=b"png", content_type="image/png"
)
LAST = ImageInput(
    url="https://studio.example/signed/last.png", data=b"png", content_type="image/png"
)


@pytest.fixture
def kie_(fake):
    return adapter(SLUG, fake)


# -- the request ------------------------------------------------------------------------


def test_submit_sends_the_documented_request(kie_, fake):
    req = request(
        SLUG,
        "kling-2.6-pro",
        duration=10,
        aspect_ratio="9:16",
        audio=False,
        callback_url="http://127.0.0.1:1/hook",
    )
    job = kie_.submit(req)
    [sent] = fake.requests(SLUG)
    assert sent["method"] == "POST" and sent["path"] == "/kie/api/v1/jobs/createTask"
    assert sent["headers"]["authorization"] == "Bearer sandbox-kie-key"
    assert sent["body"] == {
        "model": "kling-2.6/text-to-video",
        "callBackUrl": "http://127.0.0.1:1/hook",
        "input": {"prompt": req.prompt, "sound": False, "aspect_ratio": "9:16", "duration": "10"},
    }
    assert job.status == RemoteStatus.QUEUED and job.external_id == fake.jobs()[0]["id"]


def test_a_start_image_picks_image_to_video_with_one_image_url(kie_, fake):
    kie_.submit(request(SLUG, "kling-2.6-pro", start_image=FIRST))
    body = fake.requests(SLUG)[0]["body"]
    assert body["model"] == "kling-2.6/image-to-video"
    assert body["input"] == {
        "prompt": body["input"]["prompt"],
        "image_urls": [FIRST.url],
        "sound": True,
        "duration": "5",
    }
    assert "callBackUrl" not in body


def test_kling_3_sends_mode_string_duration_and_first_and_last_frames(kie_, fake):
    kie_.submit(
        request(
            SLUG,
            "kling-3.0",
            duration=12,
            resolution="4k",
            audio=True,
            start_image=FIRST,
            end_image=LAST,
        )
    )
    body = fake.requests(SLUG)[0]["body"]
    assert body["model"] == "kling-3.0/video"
    assert body["input"] == {
        "prompt": body["input"]["prompt"],
        "sound": True,
        "duration": "12",
        "aspect_ratio": "16:9",
        "mode": "4K",
        "multi_shots": False,
        "image_urls": [FIRST.url, LAST.url],
    }


def test_kling_3_multi_shot_sends_multi_prompt_with_integer_seconds(kie_, fake):
    kie_.submit(
        request(SLUG, "kling-3.0", duration=8, resolution="720p", shots=(("wide", 3), ("close", 5)))
    )
    data = fake.requests(SLUG)[0]["body"]["input"]
    assert (data["mode"], data["multi_shots"], "prompt" in data) == ("std", True, False)
    assert data["multi_prompt"] == [
        {"prompt": "wide", "duration": 3},
        {"prompt": "close", "duration": 5},
    ]


# -- following a task -------------------------------------------------------------------


def test_a_task_goes_from_waiting_to_generating_to_success_with_its_result_url(kie_, fake):
    fake.timing(queue_seconds=0.6, run_seconds=1.2)
    req = request(SLUG, "kling-2.6-pro")
    job = kie_.submit(req)
    assert kie_.poll(req, job).status == RemoteStatus.QUEUED
    time.sleep(0.9)
    assert kie_.poll(req, job).status == RemoteStatus.RUNNING
    done = wait_for(kie_, req, job)
    assert done.status == RemoteStatus.SUCCEEDED
    assert done.video_url == f"{fake.url}/_media/{job.external_id}.mp4"
    polled = fake.requests(SLUG)[-1]
    assert (polled["path"], polled["query"]) == (
        "/kie/api/v1/jobs/recordInfo",
        {"taskId": job.external_id},
    )


@pytest.mark.parametrize(
    ("fault", "kind"), [("fail", ErrorKind.PERMANENT), ("moderation", ErrorKind.MODERATION)]
)
def test_a_failed_task_keeps_its_fail_message(kie_, fake, fault, kind):
    req = request(SLUG, "kling-2.6-pro")
    fake.fault(SLUG, "submit", fault)
    done = wait_for(kie_, req, kie_.submit(req))
    assert done.status == RemoteStatus.FAILED
    assert done.error.kind == kind
    assert done.error.detail


# -- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (433, ErrorKind.OUT_OF_CREDIT),
        (455, ErrorKind.TRANSIENT),
        (501, ErrorKind.PERMANENT),
        (505, ErrorKind.PERMANENT),
        (422, ErrorKind.PERMANENT),
        (402, ErrorKind.OUT_OF_CREDIT),
    ],
)
def test_kie_codes_in_an_http_200_answer_decide_the_kind(code, kind):
    answer = http.Response(
        status_code=200,
        headers={},
        url="",
        content=json.dumps({"code": code, "msg": "no", "data": None}).encode(),
    )
    with pytest.raises(ProviderError) as caught:
        wire.envelope(answer, kinds=kie.CODES)
    assert caught.value.kind == kind


def test_an_answer_without_a_body_code_falls_back_to_the_http_status(fake):
    lost = adapter(SLUG, fake, base_url=fake.base(SLUG) + "/nowhere")
    with pytest.raises(ProviderError) as caught:
        lost.submit(request(SLUG, "kling-2.6-pro"))
    assert (caught.value.kind, caught.value.status_code) == (ErrorKind.PERMANENT, 404)


def test_a_prompt_past_the_catalog_is_a_permanent_validation_error(kie_, fake):
    with pytest.raises(ProviderError) as caught:
        kie_.submit(request(SLUG, "kling-2.6-pro", prompt="x" * 1001))
    assert (caught.value.kind, caught.value.status_code) == (ErrorKind.PERMANENT, 422)
    assert fake.jobs() == []


def test_the_connection_check_reads_the_credit_balance(kie_, fake):
    kie_.check_connection()
    assert fake.requests(SLUG)[0]["path"] == "/kie/api/v1/chat/credit"


def test_a_dropped_answer_cannot_be_reconciled(kie_, fake):
    req = request(SLUG, "kling-2.6-pro")
    fake.fault(SLUG, "submit", "drop")
    with pytest.raises(ProviderError):
        kie_.submit(req)
    assert (kie_.reconcilable, kie_.reconcile(req)) == (False, None)
    assert len(fake.jobs()) == 1


def test_a_task_not_found_yet_is_polled_again(kie_):
    unknown = RemoteJob(external_id="task_unknown", status=RemoteStatus.RUNNING)
    with pytest.raises(ProviderError) as caught:
        kie_.poll(request(SLUG, "kling-2.6-pro"), unknown)
    assert caught.value.kind == ErrorKind.TRANSIENT


def test_the_catalog_refuses_what_kie_would_reject_before_anything_is_sent(fake):
    kling26 = catalog.offer(SLUG, "kling-2.6-pro")
    base = Params(duration=5, aspect_ratio="16:9", resolution="1080p", audio=False)
    assert catalog.check(kling26, base, prompt="x" * 1001) == {
        "prompt": ["The prompt is 1001 characters; the limit is 1000."]
    }
    assert "negative" in catalog.check(kling26, base, prompt="x", negative="blurry")
    with_end = Params(**(base.__dict__ | {"has_start_image": True, "has_end_image": True}))
    assert "end_image" in catalog.check(kling26, with_end, prompt="x")
    kling3 = catalog.offer(SLUG, "kling-3.0")
    six = tuple((f"shot {n}", 1) for n in range(6))
    assert "shots" in catalog.check(
        kling3,
        Params(duration=6, aspect_ratio="16:9", resolution="720p", audio=True),
        prompt="x",
        shots=six,
    )
    assert "shots" in catalog.check(
        kling3,
        Params(duration=5, aspect_ratio="16:9", resolution="720p", audio=True),
        prompt="x",
        shots=(("y" * 501, 5),),
    )
    assert fake.requests(SLUG) == []


def test_prices_are_kie_credits_at_half_a_cent():
    kling26 = catalog.offer(SLUG, "kling-2.6-pro")
    assert kling26.price(5, "1080p", False).usd_micros == 275_000
    assert kling26.price(10, "1080p", True).usd_micros == 1_100_000
    price = catalog.offer(SLUG, "kling-3.0").price(5, "1080p", True)
    assert (price.units, price.usd_micros) == (132, 660_000)


# -- callbacks --------------------------------------------------------------------------


def _signed(
    task_id: str = "task_1", *, secret: str = SECRET, timestamp: int | None = None
) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"{task_id}.{stamp}".encode(), hashlib.sha256).digest()
    return {"x-webhook-timestamp": stamp, "x-webhook-signature": base64.b64encode(digest).decode()}


def _body(task_id: str = "task_1", state: str = "success") -> bytes:
    return json.dumps(
        {
            "code": 200,
            "msg": "ok",
            "data": {
                "taskId": task_id,
                "state": state,
                "failCode": "",
                "failMsg": "",
                "resultJson": json.dumps({"resultUrls": ["https://cdn.example/v.mp4"]}),
            },
        }
    ).encode()


def test_a_verified_callback_only_asks_for_a_re_fetch(kie_):
    event = kie_.parse_webhook(WebhookCall(body=_body(), headers=_signed(), query={}))
    assert (event.external_id, event.event_key, event.job) == ("task_1", "task_1:success", None)


def test_the_body_is_not_signed_so_nothing_in_it_is_trusted(kie_):
    forged = kie_.parse_webhook(WebhookCall(body=_body(state="fail"), headers=_signed(), query={}))
    assert forged.job is None  # a changed state can at most make us poll sooner


def test_the_fakes_own_callback_verifies(kie_, fake):
    job = kie_.submit(request(SLUG, "kling-2.6-pro"))
    fake_job = fake.app.state.find(SLUG, job.external_id)
    body, headers = fake.app.fakes[SLUG].webhook(fake_job, "succeeded")
    event = kie_.parse_webhook(
        WebhookCall(body=body, headers={k.lower(): v for k, v in headers.items()}, query={})
    )
    assert event.external_id == job.external_id


@pytest.mark.parametrize(
    "headers",
    [
        _signed("task_2"),
        _signed(secret="another-key"),
        _signed(timestamp=int(time.time()) - 301),
        {k: v for k, v in _signed().items() if k != "x-webhook-signature"},
        {k: v for k, v in _signed().items() if k != "x-webhook-timestamp"},
    ],
    ids=[
        "tampered taskId",
        "wrong secret",
        "stale timestamp",
        "missing signature",
        "missing timestamp",
    ],
)
def test_a_callback_that_does_not_verify_is_rejected(kie_, headers):
    with pytest.raises(WebhookRejected):
        kie_.parse_webhook(WebhookCall(body=_body(), headers=headers, query={}))


def test_without_an_hmac_key_a_callback_is_only_a_doorbell(fake):
    unkeyed = adapter(SLUG, fake, webhook_secret="")
    event = unkeyed.parse_webhook(WebhookCall(body=_body(), headers={}, query={}))
    assert (event.external_id, event.job) == ("task_1", None)


# -- through Studio ---------------------------------------------------------------------


SILENT = Params(duration=5, aspect_ratio="16:9", resolution="1080p", audio=False)


@pytest.mark.django_db
def test_a_duplicate_callback_changes_nothing(client, fake, owner):
    take = factories.take(
        owner,
        provider=SLUG,
        model="kling-2.6-pro",
        params=SILENT,
        account=sandbox_account(owner.workspace, SLUG, fake),
    )
    transition(take.pk, Status.QUEUED, Status.SUBMITTING)
    later = timezone.now() + timedelta(minutes=5)
    transition(take.pk, Status.SUBMITTING, Status.RUNNING, external_id="task_1", next_poll_at=later)
    url = reverse("webhooks:receive", args=[SLUG, take.webhook_token])

    first = client.post(url, _body(), content_type="application/json", headers=_signed())
    assert first.status_code == 200
    after_first = Generation.objects.values().get(pk=take.pk)
    assert after_first["status"] == Status.RUNNING
    assert after_first["next_poll_at"] < later  # rung: poll now

    second = client.post(url, _body(), content_type="application/json", headers=_signed())
    assert second.status_code == 200
    assert Generation.objects.values().get(pk=take.pk) == after_first
    assert WebhookDelivery.objects.filter(generation=take).count() == 1


@pytest.mark.django_db
def test_a_silent_take_runs_through_the_pipeline_to_a_clip(fake, owner):
    take = factories.take(
        owner,
        provider=SLUG,
        model="kling-2.6-pro",
        params=SILENT,
        account=sandbox_account(owner.workspace, SLUG, fake),
    )
    take = run_take(take)
    assert take.status == Status.SUCCEEDED, take.failure_detail
    assert take.clip.has_audio is False
    assert fake.jobs()[0]["body"]["input"]["sound"] is False
    assert len(fake.jobs()) == 1
