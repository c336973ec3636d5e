"""From a take row to what an adapter needs: its provider object and its request."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from studio.generation.models import Generation
from studio.prompts.fields import PromptFields
from studio.providers import catalog, registry
from studio.providers.base import Credentials, GenerationRequest, Provider


def adapter_for(take: Generation) -> Provider:
    account = take.provider_account
    credentials = account.credentials() if account else Credentials()
    return registry.get(take.provider)(credentials)


def webhook_url(take: Generation) -> str:
    """Where the provider should call back, or "" to rely on polling.

    Every callback URL carries the take's own random token, so an unsigned callback
    (Kling) is bound to one take, and a signed one can be checked against the right key.
    """
    provider = registry.get(take.provider)
    if not settings.STUDIO_PUBLIC_URL or not provider.webhooks:
        return ""
    account = take.provider_account
    if provider.webhook_needs_secret and not (account and account.webhook_secret_encrypted):
        return ""  # it could not be verified: every call would be refused, so poll instead
    path = reverse("webhooks:receive", args=[take.provider, take.webhook_token])
    return f"{settings.STUDIO_PUBLIC_URL}{path}"


def _image(image, take: Generation, wanted: bool):
    from studio.media.images import provider_input

    return provider_input(image, take.created_at) if image and wanted else None


def build_request(take: Generation, *, images: bool = True) -> GenerationRequest:
    """What the adapter needs for this take. ``images=False`` skips reading the start and
    end images, which only a send needs (a poll does not)."""
    fields = PromptFields.from_dict(take.prompt)
    offer = catalog.offer(take.provider, take.model)
    if offer is None:
        raise LookupError(f"{take.provider} no longer offers {take.model}")
    params = take.params
    return GenerationRequest(
        job_id=str(take.pk),
        offer=offer,
        prompt=take.compiled_prompt,
        negative_prompt=fields.negative,
        duration=int(params["duration"]),
        aspect_ratio=params["aspect_ratio"],
        resolution=params["resolution"],
        audio=bool(params["audio"]),
        shots=tuple((s.prompt, s.duration) for s in fields.shots),
        start_image=_image(take.start_image, take, images),
        end_image=_image(take.end_image, take, images),
        callback_url=webhook_url(take),
        preview=take.prompt,
    )
