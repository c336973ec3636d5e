"""The price the builder shows is the amount reserved, for every offer and option."""

from __future__ import annotations

import uuid

import pytest
from django.db.models import Sum
from django.http import QueryDict
from django.urls import reverse

from studio.billing.models import EntryKind, LedgerEntry
from studio.generation import services
from studio.generation.models import ProviderAccount
from studio.prompts.forms import BuilderForm
from studio.prompts.views import live_state
from studio.providers import catalog, registry
from tests import factories

pytestmark = pytest.mark.django_db

TAKES = 2


def builder_data(offer, duration: int, resolution: str, audio: bool) -> QueryDict:
    """What the builder form posts for these options."""
    data = {
        "model": offer.family,
        "provider": offer.provider,
        "duration": str(duration),
        "aspect_ratio": offer.allowed_aspect_ratios[0],
        "resolution": resolution,
        "takes": str(TAKES),
        "subject": "A lighthouse keeper",
        "action": "climbs the stairs with a lantern",
        "request_key": str(uuid.uuid4()),
    }
    query = QueryDict(mutable=True)
    query.update(data | ({"audio": "on"} if audio else {}))
    return query


def test_the_estimate_shown_equals_the_reservation_for_every_offer_and_option(owner):
    workspace = owner.workspace
    for slug in registry.PROVIDERS:
        if slug != "preview":
            ProviderAccount.objects.create(workspace=workspace, provider=slug)
    checked = 0
    for offer in catalog.offers().values():
        shot = factories.shot(workspace, name=offer.key)
        for duration in offer.allowed_durations:
            for resolution in offer.allowed_resolutions:
                for audio in (False, True):
                    form = BuilderForm(
                        builder_data(offer, duration, resolution, audio), workspace=workspace
                    )
                    shown = live_state(form, membership=owner)["price"]
                    assert form.offer == offer
                    if audio and not offer.has_audio:
                        # The builder refuses sound here, so nothing could be reserved for it.
                        assert "audio" in form.errors
                        continue
                    assert form.is_valid(), (offer.key, duration, resolution, form.errors)
                    takes = services.order_takes(
                        services.TakeOrder(
                            shot=shot,
                            membership=owner,
                            offer=form.route.offer,
                            account=form.route.account,
                            fields=form.prompt_fields(),
                            params=form.params(),
                            count=form.cleaned_data["takes"],
                            request_key=form.cleaned_data["request_key"],
                        )
                    )
                    reserved = LedgerEntry.objects.filter(
                        generation__in=takes, kind=EntryKind.RESERVE
                    ).aggregate(total=Sum("held_delta_micros"))["total"]
                    assert len(takes) == TAKES
                    assert reserved == shown.usd_micros, (offer.key, duration, resolution, audio)
                    checked += 1
    assert checked > 100, "the walk covered the catalog"


def test_the_generate_button_says_the_price_and_preview_says_it_is_free(client, owner):
    ProviderAccount.objects.create(workspace=owner.workspace, provider="apiframe")
    shot = factories.shot(owner.workspace)
    client.force_login(owner.user)
    url = reverse("projects:builder_live_hx", args=[shot.pk])
    offer = catalog.offer("apiframe", "kling-2.6-pro")
    paid = client.post(url, builder_data(offer, 10, "1080p", True)).content.decode()
    assert "Generate 2 takes · $0.80" in paid and "80 credits at Apiframe" in paid
    free = client.post(
        url, builder_data(catalog.offer("preview", "kling-2.6-pro"), 5, "1080p", True)
    )
    assert "Preview drafts cost nothing." in free.content.decode()
    assert "Generate 2 takes · Free" in free.content.decode()
