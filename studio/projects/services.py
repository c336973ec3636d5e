from __future__ import annotations

from django.utils import timezone

from studio.projects.models import Project, Shot


def create_project(*, workspace, user, name: str) -> Project:
    return Project.objects.create(workspace=workspace, created_by=user, name=name.strip())


def rename_project(project: Project, name: str) -> None:
    project.name = name.strip()
    project.save(update_fields=["name"])


def set_archived(project: Project, archived: bool) -> None:
    project.archived_at = timezone.now() if archived else None
    project.save(update_fields=["archived_at"])


def create_shot(*, project: Project, user, name: str) -> Shot:
    return Shot.objects.create(
        workspace_id=project.workspace_id, project=project, created_by=user, name=name.strip()
    )
