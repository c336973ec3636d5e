"""Provider webhooks: verify, record once, hand over, answer fast.

The URL carries the take's random token (see requests.webhook_url), which finds the
take and its workspace key. Signed payloads are applied directly; unsigned ones only
ring the poller, which re-fetches the job with our own credentials. Downloads never
happen here: providers give a webhook a few seconds before they retry it.
"""

from __future__ import annotations

import hashlib
import logging

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from studio.generation import pipeline
from studio.generation.models import Generation, Status, WebhookDelivery
from studio.generation.requests import adapter_for
from studio.providers.base import ProviderError, WebhookCall, WebhookEvent, WebhookRejected

log = logging.getLogger(__name__)


@csrf_exempt  # authenticated by the per-take token and the provider's signature instead
@require_POST
def receive(request: HttpRequest, provider: str, token: str) -> HttpResponse:
    take = (
        Generation.objects.filter(provider=provider, webhook_token=token)
        .select_related("provider_account")
        .first()
    )
    if take is None:
        return HttpResponse(status=404)
    call = WebhookCall(
        body=request.body,
        headers={k.lower(): v for k, v in request.headers.items()},
        query=request.GET.dict(),
    )
    try:
        event = adapter_for(take).parse_webhook(call)
    except WebhookRejected as error:
        log.warning("rejected %s webhook for take %s: %s", provider, take.pk, error)
        return HttpResponse(status=401)
    except ProviderError as error:
        # Verified but unreadable (an unknown status word...): take it as "something
        # changed" and let the poller read the job the usual way.
        log.warning("unreadable %s webhook for take %s: %s", provider, take.pk, error)
        digest = hashlib.sha256(call.body).hexdigest()
        event = WebhookEvent(external_id="", event_key=f"unreadable:{digest}")
    if take.external_id and event.external_id and event.external_id != take.external_id:
        return HttpResponse(status=409)
    # Recording the delivery and acting on it commit together: if acting fails, the answer
    # is 500 and the provider's retry finds no record, rather than passing for a duplicate.
    try:
        with transaction.atomic():
            WebhookDelivery.objects.create(
                provider=provider, event_key=event.event_key[:300], generation=take
            )
            if event.job is not None:
                pipeline.apply_remote(take, event.job)
            else:
                # Not trusted on its own: treat it as "something changed" and poll now.
                Generation.objects.filter(pk=take.pk, status=Status.RUNNING).update(
                    next_poll_at=timezone.now()
                )
                pipeline.schedule(take, 0)
    except IntegrityError:
        return HttpResponse(status=200)  # a duplicate delivery: already handled
    return HttpResponse(status=200)
