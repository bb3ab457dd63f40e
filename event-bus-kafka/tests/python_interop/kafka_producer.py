"""
Produce Open edX events to Kafka with upstream's own producer (``edx_event_bus_kafka``), for the
Rust consumer to read: the events of the Redis interop suite, each keyed by ``KEY_FIELDS``.

For every event it sends, it prints one JSON line::

    {"topic": ..., "event_type": ..., "key_field": ..., "metadata_json": ..., "data": ...}

It exits non-zero if upstream's producer logged any error (it logs failures instead of raising).

Usage: kafka_producer.py --bootstrap-servers HOST:PORT --registry-url URL --topic-prefix PREFIX
"""
import argparse
import logging
import sys

from kafka_common import KEY_FIELDS, configure, data_json, emit


class CountErrors(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.errors = []

    def emit(self, record):
        self.errors.append(record.getMessage())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--registry-url", required=True)
    parser.add_argument("--topic-prefix", required=True)
    args = parser.parse_args()

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    errors = CountErrors()
    logging.getLogger().addHandler(errors)
    configure(args.bootstrap_servers, args.registry_url, args.topic_prefix, service_name="python-lms")

    from edx_event_bus_kafka import create_producer
    from python_producer import events

    producer = create_producer()
    if producer is None:
        sys.exit("create_producer() returned None: see the log above")
    for topic, signal, event_data in events():
        metadata = signal.generate_signal_metadata()
        key_field = KEY_FIELDS[signal.event_type]
        producer.send(
            signal=signal, topic=topic, event_key_field=key_field, event_data=event_data, event_metadata=metadata
        )
        emit({
            "topic": topic,
            "event_type": signal.event_type,
            "key_field": key_field,
            "metadata_json": metadata.to_json(),
            "data": data_json(signal, event_data),
        })
    producer.prepare_for_shutdown()
    if errors.errors:
        sys.exit("upstream's producer failed: " + " | ".join(errors.errors))


if __name__ == "__main__":
    main()
