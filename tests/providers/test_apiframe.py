import hashlib
import hmac
import json

import pytest

from studio.providers.base import (
    ErrorKind,
    ProviderError,
    RemoteStatus,
    WebhookCall,
    WebhookRejected,
)
from tests.providers.helpers import adapter, request, wait_for

SLUG = "apiframe"


@pytest.fixture
def apiframe(fake):
    return adapter(SLUG, fake)


def test_submit_sends_the_documented_request(apiframe, fake):
    req = request(
        SLUG,
        "kling-2.6-pro",
        duration=10,
        aspect_ratio="9:16",
        audio=True,
        negative_prompt="blurry",
        callback_url="http://127.0.0.1:1/hook",
    )
    apiframe.submit(req)
    [sent] = fake.requests(SLUG)
    assert sent["method"] == "POST" and sent["path"] == "/apiframe/v2/videos/generate"
    assert sent["headers"]["x-api-key"] == "sandbox-apiframe-key"
    assert sent["headers"]["idempotency-key"] == req.job_id
    assert sent["body"] == {
        "prompt": req.prompt,
        "model": "kling-2.6",
        "klingParams": {
            "duration": 10,
            "aspect_ratio": "9:16",
            "generate_audio": True,
            "negative_prompt": "blurry",
        },
        "webhookUrl": "http://127.0.0.1:1/hook",
        "webhookEvents": ["completed", "failed"],
    }


def test_kling_3_sends_mode_and_multi_prompt_as_a_json_string(apiframe, fake):
    req = request(SLUG, "kling-3.0", duration=8, resolution="4k", shots=(("wide", 3), ("close", 5)))
    apiframe.submit(req)
    params = fake.requests(SLUG)[0]["body"]["klingParams"]
    assert params["mode"] == "4k"
    assert json.loads(params["multi_prompt"]) == [
        {"prompt": "wide", "duration": 3},
        {"prompt": "close", "duration": 5},
    ]


def test_a_job_goes_from_queued_to_completed_with_its_video_and_credit_cost(apiframe, fake):
    req = request(SLUG, "kling-2.6-pro")
    job = apiframe.submit(req)
    assert job.status == RemoteStatus.QUEUED
    done = wait_for(apiframe, req, job)
    assert done.status == RemoteStatus.SUCCEEDED
    assert done.video_url == f"{fake.url}/_media/{job.external_id}.mp4"
    assert done.cost_units == "25"


def test_a_moderated_job_fails_as_moderation(apiframe, fake):
    req = request(SLUG, "kling-2.6-pro")
    fake.fault(SLUG, "submit", "moderation")
    done = wait_for(apiframe, req, apiframe.submit(req))
    assert done.status == RemoteStatus.FAILED
    assert done.error.kind == ErrorKind.MODERATION


def test_reconcile_after_a_dropped_answer_finds_the_same_job(apiframe, fake):
    req = request(SLUG, "kling-2.6-pro")
    fake.fault(SLUG, "submit", "drop")
    with pytest.raises(ProviderError):
        apiframe.submit(req)
    found = apiframe.reconcile(req)
    assert [j["id"] for j in fake.jobs()] == [found.external_id]


def _signed(body: bytes, key: str) -> str:
    digest = hashlib.sha256(key.encode()).digest()
    return "sha256=" + hmac.new(digest, body, hashlib.sha256).hexdigest()


BODY = json.dumps(
    {
        "event": "completed",
        "jobId": "j1",
        "status": "COMPLETED",
        "progress": 100,
        "result": "https://cdn.example/v.mp4",
        "creditCost": 25,
    }
).encode()


def test_a_correctly_signed_webhook_is_trusted(apiframe):
    call = WebhookCall(
        body=BODY, headers={"x-webhook-signature": _signed(BODY, "sandbox-apiframe-key")}, query={}
    )
    event = apiframe.parse_webhook(call)
    assert (event.external_id, event.event_key) == ("j1", "j1:completed")
    assert event.job.video_url == "https://cdn.example/v.mp4" and event.job.cost_units == "25"


@pytest.mark.parametrize(
    "headers",
    [
        {"x-webhook-signature": _signed(BODY.replace(b"25", b"1"), "sandbox-apiframe-key")},
        {"x-webhook-signature": _signed(BODY, "another-key")},
        {},
    ],
    ids=["tampered body", "wrong secret", "missing signature"],
)
def test_a_webhook_that_does_not_verify_is_rejected(apiframe, headers):
    with pytest.raises(WebhookRejected):
        apiframe.parse_webhook(WebhookCall(body=BODY, headers=headers, query={}))
