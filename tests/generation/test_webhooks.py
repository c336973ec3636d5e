"""The webhook endpoint itself (each provider's signatures are tested with its adapter)."""

import hashlib
import hmac
import json

import pytest
from django.urls import reverse

from studio.generation.models import Generation, Status, WebhookDelivery
from studio.generation.services import transition
from tests import factories
from tests.providers.helpers import sandbox_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def take(owner, fake):
    account = sandbox_account(owner.workspace, "apiframe", fake)
    take = factories.take(owner, provider="apiframe", model="kling-2.6-pro", account=account)
    transition(take.pk, Status.QUEUED, Status.SUBMITTING)
    transition(take.pk, Status.SUBMITTING, Status.RUNNING, external_id="job-1")
    return take


def post(client, take, payload):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    key = hashlib.sha256(b"sandbox-apiframe-key").digest()
    signature = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
    url = reverse("webhooks:receive", args=["apiframe", take.webhook_token])
    return client.post(
        url, body, content_type="application/json", headers={"X-Webhook-Signature": signature}
    )


def test_an_unknown_status_word_rings_the_poller_instead_of_failing(client, take):
    response = post(client, take, {"event": "progress", "jobId": "job-1", "status": "PENDING"})
    assert response.status_code == 200
    assert Generation.objects.get(pk=take.pk).status == Status.RUNNING


def test_a_signed_body_that_is_not_an_event_is_refused(client, take):
    assert post(client, take, [1, 2, 3]).status_code == 401
    assert not WebhookDelivery.objects.exists()


def test_a_webhook_for_another_job_is_refused(client, take):
    response = post(
        client,
        take,
        {
            "event": "completed",
            "jobId": "job-2",
            "status": "COMPLETED",
            "result": "https://cdn.example/x.mp4",
        },
    )
    assert response.status_code == 409
    assert Generation.objects.get(pk=take.pk).status == Status.RUNNING


def test_an_unknown_token_is_not_found(client, take):
    url = reverse("webhooks:receive", args=["apiframe", "not-a-token"])
    assert client.post(url, b"{}", content_type="application/json").status_code == 404
