"""Test settings: the real settings with fast hashing, locmem email and a temp media root.

The database is a file (not SQLite's in-memory default) so that a real Celery worker
started by the integration tests sees the same data; DATABASE_URL switches to PostgreSQL.
"""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("STUDIO_HTTPS", "false")
# Everything a test run writes (SQLite file, broker folders, keys) stays in its own folder
# under var/test, shared with the worker processes it starts and with no other run.
os.environ.setdefault(
    "STUDIO_VAR_DIR",
    str(Path(__file__).resolve().parent.parent / "var" / "test" / f"run-{os.getpid()}"),
)
os.environ.setdefault("STUDIO_PUBLIC_URL", "")

from studio.settings import *  # noqa: F403
from studio.settings import DATABASES, STORAGES, VAR_DIR

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
AXES_ENABLED = False
MEDIA_ROOT = Path(
    os.environ.get("STUDIO_TEST_MEDIA_ROOT") or tempfile.mkdtemp(prefix="studio-media-")
)
STORAGES = {
    **STORAGES,
    "default": {**STORAGES["default"], "OPTIONS": {**STORAGES["default"].get("OPTIONS", {})}},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if STORAGES["default"]["BACKEND"].endswith("SignedFileSystemStorage"):
    STORAGES["default"]["OPTIONS"]["location"] = str(MEDIA_ROOT)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
ALLOWED_HOSTS = ["*"]
# whitenoise wants the folder to exist; tests serve static files through the finders.
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True
