from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("studio.generation.gallery_urls")),
    path("projects/", include("studio.projects.urls")),
    path("takes/", include("studio.generation.urls")),
    path("webhooks/", include("studio.generation.webhook_urls")),
    path("accounts/", include("studio.accounts.urls")),
    path("media/", include("studio.media.urls")),
    path("admin/", admin.site.urls),
]
