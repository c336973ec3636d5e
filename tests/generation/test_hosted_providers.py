"""Every hosted provider through Studio itself: the builder view, the pipeline and the
fake provider over real HTTP.

* every offer in the catalog makes a clip, with sound exactly when sound was asked for;
* a combination the catalog refuses is a form error and never reaches the provider;
* the fault matrix: for each provider, each fault at each step ends the take in its
  documented state, with at most one job at the provider and a reason in plain words.
"""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from studio.generation import pipeline
from studio.generation.models import Generation, Status
from studio.providers import catalog, registry
from studio.providers.base import PLAIN_REASONS
from tests import factories
from tests.providers.helpers import run_take, sandbox_account

pytestmark = pytest.mark.django_db

HOSTED = [slug for slug in registry.PROVIDERS if slug != "preview"]
OFFERS = [offer for offer in catalog.offers().values() if offer.provider != "preview"]


def builder_data(offer, **changes) -> dict:
    data = {
        "model": offer.family,
        "provider": offer.provider,
        "duration": offer.allowed_durations[0],
        "aspect_ratio": offer.allowed_aspect_ratios[0],
        "resolution": offer.allowed_resolutions[-1],
        "takes": 1,
        "subject": "A red fox",
        "action": "trots through fresh snow at dawn",
        "request_key": str(uuid.uuid4()),
    }
    if offer.has_audio:
        data |= {
            "audio": "on",
            "ambience": "soft wind",
            "dialogue_speaker": ["Fox"],
            "dialogue_line": ["Morning."],
            "dialogue_delivery": [""],
        }
    return data | changes


@pytest.fixture
def studio(owner, owner_client, fake):
    """An owner signed in, with a sandbox account at every provider."""
    for slug in HOSTED:
        sandbox_account(owner.workspace, slug, fake)
    return owner_client


@pytest.mark.parametrize("offer", OFFERS, ids=lambda o: o.key)
def test_every_offer_makes_a_clip_through_the_builder(studio, owner, fake, offer):
    shot = factories.shot(owner.workspace)
    response = studio.post(shot.get_absolute_url(), builder_data(offer))
    assert response.status_code == 302, response.content[:2000]
    take = run_take(Generation.objects.get(shot=shot))
    assert take.status == Status.SUCCEEDED, take.failure_detail
    assert take.clip.has_audio is offer.has_audio
    assert abs(take.clip.duration_seconds - offer.allowed_durations[0]) <= 0.1
    assert len(fake.jobs()) == 1


def refused_duration(offer) -> int:
    return max(offer.allowed_durations) + 1


@pytest.mark.parametrize("provider", HOSTED)
def test_a_request_the_catalog_refuses_never_reaches_the_provider(studio, owner, fake, provider):
    offer = next(o for o in OFFERS if o.provider == provider)
    shot = factories.shot(owner.workspace)
    response = studio.post(
        shot.get_absolute_url(), builder_data(offer, duration=refused_duration(offer))
    )
    assert response.status_code == 400
    assert response.context["form"].errors["duration"]
    assert not Generation.objects.filter(shot=shot).exists()
    assert fake.requests(provider) == []


def test_an_empty_scene_is_refused_next_to_the_scene(studio, owner, fake):
    shot = factories.shot(owner.workspace)
    offer = catalog.offer("apiframe", "kling-2.6-pro")
    response = studio.post(shot.get_absolute_url(), builder_data(offer, subject="", action=""))
    assert response.status_code == 400
    assert response.context["form"].errors["subject"] == [
        "Describe the scene: who or what we see, and what happens."
    ]
    assert b'id="id_subject_error"' in response.content
    assert not Generation.objects.exists() and fake.requests() == []


def test_a_prompt_over_the_limit_is_refused(studio, owner, fake):
    shot = factories.shot(owner.workspace)
    offer = catalog.offer("kie", "kling-2.6-pro")  # Kie takes 1000 characters
    response = studio.post(
        shot.get_absolute_url(), builder_data(offer, subject="word " * 150, action="word " * 80)
    )
    assert response.status_code == 400
    assert "the limit is 1000" in response.context["form"].errors["prompt"][0]
    assert not Generation.objects.exists() and fake.requests() == []


# --- the fault matrix ----------------------------------------------------------------------

FAULTS = ("timeout", "5xx", "429", "malformed", "moderation", "drop")
STEPS = ("submit", "poll", "download")


def documented_outcome(provider: str, fault: str, step: str) -> tuple[Status, str]:
    """What each fault at each step must end in (the README's table says the same).

    Transient trouble is retried with backoff and the take succeeds; a lost answer to a
    submit is reconciled where the provider allows it and otherwise fails without a
    resend; moderation fails the take; a download that is not a video fails it.
    """
    reconcilable = registry.get(provider).reconcilable
    if fault == "moderation" and step != "download":
        return Status.FAILED, "moderation"
    if step == "submit" and fault in ("timeout", "malformed", "drop"):
        return (Status.SUCCEEDED, "") if reconcilable else (Status.FAILED, "ambiguous")
    if step == "download" and fault == "malformed":
        return Status.FAILED, "permanent"
    if step == "download" and fault == "moderation":
        # Nothing moderates a download: the storage refuses it (403), which means the
        # result is gone.
        return Status.FAILED, "permanent"
    return Status.SUCCEEDED, ""


PLAIN = set(PLAIN_REASONS.values()) | {
    "The provider's result was not a video Studio could safely save.",
    "The provider deleted the video before Studio could save it.",
    "Studio tried this take several times and could not finish it.",
}


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("provider", HOSTED)
def test_fault_matrix(studio, owner, fake, settings, provider, fault, step):
    settings.STUDIO_PROVIDER_TIMEOUT = 1.0
    offer = next(o for o in OFFERS if o.provider == provider)
    fake.fault(provider, step, fault, seconds=1.5 if fault == "timeout" else None)
    take = factories.take(
        owner,
        provider=provider,
        model=offer.family,
        account=owner.workspace.provider_accounts.get(provider=provider),
    )
    take = run_take(take, timeout=45)

    expected_status, expected_kind = documented_outcome(provider, fault, step)
    assert take.status == expected_status, (take.failure_kind, take.failure_detail)
    if expected_status == Status.FAILED:
        assert take.failure_kind == expected_kind
        assert take.failure_reason in PLAIN
    assert len(fake.jobs()) <= 1, "a take never creates a second job at the provider"


def test_the_sweeper_ends_a_take_the_provider_never_finishes(studio, owner, fake):
    from datetime import timedelta

    from django.utils import timezone

    fake.timing(queue_seconds=0, run_seconds=3600)
    take = factories.take(
        owner,
        provider="replicate",
        model="kling-3.0",
        account=owner.workspace.provider_accounts.get(provider="replicate"),
    )
    pipeline.advance(str(take.pk))
    Generation.objects.filter(pk=take.pk).update(deadline_at=timezone.now() - timedelta(seconds=1))
    pipeline.sweep()
    take.refresh_from_db()
    assert (take.status, take.failure_reason) == (Status.FAILED, PLAIN_REASONS["timeout"])


def test_the_webhook_url_carries_the_take_token_when_a_public_url_is_set(
    studio, owner, fake, settings
):
    settings.STUDIO_PUBLIC_URL = "https://studio.example.com"
    take = factories.take(
        owner,
        provider="apiframe",
        model="kling-2.6-pro",
        account=owner.workspace.provider_accounts.get(provider="apiframe"),
    )
    pipeline.advance(str(take.pk))
    [sent] = fake.requests("apiframe")
    assert sent["body"]["webhookUrl"] == "https://studio.example.com" + reverse(
        "webhooks:receive", args=["apiframe", take.webhook_token]
    )
