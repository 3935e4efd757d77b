"""`manage.py demo [--port 8000] [--leads N]`: the whole product on one machine.

Migrates, collects static files and seeds the demo data, then runs the web server, a
Celery worker and Celery beat as child processes. Ctrl-C (or SIGTERM) stops all three;
if one of them dies on its own, the others are stopped too and the command fails.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from leads.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERS
from sdrcrm.models import Role

HEALTH_TIMEOUT = 30  # seconds for the web server to answer /healthz
STOP_TIMEOUT = 10  # seconds a child gets to exit after SIGTERM before it is killed


def raise_interrupt(signum: int, frame: FrameType | None) -> None:
    # SIGTERM (docker stop, timeout, systemd) and SIGHUP (terminal closed) take the same
    # clean path as Ctrl-C, so no child outlives the command.
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Migrate, seed demo data, then run web server, Celery worker and beat until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000, help="web server port on 127.0.0.1 (default 8000)")
        parser.add_argument("--leads", type=int, default=3000, help="demo leads to create (default 3000)")

    def handle(self, *args: Any, port: int, leads: int, **options: Any) -> None:
        check_port_free(port)
        call_command("migrate", interactive=False)
        call_command("collectstatic", interactive=False, verbosity=0)
        call_command("seed_demo", leads=leads)
        self.stdout.flush()

        # Explicitly, because a shell starts `make demo &` with SIGINT ignored and Python
        # keeps it that way; `kill -INT` must stop the demo however it was launched.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, raise_interrupt)
        signal.signal(signal.SIGHUP, raise_interrupt)
        children: dict[str, subprocess.Popen[bytes]] = {}
        died: tuple[str, int] | None = None
        try:
            start_children(children, port)
            self.wait_until_healthy(children, port)
            self.stdout.write(banner(port))
            self.stdout.flush()
            died = wait_for_first_exit(children)
        except KeyboardInterrupt:
            self.stdout.write("\nStopping web, worker and beat ...")
        finally:
            self.stop_children(children)
        if died is not None:
            name, code = died
            raise CommandError(f"The {name} process exited on its own (exit code {code}); stopped the others.")
        self.stdout.write("Stopped.")

    def wait_until_healthy(self, children: dict[str, subprocess.Popen[bytes]], port: int) -> None:
        url = f"http://127.0.0.1:{port}/healthz"
        # No proxy: an http_proxy in the environment must not swallow a local request.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + HEALTH_TIMEOUT
        while True:
            died = first_exited(children)
            if died is not None:
                raise CommandError(f"The {died[0]} process exited while starting (exit code {died[1]}); "
                                   "see its output above.")
            try:
                with opener.open(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:  # not listening yet, or 503 while the broker is not ready
                pass
            if time.monotonic() > deadline:
                raise CommandError(f"{url} did not answer 200 within {HEALTH_TIMEOUT} s; see the output above.")
            time.sleep(0.5)

    def stop_children(self, children: dict[str, subprocess.Popen[bytes]]) -> None:
        # A second Ctrl-C must not cut the shutdown short and leave orphans; it is
        # bounded anyway (STOP_TIMEOUT, then kill).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for proc in children.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        for name, proc in children.items():
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"The {name} process did not stop within {STOP_TIMEOUT} s; killing it.")
                proc.kill()
                proc.wait()


def check_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Same option the web server uses, so a closing connection does not count as busy.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            raise CommandError(
                f"Port {port} on 127.0.0.1 is already in use; stop what uses it or pass --port."
            ) from None


def start_children(children: dict[str, subprocess.Popen[bytes]], port: int) -> None:
    """Start web, worker and beat, adding each to `children` as soon as it runs so an
    interrupt halfway still stops the ones already started."""
    schedule = Path(settings.CELERY_BEAT_SCHEDULE_FILENAME)
    schedule.parent.mkdir(parents=True, exist_ok=True)
    python = sys.executable  # the venv's interpreter, whatever PATH says
    commands = {
        "web": [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        "worker": [python, "-m", "celery", "-A", "sdrcrm", "worker", "--loglevel=INFO", "--concurrency=2"],
        "beat": [python, "-m", "celery", "-A", "sdrcrm", "beat", "--loglevel=INFO", f"--schedule={schedule}"],
    }
    # Unbuffered, so the children's logs show up as they happen even when piped.
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for name, command in commands.items():
        child_env = {**env, "DEBUG": "true"} if name == "web" else env
        # Their own session: Ctrl-C reaches only this command, which then stops them in
        # order instead of each child reacting to the terminal's signal on its own.
        children[name] = subprocess.Popen(command, cwd=settings.BASE_DIR, env=child_env, start_new_session=True)


def first_exited(children: dict[str, subprocess.Popen[bytes]]) -> tuple[str, int] | None:
    for name, proc in children.items():
        code = proc.poll()
        if code is not None:
            return name, code
    return None


def wait_for_first_exit(children: dict[str, subprocess.Popen[bytes]]) -> tuple[str, int]:
    while True:
        died = first_exited(children)
        if died is not None:
            return died
        time.sleep(0.5)


def describe_database() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite ({db['NAME']})"
    vendor = db["ENGINE"].rsplit(".", 1)[-1]
    return f"{vendor} ({db.get('HOST') or 'localhost'}:{db.get('PORT') or 'default port'}/{db['NAME']})"


def describe_broker() -> str:
    url = urlsplit(settings.CELERY_BROKER_URL)
    if url.scheme == "filesystem":
        return f"filesystem ({settings.CELERY_BROKER_TRANSPORT_OPTIONS['data_folder_in']})"
    # Host and port only: the URL may carry a password.
    return f"{url.scheme} ({url.hostname}:{url.port or 'default port'})"


def banner(port: int) -> str:
    base = f"http://127.0.0.1:{port}"
    width = max(len(user.username) for user in DEMO_USERS)
    logins = "\n".join(
        f"    {user.username:<{width}}  {Role(user.role).label:<14} {user.region.upper():<5} {user.team}"
        for user in DEMO_USERS
    )
    rule = "=" * 72
    return f"""
{rule}
SDR CRM demo is running.

  Open      {base}/
  API docs  {base}/api/docs/
  Admin     {base}/admin/   (log in as ops)

  Logins (password for every user: {DEMO_PASSWORD})
    {"username":<{width}}  {"role":<14} {"region":<5} team
{logins}
  integration is for the API: POST username and password to {base}/api/v1/auth/token/

  Database  {describe_database()}
  Broker    {describe_broker()}

Press Ctrl-C to stop web, worker and beat.
{rule}
"""
