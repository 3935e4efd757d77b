from django.urls import path

from . import conversion_views, merge_views, queue_views, sequence_views, views

app_name = "leads"
urlpatterns = [
    path("", views.lead_list, name="list"),
    path("<int:pk>/", views.lead_detail, name="detail"),
    path("<int:pk>/status/", views.lead_status, name="status"),
    path("<int:pk>/enroll/", sequence_views.lead_enroll, name="enroll"),
    path("enrollments/<int:pk>/event/", sequence_views.enrollment_event, name="enrollment-event"),
    path("enrollments/<int:pk>/finish/", sequence_views.enrollment_finish, name="enrollment-finish"),
    path("sequences/", sequence_views.sequence_list, name="sequences"),
    path("<int:pk>/spam/", views.lead_spam_mark, name="spam"),
    *conversion_views.urlpatterns,
    *merge_views.urlpatterns,
    *queue_views.urlpatterns,
]
