import io

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import call_command

from studio.generation.accounts import save_account
from studio.lib import crypto

pytestmark = pytest.mark.django_db


@pytest.fixture
def keys(settings):
    """Set STUDIO_ENCRYPTION_KEYS for a moment; the cached key ring follows."""

    def use(*values: str) -> None:
        settings.STUDIO_ENCRYPTION_KEYS = list(values)
        crypto._box.cache_clear()

    yield use
    crypto._box.cache_clear()  # back to the test settings' own key


def test_rotating_re_encrypts_secrets_so_the_old_key_can_go(owner, keys):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    keys(old)
    account = save_account(
        workspace=owner.workspace, provider="kling", api_key="ak-1234", secret_key="sk-5678"
    )
    keys(new, old)
    call_command("rotate_keys", stdout=io.StringIO())
    keys(new)
    account.refresh_from_db()
    assert (account.credentials().api_key, account.credentials().secret_key) == (
        "ak-1234",
        "sk-5678",
    )
    with pytest.raises(InvalidToken):
        Fernet(old.encode()).decrypt(account.api_key_encrypted.encode())
