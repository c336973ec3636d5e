"""Provider accounts: add, replace keys, check, and the sandbox set for newcomers."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from studio.generation.models import ProviderAccount
from studio.providers import registry, sandbox
from studio.providers.base import ProviderError


def save_account(
    *,
    workspace,
    provider: str,
    api_key: str = "",
    secret_key: str = "",
    webhook_secret: str = "",
    base_url: str = "",
    enabled: bool = True,
    is_sandbox: bool = False,
) -> ProviderAccount:
    """Create the workspace's account at a provider, or update it. Empty keys keep the
    stored ones, so an owner can change the base URL without pasting the key again."""
    account, _ = ProviderAccount.objects.get_or_create(workspace=workspace, provider=provider)
    account.set_keys(api_key=api_key, secret_key=secret_key, webhook_secret=webhook_secret)
    account.base_url = base_url
    account.enabled = enabled
    account.is_sandbox = is_sandbox
    account.label = registry.label(provider) + (" (sandbox)" if is_sandbox else "")
    account.save()
    return account


def check_connection(account: ProviderAccount) -> tuple[bool, str]:
    """Call the provider once with the stored key and remember the outcome."""
    adapter = registry.get(account.provider)(account.credentials())
    try:
        adapter.check_connection()
        ok, message = True, "Connected."
    except ProviderError as error:
        ok, message = False, error.plain
    account.last_checked_at = timezone.now()
    account.last_check_ok = ok
    account.last_check_message = message[:200]
    account.save(update_fields=["last_checked_at", "last_check_ok", "last_check_message"])
    return ok, message


def sandbox_base() -> str:
    """Where the bundled fake provider listens, or "" when this instance runs none."""
    return settings.STUDIO_FAKE_PROVIDER_URL


def add_sandbox_accounts(workspace) -> list[ProviderAccount]:
    """An account at the bundled fake provider for every hosted provider."""
    base = sandbox_base()
    if not base:
        return []
    accounts = []
    for slug in registry.PROVIDERS:
        if slug == "preview":
            continue
        keys = sandbox.credentials(slug)
        accounts.append(
            save_account(
                workspace=workspace,
                provider=slug,
                api_key=keys.api_key,
                secret_key=keys.secret_key,
                webhook_secret=keys.webhook_secret,
                base_url=f"{base}/{slug}",
                is_sandbox=True,
            )
        )
    return accounts
