"""Givon documents only its submit request: the answer shapes are UNVERIFIED guesses, and
the adapter is held to two of them (flat and wrapped) plus an unrecognised one."""

import logging
import time

import httpx
import pytest

from studio.generation.models import Status
from studio.providers import catalog, givon
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

SLUG = "givon"
START = ImageInput(
    url="https://studio.example/signed/start.png", data=b"png", content_type="image/png"
)
END = ImageInput(url="https://studio.example/signed/end.png", data=b"png", content_type="image/png")
FLAT, WRAPPED, UNKNOWN = 0, 1, 2


def use_shape(fake, shape: int) -> None:
    httpx.post(
        f"{fake.url}/_control/config", json={"givon_shape": shape}, timeout=5
    ).raise_for_status()


@pytest.fixture
def givon_(fake):
    return adapter(SLUG, fake)


@pytest.fixture(params=[FLAT, WRAPPED], ids=["flat", "wrapped"])
def shape(request, fake):
    use_shape(fake, request.param)
    return request.param


# -- the request (documented) -----------------------------------------------------------


def test_submit_sends_the_documented_request(givon_, fake):
    req = request(SLUG, "kling-2.6-pro", duration=10, aspect_ratio="9:16", audio=True)
    givon_.submit(req)
    [sent] = fake.requests(SLUG)
    assert sent["method"] == "POST" and sent["path"] == "/givon/api/v1/generations"
    assert sent["headers"]["authorization"] == "Bearer sandbox-givon-key"
    assert sent["body"] == {
        "type": "video",
        "model": "kling-2.6",
        "input": {
            "prompt": req.prompt,
            "aspectRatio": "9:16",
            "resolution": "1080p",
            "duration": 10,
            "audioEnabled": True,
        },
    }
    assert type(sent["body"]["input"]["duration"]) is int


def test_the_silent_tier_says_audio_off_because_givon_defaults_to_on(givon_, fake):
    givon_.submit(request(SLUG, "kling-2.6"))
    data = fake.requests(SLUG)[0]["body"]["input"]
    assert (data["resolution"], data["audioEnabled"]) == ("720p", False)


def test_kling_3_sends_start_and_end_images_and_4k(givon_, fake):
    givon_.submit(
        request(SLUG, "kling-3.0", duration=15, resolution="4k", start_image=START, end_image=END)
    )
    body = fake.requests(SLUG)[0]["body"]
    assert body["model"] == "kling-3.0"
    assert (body["input"]["startImage"], body["input"]["endImage"]) == (
        START.data_uri,
        END.data_uri,
    )
    assert (body["input"]["resolution"], body["input"]["duration"]) == ("4k", 15)


# -- following a generation (inferred shapes) -------------------------------------------


def test_a_generation_goes_from_queued_to_running_to_succeeded(givon_, fake, shape):
    fake.timing(queue_seconds=0.4, run_seconds=1.2)
    req = request(SLUG, "kling-2.6-pro")
    job = givon_.submit(req)
    assert job.status == RemoteStatus.QUEUED
    time.sleep(0.7)
    assert givon_.poll(req, job).status == RemoteStatus.RUNNING
    done = wait_for(givon_, req, job)
    assert done.status == RemoteStatus.SUCCEEDED
    assert done.video_url == f"{fake.url}/_media/{job.external_id}.mp4"
    assert fake.requests(SLUG)[-1]["path"] == f"/givon/api/v1/generations/{job.external_id}"


@pytest.mark.parametrize(
    ("fault", "kind"), [("fail", ErrorKind.PERMANENT), ("moderation", ErrorKind.MODERATION)]
)
def test_a_failed_generation_keeps_its_message(givon_, fake, shape, fault, kind):
    req = request(SLUG, "kling-2.6-pro")
    fake.fault(SLUG, "submit", fault)
    done = wait_for(givon_, req, givon_.submit(req))
    assert done.status == RemoteStatus.FAILED
    assert (done.error.kind, bool(done.error.detail)) == (kind, True)


def test_an_unrecognised_answer_is_logged_and_never_sent_again(givon_, fake, caplog):
    use_shape(fake, UNKNOWN)
    with (
        caplog.at_level(logging.WARNING, logger="studio.providers.givon"),
        pytest.raises(ProviderError) as caught,
    ):
        givon_.submit(request(SLUG, "kling-2.6-pro"))
    assert caught.value.kind == ErrorKind.AMBIGUOUS
    assert "unknown shape: {generation: {uuid, phase}}" in caplog.text


def test_an_unknown_status_word_keeps_the_take_polling(givon_, fake, caplog):
    req = request(SLUG, "kling-2.6-pro")
    job = givon_.submit(req)
    use_shape(fake, UNKNOWN)  # a known id, but a status the adapter cannot read
    unknown = RemoteJob(external_id=job.external_id, status=RemoteStatus.RUNNING)
    with caplog.at_level(logging.WARNING, logger="studio.providers.givon"):
        assert givon_.poll(req, unknown).status == RemoteStatus.RUNNING
    assert "unknown status" in caplog.text


@pytest.mark.parametrize(
    "answer",
    [
        {"videoUrl": "https://v/1.mp4"},
        {"video_url": "https://v/1.mp4"},
        {"output": {"url": "https://v/1.mp4"}},
        {"outputs": ["https://v/1.mp4"]},
        {"outputs": [{"url": "https://v/1.mp4"}]},
        {"result": {"url": "https://v/1.mp4"}},
        {"data": {"videoUrl": "https://v/1.mp4"}},
        {"data": {"outputs": ["https://v/1.mp4"]}},
    ],
)
def test_the_video_url_is_found_wherever_givon_might_put_it(answer):
    assert givon._first(answer, givon.VIDEO_PATHS, str) == "https://v/1.mp4"


def test_the_fake_tags_its_guessed_answers_unverified(fake):
    answer = httpx.get(
        f"{fake.base(SLUG)}/api/v1/generations",
        timeout=5,
        headers={"Authorization": "Bearer sandbox-givon-key"},
    )
    assert answer.headers["x-fake-fixture"] == "unverified"


# -- errors (only the HTTP status is relied on) -----------------------------------------


def test_a_validation_error_is_permanent(givon_):
    with pytest.raises(ProviderError) as caught:
        givon_.submit(request(SLUG, "kling-2.6-pro", duration=7))  # past the catalog
    assert (caught.value.kind, caught.value.status_code) == (ErrorKind.PERMANENT, 400)
    assert "duration" in caught.value.detail


def test_the_connection_check_lists_one_generation(givon_, fake):
    givon_.check_connection()
    first = fake.requests(SLUG)[0]
    assert (first["method"], first["path"], first["query"]) == (
        "GET",
        "/givon/api/v1/generations",
        {"limit": "1"},
    )


def test_there_is_nothing_to_reconcile_and_no_webhook(givon_, fake):
    req = request(SLUG, "kling-2.6-pro")
    fake.fault(SLUG, "submit", "drop")
    with pytest.raises(ProviderError):
        givon_.submit(req)
    assert (givon_.reconcilable, givon_.reconcile(req), givon_.webhooks) == (False, None, "")
    with pytest.raises(WebhookRejected):
        givon_.parse_webhook(WebhookCall(body=b"{}", headers={}, query={}))


def test_the_catalog_refuses_what_givon_cannot_do_before_anything_is_sent(fake):
    base = Params(
        duration=5,
        aspect_ratio="16:9",
        resolution="1080p",
        audio=False,
        has_start_image=True,
        has_end_image=True,
    )
    assert "end_image" in catalog.check(catalog.offer(SLUG, "kling-2.6-pro"), base, prompt="x")
    kling3 = catalog.offer(SLUG, "kling-3.0")
    six = Params(duration=6, aspect_ratio="4:3", resolution="720p", audio=True)
    errors = catalog.check(kling3, six, prompt="x", negative="blur", shots=(("a", 3), ("b", 3)))
    assert set(errors) == {"aspect_ratio", "negative", "shots"}
    assert fake.requests(SLUG) == []


def test_prices_are_tokens_at_an_assumed_cent():
    assert catalog.offer(SLUG, "kling-2.6").price(5, "720p", False).usd_micros == 150_000
    assert catalog.offer(SLUG, "kling-2.6-pro").price(10, "1080p", True).usd_micros == 800_000
    price = catalog.offer(SLUG, "kling-3.0").price(10, "4k", True)
    assert (price.units, price.unit, price.usd_micros) == (150, "tokens", 1_500_000)


# -- through Studio ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_take_runs_through_the_pipeline_on_the_wrapped_shape(fake, owner):
    use_shape(fake, WRAPPED)
    account = sandbox_account(owner.workspace, SLUG, fake)
    take = factories.take(owner, provider=SLUG, model="kling-3.0", account=account)
    take = run_take(take)
    assert take.status == Status.SUCCEEDED, take.failure_detail
    assert take.clip.has_audio is True
    assert len(fake.jobs()) == 1
