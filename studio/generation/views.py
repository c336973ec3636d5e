from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseStopPolling

from studio.accounts.access import current_membership, get_for_member
from studio.accounts.roles import Action
from studio.generation import services
from studio.generation.models import Generation, Status
from studio.media.storage import download_url
from studio.projects.models import Project
from studio.prompts.fields import PromptFields
from studio.providers import catalog, registry
from studio.providers.catalog import FAMILIES
from studio.review.models import Outcome, takes_with_outcome, with_review

PAGE_SIZE = 24


class GalleryFilters(forms.Form):
    project = forms.ModelChoiceField(
        queryset=Project.objects.none(), required=False, empty_label="All projects"
    )
    model = forms.ChoiceField(required=False, label="Model")
    status = forms.ChoiceField(required=False, label="Status")
    review = forms.ChoiceField(
        required=False, label="Review", choices=[("", "Any review"), *Outcome.choices]
    )

    def __init__(self, *args, workspace, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = Project.objects.for_workspace(workspace).active()
        self.fields["model"].choices = [("", "All models")] + [
            (f.key, f.label) for f in FAMILIES.values()
        ]
        self.fields["status"].choices = [
            ("", "Any status"),
            ("ready", "Ready"),
            ("working", "In progress"),
            ("failed", "Failed or canceled"),
            ("awaiting_approval", "Awaiting approval"),
        ]

    def apply(self, takes):
        if not self.is_valid():
            return takes
        data = self.cleaned_data
        if data["project"]:
            takes = takes.filter(shot__project=data["project"])
        if data["model"]:
            takes = takes.filter(model=data["model"])
        status = data["status"]
        if status == "ready":
            takes = takes.filter(status=Status.SUCCEEDED)
        elif status == "working":
            takes = takes.filter(status__in=Status.active())
        elif status == "failed":
            takes = takes.filter(status__in=[Status.FAILED, Status.CANCELED])
        elif status == "awaiting_approval":
            takes = takes.filter(status=Status.AWAITING_APPROVAL)
        if data["review"]:
            takes = takes_with_outcome(takes, data["review"])
        return takes


@login_required
def gallery(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    filters = GalleryFilters(request.GET or None, workspace=membership.workspace)
    takes = filters.apply(
        with_review(Generation.objects.for_workspace(membership.workspace).for_gallery())
    )
    page = Paginator(takes, PAGE_SIZE).get_page(request.GET.get("page"))
    template = "generation/gallery.html"
    if request.htmx and request.htmx.target == "gallery-results":
        template += "#results"
    return render(request, template, {"page": page, "filters": filters, "membership": membership})


def _take_context(take: Generation, membership) -> dict:
    return {
        "take": take,
        "fields": PromptFields.from_dict(take.prompt),
        "offer": catalog.offer(take.provider, take.model),
        "family": FAMILIES.get(take.model),
        "provider_label": registry.label(take.provider),
        "membership": membership,
    }


@login_required
def take(request: HttpRequest, pk) -> HttpResponse:
    take, membership = get_for_member(
        request,
        Generation.objects.select_related("clip", "shot", "shot__project", "created_by"),
        pk=pk,
    )
    return render(request, "generation/take.html", _take_context(take, membership))


@login_required
def card_hx(request: HttpRequest, pk) -> HttpResponse:
    """A take's card (gallery, shot stack) while it is in progress; polled until it ends."""
    take, membership = get_for_member(request, Generation.objects.for_gallery(), pk=pk)
    if request.GET.get("state") == take.poll_state and not take.is_terminal:
        return HttpResponse(status=204)  # nothing new: htmx keeps the card and keeps asking
    response = render(request, "generation/_card.html", {"take": take, "membership": membership})
    if take.is_terminal:
        # 286 tells htmx to stop polling; the card is swapped in its final form first.
        response.status_code = HttpResponseStopPolling.status_code
    return response


@login_required
def status_hx(request: HttpRequest, pk) -> HttpResponse:
    """The status panel of the take page, polled while the take is in progress."""
    take, membership = get_for_member(
        request, Generation.objects.select_related("clip", "shot", "shot__project"), pk=pk
    )
    if take.is_terminal:
        # It just ended: reload the page so the player (or the reason) appears in full.
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    if request.GET.get("state") == take.poll_state:
        return HttpResponse(status=204)  # nothing new to say
    return render(request, "generation/take.html#status", _take_context(take, membership))


@login_required
def download(request: HttpRequest, pk) -> HttpResponse:
    take, _ = get_for_member(request, Generation.objects.select_related("clip", "shot"), pk=pk)
    clip = take.video
    if clip is None:
        raise Http404
    return redirect(download_url(clip.file.name, take.download_filename))


@login_required
@require_POST
def cancel(request: HttpRequest, pk) -> HttpResponse:
    take, _ = get_for_member(request, Generation.objects.all(), Action.GENERATE, pk=pk)
    services.cancel(take)
    return redirect(take)
