"""Review helpers for templates: the take page's review data, timecodes, comment text
with @mentions, and the inbox's unread count."""

from __future__ import annotations

import math

from django import template
from django.utils.safestring import SafeString

from studio.review import panel
from studio.review.forms import GuestLinkForm
from studio.review.mentions import render_mentions
from studio.review.models import Comment, DecisionSummary, GuestLink, Notification

register = template.Library()

# A position this close below a frame boundary counts as that frame: stamps are whole
# milliseconds, so a frame's start can be stored up to half a millisecond early.
FRAME_EPSILON = 0.05


def frame_at(seconds: float, fps: float) -> int:
    return math.floor(seconds * fps + FRAME_EPSILON)


@register.filter
def timecode(ms, fps=24.0) -> str:
    """Milliseconds as HH:MM:SS:FF at the clip's frame rate (the same as the player)."""
    if ms is None or ms == "":
        return ""
    fps = float(fps or 24.0)
    per_second = max(round(fps), 1)
    frame = frame_at(int(ms) / 1000, fps)
    seconds, frames = divmod(frame, per_second)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}:{frames:02d}"


@register.filter
def stamp_ms(seconds) -> int:
    """A comment form's "at" (seconds, as typed) in milliseconds; 0 when it is not a number."""
    try:
        return max(round(float(seconds) * 1000), 0)
    except (TypeError, ValueError):
        return 0


@register.filter
def comment_body(comment) -> SafeString:
    """The comment's text, escaped, with the members it mentions highlighted."""
    return render_mentions(comment.body, [m.user.name for m in comment.mentions.all()])


@register.filter
def decision_summary(take) -> DecisionSummary:
    """The summary of a take's decisions (prefetched in lists, see models.with_review)."""
    return DecisionSummary.of(take.decisions.all())


@register.simple_tag(takes_context=True)
def review_for(context, take) -> panel.TakeReview:
    """{% review_for take as review %}: the review panel's data for the member viewing."""
    return panel.for_member(take, context["membership"], context["request"].user)


@register.filter
def with_clip(takes) -> list:
    """The takes of a list that have a clip to watch."""
    return [take for take in takes if take.video]


@register.simple_tag
def open_threads(take) -> list[Comment]:
    return list(Comment.objects.filter(take=take).open().threads())


@register.simple_tag
def guest_links_for(project) -> list[GuestLink]:
    return list(GuestLink.objects.filter(project=project).active())


@register.simple_tag
def guest_link_form() -> GuestLinkForm:
    return GuestLinkForm(auto_id="share_%s")


@register.simple_tag(takes_context=True)
def unread_count(context) -> int:
    user = context["request"].user
    if not user.is_authenticated:
        return 0
    return Notification.objects.for_user(user).unread().count()
