from django.apps import AppConfig


class MediaConfig(AppConfig):
    name = "studio.media"
    label = "media"
