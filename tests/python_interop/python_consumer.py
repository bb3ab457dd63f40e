"""
Consume Open edX events from Redis with upstream's own consumer (``edx_event_bus_redis``'s
``RedisEventConsumer``), reading each stream from its beginning (``check_backlog``), and print
what upstream's receivers got.

For every event dispatched to a receiver it prints one JSON line to stdout::

    {"topic": ..., "event_type": ..., "from_event_bus": true,
     "metadata_json": <EventsMetadata.to_json()>,
     "data": <AvroSignalSerializer(signal).to_dict(event_data)>}

and for every message upstream could not consume, ``{"topic": ..., "error": ...}``. It stops
consuming a topic once it has seen the expected number of messages there, or after the timeout
(then it exits with status 1).

Usage: python_consumer.py --redis-url URL --topic-prefix PREFIX --group GROUP --expect TOPIC=N [--expect ...]
"""
import argparse
import logging
import sys
import threading
import time

from common import configure, data_json, emit


def parse_expectation(text):
    topic, _, count = text.rpartition("=")
    if not topic or not count.isdigit():
        raise argparse.ArgumentTypeError(f"expected TOPIC=N, got {text!r}")
    return topic, int(count)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--topic-prefix", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--expect", type=parse_expectation, action="append", required=True)
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds to wait for each topic")
    args = parser.parse_args()

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    configure(args.redis_url, args.topic_prefix, service_name="python-consumer")

    from edx_event_bus_redis import RedisEventConsumer
    from openedx_events.tooling import OpenEdxPublicSignal

    class RecordingConsumer(RedisEventConsumer):
        """
        Upstream's consumer, counting what it handles so it can stop, and reporting the messages it
        could not consume (upstream only logs them).
        """

        def __init__(self, *pargs, expected, **kwargs):
            super().__init__(*pargs, **kwargs)
            self.expected = expected
            self.seen = 0

        def count(self):
            self.seen += 1
            if self.seen >= self.expected:
                self._shut_down()

        def record_event_consuming_error(self, run_context, error, maybe_message):
            # Errors with no message (a failed poll) are retried by upstream's loop; only count
            # messages that were read and could not be consumed.
            emit({"topic": self.topic, "error": repr(error), "message": repr(maybe_message)})
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
        consumer = RecordingConsumer(
            topic, args.group, "python-interop", check_backlog=True, expected=expected
        )
        current["consumer"] = consumer
        # Upstream's loop uses SIGALRM, so it must run on the main thread; a timer stops it.
        timer = threading.Timer(args.timeout, consumer._shut_down)  # pylint: disable=protected-access
        timer.start()
        started = time.monotonic()
        try:
            consumer.consume_indefinitely()
        finally:
            timer.cancel()
        if consumer.seen < expected:
            timed_out.append(
                f"{topic}: saw {consumer.seen} of {expected} messages in {time.monotonic() - started:.1f} s"
            )

    if timed_out:
        sys.exit("timed out: " + "; ".join(timed_out))


if __name__ == "__main__":
    main()
