"""Template helpers for spend pages and the approvals count in the navigation."""

from __future__ import annotations

from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

from studio.accounts.roles import Action
from studio.billing.reports import awaiting_approval

register = template.Library()


@register.simple_tag
def approvals_waiting(membership) -> int:
    """How many takes wait for an owner's approval (0 for members who cannot approve)."""
    if not membership or not membership.can(Action.MANAGE_BUDGET):
        return 0
    return awaiting_approval(membership.workspace_id).count()


@register.filter
def waited(moment) -> str:
    """How long a take has waited: 'just now', '12 minutes', '2 hours, 5 minutes'."""
    if timezone.now() - moment < timedelta(minutes=1):
        return "just now"
    return timesince(moment)
