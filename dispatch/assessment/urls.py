from django.urls import path

from . import views

# Included by dispatch/urls.py under "assessment/" (names dispatch:assessment_*).
urlpatterns = [
    path("", views.assessment_home, name="assessment_home"),
    path("compute/", views.assessment_compute, name="assessment_compute"),
    path("<int:pk>/", views.run_detail, name="assessment_run"),
    path("<int:pk>/progress/", views.run_progress, name="assessment_progress"),
    path("<int:pk>/publish/", views.run_publish, name="assessment_publish"),
    path("<int:pk>/export.xlsx", views.run_export, name="assessment_export"),
    path("<int:pk>/print/", views.run_print, name="assessment_print"),
    path(
        "<int:pk>/schemes/<int:scheme_id>/groups/<int:group_id>/",
        views.group_detail,
        name="assessment_group",
    ),
    path("<int:pk>/results/<int:result_id>/", views.result_detail, name="assessment_result"),
    path(
        "<int:pk>/results/<int:result_id>/adjust/",
        views.result_adjust,
        name="assessment_adjust",
    ),
    path(
        "<int:pk>/results/<int:result_id>/cases/<str:code>/",
        views.result_cases,
        name="assessment_cases",
    ),
]
