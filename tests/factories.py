"""Plain functions that build real rows through the real services."""

from __future__ import annotations

import itertools
import uuid

from studio.accounts.models import Membership, User, Workspace
from studio.accounts.roles import Role
from studio.accounts.services import sign_up
from studio.generation import services
from studio.generation.models import Generation
from studio.projects.models import Project, Shot
from studio.prompts.fields import DialogueLine, PromptFields
from studio.providers import catalog
from studio.providers.catalog import Params

_seq = itertools.count(1)

PASSWORD = "a-long-test-password"


def owner(name: str = "") -> Membership:
    """A new person with their own workspace, as after sign-up."""
    n = next(_seq)
    user = sign_up(name=name or f"Owner {n}", email=f"owner{n}@example.com", password=PASSWORD)
    return user.memberships.get()


def member(workspace: Workspace, role: Role = Role.EDITOR, name: str = "") -> Membership:
    n = next(_seq)
    user = User.objects.create_user(
        email=f"member{n}@example.com", password=PASSWORD, name=name or f"Member {n}"
    )
    return Membership.objects.create(workspace=workspace, user=user, role=role)


def project(workspace: Workspace, name: str = "Launch") -> Project:
    return Project.objects.create(workspace=workspace, name=name)


def shot(workspace: Workspace, name: str = "Opening", project_: Project | None = None) -> Shot:
    project_ = project_ or project(workspace)
    return Shot.objects.create(workspace=workspace, project=project_, name=name)


SCENE = PromptFields(
    subject="A barista",
    action="pours latte art and smiles",
    setting="a sunny café",
    dialogue=(DialogueLine("Barista", "Good morning!", "warm"),),
    ambience="café murmur",
)


def takes(
    membership: Membership,
    *,
    shot_: Shot | None = None,
    provider: str = "preview",
    model: str = "kling-2.6-pro",
    params: Params | None = None,
    fields: PromptFields = SCENE,
    count: int = 1,
    account=None,
) -> list[Generation]:
    """Order takes through the real service (reservation, queueing and all)."""
    offer = catalog.offer(provider, model)
    assert offer is not None, f"{provider} does not offer {model}"
    params = params or Params(
        duration=offer.allowed_durations[0],
        aspect_ratio=offer.allowed_aspect_ratios[0],
        resolution=offer.allowed_resolutions[0],
        audio=offer.has_audio,
    )
    return services.order_takes(
        services.TakeOrder(
            shot=shot_ or shot(membership.workspace),
            membership=membership,
            offer=offer,
            account=account,
            fields=fields,
            params=params,
            count=count,
            request_key=uuid.uuid4(),
        )
    )


def take(membership: Membership, **kwargs) -> Generation:
    return takes(membership, **kwargs)[0]
