FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml ./
RUN pip install . && useradd --create-home crm
COPY . .
# Static files are collected at build time; the key below exists only for this step.
RUN PRODUCTION=true SECRET_KEY=build-only-not-a-secret-build-only-not-a-secret-0000 \
    STATIC_ROOT=/app/var/static python manage.py collectstatic --noinput -v0
ENV STATIC_ROOT=/app/var/static PRODUCTION=true
USER crm
EXPOSE 8000
# Workers and timeout: gunicorn.conf.py (one worker per core, WEB_CONCURRENCY to change it).
CMD ["gunicorn", "sdrcrm.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
