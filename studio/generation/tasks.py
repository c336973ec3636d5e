"""Celery tasks: doorbells that take ids and call the pipeline (see pipeline.py).

Time limits stay under half the Redis visibility timeout (1800 s) so a slow task is
never redelivered while it still runs; the lease and attempts cap recover the rest.
"""

from __future__ import annotations

from celery import shared_task

from studio.generation import pipeline


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def advance_take(generation_id: str) -> None:
    pipeline.advance(generation_id)


@shared_task(soft_time_limit=50, time_limit=60)
def sweep() -> dict[str, int]:
    return pipeline.sweep()


# Each poll may wait STUDIO_PROVIDER_TIMEOUT (30 s) for a slow provider; the limits leave
# room for that. Overlapping runs are harmless: each take is claimed before it is polled.
@shared_task(soft_time_limit=100, time_limit=120, expires=10)
def poll_due() -> int:
    return pipeline.poll_due()
