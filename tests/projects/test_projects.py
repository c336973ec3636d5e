import pytest
from django.urls import reverse

from studio.accounts.roles import Role
from studio.projects.models import Project, Shot
from tests import factories

pytestmark = pytest.mark.django_db


def test_create_a_project_then_a_shot(owner_client, owner):
    response = owner_client.post(reverse("projects:index"), {"name": "Spring launch"})
    project = Project.objects.get(workspace=owner.workspace)
    assert response["Location"] == project.get_absolute_url()
    owner_client.post(reverse("projects:create_shot", args=[project.pk]), {"name": "Opening"})
    shot = Shot.objects.get(project=project)
    assert (shot.name, shot.workspace_id) == ("Opening", owner.workspace_id)


def test_a_project_needs_a_name(owner_client):
    response = owner_client.post(reverse("projects:index"), {"name": ""})
    assert response.context["form"].errors["name"]
    assert not Project.objects.exists()


def test_rename_and_archive_and_restore(owner_client, owner):
    project = factories.project(owner.workspace, "Draft")
    owner_client.post(reverse("projects:rename", args=[project.pk]), {"name": "Final"})
    owner_client.post(reverse("projects:archive", args=[project.pk]), {"archived": "1"})
    project.refresh_from_db()
    assert project.name == "Final" and project.archived_at is not None
    listed = owner_client.get(reverse("projects:index")).context["projects"]
    assert project not in listed
    assert (
        project in owner_client.get(reverse("projects:index") + "?archived=1").context["projects"]
    )
    owner_client.post(reverse("projects:archive", args=[project.pk]), {"archived": "0"})
    project.refresh_from_db()
    assert project.archived_at is None


def test_new_shot_from_anywhere_can_start_a_new_project(owner_client, owner):
    response = owner_client.post(
        reverse("projects:new_shot"), {"project": "", "project_name": "Teaser", "name": "Hook"}
    )
    shot = Shot.objects.get()
    assert shot.project.name == "Teaser"
    assert response["Location"] == shot.get_absolute_url()


def test_reviewers_cannot_create_projects(client, owner):
    reviewer = factories.member(owner.workspace, Role.REVIEWER)
    client.force_login(reviewer.user)
    assert client.post(reverse("projects:index"), {"name": "Mine"}).status_code == 403
    assert not Project.objects.exists()


def test_a_project_page_shows_its_shots_and_their_takes(owner_client, owner):
    shot = factories.shot(owner.workspace, "Opening")
    factories.takes(owner, shot_=shot, count=2)
    page = owner_client.get(shot.project.get_absolute_url()).content.decode()
    assert "Opening" in page and "2 takes" in page
