from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from studio.accounts import services
from studio.accounts.models import Invitation, Membership, User
from studio.accounts.roles import Role
from tests import factories

pytestmark = pytest.mark.django_db


def test_an_email_invitation_sends_one_link(
    owner_client, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            reverse("members:index"), {"email": "New@Example.com", "role": "reviewer"}
        )
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role) == ("new@example.com", Role.REVIEWER)
    assert len(mail.outbox) == 1
    assert invitation.get_absolute_url() in mail.outbox[0].body
    assert mail.outbox[0].to == ["new@example.com"]


def test_a_link_invitation_is_shown_to_copy(owner_client):
    owner_client.post(reverse("members:index"), {"email": "", "role": "viewer"})
    invitation = Invitation.objects.get()
    html = owner_client.get(reverse("members:index")).content.decode()
    assert invitation.get_absolute_url() in html
    assert mail.outbox == []


def test_nobody_is_invited_as_owner(owner_client):
    response = owner_client.post(reverse("members:index"), {"role": "owner"})
    assert response.status_code == 400
    assert not Invitation.objects.exists()


def test_a_signed_in_person_joins_with_the_invited_role_once(client, owner):
    invitation = services.invite(workspace=owner.workspace, invited_by=owner.user, role="editor")
    someone = factories.owner("Someone")
    client.force_login(someone.user)
    response = client.post(invitation.get_absolute_url())
    assert response["Location"] == reverse("gallery:index")
    joined = Membership.objects.get(workspace=owner.workspace, user=someone.user)
    assert joined.role == Role.EDITOR
    assert client.session["workspace_id"] == str(owner.workspace.pk)
    assert client.get(invitation.get_absolute_url()).status_code == 410


def test_a_new_person_signs_up_and_joins_without_a_workspace_of_their_own(client, owner):
    invitation = services.invite(
        workspace=owner.workspace, invited_by=owner.user, role="viewer", email="nia@example.com"
    )
    page = client.get(invitation.get_absolute_url()).content.decode()
    assert 'value="nia@example.com"' in page
    response = client.post(
        invitation.get_absolute_url(),
        {"name": "Nia", "email": "other@example.com", "password": "a-long-test-password"},
    )
    assert response.status_code == 302
    user = User.objects.get(email="nia@example.com")  # the invited address, whatever was sent
    assert [m.workspace for m in user.memberships.all()] == [owner.workspace]
    assert client.get(reverse("gallery:index")).status_code == 200


def test_an_email_invitation_is_for_that_address_only(client, owner):
    invitation = services.invite(
        workspace=owner.workspace, invited_by=owner.user, role="viewer", email="nia@example.com"
    )
    client.force_login(factories.owner().user)
    response = client.post(invitation.get_absolute_url())
    assert response.status_code == 400
    assert "nia@example.com" in response.content.decode()
    assert Invitation.objects.get().accepted_at is None


def test_withdrawn_and_expired_invitations_say_so(client, owner_client, owner):
    withdrawn = services.invite(workspace=owner.workspace, invited_by=owner.user, role="viewer")
    owner_client.post(reverse("members:revoke_invitation", args=[withdrawn.pk]))
    expired = services.invite(workspace=owner.workspace, invited_by=owner.user, role="viewer")
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(1))
    for invitation, words in ((withdrawn, "withdrawn"), (expired, "expired")):
        response = client.get(invitation.get_absolute_url())
        assert response.status_code == 410
        assert words in response.content.decode()


def test_a_forged_invitation_is_not_found(client, owner):
    invitation = services.invite(workspace=owner.workspace, invited_by=owner.user, role="viewer")
    for token in (invitation.pk.hex, invitation.token + "x", "x"):
        assert client.get(reverse("invitation", args=[token])).status_code == 404


def test_an_owner_changes_a_role_and_removes_a_member(owner_client, owner):
    member = factories.member(owner.workspace, Role.VIEWER)
    owner_client.post(reverse("members:change_role", args=[member.pk]), {"role": "reviewer"})
    member.refresh_from_db()
    assert member.role == Role.REVIEWER
    owner_client.post(reverse("members:remove", args=[member.pk]))
    assert not Membership.objects.filter(pk=member.pk).exists()


def test_the_last_owner_can_be_neither_demoted_nor_removed(owner):
    with pytest.raises(services.MembershipRefused):
        services.change_role(owner, Role.EDITOR)
    with pytest.raises(services.MembershipRefused):
        services.remove_member(owner)
    second = factories.member(owner.workspace, Role.OWNER)
    services.change_role(owner, Role.EDITOR)
    with pytest.raises(services.MembershipRefused):
        services.remove_member(second)


def test_handing_over_ownership_keeps_one_owner(owner_client, owner):
    editor = factories.member(owner.workspace, Role.EDITOR)
    response = owner_client.post(reverse("members:transfer", args=[editor.pk]))
    assert response.status_code == 302
    roles = dict(Membership.objects.filter(workspace=owner.workspace).values_list("pk", "role"))
    assert roles == {owner.pk: Role.EDITOR, editor.pk: Role.OWNER}


def test_every_member_sees_the_team_but_only_owners_see_invitations(client, owner):
    viewer = factories.member(owner.workspace, Role.VIEWER, name="Vic")
    services.invite(workspace=owner.workspace, invited_by=owner.user, role="viewer")
    client.force_login(viewer.user)
    html = client.get(reverse("members:index")).content.decode()
    assert "Vic" in html and str(owner.user.name) in html
    assert "Invitations waiting" not in html and "Invite someone" not in html
    assert f'href="{reverse("members:index")}"' in html  # the Team link in the header
