"""Who may do what in a workspace.

This table is the single source of truth: views ask ``membership.can(Action.X)``,
templates ask ``membership|can:"x"``, the README prints the same table and a test
checks every row against every URL. Change a grant here and nowhere else.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    EDITOR = "editor", "Editor"
    REVIEWER = "reviewer", "Reviewer"
    VIEWER = "viewer", "Viewer"


class Action(StrEnum):
    VIEW = "view"  # see projects, shots, takes and clips; download clips
    COMMENT = "comment"  # comment on takes, reply, resolve
    DECIDE = "decide"  # approve / request changes / reject a take
    GENERATE = "generate"  # start paid generations (and free Preview drafts)
    EDIT = "edit"  # create, rename and archive projects and shots; select takes
    SHARE = "share"  # create and revoke guest review links
    MANAGE_MEMBERS = "manage_members"  # invite, remove, change roles
    MANAGE_PROVIDERS = "manage_providers"  # provider keys and sandbox accounts
    MANAGE_BUDGET = "manage_budget"  # budgets, caps, approval threshold; approve spend
    VIEW_SPEND = "view_spend"  # the whole workspace's spend dashboard and ledger export


GRANTS: dict[Role, frozenset[Action]] = {
    Role.OWNER: frozenset(Action),
    Role.EDITOR: frozenset(
        {Action.VIEW, Action.COMMENT, Action.DECIDE, Action.GENERATE, Action.EDIT, Action.SHARE}
    ),
    Role.REVIEWER: frozenset({Action.VIEW, Action.COMMENT, Action.DECIDE}),
    Role.VIEWER: frozenset({Action.VIEW}),
}


def can(role: str, action: Action) -> bool:
    return action in GRANTS[Role(role)]
