from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from studio.review import services
from studio.review.models import Comment, GuestLink, Kind, Notification
from tests.review.helpers import finished_take

pytestmark = pytest.mark.django_db


@pytest.fixture
def take(owner):
    return finished_take(owner)


def link_to(take=None, project=None, **options) -> GuestLink:
    target = take or project
    creator = target.workspace.memberships.first().user
    return services.create_guest_link(created_by=creator, take=take, project=project, **options)


def guest_urls(link: GuestLink, take) -> list[tuple[str, str]]:
    token = link.token
    return [
        ("get", reverse("guest:index", args=[token])),
        ("get", reverse("guest:take", args=[token, take.pk])),
        ("post", reverse("guest:comment", args=[token, take.pk])),
        ("get", reverse("guest:download", args=[token, take.pk])),
    ]


def test_a_guest_watches_the_take_and_sees_nothing_else_of_the_workspace(client, owner, take):
    services.add_comment(take=take, body="Nice", timecode_ms=0, author=owner.user)
    html = client.get(link_to(take).get_absolute_url()).content.decode()
    assert 'id="player"' in html and "Nice" in html and 'id="comment-form"' in html
    for private in ("$", owner.user.email, "Recipe", "Gallery", "/projects/", "Log out"):
        assert private not in html
    assert "Download" not in html and "data-no-download" in html


def test_a_guest_comments_under_a_name_the_session_remembers(client, owner, take):
    link = link_to(take)
    url = reverse("guest:comment", args=[link.token, take.pk])
    response = client.post(url, {"name": "Cleo  Client", "body": "Warmer?", "at": "1.5"})
    comment = Comment.objects.get()
    assert (comment.guest_name, comment.author, comment.timecode_ms) == ("Cleo Client", None, 1500)
    assert comment.guest_link == link
    assert response["Location"].endswith(f"#comment-{comment.pk}")
    html = client.get(link.get_absolute_url()).content.decode()
    assert 'value="Cleo Client"' in html
    note = Notification.objects.get(recipient=owner.user)
    assert (note.kind, note.actor_name) == (Kind.COMMENT, "Cleo Client")


def test_a_guest_must_give_a_name(client, take):
    link = link_to(take)
    url = reverse("guest:comment", args=[link.token, take.pk])
    response = client.post(url, {"body": "Warmer?"})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not Comment.objects.exists()


def test_members_see_guest_comments_with_a_badge(owner_client, take):
    services.add_comment(take=take, body="From outside", timecode_ms=0, guest_name="Cleo")
    html = owner_client.get(take.get_absolute_url()).content.decode()
    assert "Cleo" in html and 'class="badge badge-guest">guest<' in html


def test_a_take_link_covers_only_its_take(client, owner, take):
    sibling = finished_take(owner, shot_=take.shot)
    link = link_to(take)
    for method, url in guest_urls(link, sibling)[1:]:
        assert getattr(client, method)(url).status_code == 404, url


def test_a_project_link_covers_the_projects_takes_and_nothing_else(client, owner, take):
    other_project = finished_take(owner)
    link = link_to(project=take.shot.project, allow_download=True)
    html = client.get(link.get_absolute_url()).content.decode()
    assert reverse("guest:take", args=[link.token, take.pk]) in html
    assert str(other_project.pk) not in html
    assert client.get(reverse("guest:take", args=[link.token, take.pk])).status_code == 200
    for method, url in guest_urls(link, other_project)[1:]:
        assert getattr(client, method)(url).status_code == 404, url


def test_downloading_needs_the_link_to_allow_it(client, take):
    closed, open_ = link_to(take), link_to(take, allow_download=True)
    assert client.get(reverse("guest:download", args=[closed.token, take.pk])).status_code == 404
    response = client.get(reverse("guest:download", args=[open_.token, take.pk]))
    assert response.status_code == 302 and "download=" in response["Location"]


def test_a_revoked_link_answers_410_everywhere(client, take):
    link = link_to(take)
    services.revoke_guest_link(link)
    for method, url in guest_urls(link, take):
        response = getattr(client, method)(url)
        assert response.status_code == 410, url
    assert "This link was revoked" in client.get(link.get_absolute_url()).content.decode()


def test_an_expired_link_answers_410_everywhere(client, take):
    link = link_to(take)
    GuestLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    for method, url in guest_urls(link, take):
        assert getattr(client, method)(url).status_code == 410, url
    assert "This link has expired" in client.get(link.get_absolute_url()).content.decode()


def test_an_unknown_or_forged_token_is_not_found(client, take):
    link = link_to(take)
    forged = link.token[:-2] + ("AA" if not link.token.endswith("AA") else "BB")
    for token in (forged, "nonsense", link.pk.hex):
        assert client.get(reverse("guest:index", args=[token])).status_code == 404


def test_a_password_link_asks_for_it_first(client, take):
    link = link_to(take, password="open sesame")
    page = reverse("guest:take", args=[link.token, take.pk])
    assert client.get(page)["Location"] == link.get_absolute_url()
    assert "has a password" in client.get(link.get_absolute_url()).content.decode()
    wrong = client.post(link.get_absolute_url(), {"password": "guess"})
    assert wrong.status_code == 400
    client.post(link.get_absolute_url(), {"password": "open sesame"})
    assert client.get(page).status_code == 200
    assert "open sesame" not in GuestLink.objects.get().password_hash


def test_guessing_a_link_password_stops_after_ten_tries(client, take):
    from django.core.cache import cache

    cache.clear()
    link = link_to(take, password="open sesame")
    for _ in range(10):
        client.post(link.get_absolute_url(), {"password": "guess"})
    refused = client.post(link.get_absolute_url(), {"password": "open sesame"})
    assert "Too many wrong passwords" in refused.content.decode()
    page = reverse("guest:take", args=[link.token, take.pk])
    assert client.get(page).status_code == 302, "still locked, even with the right password"


def test_revoking_from_the_take_page_kills_the_link(owner_client, take):
    owner_client.post(reverse("review:share_take", args=[take.pk]), {"days": "7", "label": "Acme"})
    link = GuestLink.objects.get()
    assert "Acme" in owner_client.get(take.get_absolute_url()).content.decode()
    owner_client.post(reverse("review:revoke_link", args=[link.pk]))
    assert owner_client.get(link.get_absolute_url()).status_code == 410
    assert "Acme" not in owner_client.get(take.get_absolute_url()).content.decode()


def test_a_guest_reaches_no_member_page(client, take):
    client.get(link_to(take).get_absolute_url())
    for url in (reverse("gallery:index"), take.get_absolute_url(), reverse("review:inbox")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
