from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import post_save


class ReviewConfig(AppConfig):
    name = "studio.review"
    label = "review"

    def ready(self) -> None:
        from studio.generation.models import Clip

        # A take is ready when its clip row appears. Listening here keeps the pipeline
        # unaware of review; notifying after the commit (robust: a failure is logged,
        # not raised) means a notification problem can never undo a saved clip.
        post_save.connect(_clip_saved, sender=Clip, dispatch_uid="review.take_ready")


def _clip_saved(sender, instance, created: bool, **kwargs) -> None:
    if created:
        from studio.review.services import notify_take_ready

        take = instance.generation
        transaction.on_commit(lambda: notify_take_ready(take), robust=True)
