//! Hostile Avro bytes give a typed `DecodeError` that names the field, never a panic or a wrong
//! payload: every truncation, trailing bytes, negative and huge lengths, over-long varints,
//! invalid UTF-8, bad union branches, and strings that are not keys, times or UUIDs.
//!
//! Each test starts from the bytes of a realistic payload, changes one thing, and checks the
//! error's `kind()`, its `path()` and that its message names the path.

use std::collections::BTreeMap;
use std::fmt::Debug;

use chrono::{DateTime, Utc};
use openedx_events::avro::{AvroWriter, DecodeError, DecodeErrorKind};
use openedx_events::{EventData, OpenEdxPublicSignal};
use openedx_events_catalog::content_authoring::data::{
    ContentObjectChangedData, DuplicatedXBlockData, LibraryBlockData, LibraryCollectionData, LibraryContainerData,
};
use openedx_events_catalog::content_authoring::signals::{
    CONTENT_OBJECT_ASSOCIATIONS_CHANGED, COURSE_CERTIFICATE_CONFIG_CHANGED, ContentObjectAssociationsChanged,
    LIBRARY_BLOCK_CREATED, LIBRARY_COLLECTION_CREATED, LIBRARY_CONTAINER_CREATED, LibraryBlockCreated,
    LibraryCollectionCreated, LibraryContainerCreated, XBLOCK_DUPLICATED, XblockDuplicated,
};
use openedx_events_catalog::enterprise::data::{LedgerTransaction, LedgerTransactionReversal};
use openedx_events_catalog::enterprise::signals::{LEDGER_TRANSACTION_CREATED, LedgerTransactionCreated};
use openedx_events_catalog::learning::data::{
    CcxCourseData, CcxCoursePassingStatusData, CourseData, CourseEnrollmentData, CourseNotificationData,
    DiscussionThreadData, PersistentCourseGradeData, UserData, UserPersonalData,
};
use openedx_events_catalog::learning::signals::{
    CCX_COURSE_PASSING_STATUS_UPDATED, COURSE_ENROLLMENT_CREATED, COURSE_NOTIFICATION_REQUESTED,
    CcxCoursePassingStatusUpdated, CourseEnrollmentCreated, CourseNotificationRequested, FORUM_THREAD_CREATED,
    ForumThreadCreated, PERSISTENT_GRADE_SUMMARY_CHANGED, PersistentGradeSummaryChanged,
};
use uuid::Uuid;

// Payloads.

fn time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).expect("a test time").with_timezone(&Utc)
}

fn key<K: std::str::FromStr<Err: Debug>>(text: &str) -> K {
    text.parse().expect("a test key")
}

fn user(id: i64, username: &str) -> UserData {
    UserData {
        id,
        is_active: true,
        pii: UserPersonalData {
            username: username.to_owned(),
            email: format!("{username}@example.com"),
            name: "Ada Lovelace".to_owned(),
        },
    }
}

fn enrollment() -> CourseEnrollmentCreated {
    CourseEnrollmentCreated {
        enrollment: CourseEnrollmentData {
            user: user(7, "learner-ada"),
            course: CourseData {
                course_key: key("course-v1:edX+DemoX+2024"),
                display_name: "Demo Course".to_owned(),
                start: None,
                end: Some(time("2024-12-31T23:59:59.5+00:00")),
            },
            mode: "verified".to_owned(),
            is_active: true,
            creation_date: time("2024-05-01T12:00:00+00:00"),
            created_by: Some(user(1, "staff-bob")),
        },
    }
}

fn associations() -> ContentObjectAssociationsChanged {
    ContentObjectAssociationsChanged {
        content_object: ContentObjectChangedData {
            object_id: "block-v1:edX+DemoX+2024+type@problem+block@p1".to_owned(),
            changes: vec!["tags".to_owned(), "collections".to_owned()],
        },
    }
}

fn notification() -> CourseNotificationRequested {
    CourseNotificationRequested {
        course_notification_data: CourseNotificationData {
            course_key: key("course-v1:edX+DemoX+2024"),
            app_name: "discussion".to_owned(),
            notification_type: "new_post".to_owned(),
            content_url: "https://example.com/post/1".to_owned(),
            content_context: BTreeMap::from([("post_title".to_owned(), "Hello".to_owned())]),
            audience_filters: BTreeMap::from([
                ("enrollment".to_owned(), vec!["verified".to_owned()]),
                ("role".to_owned(), vec!["staff".to_owned(), "instructor".to_owned()]),
            ]),
        },
    }
}

fn ledger_transaction() -> LedgerTransactionCreated {
    LedgerTransactionCreated {
        ledger_transaction: LedgerTransaction {
            uuid: Uuid::from_u128(0x1111_2222_3333_4444_5555_6666_7777_8888),
            created: time("2024-05-01T12:00:00+00:00"),
            modified: time("2024-05-02T08:30:00.000123+00:00"),
            idempotency_key: "redeem-42".to_owned(),
            quantity: -19_900,
            state: "committed".to_owned(),
            ledger_uuid: Uuid::from_u128(0xaaaa_bbbb_cccc_dddd_eeee_ffff_0000_1111),
            subsidy_access_policy_uuid: Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef),
            lms_user_id: 1_234_567,
            content_key: key("course-v1:edX+DemoX+2024"),
            parent_content_key: Some("edX+DemoX".to_owned()),
            fulfillment_identifier: None,
            reversal: Some(LedgerTransactionReversal {
                uuid: Uuid::from_u128(0xfeed_beef_0000_0000_0000_0000_0000_0001),
                created: time("2024-06-01T00:00:00+00:00"),
                modified: time("2024-06-01T00:00:01+00:00"),
                idempotency_key: "reverse-42".to_owned(),
                quantity: 19_900,
                state: "created".to_owned(),
            }),
        },
    }
}

fn forum_thread() -> ForumThreadCreated {
    let mut thread = DiscussionThreadData::new(
        "Body text".to_owned(),
        "topic-1".to_owned(),
        "thread-1".to_owned(),
        false,
        "https://example.com/thread/1".to_owned(),
        user(3, "poster-cy"),
        key("course-v1:edX+DemoX+2024"),
    );
    thread.thread_type = Some("question".to_owned());
    thread.anonymous = Some(false);
    thread.title = Some("A question".to_owned());
    thread.group_id = Some(-4);
    thread.discussion = Some(BTreeMap::from([("id".to_owned(), "d1".to_owned())]));
    thread.user_forums_roles = vec!["Moderator".to_owned()];
    thread.options = BTreeMap::from([("followed".to_owned(), true)]);
    ForumThreadCreated { thread }
}

fn grade() -> PersistentGradeSummaryChanged {
    PersistentGradeSummaryChanged {
        grade: PersistentCourseGradeData {
            user_id: 5,
            course: CourseData::new(key("course-v1:edX+DemoX+2024")),
            course_edited_timestamp: time("2024-05-01T12:00:00+00:00"),
            course_version: "v1".to_owned(),
            grading_policy_hash: "abc".to_owned(),
            percent_grade: 0.875,
            letter_grade: "Pass".to_owned(),
            passed_timestamp: time("2024-05-03T12:00:00+00:00"),
        },
    }
}

fn library_block() -> LibraryBlockCreated {
    LibraryBlockCreated {
        library_block: LibraryBlockData {
            library_key: key("lib:edX:physics"),
            usage_key: key("lb:edX:physics:problem:p1"),
        },
    }
}

fn duplicated_xblock() -> XblockDuplicated {
    XblockDuplicated {
        xblock_info: DuplicatedXBlockData {
            usage_key: key("block-v1:edX+DemoX+2024+type@problem+block@copy"),
            block_type: "problem".to_owned(),
            version: Some(key("block-v1:edX+DemoX+2024+branch@draft+type@problem+block@copy")),
            source_usage_key: key("block-v1:edX+DemoX+2024+type@problem+block@original"),
        },
    }
}

fn collection() -> LibraryCollectionCreated {
    LibraryCollectionCreated {
        library_collection: LibraryCollectionData::new(key("lib-collection:edX:physics:week-1")),
    }
}

fn container() -> LibraryContainerCreated {
    LibraryContainerCreated { library_container: LibraryContainerData::new(key("lct:edX:physics:unit:unit-1")) }
}

fn ccx_passing() -> CcxCoursePassingStatusUpdated {
    CcxCoursePassingStatusUpdated {
        course_passing_status: CcxCoursePassingStatusData {
            is_passing: true,
            user: user(9, "ccx-dee"),
            course: CcxCourseData::new(key("ccx-v1:edX+DemoX+2024+ccx@3"), key("course-v1:edX+DemoX+2024")),
        },
    }
}

// Byte surgery.

fn long(value: i64) -> Vec<u8> {
    let mut out = Vec::new();
    AvroWriter::new(&mut out).write_long(value);
    out
}

/// A `string` or `bytes` as Avro writes it: the length, then the bytes.
fn avro_bytes(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    AvroWriter::new(&mut out).write_bytes(value);
    out
}

/// `bytes` with its one occurrence of `old` replaced by `new`; fails the test when `old` is
/// absent or ambiguous, so that a test never patches the wrong field.
fn splice(bytes: &[u8], old: &[u8], new: &[u8]) -> Vec<u8> {
    let found: Vec<usize> = bytes.windows(old.len()).enumerate().filter(|(_, w)| *w == old).map(|(i, _)| i).collect();
    assert_eq!(found.len(), 1, "{old:?} must occur exactly once in the encoded payload");
    let at = found[0];
    [&bytes[..at], new, &bytes[at + old.len()..]].concat()
}

/// `bytes` with the Avro string `old` (length and text) replaced by `new`.
fn replace_string(bytes: &[u8], old: &str, new: &[u8]) -> Vec<u8> {
    splice(bytes, &avro_bytes(old.as_bytes()), &avro_bytes(new))
}

/// `bytes` with the length prefix of the Avro string `old` replaced by `prefix` (text kept).
fn patch_length(bytes: &[u8], old: &str, prefix: &[u8]) -> Vec<u8> {
    splice(bytes, &avro_bytes(old.as_bytes()), &[prefix, old.as_bytes()].concat())
}

/// The payload's bytes, checked to decode back to the payload.
fn valid_bytes<E: EventData + PartialEq + Debug>(signal: &OpenEdxPublicSignal<E>, data: &E) -> Vec<u8> {
    let bytes = signal.encode_avro(data).expect("a serializable event");
    assert_eq!(signal.decode_avro(&bytes).as_ref(), Ok(data), "{} must round-trip", signal.event_type());
    bytes
}

/// Decodes bytes that must be refused, and checks the error's path and that its message names it.
#[track_caller]
fn refused<E: EventData + Debug>(signal: &OpenEdxPublicSignal<E>, bytes: &[u8], path: &str) -> DecodeError {
    let error = signal.decode_avro(bytes).expect_err("hostile bytes must be refused");
    assert_eq!(error.path(), path, "path of {error}");
    let expected = if path.is_empty() {
        format!("invalid Avro data: {}", error.kind())
    } else {
        format!("invalid Avro data at `{path}`: {}", error.kind())
    };
    assert_eq!(error.to_string(), expected);
    error
}

#[track_caller]
fn assert_invalid_value(error: &DecodeError, mentions: &str) {
    match error.kind() {
        DecodeErrorKind::InvalidValue(reason) => assert!(reason.contains(mentions), "{reason:?} mentions {mentions:?}"),
        other => panic!("expected an invalid value, found {other:?}"),
    }
}

// Truncation and trailing bytes.

/// Every strict prefix of valid bytes is refused as a value cut short, inside some field.
fn assert_every_prefix_is_refused<E: EventData + PartialEq + Debug>(signal: &OpenEdxPublicSignal<E>, data: &E) {
    let bytes = valid_bytes(signal, data);
    for cut in 0..bytes.len() {
        let prefix = &bytes[..cut];
        let error = signal.decode_avro(prefix).expect_err(&format!(
            "{}: a prefix of {cut} of {} bytes must be refused",
            signal.event_type(),
            bytes.len()
        ));
        assert!(
            matches!(error.kind(), DecodeErrorKind::UnexpectedEnd | DecodeErrorKind::LengthTooLarge { .. }),
            "{}: a prefix of {cut} bytes gave {error}",
            signal.event_type()
        );
        assert!(!error.path().is_empty(), "{}: a prefix of {cut} bytes gave {error}", signal.event_type());
        assert!(error.to_string().contains(&format!("`{}`", error.path())));
    }
}

#[test]
fn every_truncation_is_an_error_inside_a_field() {
    assert_every_prefix_is_refused(&COURSE_ENROLLMENT_CREATED, &enrollment());
    assert_every_prefix_is_refused(&CONTENT_OBJECT_ASSOCIATIONS_CHANGED, &associations());
    assert_every_prefix_is_refused(&COURSE_NOTIFICATION_REQUESTED, &notification());
    assert_every_prefix_is_refused(&LEDGER_TRANSACTION_CREATED, &ledger_transaction());
    assert_every_prefix_is_refused(&FORUM_THREAD_CREATED, &forum_thread());
    assert_every_prefix_is_refused(&PERSISTENT_GRADE_SUMMARY_CHANGED, &grade());
    assert_every_prefix_is_refused(&LIBRARY_BLOCK_CREATED, &library_block());
    assert_every_prefix_is_refused(&XBLOCK_DUPLICATED, &duplicated_xblock());
    assert_every_prefix_is_refused(&CCX_COURSE_PASSING_STATUS_UPDATED, &ccx_passing());
}

#[test]
fn a_truncated_double_names_its_field() {
    let bytes = valid_bytes(&PERSISTENT_GRADE_SUMMARY_CHANGED, &grade());
    let grade_at = bytes.windows(8).position(|w| w == 0.875f64.to_le_bytes()).expect("the grade's bytes");
    let error = refused(&PERSISTENT_GRADE_SUMMARY_CHANGED, &bytes[..grade_at + 5], "grade.percent_grade");
    assert_eq!(error.kind(), &DecodeErrorKind::UnexpectedEnd);
}

#[test]
fn trailing_bytes_are_refused_at_the_top_level() {
    let mut bytes = valid_bytes(&COURSE_ENROLLMENT_CREATED, &enrollment());
    bytes.push(0);
    let error = refused(&COURSE_ENROLLMENT_CREATED, &bytes, "");
    assert_eq!(error.kind(), &DecodeErrorKind::TrailingBytes(1));

    let mut bytes = valid_bytes(&LEDGER_TRANSACTION_CREATED, &ledger_transaction());
    bytes.extend_from_slice(b"junk");
    let error = refused(&LEDGER_TRANSACTION_CREATED, &bytes, "");
    assert_eq!(error.kind(), &DecodeErrorKind::TrailingBytes(4));
}

#[test]
fn an_empty_input_is_refused_at_the_first_field() {
    let error = refused(&COURSE_ENROLLMENT_CREATED, &[], "enrollment.user.id");
    assert_eq!(error.kind(), &DecodeErrorKind::UnexpectedEnd);
}

// Lengths and varints.

#[test]
fn a_negative_string_length_names_the_string() {
    let bytes = valid_bytes(&COURSE_ENROLLMENT_CREATED, &enrollment());
    for length in [-1, -7, i64::MIN] {
        let hostile = patch_length(&bytes, "learner-ada", &long(length));
        let error = refused(&COURSE_ENROLLMENT_CREATED, &hostile, "enrollment.user.pii.username");
        assert_eq!(error.kind(), &DecodeErrorKind::NegativeLength(length));
    }
}

#[test]
fn a_string_length_past_the_end_names_the_string() {
    let bytes = valid_bytes(&COURSE_ENROLLMENT_CREATED, &enrollment());
    let prefix_at = bytes.windows(12).position(|w| w == avro_bytes(b"learner-ada")).expect("the username");
    // The bytes left after the length prefix.
    let remaining = bytes.len() - prefix_at - 1;
    for length in [remaining as i64 + 1, 1 << 40, i64::MAX] {
        let hostile = patch_length(&bytes, "learner-ada", &long(length));
        let error = refused(&COURSE_ENROLLMENT_CREATED, &hostile, "enrollment.user.pii.username");
        let remaining = hostile.len() - prefix_at - long(length).len();
        assert_eq!(error.kind(), &DecodeErrorKind::LengthTooLarge { length: length as usize, remaining });
    }
}

#[test]
fn a_string_length_inside_the_input_but_wrong_shifts_the_fields_and_is_still_an_error() {
    // One byte longer: the username swallows the email's length byte, and reading goes on out of
    // step; whatever it meets, the result is an error, not a different payload.
    let bytes = valid_bytes(&COURSE_ENROLLMENT_CREATED, &enrollment());
    for delta in [-3, -1, 1, 2, 5] {
        let hostile = patch_length(&bytes, "learner-ada", &long(11 + delta));
        assert!(COURSE_ENROLLMENT_CREATED.decode_avro(&hostile).is_err(), "length 11{delta:+}");
    }
}

#[test]
fn an_over_long_varint_names_the_long() {
    let bytes = valid_bytes(&COURSE_ENROLLMENT_CREATED, &enrollment());
    // The first byte is the user's id, 7.
    assert_eq!(bytes[0], 14);
    for varint in [vec![0xff; 11], [vec![0x80; 9], vec![0x02]].concat(), [vec![0xff; 9], vec![0x7f]].concat()] {
        let hostile = [&varint[..], &bytes[1..]].concat();
        let error = refused(&COURSE_ENROLLMENT_CREATED, &hostile, "enrollment.user.id");
        assert_eq!(error.kind(), &DecodeErrorKind::VarintTooLong);
    }
    // The longest honest varint (ten bytes, the last one carrying the 64th bit) is read.
    let mut at_max = enrollment();
    at_max.enrollment.user.id = i64::MIN;
    let bytes = valid_bytes(&COURSE_ENROLLMENT_CREATED, &at_max);
    assert_eq!(&bytes[..10], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
}

#[test]
fn an_over_long_varint_in_a_string_length_names_the_string() {
    let bytes = valid_bytes(&LEDGER_TRANSACTION_CREATED, &ledger_transaction());
    let hostile = patch_length(&bytes, "redeem-42", &[0x80; 10]);
    let error = refused(&LEDGER_TRANSACTION_CREATED, &hostile, "ledger_transaction.idempotency_key");
    assert_eq!(error.kind(), &DecodeErrorKind::VarintTooLong);
}

// Array and map counts.

#[test]
fn an_array_count_past_the_end_is_refused_before_allocating() {
    let bytes = valid_bytes(&CONTENT_OBJECT_ASSOCIATIONS_CHANGED, &associations());
    let honest = [long(2), avro_bytes(b"tags")].concat();
    let count_at = bytes.windows(honest.len()).position(|w| w == honest).expect("the changes' count");
    for count in [(bytes.len() - count_at) as i64, 1 << 40, i64::MAX] {
        let hostile = splice(&bytes, &honest, &[long(count), avro_bytes(b"tags")].concat());
        let error = refused(&CONTENT_OBJECT_ASSOCIATIONS_CHANGED, &hostile, "content_object.changes");
        let remaining = hostile.len() - count_at - long(count).len();
        assert_eq!(error.kind(), &DecodeErrorKind::LengthTooLarge { length: count as usize, remaining });
    }
}

#[test]
fn an_array_count_inside_the_input_but_too_large_is_still_an_error() {
    // Three items promised, two there: the third reads the end marker as an empty string, and
    // the array then has no end marker.
    let bytes = valid_bytes(&CONTENT_OBJECT_ASSOCIATIONS_CHANGED, &associations());
    let honest = [long(2), avro_bytes(b"tags")].concat();
    let hostile = splice(&bytes, &honest, &[long(3), avro_bytes(b"tags")].concat());
    let error = refused(&CONTENT_OBJECT_ASSOCIATIONS_CHANGED, &hostile, "content_object.changes");
    assert_eq!(error.kind(), &DecodeErrorKind::UnexpectedEnd);
}

#[test]
fn blocks_with_byte_sizes_are_read_and_bad_ones_refused() {
    let bytes = valid_bytes(&CONTENT_OBJECT_ASSOCIATIONS_CHANGED, &associations());
    let items = [avro_bytes(b"tags"), avro_bytes(b"collections")].concat();
    let honest = [&long(2)[..], &items].concat();
    // A negative count is followed by the block's size in bytes (the Avro spec's other form).
    let sized = splice(&bytes, &honest, &[long(-2), long(items.len() as i64), items.clone()].concat());
    assert_eq!(CONTENT_OBJECT_ASSOCIATIONS_CHANGED.decode_avro(&sized), Ok(associations()));
    // Two blocks of one item each are the same array.
    let split = splice(&bytes, &honest, &[long(1), avro_bytes(b"tags"), long(1), avro_bytes(b"collections")].concat());
    assert_eq!(CONTENT_OBJECT_ASSOCIATIONS_CHANGED.decode_avro(&split), Ok(associations()));

    let size_too_large = splice(&bytes, &honest, &[long(-2), long(1 << 40), items.clone()].concat());
    let error = refused(&CONTENT_OBJECT_ASSOCIATIONS_CHANGED, &size_too_large, "content_object.changes");
    assert!(matches!(error.kind(), DecodeErrorKind::LengthTooLarge { length, .. } if *length == 1 << 40));

    let negative_size = splice(&bytes, &honest, &[long(-2), long(-5), items.clone()].concat());
    let error = refused(&CONTENT_OBJECT_ASSOCIATIONS_CHANGED, &negative_size, "content_object.changes");
    assert_eq!(error.kind(), &DecodeErrorKind::NegativeLength(-5));

    let min_count = splice(&bytes, &honest, &[long(i64::MIN), long(items.len() as i64), items].concat());
    let error = refused(&CONTENT_OBJECT_ASSOCIATIONS_CHANGED, &min_count, "content_object.changes");
    assert_eq!(error.kind(), &DecodeErrorKind::NegativeLength(i64::MIN));
}

#[test]
fn a_map_count_past_the_end_names_the_map() {
    let bytes = valid_bytes(&COURSE_NOTIFICATION_REQUESTED, &notification());
    let honest = [long(1), avro_bytes(b"post_title")].concat();
    let hostile = splice(&bytes, &honest, &[long(1 << 50), avro_bytes(b"post_title")].concat());
    let error = refused(&COURSE_NOTIFICATION_REQUESTED, &hostile, "course_notification_data.content_context");
    assert!(matches!(error.kind(), DecodeErrorKind::LengthTooLarge { length, .. } if *length == 1 << 50));
}

// Strings.

#[test]
fn invalid_utf8_names_the_string() {
    let bytes = valid_bytes(&COURSE_ENROLLMENT_CREATED, &enrollment());
    let hostile = replace_string(&bytes, "learner-ada", b"learner-\xff");
    let error = refused(&COURSE_ENROLLMENT_CREATED, &hostile, "enrollment.user.pii.username");
    assert_eq!(error.kind(), &DecodeErrorKind::InvalidUtf8(8));

    // A lone continuation byte, an overlong encoding and a surrogate are not UTF-8 either.
    for bad in [&b"\x80"[..], b"\xc0\xaf", b"\xed\xa0\x80", b"ok\xf0\x9f\x98"] {
        let hostile = replace_string(&bytes, "staff-bob", bad);
        let error = refused(&COURSE_ENROLLMENT_CREATED, &hostile, "enrollment.created_by.pii.username");
        assert!(matches!(error.kind(), DecodeErrorKind::InvalidUtf8(_)), "{bad:?}: {error}");
    }
}

#[test]
fn invalid_utf8_in_lists_and_maps_names_the_item() {
    let bytes = valid_bytes(&CONTENT_OBJECT_ASSOCIATIONS_CHANGED, &associations());
    let hostile = replace_string(&bytes, "collections", b"\xc3\x28");
    let error = refused(&CONTENT_OBJECT_ASSOCIATIONS_CHANGED, &hostile, "content_object.changes[1]");
    assert_eq!(error.kind(), &DecodeErrorKind::InvalidUtf8(0));

    let bytes = valid_bytes(&COURSE_NOTIFICATION_REQUESTED, &notification());
    let hostile = replace_string(&bytes, "instructor", b"instru\xffctor");
    let error =
        refused(&COURSE_NOTIFICATION_REQUESTED, &hostile, r#"course_notification_data.audience_filters["role"][1]"#);
    assert_eq!(error.kind(), &DecodeErrorKind::InvalidUtf8(6));

    // A bad map key has no key to name yet: the path stops at the map.
    let hostile = replace_string(&bytes, "post_title", b"post_\xfe");
    let error = refused(&COURSE_NOTIFICATION_REQUESTED, &hostile, "course_notification_data.content_context");
    assert_eq!(error.kind(), &DecodeErrorKind::InvalidUtf8(5));
}

// Unions and booleans.

#[test]
fn a_bad_union_branch_names_the_optional_field() {
    let bytes = valid_bytes(&COURSE_ENROLLMENT_CREATED, &enrollment());
    // `start` is None: its branch byte (0) follows the display name.
    let honest = [avro_bytes(b"Demo Course"), long(0)].concat();
    for branch in [2, -1, 1 << 33] {
        let hostile = splice(&bytes, &honest, &[avro_bytes(b"Demo Course"), long(branch)].concat());
        let error = refused(&COURSE_ENROLLMENT_CREATED, &hostile, "enrollment.course.start");
        assert_eq!(error.kind(), &DecodeErrorKind::InvalidUnionIndex(branch));
    }

    // An optional record: `created_by`'s branch comes right after the creation date.
    let honest = [avro_bytes(b"2024-05-01T12:00:00+00:00"), long(1)].concat();
    let hostile = splice(&bytes, &honest, &[avro_bytes(b"2024-05-01T12:00:00+00:00"), long(3)].concat());
    let error = refused(&COURSE_ENROLLMENT_CREATED, &hostile, "enrollment.created_by");
    assert_eq!(error.kind(), &DecodeErrorKind::InvalidUnionIndex(3));

    // An optional field of a nested optional record.
    let bytes = valid_bytes(&LEDGER_TRANSACTION_CREATED, &ledger_transaction());
    let honest = [avro_bytes(b"edX+DemoX"), long(0)].concat();
    let hostile = splice(&bytes, &honest, &[avro_bytes(b"edX+DemoX"), long(-2)].concat());
    let error = refused(&LEDGER_TRANSACTION_CREATED, &hostile, "ledger_transaction.fulfillment_identifier");
    assert_eq!(error.kind(), &DecodeErrorKind::InvalidUnionIndex(-2));
}

#[test]
fn a_union_branch_that_lies_about_null_is_still_an_error() {
    // `end` is set; calling it null makes its string's bytes be read as the next fields.
    let bytes = valid_bytes(&COURSE_ENROLLMENT_CREATED, &enrollment());
    let honest = [long(0), long(1), avro_bytes(b"2024-12-31T23:59:59.500000+00:00")].concat();
    let hostile =
        splice(&bytes, &honest, &[long(0), long(0), avro_bytes(b"2024-12-31T23:59:59.500000+00:00")].concat());
    assert!(COURSE_ENROLLMENT_CREATED.decode_avro(&hostile).is_err());
}

#[test]
fn a_bad_boolean_names_the_field() {
    let bytes = valid_bytes(&COURSE_ENROLLMENT_CREATED, &enrollment());
    let honest = [avro_bytes(b"verified"), vec![1]].concat();
    let hostile = splice(&bytes, &honest, &[avro_bytes(b"verified"), vec![2]].concat());
    let error = refused(&COURSE_ENROLLMENT_CREATED, &hostile, "enrollment.is_active");
    assert_eq!(error.kind(), &DecodeErrorKind::InvalidBool(2));
}

// Values carried as strings: times, UUIDs, keys.

#[test]
fn an_invalid_time_names_the_field() {
    let bytes = valid_bytes(&COURSE_ENROLLMENT_CREATED, &enrollment());
    for bad in ["2024-13-01T12:00:00+00:00", "2024-05-01T25:00:00", "yesterday", "", "2024-05-01T12:00:00+24:00"] {
        let hostile = replace_string(&bytes, "2024-05-01T12:00:00+00:00", bad.as_bytes());
        let error = refused(&COURSE_ENROLLMENT_CREATED, &hostile, "enrollment.creation_date");
        assert_invalid_value(&error, bad);
    }
    // Inside an optional field.
    let hostile = replace_string(&bytes, "2024-12-31T23:59:59.500000+00:00", b"2024-02-30T00:00:00");
    let error = refused(&COURSE_ENROLLMENT_CREATED, &hostile, "enrollment.course.end");
    assert_invalid_value(&error, "2024-02-30");
}

#[test]
fn a_time_outside_pythons_years_in_utc_is_an_invalid_value() {
    // Python reads these (or, for year 0, refuses them) but cannot move them to UTC; their UTC
    // isoformat would be `10000-…` or `0000-…`, which neither side reads back.
    let bytes = valid_bytes(&COURSE_ENROLLMENT_CREATED, &enrollment());
    for bad in ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+01:00", "0000-06-01T00:00:00"] {
        let hostile = replace_string(&bytes, "2024-05-01T12:00:00+00:00", bad.as_bytes());
        let error = refused(&COURSE_ENROLLMENT_CREATED, &hostile, "enrollment.creation_date");
        assert_invalid_value(&error, bad);
    }
    // The edges themselves are fine.
    for edge in ["9999-12-31T23:59:59.999999+00:00", "0001-01-01T00:00:00+00:00", "9999-12-31T23:00:00+05:00"] {
        let edged = replace_string(&bytes, "2024-05-01T12:00:00+00:00", edge.as_bytes());
        assert!(COURSE_ENROLLMENT_CREATED.decode_avro(&edged).is_ok(), "{edge}");
    }
}

#[test]
fn an_invalid_uuid_names_the_field() {
    let data = ledger_transaction();
    let bytes = valid_bytes(&LEDGER_TRANSACTION_CREATED, &data);
    let ledger = data.ledger_transaction.ledger_uuid.to_string();
    for bad in ["not-a-uuid", "aaaabbbb-cccc-dddd-eeee-ffff0000111", "gaaabbbb-cccc-dddd-eeee-ffff00001111"] {
        let hostile = replace_string(&bytes, &ledger, bad.as_bytes());
        let error = refused(&LEDGER_TRANSACTION_CREATED, &hostile, "ledger_transaction.ledger_uuid");
        assert_invalid_value(&error, bad);
    }
    // Inside the optional reversal record.
    let reversal = data.ledger_transaction.reversal.as_ref().expect("a reversal").uuid.to_string();
    let hostile = replace_string(&bytes, &reversal, b"feed");
    let error = refused(&LEDGER_TRANSACTION_CREATED, &hostile, "ledger_transaction.reversal.uuid");
    assert_invalid_value(&error, "feed");
    let hostile = replace_string(&bytes, "2024-06-01T00:00:00+00:00", b"2024-06-31T00:00:00+00:00");
    let error = refused(&LEDGER_TRANSACTION_CREATED, &hostile, "ledger_transaction.reversal.created");
    assert_invalid_value(&error, "2024-06-31");
}

#[test]
fn an_invalid_key_names_the_field_for_every_kind_of_key() {
    let bytes = valid_bytes(&COURSE_ENROLLMENT_CREATED, &enrollment());
    for bad in ["course-v1:edX+DemoX", "not a key", "course-v1:edX+Demo X+2024", "lib:edX:physics"] {
        let hostile = replace_string(&bytes, "course-v1:edX+DemoX+2024", bad.as_bytes());
        let error = refused(&COURSE_ENROLLMENT_CREATED, &hostile, "enrollment.course.course_key");
        assert_invalid_value(&error, bad);
    }

    let bytes = valid_bytes(&LIBRARY_BLOCK_CREATED, &library_block());
    let hostile = replace_string(&bytes, "lib:edX:physics", b"lib:edX");
    let error = refused(&LIBRARY_BLOCK_CREATED, &hostile, "library_block.library_key");
    assert_invalid_value(&error, "lib:edX");
    let hostile = replace_string(&bytes, "lb:edX:physics:problem:p1", b"lb:edX:physics:problem");
    let error = refused(&LIBRARY_BLOCK_CREATED, &hostile, "library_block.usage_key");
    assert_invalid_value(&error, "lb:edX:physics:problem");

    let bytes = valid_bytes(&XBLOCK_DUPLICATED, &duplicated_xblock());
    let hostile =
        replace_string(&bytes, "block-v1:edX+DemoX+2024+branch@draft+type@problem+block@copy", b"block-v1:edX+DemoX");
    let error = refused(&XBLOCK_DUPLICATED, &hostile, "xblock_info.version");
    assert_invalid_value(&error, "block-v1:edX+DemoX");
    let hostile = replace_string(&bytes, "block-v1:edX+DemoX+2024+type@problem+block@original", b"i4x://edX");
    let error = refused(&XBLOCK_DUPLICATED, &hostile, "xblock_info.source_usage_key");
    assert_invalid_value(&error, "i4x://edX");

    let bytes = valid_bytes(&LIBRARY_COLLECTION_CREATED, &collection());
    let hostile = replace_string(&bytes, "lib-collection:edX:physics:week-1", b"lib-collection:edX:physics:week 1");
    let error = refused(&LIBRARY_COLLECTION_CREATED, &hostile, "library_collection.collection_key");
    assert_invalid_value(&error, "week 1");

    let bytes = valid_bytes(&LIBRARY_CONTAINER_CREATED, &container());
    let hostile = replace_string(&bytes, "lct:edX:physics:unit:unit-1", b"lct:edX:physics:unit");
    let error = refused(&LIBRARY_CONTAINER_CREATED, &hostile, "library_container.container_key");
    assert_invalid_value(&error, "lct:edX:physics:unit");

    // A course key where a CCX key is expected.
    let bytes = valid_bytes(&CCX_COURSE_PASSING_STATUS_UPDATED, &ccx_passing());
    let hostile = replace_string(&bytes, "ccx-v1:edX+DemoX+2024+ccx@3", b"course-v1:edX+DemoX+2024");
    let error = refused(&CCX_COURSE_PASSING_STATUS_UPDATED, &hostile, "course_passing_status.course.ccx_course_key");
    assert_invalid_value(&error, "course-v1:edX+DemoX+2024");
}

// Events without a wire form.

#[test]
fn an_event_without_a_wire_form_refuses_any_bytes() {
    for bytes in [&[][..], &[0, 0, 0], &[0xff; 16]] {
        let error = refused(&COURSE_CERTIFICATE_CONFIG_CHANGED, bytes, "");
        assert_eq!(error.kind(), &DecodeErrorKind::Unserializable("BinaryIO"));
    }
}

// Doubles JSON cannot hold.

#[test]
fn a_non_finite_double_decodes_but_its_json_form_does_not_encode() {
    // Avro carries NaN and infinities (fastavro reads them into Python floats), so decoding
    // accepts them. The JSON form has no such numbers and holds null; null does not read back
    // as a double. The fuzz target (fuzz/fuzz_targets/decode_avro.rs) relies on this message.
    let any = openedx_events::get_signal_by_type(PERSISTENT_GRADE_SUMMARY_CHANGED.event_type()).expect("registered");
    for value in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let mut data = grade();
        data.grade.percent_grade = value;
        let bytes = PERSISTENT_GRADE_SUMMARY_CHANGED.encode_avro(&data).expect("serializable");
        let decoded = PERSISTENT_GRADE_SUMMARY_CHANGED.decode_avro(&bytes).expect("Avro carries any double");
        assert_eq!(decoded.grade.percent_grade.to_bits(), value.to_bits());
        let json = any.avro_to_json(&bytes).expect("decodes");
        assert_eq!(json["grade"]["percent_grade"], serde_json::Value::Null);
        match any.json_to_avro(&json) {
            Err(openedx_events::CodecError::Json(error)) => {
                assert_eq!(error.path(), "grade.percent_grade");
                assert_eq!(error.message(), "expected a number, found null");
            }
            other => panic!("{value}: expected a JSON error, found {other:?}"),
        }
    }
}
