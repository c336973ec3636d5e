"""Tenant isolation in one place.

Every object a user can reach by id belongs to a workspace (it has a ``workspace``
foreign key). Views fetch objects only through :func:`get_for_member`, which answers
404 for anything outside the user's workspaces (no hint that the id exists) and 403
for a member whose role lacks the action.
"""

from __future__ import annotations

from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from studio.accounts.models import Membership
from studio.accounts.roles import Action

M = TypeVar("M", bound=models.Model)


def membership_in(request: HttpRequest, workspace_id) -> Membership:
    """The signed-in user's membership in a workspace, or 404."""
    membership = request.memberships.get(workspace_id)  # type: ignore[attr-defined]
    if membership is None:
        raise Http404
    return membership


def require(membership: Membership, action: Action) -> None:
    if not membership.can(action):
        raise PermissionDenied(f"Your role ({membership.get_role_display()}) cannot do this.")


def get_for_member(
    request: HttpRequest, queryset: models.QuerySet[M], action: Action = Action.VIEW, **lookup
) -> tuple[M, Membership]:
    workspace_ids = list(request.memberships)  # type: ignore[attr-defined]
    obj = get_object_or_404(queryset.filter(workspace_id__in=workspace_ids), **lookup)
    membership = membership_in(request, obj.workspace_id)  # type: ignore[attr-defined]
    require(membership, action)
    return obj, membership


def current_membership(request: HttpRequest, action: Action = Action.VIEW) -> Membership:
    """The membership of the workspace the user is working in (chosen in the header)."""
    membership = request.membership  # type: ignore[attr-defined]
    if membership is None:
        raise Http404
    require(membership, action)
    return membership
