from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "studio.billing"
    label = "billing"
