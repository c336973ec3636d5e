"""Which providers exist. Add a provider by adding one line here (see README).

Classes are named by dotted path and imported on first use, so a broken optional
adapter cannot stop the web process from starting (healthchecks' TRANSPORTS pattern).
"""

from __future__ import annotations

from functools import cache

from django.utils.module_loading import import_string

from studio.providers.base import Provider

PROVIDERS: dict[str, str] = {
    "preview": "studio.providers.preview.PreviewProvider",
    "apiframe": "studio.providers.apiframe.ApiframeProvider",
    "fal": "studio.providers.fal.FalProvider",
    "kling": "studio.providers.kling.KlingProvider",
    "replicate": "studio.providers.replicate.ReplicateProvider",
    "wavespeed": "studio.providers.wavespeed.WaveSpeedProvider",
    "kie": "studio.providers.kie.KieProvider",
    "givon": "studio.providers.givon.GivonProvider",
}


@cache
def get(slug: str) -> type[Provider]:
    try:
        return import_string(PROVIDERS[slug])
    except KeyError:
        raise LookupError(f"unknown provider {slug!r}") from None


def all_providers() -> list[type[Provider]]:
    return [get(slug) for slug in PROVIDERS]


def label(slug: str) -> str:
    return get(slug).label if slug in PROVIDERS else slug
