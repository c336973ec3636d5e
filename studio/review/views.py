"""Review for members: comments, decisions, selection, share links, compare, inbox and
the review summary of spend. Every object comes through ``get_for_member``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from studio.accounts.access import get_for_member
from studio.accounts.roles import Action
from studio.generation.models import Generation
from studio.projects.models import Project
from studio.review import panel, services
from studio.review.diff import compare_recipes
from studio.review.forms import (
    CommentForm,
    CompareForm,
    DecisionForm,
    DigestForm,
    GuestLinkForm,
)
from studio.review.models import Comment, GuestLink, Notification

TAKES = Generation.objects.select_related("clip", "shot", "shot__project", "created_by")


def _panel(request: HttpRequest, take: Generation, membership, part: str, **extra):
    """Re-render one part of the take page's review panel (for HTMX)."""
    review = panel.for_member(take, membership, request.user)
    context = {"take": take, "review": review, "membership": membership, **extra}
    return render(request, f"review/_panel.html#{part}", context)


@login_required
@require_POST
def comment(request: HttpRequest, pk) -> HttpResponse:
    take, membership = get_for_member(request, TAKES, Action.COMMENT, pk=pk)
    form = CommentForm(request.POST, take=take)
    if form.is_valid():
        posted = services.add_comment(
            take=take,
            body=form.cleaned_data["body"],
            timecode_ms=form.timecode_ms,
            parent=form.cleaned_data["parent"],
            author=request.user,
        )
        if not request.htmx:
            return redirect(posted)
        form = CommentForm(take=take)
    elif not request.htmx:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(take)
    return _panel(request, take, membership, "comments", comment_form=form)


@login_required
@require_POST
def resolve(request: HttpRequest, pk) -> HttpResponse:
    note, membership = get_for_member(
        request, Comment.objects.select_related("parent"), Action.COMMENT, pk=pk
    )
    services.set_resolved(note, request.user, request.POST.get("resolved") != "0")
    if not request.htmx:
        return redirect(note)
    take = TAKES.get(pk=note.take_id)
    return _panel(request, take, membership, "comments")


@login_required
@require_POST
def decide(request: HttpRequest, pk) -> HttpResponse:
    take, membership = get_for_member(request, TAKES, Action.DECIDE, pk=pk)
    form = DecisionForm(request.POST)
    if form.is_valid() and take.video is not None:
        services.decide(take, request.user, form.cleaned_data["verdict"])
    if not request.htmx:
        return redirect(take)
    return _panel(request, take, membership, "decisions")


@login_required
@require_POST
def select(request: HttpRequest, pk) -> HttpResponse:
    take, membership = get_for_member(request, TAKES, Action.EDIT, pk=pk)
    try:
        if request.POST.get("selected") == "0":
            services.clear_selection(take)
        else:
            services.select_take(take, request.user)
    except services.ReviewRefused as refusal:
        messages.error(request, refusal.message)
    if not request.htmx:
        return redirect(take)
    return _panel(request, take, membership, "decisions")


def _share(request: HttpRequest, target, **where) -> HttpResponse:
    form = GuestLinkForm(request.POST)
    if form.is_valid():
        services.create_guest_link(created_by=request.user, **where, **form.cleaned_data)
        messages.success(request, "Review link ready: copy it and send it.")
    else:
        messages.error(request, "The link was not made: check the form and try again.")
    return redirect(f"{target.get_absolute_url()}#share")


@login_required
@require_POST
def share_take(request: HttpRequest, pk) -> HttpResponse:
    take, _ = get_for_member(request, TAKES, Action.SHARE, pk=pk)
    return _share(request, take, take=take)


@login_required
@require_POST
def share_project(request: HttpRequest, pk) -> HttpResponse:
    project, _ = get_for_member(request, Project.objects.all(), Action.SHARE, pk=pk)
    return _share(request, project, project=project)


@login_required
@require_POST
def revoke_link(request: HttpRequest, pk) -> HttpResponse:
    link, _ = get_for_member(
        request, GuestLink.objects.select_related("take", "project"), Action.SHARE, pk=pk
    )
    services.revoke_guest_link(link)
    messages.success(request, "Link revoked: it no longer opens.")
    return redirect(f"{(link.take or link.project).get_absolute_url()}#share")


@login_required
@require_GET
def compare(request: HttpRequest) -> HttpResponse:
    """Two takes side by side: synced players and what changed in their recipes."""
    form = CompareForm(request.GET)
    if not form.is_valid():
        raise Http404
    a, membership = get_for_member(request, TAKES, pk=form.cleaned_data["a"])
    # The shot's stack, newest first, for the pickers.
    stack = list(TAKES.filter(shot_id=a.shot_id).with_clip().order_by("-number"))
    others = [t for t in stack if t.pk != a.pk]
    b = None
    if form.cleaned_data["b"]:
        b, _ = get_for_member(request, TAKES, pk=form.cleaned_data["b"])
        if b.workspace_id != a.workspace_id:
            raise Http404
    elif others:
        # Without a choice, compare with the take before it (what a revision changed),
        # older on the left.
        other = next((t for t in others if t.number < a.number), others[0])
        older, newer = sorted([a, other], key=lambda t: t.number)
        return redirect(f"{reverse('review:compare')}?a={older.pk}&b={newer.pk}")
    rows = compare_recipes(a, b) if b else []
    return render(
        request,
        "review/compare.html",
        {
            "a": a,
            "b": b,
            "stack": stack,
            "rows": rows,
            "changed": [row.label for row in rows if row.changed],
            "membership": membership,
        },
    )


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    notifications = (
        Notification.objects.for_user(request.user)
        .select_related("take__shot", "actor", "workspace")
        .order_by("-created_at")
    )
    page = Paginator(notifications, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "review/inbox.html",
        {
            "page": page,
            "digest_form": DigestForm(instance=services.digest_settings(request.user)),
            "several_workspaces": len(request.memberships) > 1,  # type: ignore[attr-defined]
        },
    )


@login_required
@require_GET
def open_notification(request: HttpRequest, pk) -> HttpResponse:
    notification, _ = get_for_member(
        request,
        Notification.objects.filter(recipient=request.user).select_related("take", "comment"),
        pk=pk,
    )
    services.mark_read(request.user, [notification])
    return redirect(notification.get_absolute_url())


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    services.mark_read(request.user)
    return redirect("review:inbox")


@login_required
@require_POST
def digest_settings(request: HttpRequest) -> HttpResponse:
    form = DigestForm(request.POST, instance=services.digest_settings(request.user))
    if form.is_valid():
        form.save()
        messages.success(request, "Email setting saved.")
    return redirect("review:inbox")
