"""Keys for the bundled fake provider ("sandbox"), the same on both sides.

The fake server accepts exactly these credentials, and sandbox provider accounts are
created with them, so a newcomer can try every provider without a real key. They are
not secrets: the fake provider only listens on this machine.
"""

from __future__ import annotations

import base64

from studio.providers.base import Credentials


def credentials(slug: str, base_url: str = "") -> Credentials:
    secret = base64.b64encode(f"sandbox-{slug}-webhook-secret".encode()).decode()
    return Credentials(
        api_key=f"sandbox-{slug}-key",
        secret_key=f"sandbox-{slug}-secret-key-for-local-only",  # JWT keys want 32+ bytes
        webhook_secret=f"whsec_{secret}",
        base_url=base_url,
    )
