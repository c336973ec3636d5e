from django.urls import path

from studio.media import views

app_name = "media"
urlpatterns = [path("<path:name>", views.serve, name="serve")]
