from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse


class ProjectQuerySet(models.QuerySet["Project"]):
    def for_workspace(self, workspace) -> ProjectQuerySet:
        return self.filter(workspace=workspace)

    def active(self) -> ProjectQuerySet:
        return self.filter(archived_at__isnull=True)


class Project(models.Model):
    """A campaign or piece of work: it holds shots."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="projects"
    )
    name = models.CharField(max_length=120)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Archived projects drop out of pickers and lists but keep their takes and spend.
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["workspace", "archived_at"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("projects:detail", args=[self.pk])


class ShotQuerySet(models.QuerySet["Shot"]):
    def for_workspace(self, workspace) -> ShotQuerySet:
        return self.filter(workspace=workspace)


class Shot(models.Model):
    """One moment of the film: a prompt and its stack of takes (generations).

    ``draft`` holds the builder's last state (prompt fields and options) so the shot
    page opens where the user left off; each take keeps its own frozen copy.
    ``workspace`` repeats ``project.workspace`` so every scoped model filters the same way.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="shots")
    name = models.CharField(max_length=120)
    draft = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ShotQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("projects:shot", args=[self.pk])
