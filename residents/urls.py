from django.urls import path

from residents import imports_views, views

app_name = "residents"

urlpatterns = [
    path("", views.index, name="index"),
    path("people/new/", views.person_new, name="person_new"),
    path("people/<int:pk>/", views.person_detail, name="person_detail"),
    path("people/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("people/<int:pk>/enrol/", views.key_person_enrol, name="key_person_enrol"),
    path("residences/<int:pk>/end/", views.residence_end, name="residence_end"),
    path("organisations/<int:pk>/", views.organisation_detail, name="organisation_detail"),
    path("people/<int:pk>/reveal/<str:field>/", views.person_reveal, name="person_reveal"),
    path("people/export.xlsx", views.export_people, name="export_people"),
    path("houses/", views.house_list, name="house_list"),
    path("houses/new/", views.house_new, name="house_new"),
    path("houses/<int:pk>/", views.house_detail, name="house_detail"),
    path("key-persons/", views.key_persons, name="key_persons"),
    path("key-persons/<int:pk>/reveal/", views.key_person_reveal, name="key_person_reveal"),
    path("key-persons/<int:pk>/risk/", views.key_person_risk, name="key_person_risk"),
    path("visits/new/", views.visit_new, name="visit_new"),
    path("organisations/", views.organisations, name="organisations"),
    path("imports/new/", imports_views.import_new, name="import_new"),
    path("imports/<int:pk>/", imports_views.import_detail, name="import_detail"),
    path("imports/<int:pk>/status/", imports_views.import_status, name="import_status"),
]
