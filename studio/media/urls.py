from django.urls import path

from studio.media import views

app_name = "media"
urlpatterns = [
    # Before the catch-all below: stored files all live under workspaces/.
    path("for-provider/<str:token>/", views.for_provider, name="for_provider"),
    path("<path:name>", views.serve, name="serve"),
]
