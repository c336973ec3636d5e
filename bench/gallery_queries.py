"""Gallery cost: queries and time per page as the workspace grows.

Prints, for workspaces of 100, 1,000 and 10,000 takes, how many SQL queries the first
gallery page costs and how long it takes to render (median of 5). The query count must
not grow with the number of takes or with the page size.

    .venv/bin/python bench/gallery_queries.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ["STUDIO_VAR_DIR"] = tempfile.mkdtemp(prefix="studio-bench-")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from studio.generation.models import Clip, Generation, Status  # noqa: E402
from tests import factories  # noqa: E402


def grow(owner, shot, total: int) -> None:
    """Add takes (half with clips) by bulk insert until the workspace has ``total``."""
    have = Generation.objects.count()
    template = factories.take(owner, shot_=shot)
    rows, clips = [], []
    for n in range(have + 1, total):
        take = Generation(
            workspace_id=owner.workspace_id,
            shot=shot,
            created_by=owner.user,
            request_key=template.request_key,
            take_index=n,
            number=n + 1,
            provider="preview",
            model="kling-2.6-pro",
            prompt=template.prompt,
            compiled_prompt=template.compiled_prompt,
            params=template.params,
            status=Status.SUCCEEDED if n % 2 else Status.FAILED,
        )
        rows.append(take)
    Generation.objects.bulk_create(rows, batch_size=1000)
    for take in Generation.objects.filter(status=Status.SUCCEEDED, clip__isnull=True):
        clips.append(
            Clip(
                generation=take,
                workspace_id=take.workspace_id,
                file="c.mp4",
                poster="p.jpg",
                size_bytes=1,
                duration_seconds=5,
                width=1280,
                height=720,
                video_codec="h264",
            )
        )
    Clip.objects.bulk_create(clips, batch_size=1000)


def main() -> None:
    call_command("migrate", verbosity=0)
    owner = factories.owner()
    shot = factories.shot(owner.workspace)
    client = Client()
    client.force_login(owner.user)
    url = reverse("gallery:index")
    print(f"{'takes':>8} {'queries':>8} {'median ms':>10}")
    for total in (100, 1_000, 10_000):
        grow(owner, shot, total)
        timings = []
        for _ in range(5):
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                client.get(url)
                timings.append((time.perf_counter() - start) * 1000)
        print(f"{total:>8} {len(captured):>8} {statistics.median(timings):>10.1f}")


if __name__ == "__main__":
    main()
