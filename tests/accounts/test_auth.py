import re

import pytest
from django.core import mail
from django.urls import reverse

from studio.accounts.models import Membership, User
from studio.accounts.roles import Role
from tests import factories

pytestmark = pytest.mark.django_db


def test_signing_up_makes_a_workspace_the_person_owns(client):
    response = client.post(
        reverse("signup"),
        {
            "name": "Ada",
            "email": "Ada@Example.com",
            "password": "a-long-enough-secret",
            "workspace_name": "Ada's agency",
        },
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user__email="ada@example.com")
    assert (membership.role, membership.workspace.name) == (Role.OWNER, "Ada's agency")
    assert client.get(reverse("projects:index")).status_code == 200  # signed in


def test_sign_up_refuses_a_taken_email_and_a_weak_password_next_to_the_fields(client, owner):
    response = client.post(
        reverse("signup"),
        {
            "name": "Ada",
            "email": owner.user.email,
            "password": "123",
        },
    )
    errors = response.context["form"].errors
    assert "already exists" in errors["email"][0]
    assert errors["password"]
    assert User.objects.count() == 1


def test_log_in_with_email_and_log_out(client, owner):
    response = client.post(
        reverse("login"), {"username": owner.user.email, "password": factories.PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("gallery:index")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("gallery:index")).status_code == 302


def test_a_wrong_password_is_refused(client, owner):
    response = client.post(reverse("login"), {"username": owner.user.email, "password": "nope"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()


def test_password_reset_sends_a_link_that_sets_a_new_password(client, owner):
    client.post(reverse("password_reset"), {"email": owner.user.email})
    [message] = mail.outbox
    link = re.search(r"https?://[^/]+(/accounts/password/reset/\S+/)", message.body)[1]
    form_page = client.get(link, follow=True)
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "brand-new-secret-9", "new_password2": "brand-new-secret-9"},
    )
    assert User.objects.get(pk=owner.user.pk).check_password("brand-new-secret-9")


def test_switching_workspace_only_to_ones_you_belong_to(client, owner):
    other = factories.owner()
    client.force_login(owner.user)
    assert (
        client.post(reverse("switch_workspace"), {"workspace": str(other.workspace_id)}).status_code
        == 404
    )
    guest_of_other = factories.member(other.workspace, Role.VIEWER)
    client.force_login(guest_of_other.user)
    client.post(reverse("switch_workspace"), {"workspace": str(other.workspace_id)})
    assert client.get(reverse("gallery:index")).context["membership"].workspace == other.workspace
