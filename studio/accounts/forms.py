from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm

from studio.accounts.models import User
from studio.accounts.roles import Role


class SignUpForm(forms.Form):
    name = forms.CharField(max_length=80, label="Your name")
    email = forms.EmailField(label="Email")
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters, not only numbers.",
    )
    workspace_name = forms.CharField(
        max_length=80,
        required=False,
        label="Team name",
        help_text="Optional. You can invite teammates later.",
    )

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].lower()
        if User.objects.filter(email=email).exists():
            raise forms.ValidationError(
                "An account with this email already exists. Log in instead."
            )
        return email

    def clean(self) -> dict:
        data = super().clean()
        if data.get("password"):
            user = User(email=data.get("email", ""), name=data.get("name", ""))
            try:
                password_validation.validate_password(data["password"], user)
            except forms.ValidationError as error:
                self.add_error("password", error)
        return data


class LoginForm(AuthenticationForm):
    username = forms.EmailField(label="Email", widget=forms.EmailInput(attrs={"autofocus": True}))


INVITABLE_ROLES = [(r.value, r.label) for r in Role if r != Role.OWNER]


class InviteForm(forms.Form):
    email = forms.EmailField(
        required=False,
        label="Email",
        help_text="Leave empty to make a link you send yourself (it works once).",
    )
    role = forms.ChoiceField(choices=INVITABLE_ROLES, initial=Role.EDITOR, label="Role")

    def __init__(self, *args, workspace, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.workspace = workspace

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].lower()
        if email and self.workspace.memberships.filter(user__email=email).exists():
            raise forms.ValidationError("This person is already a member.")
        return email


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices, label="Role")


class JoinForm(SignUpForm):
    """Sign-up from an invitation: the team is the one that invited you."""

    workspace_name = None  # type: ignore[assignment]

    def __init__(self, *args, invitation, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if invitation.email:
            # The invitation is for this address; the field shows it and cannot change it.
            self.fields["email"].initial = invitation.email
            self.fields["email"].disabled = True
