from __future__ import annotations

from datetime import timedelta

from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from studio.accounts.models import Invitation, Membership, User, Workspace
from studio.accounts.roles import Role

INVITATION_DAYS = 7


class MembershipRefused(Exception):
    """A change to the team that would break a rule; ``message`` says which, plainly."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@transaction.atomic
def sign_up(*, name: str, email: str, password: str, workspace_name: str = "") -> User:
    """Create a person and their own workspace, where they are the owner."""
    user = User.objects.create_user(email=email, password=password, name=name)
    workspace = Workspace.objects.create(name=workspace_name or f"{name}'s studio")
    Membership.objects.create(workspace=workspace, user=user, role=Role.OWNER)
    return user


def invite(
    *, workspace: Workspace, invited_by: User, role: str, email: str = "", site: str = ""
) -> Invitation:
    """Offer a seat. With an email address the link is mailed (``site`` is the scheme and
    host the link starts with); without one the owner copies the link from the page."""
    invitation = Invitation.objects.create(
        workspace=workspace,
        email=email.lower(),
        role=role,
        invited_by=invited_by,
        expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
    )
    if invitation.email:
        transaction.on_commit(lambda: _mail_invitation(invitation, site))
    return invitation


def _mail_invitation(invitation: Invitation, site: str) -> None:
    context = {"invitation": invitation, "url": site + invitation.get_absolute_url()}
    subject = f"{invitation.invited_by} invited you to {invitation.workspace} on Studio"
    send_mail(
        subject=" ".join(subject.split()),  # a name never smuggles a header line in
        message=render_to_string("accounts/invitation_email.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )


def revoke_invitation(invitation: Invitation) -> None:
    Invitation.objects.filter(pk=invitation.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


@transaction.atomic
def accept_invitation(invitation: Invitation, user: User) -> Membership:
    """Use the invitation's seat for ``user``. Raises MembershipRefused."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.problem:
        raise MembershipRefused(invitation.problem)
    if invitation.email and invitation.email != user.email.lower():
        raise MembershipRefused(
            f"This invitation is for {invitation.email}. Log in with that address to accept it."
        )
    if Membership.objects.filter(workspace_id=invitation.workspace_id, user=user).exists():
        raise MembershipRefused(f"You are already a member of {invitation.workspace}.")
    membership = Membership.objects.create(
        workspace_id=invitation.workspace_id, user=user, role=invitation.role
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


@transaction.atomic
def sign_up_invited(invitation: Invitation, *, name: str, email: str, password: str) -> User:
    """A new person joins through an invitation: no workspace of their own is made, they
    land in the team that invited them (they can still create projects there)."""
    user = User.objects.create_user(email=email, password=password, name=name)
    accept_invitation(invitation, user)
    return user


def _owners_left(workspace_id) -> int:
    # Locks the workspace's owner rows, so two owners demoting each other at the same
    # moment cannot both succeed and leave the team without one.
    return len(
        Membership.objects.select_for_update().filter(workspace_id=workspace_id, role=Role.OWNER)
    )


@transaction.atomic
def change_role(membership: Membership, role: str) -> Membership:
    if (
        membership.role == Role.OWNER
        and role != Role.OWNER
        and _owners_left(membership.workspace_id) <= 1
    ):
        raise MembershipRefused(
            "A workspace needs an owner. Make someone else owner first, then change this role."
        )
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def remove_member(membership: Membership) -> None:
    if membership.role == Role.OWNER and _owners_left(membership.workspace_id) <= 1:
        raise MembershipRefused(
            "This is the workspace's only owner. Make someone else owner before removing them."
        )
    membership.delete()


@transaction.atomic
def transfer_ownership(current: Membership, to: Membership) -> None:
    """Hand the workspace over: ``to`` becomes owner, ``current`` stays on as an editor."""
    if current.workspace_id != to.workspace_id or current.pk == to.pk:
        raise MembershipRefused("Pick another member of this workspace.")
    if current.role != Role.OWNER:
        raise MembershipRefused("Only an owner can hand over ownership.")
    to.role = Role.OWNER
    to.save(update_fields=["role"])
    current.role = Role.EDITOR
    current.save(update_fields=["role"])
