"""The digest doorbell: beat rings it every few minutes; services decide who is due."""

from __future__ import annotations

from celery import shared_task

from studio.review import services


@shared_task(soft_time_limit=240, time_limit=300, expires=600)
def send_digests() -> int:
    return services.send_digests()
