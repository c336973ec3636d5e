from django.apps import AppConfig


class PromptsConfig(AppConfig):
    name = "studio.prompts"
    label = "prompts"
