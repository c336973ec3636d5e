"""Workspace settings: the team. Every member sees who is in it; owners change it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from studio.accounts import services
from studio.accounts.access import current_membership, get_for_member, require
from studio.accounts.forms import InviteForm, RoleForm
from studio.accounts.models import Invitation, Membership
from studio.accounts.roles import Action, Role

# Owners first, then down the table, so the list reads like the README's columns.
ROLE_ORDER = Case(
    *(When(role=role, then=Value(i)) for i, role in enumerate(Role)),
    output_field=IntegerField(),
)


@login_required
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    form = InviteForm(request.POST or None, workspace=membership.workspace)
    if request.method == "POST":
        require(membership, Action.MANAGE_MEMBERS)
        if form.is_valid():
            invitation = services.invite(
                workspace=membership.workspace,
                invited_by=request.user,
                role=form.cleaned_data["role"],
                email=form.cleaned_data["email"],
                site=f"{request.scheme}://{request.get_host()}",
            )
            messages.success(
                request,
                f"Invitation emailed to {invitation.email}."
                if invitation.email
                else "Invitation link ready: copy it below and send it to the person.",
            )
            return redirect("members:index")
    members = (
        Membership.objects.filter(workspace=membership.workspace)
        .select_related("user")
        .order_by(ROLE_ORDER, "user__name")
    )
    invitations = (
        Invitation.objects.for_workspace(membership.workspace)
        .pending()
        .select_related("invited_by")
        if membership.can(Action.MANAGE_MEMBERS)
        else Invitation.objects.none()
    )
    return render(
        request,
        "workspace/members.html",
        {
            "membership": membership,
            "members": members,
            "invitations": invitations,
            "form": form,
            "roles": Role.choices,
        },
        status=400 if form.errors else 200,
    )


def _refused(request: HttpRequest, refusal: services.MembershipRefused) -> HttpResponse:
    messages.error(request, refusal.message)
    return redirect("members:index")


def _manage(request: HttpRequest, pk: int, act) -> HttpResponse:
    """Do one thing to member ``pk`` (``act(member, mine)`` returns what to tell the owner),
    and say why not when the rules refuse it (the last owner, yourself...)."""
    member, mine = get_for_member(
        request, Membership.objects.select_related("user"), Action.MANAGE_MEMBERS, pk=pk
    )
    try:
        done = act(member, mine)
    except services.MembershipRefused as refusal:
        return _refused(request, refusal)
    if done:
        messages.success(request, done)
    return redirect("members:index")


@login_required
@require_POST
def change_role(request: HttpRequest, pk: int) -> HttpResponse:
    form = RoleForm(request.POST)

    def act(member, mine) -> str:
        if not form.is_valid():
            return ""
        services.change_role(member, form.cleaned_data["role"])
        return f"{member.user} is now {member.get_role_display().lower()}."

    return _manage(request, pk, act)


@login_required
@require_POST
def remove(request: HttpRequest, pk: int) -> HttpResponse:
    def act(member, mine) -> str:
        services.remove_member(member)
        return f"{member.user} was removed from the workspace."

    return _manage(request, pk, act)


@login_required
@require_POST
def transfer(request: HttpRequest, pk: int) -> HttpResponse:
    def act(member, mine) -> str:
        services.transfer_ownership(mine, member)
        return f"{member.user} now owns the workspace. You are an editor."

    return _manage(request, pk, act)


@login_required
@require_POST
def revoke_invitation(request: HttpRequest, pk) -> HttpResponse:
    invitation, _ = get_for_member(request, Invitation.objects.all(), Action.MANAGE_MEMBERS, pk=pk)
    services.revoke_invitation(invitation)
    messages.success(request, "Invitation withdrawn: its link no longer works.")
    return redirect("members:index")
