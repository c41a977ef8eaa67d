from django.urls import include, path

from dispatch import views

app_name = "dispatch"

urlpatterns = [
    path("triage/", views.triage, name="triage"),
    path("unit/", views.unit_desk, name="unit_inbox"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/inbox/", views.dashboard_inbox, name="dashboard_inbox"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident_detail"),
    path("incidents/<int:pk>/panel/", views.incident_panel, name="incident_panel"),
    path("incidents/<int:pk>/act/", views.incident_action, name="incident_action"),
    path("attachments/<int:pk>/", views.attachment_file, name="attachment_file"),
    # The monthly assessment (dispatch/assessment/urls.py).
    path("assessment/", include("dispatch.assessment.urls")),
]
