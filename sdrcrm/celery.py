import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sdrcrm.settings")

app = Celery("sdrcrm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def ensure_filesystem_broker_folders() -> None:
    """The filesystem transport needs its folders before a worker or client starts."""
    from django.conf import settings

    if str(app.conf.broker_url).startswith("filesystem"):
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get(key)
            if folder:
                os.makedirs(folder, exist_ok=True)
    backend = str(settings.CELERY_RESULT_BACKEND)
    if backend.startswith("file://"):
        os.makedirs(backend.removeprefix("file://"), exist_ok=True)
