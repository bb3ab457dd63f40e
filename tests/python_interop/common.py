"""
Set-up shared by the interop scripts: Django settings for the Redis event bus, and the JSON
forms both sides compare (upstream's own: ``EventsMetadata.to_json()`` and
``AvroSignalSerializer(signal).to_dict(data)``).

Django settings must be configured before ``edx_event_bus_redis`` is imported: it reads them at
import time.
"""
import json
import sys


def configure(redis_url, topic_prefix, service_name, poll_timeout=1):
    """
    Configure Django in-script for the Redis event bus and load every Open edX signal.
    """
    import django
    from django.conf import settings

    settings.configure(
        EVENT_BUS_REDIS_CONNECTION_URL=redis_url,
        EVENT_BUS_TOPIC_PREFIX=topic_prefix,
        EVENTS_SERVICE_NAME=service_name,
        # Short blocking reads, so a consumer notices a shut-down within a second.
        EVENT_BUS_REDIS_CONSUMER_POLL_TIMEOUT=poll_timeout,
        EVENT_BUS_REDIS_CONSUMER_POLL_FAILURE_SLEEP=0.1,
        INSTALLED_APPS=["openedx_events", "edx_event_bus_redis"],
        USE_TZ=True,
        LOGGING_CONFIG=None,
    )
    django.setup()

    from openedx_events.tooling import load_all_signals

    load_all_signals()


def data_json(signal, event_data):
    """
    The event data as upstream's serializer turns it into an Avro record dict (keys and datetimes
    as strings, ``None`` kept).
    """
    from openedx_events.event_bus.avro.serializer import AvroSignalSerializer

    return AvroSignalSerializer(signal).to_dict(event_data)


def emit(record):
    """
    Write one JSON line to stdout and flush it, so the Rust test reads it even if we crash later.
    """
    sys.stdout.write(json.dumps(record, sort_keys=True) + "\n")
    sys.stdout.flush()
