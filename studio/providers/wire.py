"""What every adapter does the same way: call lib/http, read JSON, classify failures.

The classification rules are decided once here (reference/providers.md section 12):

* a request that provably never left (DNS, connect refused, connect timeout) is
  TRANSIENT even for a submit: nothing was created, sending again is safe;
* a lost answer (read timeout, reset, garbage instead of JSON) is AMBIGUOUS for a
  submit, because the job may exist, and TRANSIENT for a read (poll, status);
* explicit HTTP answers go by status code, never by words in the message: 401/403 auth,
  402 out of credit, 408/425/429/5xx retryable (429 with its Retry-After), other 4xx
  permanent. Providers with body codes (Kling, Kie, WaveSpeed) refine this in their
  module before falling back here.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from django.conf import settings

from studio.lib import http
from studio.providers.base import Credentials, ErrorKind, ProviderError, WebhookRejected


def send(
    method: str,
    url: str,
    *,
    creates: bool = False,
    headers: Mapping[str, str] | None = None,
    json: Any = None,
    params: Mapping[str, str] | None = None,
) -> http.Response:
    """One request to a provider API. ``creates`` marks a call that may create a paid job."""
    try:
        return http.request(
            method,
            url,
            headers=headers,
            json=json,
            params=params,
            timeout=settings.STUDIO_PROVIDER_TIMEOUT,
        )
    except http.NotSent as error:
        raise ProviderError(ErrorKind.TRANSIENT, str(error)) from error
    except (http.NoResponse, http.TooLarge) as error:
        kind = ErrorKind.AMBIGUOUS if creates else ErrorKind.TRANSIENT
        raise ProviderError(kind, str(error)) from error
    except http.Refused as error:
        raise ProviderError(
            ErrorKind.PERMANENT, f"the provider address is not allowed: {error}"
        ) from error


def body(response: http.Response, *, creates: bool = False) -> Any:
    """The JSON of an answer; garbage is AMBIGUOUS for a submit, TRANSIENT otherwise."""
    try:
        return response.json()
    except ValueError as error:
        kind = ErrorKind.AMBIGUOUS if creates and response.ok else ErrorKind.TRANSIENT
        raise ProviderError(
            kind,
            f"unreadable answer (HTTP {response.status_code})",
            status_code=response.status_code,
        ) from error


def retry_after(headers: Mapping[str, str], default: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date."""
    value = headers.get("retry-after") or headers.get("Retry-After")
    if not value:
        return default
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())


def kind_for_status(status: int) -> ErrorKind:
    if status in (401, 403):
        return ErrorKind.AUTH
    if status == 402:
        return ErrorKind.OUT_OF_CREDIT
    if status == 429:
        return ErrorKind.RATE_LIMITED
    if status in (408, 425) or status >= 500:
        return ErrorKind.TRANSIENT
    return ErrorKind.PERMANENT


def raise_for_status(response: http.Response, detail: str = "") -> None:
    """Raise the ProviderError an unsuccessful answer means; do nothing on 2xx."""
    if response.ok:
        return
    kind = kind_for_status(response.status_code)
    raise ProviderError(
        kind,
        detail or f"HTTP {response.status_code}",
        retry_after=retry_after(response.headers, 5.0) if kind == ErrorKind.RATE_LIMITED else None,
        status_code=response.status_code,
    )


def json_or_none(response: http.Response) -> Any:
    """The JSON of an answer, or None when it is not JSON (an error page, an empty body)."""
    try:
        return response.json()
    except ValueError:
        return None


class HostedProvider:
    """What every hosted adapter shares: its keys, the address of its API and the
    headers that carry the key.

    ``base_url`` is the provider's public API; an account's own base URL (a gateway, or
    the bundled sandbox) replaces it. Providers whose key travels differently override
    ``auth_headers``.
    """

    base_url: ClassVar[str]

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials
        self.base = credentials.base_url or self.base_url

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credentials.api_key}"}

    def _headers(self, **extra: str) -> dict[str, str]:
        return {**self.auth_headers(), "Accept": "application/json", **extra}


def join(base: str, path: str) -> str:
    return base.rstrip("/") + "/" + path.lstrip("/")


def under(base: str, url: str) -> bool:
    """Whether a URL a provider handed back (fal status_url, Replicate urls.get) lies under
    the API base we called: our key is sent to it, so it must not lead anywhere else."""
    return url.startswith(base.rstrip("/") + "/")


def envelope(
    response: http.Response,
    *,
    creates: bool = False,
    kinds: Mapping[int, ErrorKind] | None = None,
    ok: int = 200,
) -> dict:
    """The JSON object of a ``{code, message|msg, data}`` answer (WaveSpeed, Kie; Kling
    with ``ok=0``, its success code).

    These providers put the outcome in the body ``code`` (Kie answers HTTP 200 with
    ``code: 402``), so that decides first: ``kinds`` maps the provider's own codes (Kie
    433, 455, 501...) and any other code reads like an HTTP status. The HTTP status
    decides only when the body carries no code (a gateway's HTML 502, an empty 401).
    """
    try:
        data = response.json()
    except ValueError:
        data = None
    code = data.get("code") if isinstance(data, dict) else None
    if isinstance(code, int) and not isinstance(code, bool) and code != ok:
        kind = (kinds or {}).get(code) or kind_for_status(code)
        raise ProviderError(
            kind,
            str(data.get("message") or data.get("msg") or f"code {code}"),
            retry_after=retry_after(response.headers, 5.0)
            if kind == ErrorKind.RATE_LIMITED
            else None,
            status_code=code,
        )
    raise_for_status(response)
    if not isinstance(data, dict):
        kind = ErrorKind.AMBIGUOUS if creates else ErrorKind.TRANSIENT
        raise ProviderError(
            kind,
            f"unreadable answer (HTTP {response.status_code})",
            status_code=response.status_code,
        )
    return data


WEBHOOK_TOLERANCE = 300.0  # seconds: an older (or far-future) signed webhook may be a replay


def require_fresh(timestamp: str, tolerance: float = WEBHOOK_TOLERANCE) -> None:
    """Reject a webhook whose signed Unix timestamp (seconds) is missing or too far off."""
    try:
        sent = float(timestamp)
    except (TypeError, ValueError):
        raise WebhookRejected("missing or unreadable webhook timestamp") from None
    if abs(time.time() - sent) > tolerance:
        raise WebhookRejected("stale webhook timestamp")


# Words providers use when they refuse content but give no code for it (Kie failMsg,
# WaveSpeed ``error``, Givon): the only signal there is, so it is read here, once.
_MODERATION_WORDS = (
    "content policy",
    "moderation",
    "sensitive",
    "nsfw",
    "flagged",
    "risk control",
)


def looks_moderated(message: str) -> bool:
    """Whether a provider's failure text says its content rules refused the take."""
    text = message.lower()
    return any(word in text for word in _MODERATION_WORDS)
