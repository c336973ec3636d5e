"""Small presentation helpers shared by every template."""

from __future__ import annotations

from django import template

from studio.accounts.roles import Action
from studio.providers import catalog, registry

register = template.Library()


@register.filter
def can(membership, action: str) -> bool:
    return bool(membership) and membership.can(Action(action))


@register.filter
def usd(micros) -> str:
    return catalog.format_usd(int(micros or 0))


@register.filter
def price(micros) -> str:
    """A take's price as creators read it: "Free" for Preview, dollars otherwise."""
    return catalog.format_usd(int(micros)) if micros else "Free"


@register.filter
def ratio_class(aspect_ratio: str) -> str:
    """CSS class that gives a media box the clip's shape before it loads."""
    return "ar-" + (aspect_ratio or "16:9").replace(":", "-")


@register.filter
def model_label(key: str) -> str:
    family = catalog.FAMILIES.get(key)
    return family.label if family else key


@register.filter
def provider_label(slug: str) -> str:
    return registry.label(slug)


@register.filter
def seconds(value) -> str:
    """4.96 -> '5.0 s'."""
    try:
        return f"{float(value):.1f} s"
    except (TypeError, ValueError):
        return ""


@register.filter
def get_item(mapping, key):
    """Look a key up in a dict from a template: {{ labels|get_item:slug }}."""
    return (mapping or {}).get(key, "") if hasattr(mapping, "get") else ""
