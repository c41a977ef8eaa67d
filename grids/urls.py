from django.urls import path

from grids import patrol_views, views

app_name = "grids"

urlpatterns = [
    path("mine/", views.my_grids, name="my_grids"),
    path("areas/<str:code>/", views.area_detail, name="area_detail"),
    path("patrol/", patrol_views.patrol, name="patrol"),
    path("patrols/today/", patrol_views.patrols_today, name="patrols_today"),
]
