"""Every page route of the leads app: leads (with their sequences, conversion and merges,
and the managers' team queues), contacts and accounts, each list under its own URL
namespace (`leads:`, `contacts:`, `accounts:`), included by sdrcrm/urls.py."""

from django.urls import path

from .views import (
    accounts,
    bulk,
    contacts,
    conversion,
    edits,
    erasures,
    imports,
    leads,
    merge,
    queues,
    sequences,
    today,
    touches,
    trash,
)

lead_patterns = [
    path("", leads.lead_list, name="list"),
    path("export.csv", leads.lead_export, name="export"),
    path("bulk/", bulk.bulk_start, {"record": "lead"}, name="bulk"),
    path("<int:pk>/", leads.lead_detail, name="detail"),
    path("<int:pk>/status/", leads.lead_status, name="status"),
    path("<int:pk>/touch/", touches.lead_touch, name="touch"),
    path("<int:pk>/edit/", edits.lead_edit, name="edit"),
    path("<int:pk>/tasks/", today.lead_task_add, name="task-add"),
    path("today/", today.today_page, name="today"),
    path("tasks/<int:pk>/done/", today.task_done, name="task-done"),
    path("tasks/<int:pk>/snooze/", today.task_snooze, name="task-snooze"),
    path("<int:pk>/enroll/", sequences.lead_enroll, name="enroll"),
    path("enrollments/<int:pk>/event/", sequences.enrollment_event, name="enrollment-event"),
    path("enrollments/<int:pk>/finish/", sequences.enrollment_finish, name="enrollment-finish"),
    path("sequences/", sequences.sequence_list, name="sequences"),
    path("<int:pk>/spam/", leads.lead_spam_mark, name="spam"),
    path("<int:pk>/delete/", trash.record_delete, {"kind": "lead"}, name="delete"),
    path("<int:pk>/convert/", conversion.lead_convert, name="convert"),
    path("<int:pk>/merge/", merge.lead_merge_view, name="merge"),
    path("<int:pk>/merges/<int:tombstone_id>/undo/", merge.merge_undo_view, name="merge-undo"),
    path("queues/", queues.team_queues_view, name="queues"),
    path("imports/", imports.import_list, name="imports"),
    path("imports/<int:pk>/", imports.import_detail, name="import"),
    path("imports/<int:pk>/mapping/", imports.import_remap, name="import-remap"),
    path("imports/<int:pk>/run/", imports.import_run, name="import-run"),
    path("erasures/", erasures.erasure_list, name="erasures"),
    path("erasures/<int:pk>/lift/", erasures.erasure_lift, name="erasure-lift"),
]
contact_patterns = [
    path("", contacts.contact_list, name="list"),
    path("export.csv", contacts.contact_export, name="export"),
    path("bulk/", bulk.bulk_start, {"record": "contact"}, name="bulk"),
    path("<int:pk>/", contacts.contact_detail, name="detail"),
    path("<int:pk>/status/", contacts.contact_status, name="status"),
    path("<int:pk>/touch/", touches.contact_touch, name="touch"),
    path("<int:pk>/edit/", edits.contact_edit, name="edit"),
    path("<int:pk>/delete/", trash.record_delete, {"kind": "contact"}, name="delete"),
]
# The page of any bulk action, whichever list it came from (sdrcrm/urls.py puts it at /bulk/).
bulk_patterns = [path("<int:pk>/", bulk.bulk_detail, name="bulk-detail")]
account_patterns = [
    path("", accounts.account_list, name="list"),
    path("export.csv", accounts.account_export, name="export"),
    path("bulk/", bulk.bulk_start, {"record": "account"}, name="bulk"),
    path("<int:pk>/", accounts.account_detail, name="detail"),
    path("<int:pk>/target/", accounts.account_target, name="target"),
    path("<int:pk>/delete/", trash.record_delete, {"kind": "account"}, name="delete"),
]
# Ops' Recently deleted page and its Restore buttons (sdrcrm/urls.py puts them at /deleted/).
trash_patterns = [
    path("", trash.recently_deleted, name="recently-deleted"),
    path("<str:kind>/<int:pk>/restore/", trash.record_restore, name="record-restore"),
]
