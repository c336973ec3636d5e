from django.urls import path

from studio.generation import webhooks

app_name = "webhooks"
urlpatterns = [path("<slug:provider>/<str:token>/", webhooks.receive, name="receive")]
