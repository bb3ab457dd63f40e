"""
Produce Open edX events to Redis with upstream's own producer (``edx_event_bus_redis``), for the
Rust consumer to read.

For every event it sends, it prints one JSON line to stdout::

    {"topic": ..., "event_type": ..., "metadata_json": <EventsMetadata.to_json()>,
     "data": <AvroSignalSerializer(signal).to_dict(event_data)>}

so the Rust side can check it received exactly that. It exits non-zero if upstream's producer
failed to add any event (upstream logs producing errors instead of raising them, so the script
checks the streams' lengths itself).

Usage: python_producer.py --redis-url redis://127.0.0.1:6379 --topic-prefix PREFIX
"""
import argparse
import logging
import sys
from datetime import datetime, timezone

from common import configure, data_json, emit


def events():
    """
    ``(topic, signal, event_data)`` for every event to send: several event types, optional
    fields set and unset, lists, dicts, datetimes with and without microseconds, opaque keys,
    floats, non-ASCII text.
    """
    from opaque_keys.edx.keys import CourseKey, UsageKey
    from openedx_events.content_authoring import data as authoring
    from openedx_events.content_authoring.signals import COURSE_CATALOG_INFO_CHANGED, XBLOCK_PUBLISHED
    from openedx_events.learning import data as learning
    from openedx_events.learning.signals import (
        COURSE_DISCUSSIONS_CHANGED,
        COURSE_ENROLLMENT_CREATED,
        COURSE_NOTIFICATION_REQUESTED,
        FORUM_THREAD_CREATED,
        PERSISTENT_GRADE_SUMMARY_CHANGED,
    )

    course_key = CourseKey.from_string("course-v1:edX+Interop+2024_T1")
    usage_key = UsageKey.from_string("block-v1:edX+Interop+2024_T1+type@problem+block@p1")
    learner = learning.UserData(
        id=42,
        is_active=True,
        pii=learning.UserPersonalData(username="zoë", email="zoe@example.com", name="Zoë Çelik 日本"),
    )
    staff = learning.UserData(
        id=9_007_199_254_740_993,  # above 2**53: must survive as an exact integer
        is_active=False,
        pii=learning.UserPersonalData(username="staff", email="staff@example.com", name=""),
    )
    start = datetime(2024, 1, 15, 9, 30, 0, tzinfo=timezone.utc)
    end = datetime(2024, 6, 30, 23, 59, 59, 999_999, tzinfo=timezone.utc)

    yield "learning", COURSE_ENROLLMENT_CREATED, {
        "enrollment": learning.CourseEnrollmentData(
            user=learner,
            course=learning.CourseData(course_key=course_key, display_name="Interop 101", start=start, end=end),
            mode="verified",
            is_active=True,
            creation_date=datetime(2024, 2, 1, 8, 0, 0, 123_456, tzinfo=timezone.utc),
            created_by=staff,
        )
    }
    yield "learning", COURSE_ENROLLMENT_CREATED, {
        "enrollment": learning.CourseEnrollmentData(
            user=learner,
            course=learning.CourseData(course_key=course_key),
            mode="audit",
            is_active=False,
            creation_date=start,
        )
    }
    yield "learning", COURSE_DISCUSSIONS_CHANGED, {
        "configuration": learning.CourseDiscussionConfigurationData(
            course_key=course_key,
            provider_type="openedx",
            enable_graded_units=True,
            plugin_configuration={"allow_anonymous": True, "allow_anonymous_to_peers": False},
            contexts=[
                learning.DiscussionTopicContext(
                    title="Week 1",
                    usage_key=usage_key,
                    group_id=-7,
                    external_id="topic-1",
                    ordering=0,
                    context={"section": "Intro", "subsection": "Welcome"},
                ),
                learning.DiscussionTopicContext(title="General"),
            ],
        )
    }
    yield "learning", PERSISTENT_GRADE_SUMMARY_CHANGED, {
        "grade": learning.PersistentCourseGradeData(
            user_id=42,
            course=learning.CourseData(course_key=course_key, display_name="Interop 101"),
            course_edited_timestamp=end,
            course_version="65a1b2c3d4e5f60718293a4b",
            grading_policy_hash="dGhlIGhhc2g=",
            percent_grade=1 / 3,
            letter_grade="Pass",
            passed_timestamp=start,
        )
    }
    yield "learning", COURSE_NOTIFICATION_REQUESTED, {
        "course_notification_data": learning.CourseNotificationData(
            course_key=course_key,
            app_name="discussion",
            notification_type="new_discussion_post",
            content_url="https://lms.example.com/courses/x/discussion",
            content_context={"post_title": "Hello \"world\"", "replier_name": "Zoë"},
            audience_filters={"enrollment": ["verified", "audit"], "role": []},
        )
    }
    yield "learning", FORUM_THREAD_CREATED, {
        "thread": learning.DiscussionThreadData(
            body="First post\nwith two lines",
            commentable_id="topic-1",
            id="65a1b2c3",
            truncated=False,
            url="https://lms.example.com/t/65a1b2c3",
            user=learner,
            course_id=course_key,
            thread_type="question",
            anonymous=False,
            title="A question",
            group_id=3,
            discussion={"id": "d1", "title": "Week 1"},
            user_course_roles=["student"],
            user_forums_roles=["Student", "Community TA"],
            options={"followed": True},
        )
    }
    yield "authoring", XBLOCK_PUBLISHED, {
        "xblock_info": authoring.XBlockData(usage_key=usage_key, block_type="problem"),
    }
    yield "authoring", XBLOCK_PUBLISHED, {
        "xblock_info": authoring.XBlockData(
            usage_key=UsageKey.from_string("block-v1:edX+Interop+2024_T1+type@vertical+block@unit_1"),
            block_type="vertical",
            version=UsageKey.from_string(
                "block-v1:edX+Interop+2024_T1+branch@published-branch+version@65a1b2c3d4e5f60718293a4b"
                "+type@vertical+block@unit_1"
            ),
        ),
    }
    yield "authoring", COURSE_CATALOG_INFO_CHANGED, {
        "catalog_info": authoring.CourseCatalogData(
            course_key=course_key,
            name="Interop 101",
            schedule_data=authoring.CourseScheduleData(
                start=start, pacing="self", end=end, enrollment_start=None, enrollment_end=end
            ),
            hidden=True,
        )
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--topic-prefix", required=True)
    args = parser.parse_args()

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    configure(args.redis_url, args.topic_prefix, service_name="python-lms")

    from edx_event_bus_redis import create_producer
    from edx_event_bus_redis.internal.config import get_full_topic

    producer = create_producer()
    if producer is None:
        sys.exit("create_producer() returned None: EVENT_BUS_REDIS_CONNECTION_URL is not set")

    sent = {}
    for topic, signal, event_data in events():
        metadata = signal.generate_signal_metadata()
        producer.send(
            signal=signal,
            topic=topic,
            event_key_field=None,  # the Redis bus does not key messages
            event_data=event_data,
            event_metadata=metadata,
        )
        sent[topic] = sent.get(topic, 0) + 1
        emit({
            "topic": topic,
            "event_type": signal.event_type,
            "metadata_json": metadata.to_json(),
            "data": data_json(signal, event_data),
        })

    # Upstream's producer logs failures and returns; make them fatal here.
    for topic, count in sent.items():
        length = producer.client.xlen(get_full_topic(topic))
        if length != count:
            sys.exit(f"stream {get_full_topic(topic)!r} has {length} entries, expected {count}: see the log above")


if __name__ == "__main__":
    main()
