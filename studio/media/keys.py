"""Storage keys: random, under the workspace, never a user's file name.

A key reveals nothing and cannot be guessed (128 random bits), so a leaked listing or
a second upload can never reach or overwrite another object.
"""

from __future__ import annotations

import secrets


def new_key(workspace_id, kind: str, ext: str) -> str:
    return f"workspaces/{workspace_id}/{kind}/{secrets.token_hex(16)}.{ext.lstrip('.')}"
