"""The worker's consumer survives the Redis transport failing to close a broken connection
(sdrcrm/celery.py): Celery 5.7.0 closes it after an outage, kombu's Redis transport may
raise AttributeError there, and unguarded the consumer stopped for good (the flake of
tests/failures/test_redis_outage.py under load). The outage test drives a real worker
through a real outage; this one pins the failing close, which that test hits only by timing."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from celery.worker.consumer.consumer import Consumer

from sdrcrm import celery as sdrcrm_celery


class BrokenConnection:
    connection_errors: tuple = ()
    channel_errors: tuple = ()
    closed = False

    def collect(self, socket_timeout: float | None = None) -> None:
        pass

    def close(self) -> None:
        self.closed = True
        raise AttributeError("'NoneType' object has no attribute 'hostname'")  # as kombu's restore_unacked did


def consumer_with(connection: BrokenConnection) -> Consumer:
    consumer = Consumer.__new__(Consumer)
    consumer.connection = connection
    consumer.app = SimpleNamespace(conf=SimpleNamespace(worker_cancel_long_running_tasks_on_connection_loss=True,
                                                        worker_enable_prefetch_count_reduction=False))
    return consumer


def test_celerys_own_handler_lets_the_transports_attribute_error_out():
    """Why the guard exists: Celery's handler, as released, raises what kombu raised."""
    with pytest.raises(AttributeError):
        sdrcrm_celery._on_connection_error_after_connected(consumer_with(BrokenConnection()), ConnectionError("gone"))


def test_the_guarded_handler_drops_the_connection_so_the_consumer_reconnects():
    connection = BrokenConnection()
    consumer = consumer_with(connection)

    Consumer.on_connection_error_after_connected(consumer, ConnectionError("Redis went away"))

    assert connection.closed and consumer.connection is None
