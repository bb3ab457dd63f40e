"""
Consume Open edX events from Kafka with upstream's own consumer (``edx_event_bus_kafka``'s
``KafkaEventConsumer``), a new group reading each topic from its beginning, and print what
upstream's receivers got: one JSON line per event,

    {"topic": ..., "event_type": ..., "from_event_bus": true, "metadata_json": ..., "data": ...}

and ``{"topic": ..., "error": ...}`` for a message it could not consume. It stops a topic once it
has seen the expected number of messages there, or after the timeout (then it exits with 1).

Usage: kafka_consumer.py --bootstrap-servers ... --registry-url ... --topic-prefix ... --group G --expect TOPIC=N ...
"""
import argparse
import logging
import sys
import threading
import time

from kafka_common import configure, data_json, emit


def parse_expectation(text):
    topic, _, count = text.rpartition("=")
    if not topic or not count.isdigit():
        raise argparse.ArgumentTypeError(f"expected TOPIC=N, got {text!r}")
    return topic, int(count)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--registry-url", required=True)
    parser.add_argument("--topic-prefix", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--expect", type=parse_expectation, action="append", required=True)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for each topic")
    args = parser.parse_args()

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    configure(args.bootstrap_servers, args.registry_url, args.topic_prefix, service_name="python-consumer")

    from edx_event_bus_kafka import KafkaEventConsumer
    from openedx_events.tooling import OpenEdxPublicSignal

    class RecordingConsumer(KafkaEventConsumer):
        """
        Upstream's consumer reading a new group's topic from its beginning (upstream leaves
        librdkafka's default, the end), counting what it handles so it can stop.
        """

        def __init__(self, *pargs, expected, **kwargs):
            self.expected = expected
            self.seen = 0
            super().__init__(*pargs, **kwargs)

        def _create_consumer(self):
            from confluent_kafka import Consumer
            from edx_event_bus_kafka.internal.config import load_common_settings

            config = load_common_settings()
            config.update({
                "group.id": self.group_id,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "session.timeout.ms": 6000,
            })
            return Consumer(config)

        def count(self):
            self.seen += 1
            if self.seen >= self.expected:
                self._shut_down()

        def record_event_consuming_error(self, run_context, error, maybe_message):
            emit({"topic": self.topic, "error": repr(error)})
            if maybe_message is not None:
                self.count()
            super().record_event_consuming_error(run_context, error, maybe_message)

    current = {}

    def record(sender, signal, metadata, from_event_bus=False, **kwargs):  # pylint: disable=unused-argument
        consumer = current["consumer"]
        event_data = {key: kwargs[key] for key in signal.init_data}
        emit({
            "topic": consumer.topic,
            "event_type": signal.event_type,
            "from_event_bus": from_event_bus,
            "metadata_json": metadata.to_json(),
            "data": data_json(signal, event_data),
        })
        consumer.count()

    for signal in OpenEdxPublicSignal.all_events():
        signal.connect(record, weak=False)

    timed_out = []
    for topic, expected in args.expect:
        started = time.monotonic()
        consumer = RecordingConsumer(topic, args.group, expected=expected)
        current["consumer"] = consumer
        timer = threading.Timer(args.timeout, consumer._shut_down)  # pylint: disable=protected-access
        timer.start()
        try:
            consumer.consume_indefinitely()
        finally:
            timer.cancel()
        if consumer.seen < expected:
            timed_out.append(f"{topic}: saw {consumer.seen} of {expected} in {time.monotonic() - started:.1f} s")
    if timed_out:
        sys.exit("timed out: " + "; ".join(timed_out))


if __name__ == "__main__":
    main()
