"""Celery wiring: settings come from Django (``CELERY_*``), tasks from each app's tasks.py.

Tasks are doorbells, not the truth: each takes ids, re-reads the row and does one
repeatable step (see studio/generation/tasks.py). ``delay_on_commit`` is available on
every task because the Django fixup makes ``DjangoTask`` the default task class.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")

app = Celery("studio")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
