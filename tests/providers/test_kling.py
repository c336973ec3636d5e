import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import jwt
import pytest
from django.urls import reverse
from django.utils import timezone

from studio.generation import pipeline
from studio.generation.models import Generation, Status, WebhookDelivery
from studio.providers import catalog, sandbox
from studio.providers.base import (
    ErrorKind,
    ProviderError,
    RemoteStatus,
    WebhookCall,
    WebhookRejected,
)
from studio.providers.catalog import Params
from tests import factories
from tests.providers.helpers import (
    adapter,
    image,
    request,
    run_take,
    sandbox_account,
    statuses,
    wait_for,
)

SLUG = "kling"
KEYS = sandbox.credentials(SLUG)


@pytest.fixture
def kling(fake):
    return adapter(SLUG, fake)


def _token(**claims) -> str:
    now = int(time.time())
    payload = {"iss": KEYS.api_key, "exp": now + 1800, "nbf": now - 5} | claims
    return jwt.encode(payload, KEYS.secret_key, algorithm="HS256")


def _post(fake, path: str, body: dict, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token or _token()}"}
    return httpx.post(f"{fake.base(SLUG)}{path}", json=body, headers=headers, timeout=5)


# -- the request ----------------------------------------------------------------------------


def test_submit_sends_the_documented_request(kling, fake):
    req = request(
        SLUG,
        "kling-2.6-pro",
        duration=10,
        aspect_ratio="9:16",
        audio=True,
        negative_prompt="blurry",
        callback_url="http://127.0.0.1:1/hook",
    )
    kling.submit(req)
    [sent] = fake.requests(SLUG)
    assert sent["method"] == "POST" and sent["path"] == "/kling/v1/videos/text2video"
    assert sent["body"] == {
        "model_name": "kling-v2-6",
        "prompt": req.prompt,
        "negative_prompt": "blurry",
        "mode": "pro",
        "sound": "on",
        "aspect_ratio": "9:16",
        "duration": "10",
        "callback_url": "http://127.0.0.1:1/hook",
        "external_task_id": req.job_id,
    }


def test_the_bearer_token_is_a_fresh_hs256_jwt_from_the_access_and_secret_keys(kling, fake):
    kling.submit(request(SLUG, "kling-2.6-pro"))
    scheme, token = fake.requests(SLUG)[0]["headers"]["authorization"].split(" ")
    assert scheme == "Bearer"
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    claims = jwt.decode(token, KEYS.secret_key, algorithms=["HS256"])
    now = time.time()
    assert claims["iss"] == KEYS.api_key
    assert now + 1795 <= claims["exp"] <= now + 1800
    assert now - 10 <= claims["nbf"] <= now - 5


def test_without_a_secret_key_the_api_key_is_sent_as_it_is(fake):
    plain = adapter(SLUG, fake, secret_key="")
    plain.submit(request(SLUG, "kling-2.6-pro"))
    assert fake.requests(SLUG)[0]["headers"]["authorization"] == f"Bearer {KEYS.api_key}"


def test_kling_2_6_std_is_std_mode_with_sound_off_sent_explicitly(kling, fake):
    kling.submit(request(SLUG, "kling-2.6"))
    body = fake.requests(SLUG)[0]["body"]
    assert (body["mode"], body["sound"], body["duration"]) == ("std", "off", "5")


def test_a_start_image_goes_to_image2video_as_raw_base64_without_aspect_ratio(kling, fake):
    req = request(
        SLUG, "kling-2.6-pro", audio=False, start_image=image("first"), end_image=image("last")
    )
    job = kling.submit(req)
    body = fake.requests(SLUG)[0]["body"]
    assert fake.requests(SLUG)[0]["path"] == "/kling/v1/videos/image2video"
    assert body["image"] == "cG5n"  # b"png", raw base64 without a data: prefix
    assert body["image_tail"] == "cG5n"
    assert "aspect_ratio" not in body
    assert job.poll_hint == "image2video"
    kling.poll(req, job)
    assert fake.requests(SLUG)[-1]["path"] == f"/kling/v1/videos/image2video/{job.external_id}"


def test_kling_3_multi_shot_sends_indexed_shots_with_string_durations(kling, fake):
    req = request(
        SLUG, "kling-3.0", duration=8, resolution="1080p", shots=(("wide", 3), ("close", 5))
    )
    kling.submit(req)
    body = fake.requests(SLUG)[0]["body"]
    assert (body["model_name"], body["mode"], body["duration"]) == ("kling-v3", "pro", "8")
    assert body["multi_shot"] is True and body["shot_type"] == "customize"
    assert body["multi_prompt"] == [
        {"index": 1, "prompt": "wide", "duration": "3"},
        {"index": 2, "prompt": "close", "duration": "5"},
    ]


def test_kling_3_in_720p_is_std_mode(kling, fake):
    kling.submit(request(SLUG, "kling-3.0", resolution="720p", audio=True))
    body = fake.requests(SLUG)[0]["body"]
    assert (body["mode"], body["sound"]) == ("std", "on")


# -- statuses -------------------------------------------------------------------------------


def test_a_task_goes_from_submitted_to_processing_to_succeed_with_video_and_units(kling, fake):
    req = request(SLUG, "kling-2.6-pro", audio=True)
    job = kling.submit(req)
    assert job.status == RemoteStatus.QUEUED
    assert statuses(kling, req, job) == [
        RemoteStatus.QUEUED,
        RemoteStatus.RUNNING,
        RemoteStatus.SUCCEEDED,
    ]
    done = kling.poll(req, job)
    assert done.video_url == f"{fake.url}/_media/{job.external_id}.mp4"
    assert done.cost_units == "5"  # 2.6 pro with sound, 5 s: 5 units


def test_a_failed_task_still_says_succeed_and_is_read_as_failed(kling, fake):
    req = request(SLUG, "kling-2.6-pro")
    job = kling.submit(req)
    fake.fault(SLUG, "poll", "fail")
    done = wait_for(kling, req, job)
    assert done.status == RemoteStatus.FAILED
    assert done.error.kind == ErrorKind.PERMANENT
    assert done.error.detail == "Video generation failed, please try again later"
    raw = httpx.get(
        f"{fake.base(SLUG)}/v1/videos/text2video/{job.external_id}",
        headers={"Authorization": f"Bearer {_token()}"},
        timeout=5,
    ).json()
    assert (raw["code"], raw["message"], raw["data"]["task_status"]) == (0, "SUCCEED", "failed")


def test_moderation_at_submit_is_code_1301(kling, fake):
    fake.fault(SLUG, "submit", "moderation")
    with pytest.raises(ProviderError) as caught:
        kling.submit(request(SLUG, "kling-2.6-pro"))
    assert caught.value.kind == ErrorKind.MODERATION
    assert fake.jobs() == []


def test_moderation_after_acceptance_is_read_from_task_status_msg(kling, fake):
    req = request(SLUG, "kling-2.6-pro", prompt="A fox. [fake:moderation]")
    done = wait_for(kling, req, kling.submit(req))
    assert done.status == RemoteStatus.FAILED
    assert done.error.kind == ErrorKind.MODERATION
    assert "risk control" in done.error.detail


# -- errors ---------------------------------------------------------------------------------


def test_an_empty_resource_pack_is_http_429_but_out_of_credit_not_a_rate_limit(kling, fake):
    fake.fault(SLUG, "submit", "out_of_credit")
    raw = _post(fake, "/v1/videos/text2video", {"model_name": "kling-v2-6", "prompt": "x"})
    assert (raw.status_code, raw.json()["code"]) == (429, 1102)
    fake.fault(SLUG, "submit", "out_of_credit")
    with pytest.raises(ProviderError) as caught:
        kling.submit(request(SLUG, "kling-2.6-pro"))
    assert caught.value.kind == ErrorKind.OUT_OF_CREDIT
    assert not caught.value.kind.retryable and caught.value.retry_after is None


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("none", 1001),
        ("garbage", 1002),
        ("wrong secret", 1002),
        ("not yet valid", 1003),
        ("expired", 1004),
    ],
)
def test_the_fake_checks_the_jwt_like_kling(fake, token, code):
    now = int(time.time())
    wrong = jwt.encode({"iss": KEYS.api_key, "exp": now + 60, "nbf": now}, "x" * 32)
    header = {
        "none": {},
        "garbage": {"Authorization": "Bearer not-a-jwt"},
        "wrong secret": {"Authorization": f"Bearer {wrong}"},
        "not yet valid": {"Authorization": f"Bearer {_token(nbf=now + 600)}"},
        "expired": {"Authorization": f"Bearer {_token(exp=now - 60)}"},
    }[token]
    answer = httpx.get(f"{fake.base(SLUG)}/v1/videos/text2video", headers=header, timeout=5)
    assert (answer.status_code, answer.json()["code"]) == (401, code)


def test_the_connection_check_lists_one_task(kling, fake):
    kling.check_connection()
    [sent] = fake.requests(SLUG)
    assert sent["method"] == "GET" and sent["path"] == "/kling/v1/videos/text2video"
    assert sent["query"] == {"pageNum": "1", "pageSize": "1"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"duration": 5}, "duration must be a string"),
        ({"sound": "on", "mode": "std"}, "sound on requires mode pro for kling-v2-6"),
        ({"sound": True}, "sound must be the string on or off"),
    ],
)
def test_the_fake_refuses_what_kling_refuses_with_1201(fake, change, message):
    body = {"model_name": "kling-v2-6", "prompt": "x", "mode": "pro", "duration": "5"} | change
    answer = _post(fake, "/v1/videos/text2video", body)
    assert (answer.status_code, answer.json()["code"]) == (400, 1201)
    assert answer.json()["message"] == message


def test_a_repeated_external_task_id_is_refused(kling, fake):
    req = request(SLUG, "kling-2.6-pro")
    kling.submit(req)
    with pytest.raises(ProviderError) as caught:
        kling.submit(req)
    assert caught.value.kind == ErrorKind.PERMANENT
    assert len(fake.jobs()) == 1


def test_reconcile_after_a_dropped_answer_finds_the_task_by_external_task_id(kling, fake):
    req = request(SLUG, "kling-2.6-pro")
    fake.fault(SLUG, "submit", "drop")
    with pytest.raises(ProviderError) as caught:
        kling.submit(req)
    assert caught.value.kind == ErrorKind.AMBIGUOUS
    found = kling.reconcile(req)
    assert [j["id"] for j in fake.jobs()] == [found.external_id]
    assert fake.requests(SLUG)[-1]["path"] == f"/kling/v1/videos/text2video/{req.job_id}"
    assert found.poll_hint == "text2video"


def test_reconcile_finds_nothing_when_the_submit_never_arrived(kling, fake):
    assert kling.reconcile(request(SLUG, "kling-2.6-pro")) is None
    assert fake.jobs() == []


def test_the_catalog_refuses_sound_on_2_6_std_before_anything_is_sent(fake):
    std = catalog.offer(SLUG, "kling-2.6")
    loud = Params(duration=5, aspect_ratio="16:9", resolution="720p", audio=True)
    assert "audio" in catalog.check(std, loud, prompt="x")
    quiet_4k = Params(duration=5, aspect_ratio="16:9", resolution="4k", audio=False)
    assert "resolution" in catalog.check(catalog.offer(SLUG, "kling-3.0"), quiet_4k, prompt="x")
    assert fake.requests(SLUG) == []


def test_prices_are_kling_units_at_14_cents():
    pro = catalog.offer(SLUG, "kling-2.6-pro")
    assert pro.price(10, "1080p", True).units == 10
    assert pro.price(5, "1080p", True).usd_micros == 700_000
    assert catalog.offer(SLUG, "kling-2.6").price(5, "720p", False).usd_micros == 210_000
    assert catalog.offer(SLUG, "kling-3.0").price(10, "1080p", True).usd_micros == 1_680_000


# -- callbacks ------------------------------------------------------------------------------


def test_a_callback_only_names_the_task_and_asks_for_a_re_fetch(kling):
    flat = {"task_id": "833", "task_status": "succeed", "task_result": {"videos": [{"url": "x"}]}}
    event = kling.parse_webhook(WebhookCall(body=json.dumps(flat).encode(), headers={}, query={}))
    assert (event.external_id, event.event_key, event.job) == ("833", "833:succeed", None)
    wrapped = json.dumps({"code": 0, "message": "SUCCEED", "data": flat}).encode()
    assert kling.parse_webhook(WebhookCall(body=wrapped, headers={}, query={})) == event


@pytest.mark.parametrize("body", [b"not json", b"{}", b"[1]"])
def test_a_callback_without_a_task_is_rejected(kling, body):
    with pytest.raises(WebhookRejected):
        kling.parse_webhook(WebhookCall(body=body, headers={}, query={}))


@pytest.fixture
def receiver():
    """A local endpoint that records the callbacks it is sent."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def test_the_fake_calls_back_flat_and_unsigned_on_every_status_change(kling, receiver):
    url, received = receiver
    req = request(SLUG, "kling-2.6-pro", callback_url=url)
    job = kling.submit(req)
    wait_for(kling, req, job)
    deadline = time.time() + 5
    while len(received) < 3 and time.time() < deadline:
        time.sleep(0.1)
    assert [r["task_status"] for r in received] == ["submitted", "processing", "succeed"]
    assert {r["task_id"] for r in received} == {job.external_id}
    assert received[-1]["task_info"] == {"external_task_id": req.job_id}


# -- through Studio -------------------------------------------------------------------------


def _running_take(fake, owner):
    """A take Studio sent to the fake, which will keep it processing for a minute."""
    fake.timing(queue_seconds=0, run_seconds=60)
    take = factories.take(
        owner,
        provider=SLUG,
        model="kling-2.6-pro",
        account=sandbox_account(owner.workspace, SLUG, fake),
    )
    pipeline.advance(str(take.pk))
    take.refresh_from_db()
    assert take.status == Status.RUNNING and take.external_id
    return take


def _callback(task_id: str, status: str = "succeed") -> str:
    return json.dumps(
        {
            "task_id": task_id,
            "task_status": status,
            "task_status_msg": "",
            "task_result": {"videos": [{"url": "https://evil.example/x.mp4"}]},
        }
    )


@pytest.mark.django_db
def test_a_callback_with_a_wrong_token_is_not_found_and_changes_nothing(client, fake, owner):
    take = _running_take(fake, owner)
    before = Generation.objects.values().get(pk=take.pk)
    url = reverse("webhooks:receive", args=[SLUG, "not-the-token"])
    answer = client.post(url, _callback(take.external_id), content_type="application/json")
    assert answer.status_code == 404
    assert Generation.objects.values().get(pk=take.pk) == before


@pytest.mark.django_db
def test_the_take_follows_the_re_fetched_status_not_the_callback_body(client, fake, owner):
    take = _running_take(fake, owner)
    url = reverse("webhooks:receive", args=[SLUG, take.webhook_token])
    answer = client.post(url, _callback(take.external_id), content_type="application/json")
    assert answer.status_code == 200
    take.refresh_from_db()
    assert take.status == Status.RUNNING and take.next_poll_at <= timezone.now()
    pipeline.advance(str(take.pk))  # the poll the callback rang
    take.refresh_from_db()
    assert take.status == Status.RUNNING  # Kling still says "processing"
    assert fake.requests(SLUG)[-1]["path"] == f"/kling/v1/videos/text2video/{take.external_id}"


@pytest.mark.django_db
def test_a_repeated_callback_changes_nothing(client, fake, owner):
    take = _running_take(fake, owner)
    url = reverse("webhooks:receive", args=[SLUG, take.webhook_token])
    client.post(url, _callback(take.external_id, "processing"), content_type="application/json")
    after_first = Generation.objects.values().get(pk=take.pk)
    second = client.post(
        url, _callback(take.external_id, "processing"), content_type="application/json"
    )
    assert second.status_code == 200
    assert Generation.objects.values().get(pk=take.pk) == after_first
    assert WebhookDelivery.objects.filter(generation=take).count() == 1


@pytest.mark.django_db
def test_a_take_with_sound_runs_through_the_pipeline_to_a_clip(fake, owner):
    take = factories.take(
        owner,
        provider=SLUG,
        model="kling-2.6-pro",
        params=Params(duration=5, aspect_ratio="16:9", resolution="1080p", audio=True),
        account=sandbox_account(owner.workspace, SLUG, fake),
    )
    take = run_take(take)
    assert take.status == Status.SUCCEEDED, take.failure_detail
    assert take.clip.has_audio is True
    assert take.provider_cost_units == "5"
    [job] = fake.jobs()
    assert job["body"]["sound"] == "on" and job["key"] == str(take.pk)
