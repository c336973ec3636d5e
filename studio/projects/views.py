from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Max, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from studio.accounts.access import current_membership, get_for_member, require
from studio.accounts.roles import Action
from studio.generation.models import Generation
from studio.projects import services
from studio.projects.forms import NewShotForm, ProjectForm, ShotForm
from studio.projects.models import Project

RENAME_IDS = "rename_%s"  # the rename form shares the page with the new-shot form


@login_required
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    show_archived = request.GET.get("archived") == "1"
    projects = (
        Project.objects.for_workspace(membership.workspace)
        .filter(archived_at__isnull=not show_archived)
        .annotate(
            shot_count=Count("shots", distinct=True),
            take_count=Count("shots__takes", distinct=True),
            last_activity=Max("shots__takes__created_at"),
        )
        .order_by("-created_at")
    )
    form = ProjectForm(request.POST or None)
    if request.method == "POST":
        require(membership, Action.EDIT)
        if form.is_valid():
            project = services.create_project(
                workspace=membership.workspace, user=request.user, name=form.cleaned_data["name"]
            )
            return redirect(project)
    return render(
        request,
        "projects/index.html",
        {"projects": projects, "form": form, "show_archived": show_archived},
    )


@login_required
def detail(request: HttpRequest, pk) -> HttpResponse:
    project, membership = get_for_member(request, Project.objects.all(), pk=pk)
    takes = Generation.objects.select_related("clip").order_by("-number")
    shots = project.shots.prefetch_related(Prefetch("takes", queryset=takes)).annotate(
        ready=Count("takes", filter=Q(takes__status="succeeded"))
    )
    return render(
        request,
        "projects/detail.html",
        {
            "project": project,
            "shots": shots,
            "shot_form": ShotForm(),
            "rename_form": ProjectForm(instance=project, auto_id=RENAME_IDS),
            "membership": membership,
        },
    )


@login_required
@require_POST
def rename(request: HttpRequest, pk) -> HttpResponse:
    project, membership = get_for_member(request, Project.objects.all(), Action.EDIT, pk=pk)
    form = ProjectForm(request.POST, instance=project, auto_id=RENAME_IDS)
    if form.is_valid():
        services.rename_project(project, form.cleaned_data["name"])
    if request.htmx:
        return render(
            request,
            "projects/detail.html#title",
            {"project": project, "rename_form": form, "membership": membership},
        )
    return redirect(project)


@login_required
@require_POST
def archive(request: HttpRequest, pk) -> HttpResponse:
    project, _ = get_for_member(request, Project.objects.all(), Action.EDIT, pk=pk)
    services.set_archived(project, request.POST.get("archived") == "1")
    return redirect(project)


@login_required
@require_POST
def create_shot(request: HttpRequest, pk) -> HttpResponse:
    project, _ = get_for_member(request, Project.objects.all(), Action.EDIT, pk=pk)
    form = ShotForm(request.POST)
    if not form.is_valid():
        return render(
            request, "projects/new_shot.html", {"form": form, "project": project}, status=400
        )
    shot = services.create_shot(project=project, user=request.user, name=form.cleaned_data["name"])
    if request.htmx:
        return HttpResponseClientRedirect(shot.get_absolute_url())
    return redirect(shot)


@login_required
@require_http_methods(["GET", "POST"])
def new_shot(request: HttpRequest) -> HttpResponse:
    """Start something new from anywhere: pick or name a project, name the shot."""
    membership = current_membership(request, Action.EDIT)
    form = NewShotForm(request.POST or None, workspace=membership.workspace)
    if request.method == "POST" and form.is_valid():
        project = form.cleaned_data["project"] or services.create_project(
            workspace=membership.workspace,
            user=request.user,
            name=form.cleaned_data["project_name"],
        )
        shot = services.create_shot(
            project=project, user=request.user, name=form.cleaned_data["name"]
        )
        return redirect(shot)
    return render(request, "projects/new_shot.html", {"form": form})
