from __future__ import annotations

from django.db import transaction

from studio.accounts.models import Membership, User, Workspace
from studio.accounts.roles import Role


@transaction.atomic
def sign_up(*, name: str, email: str, password: str, workspace_name: str = "") -> User:
    """Create a person and their own workspace, where they are the owner."""
    user = User.objects.create_user(email=email, password=password, name=name)
    workspace = Workspace.objects.create(name=workspace_name or f"{name}'s studio")
    Membership.objects.create(workspace=workspace, user=user, role=Role.OWNER)
    return user
