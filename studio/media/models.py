from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class ImageQuerySet(models.QuerySet["Image"]):
    def for_workspace(self, workspace) -> ImageQuerySet:
        return self.filter(workspace=workspace)


class Image(models.Model):
    """A start or end frame: validated, re-encoded by us, stored under a random key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    file = models.FileField(max_length=300)
    content_type = models.CharField(max_length=32)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size_bytes = models.PositiveIntegerField()
    original_name = models.CharField(max_length=200, blank=True)  # shown, never used as a key
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ImageQuerySet.as_manager()

    def __str__(self) -> str:
        return self.original_name or str(self.id)
