"""
Upstream's Kafka event bus (``edx_event_bus_kafka``) for scale, run by ``event_bus.rs``: produces
COUNT ``XBLOCK_PUBLISHED`` events to ``{prefix}-python-speed`` with upstream's producer (``send``
for each, then ``prepare_for_shutdown``, which flushes), then consumes them with upstream's
``KafkaEventConsumer`` (a new group from the beginning; it commits after every message), and
prints one JSON line::

    {"count": N, "produce_per_s": ..., "consume_per_s": ..., "topic": "..."}

The topic is left for the Rust side to consume the very same bytes.

Usage: python_speed.py --bootstrap-servers HOST:PORT --registry-url URL --topic-prefix P --count N
"""
import argparse
import json
import logging
import os
import sys
import threading
import time

# The interop scripts' Django set-up and events, reused.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "python_interop"))

from kafka_common import KEY_FIELDS, configure  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--registry-url", required=True)
    parser.add_argument("--topic-prefix", required=True)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    configure(args.bootstrap_servers, args.registry_url, args.topic_prefix, service_name="python-speed")

    from confluent_kafka import Consumer
    from confluent_kafka.admin import AdminClient, NewTopic
    from edx_event_bus_kafka import KafkaEventConsumer, create_producer
    from edx_event_bus_kafka.internal.config import load_common_settings
    from python_producer import events

    topic = "python-speed"
    full_topic = f"{args.topic_prefix}-{topic}"
    # The broker does not create topics on first use.
    admin = AdminClient({"bootstrap.servers": args.bootstrap_servers})
    for future in admin.create_topics([NewTopic(full_topic, 1, 1)]).values():
        try:
            future.result()
        except Exception as error:  # pylint: disable=broad-except
            if "TOPIC_ALREADY_EXISTS" not in str(error):
                raise

    signal, event_data = next((s, d) for _, s, d in events() if s.event_type.endswith("xblock.published.v1"))
    key_field = KEY_FIELDS[signal.event_type]
    producer = create_producer()
    # One event first, so that registering the schemas is not timed.
    producer.send(signal=signal, topic=topic, event_key_field=key_field, event_data=event_data,
                  event_metadata=signal.generate_signal_metadata())
    producer.prepare_for_shutdown()
    started = time.perf_counter()
    for _ in range(args.count - 1):
        producer.send(signal=signal, topic=topic, event_key_field=key_field, event_data=event_data,
                      event_metadata=signal.generate_signal_metadata())
    producer.prepare_for_shutdown()
    produce_seconds = time.perf_counter() - started

    class CountingConsumer(KafkaEventConsumer):
        """
        Upstream's consumer, reading a new group from the beginning, stopping after COUNT.
        """

        def __init__(self, *pargs, **kwargs):
            self.seen = 0
            self.first = None
            super().__init__(*pargs, **kwargs)

        def _create_consumer(self):
            config = load_common_settings()
            config.update({
                "group.id": self.group_id,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "session.timeout.ms": 6000,
            })
            return Consumer(config)

    consumer = CountingConsumer(topic, f"python-speed-{os.getpid()}")

    def count(**kwargs):  # pylint: disable=unused-argument
        consumer.seen += 1
        if consumer.first is None:
            consumer.first = time.perf_counter()
        if consumer.seen >= args.count:
            consumer._shut_down()  # pylint: disable=protected-access

    signal.connect(count, weak=False)
    timer = threading.Timer(args.timeout, consumer._shut_down)  # pylint: disable=protected-access
    timer.start()
    try:
        consumer.consume_indefinitely()
    finally:
        timer.cancel()
    finished = time.perf_counter()
    if consumer.seen < args.count:
        sys.exit(f"upstream's consumer saw {consumer.seen} of {args.count} events in {args.timeout} s")
    # Timed from the first event handled, so the group's join is not counted; the first event
    # is left out.
    consume_seconds = finished - consumer.first
    print(json.dumps({
        "count": args.count,
        "produce_per_s": (args.count - 1) / produce_seconds,
        "consume_per_s": (args.count - 1) / consume_seconds,
        "topic": full_topic,
    }), flush=True)


if __name__ == "__main__":
    main()
