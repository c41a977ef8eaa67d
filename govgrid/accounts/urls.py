from django.urls import path

from govgrid.accounts import views

app_name = "accounts"

urlpatterns = [
    path("unit/", views.unit_home, name="unit_home"),
    path("admin-home/", views.admin_home, name="admin_home"),
    path("no-role/", views.no_role, name="no_role"),
]
