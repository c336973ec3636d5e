from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.urls import reverse
from django.utils import timezone

from studio.accounts.roles import Action, Role, can
from studio.accounts.tokens import sign_id, unsign_id


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    """A person. Signs in with an email address; ``name`` is what teammates see."""

    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField("email address", unique=True)
    name = models.CharField(max_length=80)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["name"]  # createsuperuser asks for it: names are what others see
    objects = UserManager()

    def __str__(self) -> str:
        # Never the full address: guests reading comments must not learn members' emails.
        return self.name or self.email.partition("@")[0]

    def get_full_name(self) -> str:
        return str(self)

    def get_short_name(self) -> str:
        return str(self)


class WorkspaceQuerySet(models.QuerySet["Workspace"]):
    def for_user(self, user) -> WorkspaceQuerySet:
        return self.filter(memberships__user=user)


class Workspace(models.Model):
    """A team. Every project, take, clip, key and ledger entry belongs to one workspace."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=80)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = WorkspaceQuerySet.as_manager()

    def __str__(self) -> str:
        return self.name


class MembershipQuerySet(models.QuerySet["Membership"]):
    def for_user(self, user) -> MembershipQuerySet:
        return self.filter(user=user).select_related("workspace")


class Membership(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.EDITOR)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="one_membership_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"

    def can(self, action: Action) -> bool:
        return can(self.role, action)


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def for_workspace(self, workspace) -> InvitationQuerySet:
        return self.filter(workspace=workspace)

    def pending(self) -> InvitationQuerySet:
        return self.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )


class Invitation(models.Model):
    """A seat offered in a workspace, sent by email or handed on as a link.

    The link's token is the row id signed with SECRET_KEY (see ``tokens``): nothing
    secret is stored, and the row alone decides whether the link still works.
    Each invitation is used once (``accepted_at``): a link that kept working after
    someone joined could be forwarded around the internet. An email invitation can
    only be accepted by an account with that address. Used, revoked and expired rows
    are kept so that an old link explains itself instead of answering "not found".
    Invitations never make owners: ownership is handed over from the members page.
    """

    SALT = "studio.accounts.invitation"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(blank=True)  # empty: a link the owner passes on themselves
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.EDITOR)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role="owner"), name="invitations_never_make_owners"
            )
        ]

    def __str__(self) -> str:
        return f"Invitation to {self.workspace} as {self.role}"

    def get_absolute_url(self) -> str:
        return reverse("invitation", args=[self.token])

    @property
    def token(self) -> str:
        return sign_id(self.pk, self.SALT)

    @classmethod
    def from_token(cls, token: str) -> Invitation | None:
        pk = unsign_id(token, cls.SALT)
        return cls.objects.select_related("workspace").filter(pk=pk).first() if pk else None

    @property
    def problem(self) -> str:
        """Why the link no longer works, in plain words, or "" while it does."""
        if self.revoked_at:
            return "This invitation was withdrawn."
        if self.accepted_at:
            return "This invitation has already been used."
        if self.expires_at <= timezone.now():
            return "This invitation has expired."
        return ""
