import pytest
from django.urls import reverse

from studio.accounts.roles import Role
from studio.generation.models import ProviderAccount
from studio.providers import registry
from tests import factories

pytestmark = pytest.mark.django_db

SECRET = "afk_live_0123456789abcdef"


def add(client, fake, **data):
    return client.post(
        reverse("providers:index"),
        {
            "provider": "apiframe",
            "api_key": SECRET,
            "base_url": fake.base("apiframe"),
            "enabled": "on",
            **data,
        },
    )


def test_a_key_is_stored_encrypted_and_never_shown_again(owner_client, owner, fake):
    response = add(owner_client, fake, api_key="sandbox-apiframe-key")
    assert response.status_code == 302
    account = ProviderAccount.objects.get(workspace=owner.workspace)
    assert account.api_key_encrypted.startswith("gAAAA")
    assert "sandbox-apiframe-key" not in account.api_key_encrypted
    page = owner_client.get(reverse("providers:index")).content.decode()
    assert "sandbox-apiframe-key" not in page and "…-key" in page


def test_saving_a_key_tests_the_connection_and_says_so(owner_client, owner, fake):
    add(owner_client, fake, api_key="sandbox-apiframe-key")
    account = ProviderAccount.objects.get(workspace=owner.workspace)
    assert account.last_check_ok is True
    add(owner_client, fake, api_key=SECRET)  # a key the provider does not know
    account.refresh_from_db()
    assert account.last_check_ok is False
    assert account.last_check_message == "The provider did not accept the workspace's API key."


def test_an_empty_key_on_update_keeps_the_stored_one(owner_client, owner, fake):
    add(owner_client, fake, api_key="sandbox-apiframe-key")
    account = ProviderAccount.objects.get(workspace=owner.workspace)
    before = account.api_key_encrypted
    owner_client.post(
        reverse("providers:update", args=[account.pk]),
        {"provider": "apiframe", "api_key": "", "base_url": fake.base("apiframe")},
    )
    account.refresh_from_db()
    assert account.api_key_encrypted == before and account.enabled is False


def test_kling_needs_its_secret_key_too(owner_client, fake):
    response = owner_client.post(reverse("providers:index"), {"provider": "kling", "api_key": "ak"})
    assert response.status_code == 200
    assert response.context["form"].errors["secret_key"] == [
        "Kling (official API) needs its secret key too."
    ]
    assert not ProviderAccount.objects.exists()


def test_a_private_base_url_is_refused(owner_client):
    response = owner_client.post(
        reverse("providers:index"),
        {
            "provider": "fal",
            "api_key": "k",
            "base_url": "http://169.254.169.254/latest/",
        },
    )
    assert "private or not https" in response.context["form"].errors["base_url"][0]
    assert not ProviderAccount.objects.exists()


def test_sandbox_accounts_point_every_provider_at_the_fake(owner_client, owner, fake):
    owner_client.post(reverse("providers:add_sandbox"))
    accounts = ProviderAccount.objects.filter(workspace=owner.workspace, is_sandbox=True)
    assert {a.provider for a in accounts} == set(registry.PROVIDERS) - {"preview"}
    assert all(a.base_url == fake.base(a.provider) for a in accounts)


def test_only_owners_manage_provider_keys(client, owner):
    editor = factories.member(owner.workspace, Role.EDITOR)
    client.force_login(editor.user)
    assert client.get(reverse("providers:index")).status_code == 403


def test_the_builder_offers_enabled_accounts_and_preview(owner_client, owner, fake):
    add(owner_client, fake, api_key="sandbox-apiframe-key")
    shot = factories.shot(owner.workspace)
    page = owner_client.get(shot.get_absolute_url()).content.decode()
    assert 'value="apiframe"' in page and 'value="preview"' in page
    ProviderAccount.objects.update(enabled=False)
    page = owner_client.get(shot.get_absolute_url()).content.decode()
    assert 'value="apiframe"' not in page


def test_an_owner_can_add_a_webhook_secret_to_an_existing_account(owner_client, owner, fake):
    owner_client.post(
        reverse("providers:index"),
        {
            "provider": "replicate",
            "api_key": "sandbox-replicate-key",
            "base_url": fake.base("replicate"),
            "enabled": "on",
        },
    )
    account = ProviderAccount.objects.get(provider="replicate")
    assert account.webhook_secret_encrypted == ""
    page = owner_client.get(reverse("providers:index")).content.decode()
    assert 'name="webhook_secret"' in page and f'id="whsec-{account.pk}"' in page
    owner_client.post(
        reverse("providers:update", args=[account.pk]),
        {
            "provider": "replicate",
            "webhook_secret": "whsec_c2VjcmV0",
            "base_url": fake.base("replicate"),
            "enabled": "on",
        },
    )
    account.refresh_from_db()
    assert account.credentials().webhook_secret == "whsec_c2VjcmV0"
