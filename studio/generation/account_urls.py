from django.urls import path

from studio.generation import account_views

app_name = "providers"
urlpatterns = [
    path("", account_views.index, name="index"),
    path("sandbox/", account_views.add_sandbox, name="add_sandbox"),
    path("<uuid:pk>/", account_views.update, name="update"),
    path("<uuid:pk>/check/", account_views.check, name="check"),
]
