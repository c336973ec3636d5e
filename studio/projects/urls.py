from django.urls import path

from studio.projects import views
from studio.prompts import views as builder

app_name = "projects"
urlpatterns = [
    path("", views.index, name="index"),
    path("<uuid:pk>/", views.detail, name="detail"),
    path("<uuid:pk>/rename/", views.rename, name="rename"),
    path("<uuid:pk>/archive/", views.archive, name="archive"),
    path("<uuid:pk>/shots/", views.create_shot, name="create_shot"),
    path("shots/new/", views.new_shot, name="new_shot"),
    path("shots/<uuid:pk>/", builder.shot, name="shot"),
    path("shots/<uuid:pk>/live/", builder.builder_live_hx, name="builder_live_hx"),
]
