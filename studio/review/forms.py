from __future__ import annotations

from decimal import Decimal

from django import forms

from studio.review.models import Comment, NotificationSettings, Verdict
from studio.review.services import GUEST_LINK_DAYS


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment",
        max_length=4000,
        error_messages={"required": "Write something first."},
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "What should change here?"}),
    )
    # Seconds into the clip; the player's Comment button fills it in.
    at = forms.DecimalField(
        label="At (seconds)",
        required=False,
        min_value=Decimal(0),
        max_value=Decimal(36000),
        decimal_places=3,
        widget=forms.NumberInput(attrs={"step": "0.001", "inputmode": "decimal"}),
    )
    parent = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, take, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.take = take

    def clean_parent(self) -> Comment | None:
        pk = self.cleaned_data["parent"]
        if pk is None:
            return None
        parent = Comment.objects.filter(take=self.take, pk=pk).first()
        if parent is None:
            raise forms.ValidationError("That comment is gone.")
        return parent

    @property
    def timecode_ms(self) -> int | None:
        at = self.cleaned_data.get("at")
        return None if at is None else round(at * 1000)


class GuestCommentForm(CommentForm):
    name = forms.CharField(label="Your name", max_length=80)

    field_order = ["name", "body", "at", "parent"]

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())


class DecisionForm(forms.Form):
    verdict = forms.ChoiceField(choices=Verdict.choices)


class GuestLinkForm(forms.Form):
    label = forms.CharField(
        label="For",
        max_length=80,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "e.g. Client review"}),
    )
    days = forms.TypedChoiceField(
        label="Works for",
        coerce=int,
        initial=7,
        choices=[(d, f"{d} day{'s' if d > 1 else ''}") for d in GUEST_LINK_DAYS],
    )
    password = forms.CharField(
        label="Password",
        required=False,
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Optional. Send it separately from the link.",
    )
    allow_download = forms.BooleanField(label="Guests may download clips", required=False)


class GuestPasswordForm(forms.Form):
    password = forms.CharField(label="Password", strip=False, widget=forms.PasswordInput)


class DigestForm(forms.ModelForm):
    class Meta:
        model = NotificationSettings
        fields = ["digest"]
        labels = {"digest": "Email me a summary of unread notifications"}
        widgets = {"digest": forms.RadioSelect}


class CompareForm(forms.Form):
    a = forms.UUIDField()
    b = forms.UUIDField(required=False)
