"""The REST API's shared parts (record-level access, the error format, field history)
and the project's own endpoints: users, teams, job runs, notifications, the token.
The router, with every app's viewsets, is in sdrcrm/urls.py."""
