"""Every page route of the opportunities app (`opportunities:`), included by sdrcrm/urls.py."""

from django.urls import path

from leads.views import bulk, trash

from .views import iqms, opportunities

app_name = "opportunities"
urlpatterns = [
    path("new/<int:account_pk>/", opportunities.opportunity_new, name="new"),
    path("", opportunities.opportunity_list, name="list"),
    path("export.csv", opportunities.opportunity_export, name="export"),
    path("bulk/", bulk.bulk_start, {"record": "opportunity"}, name="bulk"),
    path("board/", opportunities.opportunity_board, name="board"),
    path("mine/", opportunities.seller_home, name="home"),
    path("<int:pk>/", opportunities.opportunity_detail, name="detail"),
    path("<int:pk>/stage/", opportunities.opportunity_stage, name="stage"),
    path("<int:pk>/touch/", opportunities.opportunity_touch, name="touch"),
    path("<int:pk>/edit/", opportunities.opportunity_edit, name="edit"),
    path("<int:pk>/delete/", trash.record_delete, {"kind": "opportunity"}, name="delete"),
    path("iqms/", iqms.iqm_list, name="iqms"),
    path("iqms/lead/<int:pk>/book/", iqms.lead_book_iqm, name="iqm-book"),
    path("iqms/<int:pk>/disposition/", iqms.iqm_disposition, name="iqm-disposition"),
]
