from django.urls import path

from incidents import views

app_name = "incidents"

urlpatterns = [
    path("report/", views.report_new, name="report_new"),
    path("desk-report/", views.desk_report_new, name="desk_report_new"),
    path("mine/", views.my_reports, name="my_reports"),
]
