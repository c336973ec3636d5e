from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from studio.accounts.models import Membership

SESSION_KEY = "workspace_id"


class WorkspaceMiddleware:
    """Loads the user's memberships once per request and picks the current workspace.

    ``request.memberships`` maps workspace id to membership (a user belongs to a few
    workspaces, so one small query); ``request.membership`` is the current one, chosen
    by the workspace switcher and kept in the session.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.memberships = {}  # type: ignore[attr-defined]
        request.membership = None  # type: ignore[attr-defined]
        if request.user.is_authenticated:
            memberships = {
                m.workspace_id: m
                for m in Membership.objects.for_user(request.user).order_by("created_at")
            }
            request.memberships = memberships  # type: ignore[attr-defined]
            chosen = request.session.get(SESSION_KEY)
            current = next(
                (m for m in memberships.values() if str(m.workspace_id) == chosen),
                next(iter(memberships.values()), None),
            )
            request.membership = current  # type: ignore[attr-defined]
            request.workspace = current.workspace if current else None  # type: ignore[attr-defined]
        return self.get_response(request)
