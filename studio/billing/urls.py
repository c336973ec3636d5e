from django.urls import path

from studio.billing import views

app_name = "spend"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export.csv", views.export, name="export"),
    path("approvals/", views.approvals, name="approvals"),
    path("approvals/<uuid:pk>/approve/", views.approve, name="approve"),
    path("approvals/<uuid:pk>/decline/", views.decline, name="decline"),
]
