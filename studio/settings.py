"""One settings module, driven by the environment, with embedded defaults.

Without any environment Studio runs on SQLite (WAL), a filesystem Celery broker
and local media under ``var/``. ``DATABASE_URL``, ``CELERY_BROKER_URL`` and the
``AWS_*`` variables switch to PostgreSQL, Redis and S3. Every variable is listed
in ``.env.example``.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from csp.constants import NONE, SELF
from environs import Env

BASE_DIR = Path(__file__).resolve().parent.parent
env = Env()
env.read_env(BASE_DIR / ".env", recurse=False)

VAR_DIR = env.path("STUDIO_VAR_DIR", BASE_DIR / "var")
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", False)


def _persisted_secret(name: str) -> str:
    """A random secret kept in var/, so a fresh install is safe without configuration."""
    path = VAR_DIR / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", "") or _persisted_secret("secret_key")
# Fernet keys for provider API keys at rest, newest first (MultiFernet rotation).
STUDIO_ENCRYPTION_KEYS = env.list("STUDIO_ENCRYPTION_KEYS", []) or [
    _persisted_secret("encryption_key")
]

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", [])
# The address providers use to reach this instance (webhooks, signed image URLs).
# Empty means no webhooks are requested and results arrive by polling only.
STUDIO_PUBLIC_URL = env.str("STUDIO_PUBLIC_URL", "").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "django_htmx",
    "template_partials",
    "csp",
    "axes",
    "studio.accounts",
    "studio.projects",
    "studio.prompts",
    "studio.generation",
    "studio.providers",
    "studio.media",
    "studio.billing",
    "studio.review",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "studio.accounts.middleware.WorkspaceMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "studio.urls"
WSGI_APPLICATION = "studio.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "studio.accounts.context_processors.workspace",
            ],
            "builtins": [
                "template_partials.templatetags.partials",
                "studio.generation.templatetags.ui",
            ],
        },
    }
]
FORM_RENDERER = "studio.lib.forms.FormRenderer"

# --- Database -------------------------------------------------------------------------
DATABASES = {
    "default": env.dj_db_url(
        "DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'studio.sqlite3'}", conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web and worker write at the same time. WAL lets readers proceed during a write,
    # IMMEDIATE takes the write lock at BEGIN (no lock upgrade deadlock, so no instant
    # "database is locked"), and the busy timeout makes writers queue instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA busy_timeout=30000;"
            "PRAGMA foreign_keys=ON;"
        ),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Throttles (guest-link passwords) count in the cache: share one (Redis) between web
# processes so a limit holds across them.
CACHES = {"default": env.dj_cache_url("CACHE_URL", default="locmem://")}

# --- Auth -----------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "gallery:index"
LOGOUT_REDIRECT_URL = "login"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"

# --- Email ----------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "Studio <studio@localhost>")
if env.str("EMAIL_URL", ""):
    vars().update(env.email_url("EMAIL_URL"))

# --- Static and media -----------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("MEDIA_ROOT", VAR_DIR / "media")
# How long a signed media link (player, download, provider fetch) stays valid.
STUDIO_MEDIA_URL_TTL = env.int("STUDIO_MEDIA_URL_TTL", 900)

if env.str("AWS_STORAGE_BUCKET_NAME", ""):
    _media_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", None),
            "region_name": env.str("AWS_S3_REGION_NAME", None),
            "default_acl": None,  # private objects
            "querystring_auth": True,  # every URL is presigned...
            "querystring_expire": STUDIO_MEDIA_URL_TTL,  # ...and short-lived
            "file_overwrite": False,
        },
    }
    CSP_MEDIA_ORIGINS = env.list("STUDIO_MEDIA_ORIGINS", ["https:"])
else:
    _media_storage = {
        "BACKEND": "studio.media.storage.SignedFileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    }
    CSP_MEDIA_ORIGINS = []
STORAGES = {
    "default": _media_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 4

# --- Celery ---------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem"):
    _broker_dir = VAR_DIR / "broker"
    for sub in ("queue", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    # Every time limit and countdown stays under half of this (see studio/celery.py).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 1800}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True  # the database row is the truth about a job
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True  # bounded by Generation.attempts
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
CELERY_WORKER_MAX_TASKS_PER_CHILD = 200
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
STUDIO_SWEEP_SECONDS = env.float("STUDIO_SWEEP_SECONDS", 20.0)
CELERY_BEAT_SCHEDULE = {
    "sweep-stale-takes": {
        "task": "studio.generation.tasks.sweep",
        "schedule": STUDIO_SWEEP_SECONDS,
    },
    "poll-due-takes": {"task": "studio.generation.tasks.poll_due", "schedule": 3.0},
    # Each person gets at most one digest per their chosen interval; this only rings.
    "send-review-digests": {"task": "studio.review.tasks.send_digests", "schedule": 300.0},
}

# --- Generation pipeline --------------------------------------------------------------
STUDIO_MAX_ATTEMPTS = env.int("STUDIO_MAX_ATTEMPTS", 5)  # deliveries of one step per take
STUDIO_LEASE_SECONDS = env.int("STUDIO_LEASE_SECONDS", 120)
STUDIO_TAKE_DEADLINE_MINUTES = env.int("STUDIO_TAKE_DEADLINE_MINUTES", 60)
STUDIO_MAX_DOWNLOAD_BYTES = env.int("STUDIO_MAX_DOWNLOAD_BYTES", 500 * 1024 * 1024)
# Seconds to wait for a provider API's answer before treating it as lost.
STUDIO_PROVIDER_TIMEOUT = env.float("STUDIO_PROVIDER_TIMEOUT", 30.0)
# Private host:port pairs outbound HTTP may reach anyway (the bundled fake provider).
STUDIO_OUTBOUND_ALLOW = env.list("STUDIO_OUTBOUND_ALLOW", [])
STUDIO_FAKE_PROVIDER_URL = env.str("STUDIO_FAKE_PROVIDER_URL", "").rstrip("/")
STUDIO_BILLING_LOCKS = True  # budget row lock on paid orders; negative-control tests turn it off

# --- Security -------------------------------------------------------------------------
HTTPS = env.bool("STUDIO_HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS and env.bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:", *CSP_MEDIA_ORIGINS],
        "media-src": [SELF, "blob:", *CSP_MEDIA_ORIGINS],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "object-src": [NONE],
    }
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", "INFO")},
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}
