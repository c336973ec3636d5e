"""Preview: the embedded, free, offline provider.

It draws an animatic of the prompt (text cards, timed subtitles, an ambience bed and
a voice track) so a team can try the whole flow (builder, queue, storage, gallery,
review) with no key and no network. It is honest about what it is: every frame says
"Preview: offline draft, not AI". It goes through the same task path as hosted
providers; the only difference is that its result is a file on this machine instead
of a URL, so the pipeline stores it without a download.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import ClassVar

from studio.media.animatic import render_animatic
from studio.media.storyboard import AnimaticSpec
from studio.prompts.fields import PromptFields
from studio.providers.base import (
    Credentials,
    GenerationRequest,
    RemoteJob,
    RemoteStatus,
    WebhookCall,
    WebhookEvent,
    WebhookRejected,
)
from studio.providers.catalog import FAMILIES, FREE, Offer

LABEL = "Preview: offline draft, not AI"


class PreviewProvider:
    slug: ClassVar[str] = "preview"
    label: ClassVar[str] = "Preview (free offline draft)"
    offers: ClassVar[tuple[Offer, ...]] = tuple(
        Offer(provider="preview", family=key, remote_model=key, rates=FREE) for key in FAMILIES
    )
    reconcilable: ClassVar[bool] = True  # rendering again is harmless
    webhooks: ClassVar[str] = ""
    webhook_needs_secret: ClassVar[bool] = False
    image_transport: ClassVar[str] = "data"
    rate_limit_per_second: ClassVar[float] = 100.0
    credential_labels: ClassVar[dict[str, str]] = {}

    def __init__(self, credentials: Credentials | None = None) -> None:
        self.credentials = credentials or Credentials()

    def submit(self, request: GenerationRequest) -> RemoteJob:
        fields = PromptFields.from_dict(dict(request.preview))
        out = Path(tempfile.mkdtemp(prefix="studio-preview-")) / "preview.mp4"
        render_animatic(
            AnimaticSpec.from_prompt(
                fields,
                title=request.offer.model.label,
                label=LABEL,
                duration=request.duration,
                aspect_ratio=request.aspect_ratio,
                audio=request.audio,
            ),
            out,
        )
        return RemoteJob(external_id=request.job_id, status=RemoteStatus.SUCCEEDED, video_file=out)

    def poll(self, request: GenerationRequest, job: RemoteJob) -> RemoteJob:
        return self.submit(request)

    def reconcile(self, request: GenerationRequest) -> RemoteJob | None:
        return None

    def parse_webhook(self, call: WebhookCall) -> WebhookEvent:
        raise WebhookRejected("Preview sends no webhooks")

    def check_connection(self) -> None:
        return None
