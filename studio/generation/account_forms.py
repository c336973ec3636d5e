from __future__ import annotations

from django import forms

from studio.lib import http
from studio.providers import registry


def key_labels(slug: str) -> dict[str, str]:
    """What this provider calls the secrets it needs ("api_key" is always one)."""
    return registry.get(slug).credential_labels


class ProviderAccountForm(forms.Form):
    """Add or update a workspace's key at a provider. Secrets are write-only: empty means
    "keep the stored one", and stored ones are never sent back to the browser."""

    provider = forms.ChoiceField(label="Provider")
    api_key = forms.CharField(
        label="API key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )
    secret_key = forms.CharField(
        label="Secret key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )
    webhook_secret = forms.CharField(
        label="Webhook signing secret",
        required=False,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text="Optional. Lets Studio trust the provider's webhooks; otherwise it polls.",
    )
    base_url = forms.URLField(
        label="Base URL",
        required=False,
        assume_scheme="https",
        help_text="Optional: a gateway in front of the provider. Leave empty for its own API.",
    )
    enabled = forms.BooleanField(
        label="Offer this provider in the builder", required=False, initial=True
    )

    def __init__(self, *args, account=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        self.fields["provider"].choices = [
            (slug, registry.label(slug)) for slug in registry.PROVIDERS if slug != "preview"
        ]
        if account is not None:
            self.fields["provider"].disabled = True
            self.fields["provider"].initial = account.provider
            self.fields[
                "api_key"
            ].help_text = f"Stored key ends in …{account.key_last4}. Leave empty to keep it."

    def clean_base_url(self) -> str:
        url = self.cleaned_data["base_url"]
        if url:
            try:
                http.check_url(url)
            except http.HttpError as error:
                raise forms.ValidationError(
                    "Studio cannot call this address (it is private or not https)."
                ) from error
        return url

    def clean(self) -> dict:
        data = super().clean()
        provider = data.get("provider") or (self.account.provider if self.account else "")
        if provider and not self.account and not data.get("api_key"):
            self.add_error(
                "api_key",
                f"Paste the {key_labels(provider)['api_key']} from {registry.label(provider)}.",
            )
        if (
            provider
            and "secret_key" in key_labels(provider)
            and not self.account
            and not data.get("secret_key")
        ):
            self.add_error("secret_key", f"{registry.label(provider)} needs its secret key too.")
        return data
