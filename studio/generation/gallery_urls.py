from django.urls import path

from studio.generation import views

app_name = "gallery"
urlpatterns = [path("", views.gallery, name="index")]
