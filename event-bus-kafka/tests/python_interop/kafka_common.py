"""
Set-up shared by the Kafka interop scripts: Django settings for upstream's Kafka event bus, the
events to send (those of the Redis interop suite, ``tests/python_interop/python_producer.py``),
and the key field each event type is produced with.
"""
import json
import os
import sys

# The Redis interop suite's events (and its JSON helpers), reused as they are.
REDIS_INTEROP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests", "python_interop")
sys.path.insert(0, REDIS_INTEROP)

# The key field of each event type: strings (opaque keys) and one long (a user id).
KEY_FIELDS = {
    "org.openedx.learning.course.enrollment.created.v1": "enrollment.course.course_key",
    "org.openedx.learning.discussions.configuration.changed.v1": "configuration.course_key",
    "org.openedx.learning.course.persistent_grade_summary.changed.v1": "grade.course.course_key",
    "org.openedx.learning.course.notification.requested.v1": "course_notification_data.course_key",
    "org.openedx.learning.forum.thread.created.v1": "thread.user.id",
    "org.openedx.content_authoring.xblock.published.v1": "xblock_info.usage_key",
    "org.openedx.content_authoring.course.catalog_info.changed.v1": "catalog_info.course_key",
}


def configure(bootstrap_servers, registry_url, topic_prefix, service_name):
    """
    Configure Django in-script for the Kafka event bus and load every Open edX signal.
    """
    import django
    from django.conf import settings

    settings.configure(
        EVENT_BUS_KAFKA_BOOTSTRAP_SERVERS=bootstrap_servers,
        EVENT_BUS_KAFKA_SCHEMA_REGISTRY_URL=registry_url,
        EVENT_BUS_TOPIC_PREFIX=topic_prefix,
        EVENTS_SERVICE_NAME=service_name,
        EVENT_BUS_KAFKA_CONSUMER_POLL_TIMEOUT=0.5,
        EVENT_BUS_KAFKA_CONSUMER_POLL_FAILURE_SLEEP=0.1,
        INSTALLED_APPS=["openedx_events", "edx_event_bus_kafka"],
        USE_TZ=True,
        LOGGING_CONFIG=None,
    )
    django.setup()

    from openedx_events.tooling import load_all_signals

    load_all_signals()


def data_json(signal, event_data):
    """
    The event data as upstream's serializer turns it into an Avro record dict.
    """
    from openedx_events.event_bus.avro.serializer import AvroSignalSerializer

    return AvroSignalSerializer(signal).to_dict(event_data)


def emit(record):
    """
    Write one JSON line to stdout and flush it.
    """
    sys.stdout.write(json.dumps(record, sort_keys=True) + "\n")
    sys.stdout.flush()
