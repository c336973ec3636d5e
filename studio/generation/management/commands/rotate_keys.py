from django.core.management.base import BaseCommand
from django.db import transaction

from studio.generation.models import ProviderAccount
from studio.lib.crypto import rotate

SECRETS = ("api_key_encrypted", "secret_key_encrypted", "webhook_secret_encrypted")


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored provider secret with the first key of "
        "STUDIO_ENCRYPTION_KEYS, so older keys can then be removed."
    )

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            accounts = list(ProviderAccount.objects.select_for_update())
            for account in accounts:
                for field in SECRETS:
                    setattr(account, field, rotate(getattr(account, field)))
            ProviderAccount.objects.bulk_update(accounts, SECRETS)
        self.stdout.write(f"Re-encrypted the keys of {len(accounts)} provider accounts.")
