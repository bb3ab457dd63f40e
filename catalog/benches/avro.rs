//! Criterion benchmarks of the Avro codec against apache-avro: encoding and decoding
//! `COURSE_ENROLLMENT_CREATED` (a `CourseEnrollmentData`) and the two largest catalog payloads
//! (`FORUM_THREAD_RESPONSE_CREATED`, whose `DiscussionThreadData` has the biggest encoding, and
//! `LEARNER_CREDIT_COURSE_ENROLLMENT_REVOKED`, whose data has the most fields).
//!
//! Each payload is encoded and decoded by
//! - ours: `SIGNAL.encode_avro_into` into a reused buffer, and `SIGNAL.decode_avro`;
//! - apache-avro's serde paths, on serde-derived mirror structs of the same record (times, keys
//!   and UUIDs as the strings the schema declares), with the schema from `SIGNAL.avro_schema()`
//!   parsed once and its writer and reader built once: `GenericDatumWriter::write_ser` and
//!   `GenericDatumReader::read_deser`, which go straight between the struct and the bytes;
//! - apache-avro's `Value` paths: `to_value` + `GenericDatumWriter::write_value_ref` (which
//!   validates, as the deprecated `to_avro_datum` does), and `read_value` + `from_value`;
//! - for `CourseEnrollmentData` only, "the floor": an encoder and a decoder written by hand for
//!   its exact wire layout, doing the same work as ours (the decoder builds the same Rust struct:
//!   it parses the course key with `CourseKey::from_str` and times with the same parser).
//!
//! The setup checks that every encoder writes the same bytes and every decoder reads back the
//! same record, so that the comparison is fair.
//!
//! Run with `cargo bench -p openedx-events-catalog --bench avro -- --warm-up-time 1
//! --measurement-time 3`; results are in `benches/README.md`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::hint::black_box;
use std::str::FromStr;

use apache_avro::Schema;
use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::writer::datum::GenericDatumWriter;
use chrono::{DateTime, Datelike, TimeZone, Timelike, Utc};
use criterion::Criterion;
use openedx_events::avro::AvroReader;
use openedx_events::keys::CourseKey;
use openedx_events::{EventData, EventField, OpenEdxPublicSignal};
use openedx_events_catalog::enterprise::data::{
    EnterpriseCourseEnrollment, EnterpriseCustomerUser, LearnerCreditEnterpriseCourseEnrollment,
};
use openedx_events_catalog::enterprise::signals::{
    LEARNER_CREDIT_COURSE_ENROLLMENT_REVOKED, LearnerCreditCourseEnrollmentRevoked,
};
use openedx_events_catalog::learning::data::{
    CourseData, CourseEnrollmentData, DiscussionThreadData, UserData, UserPersonalData,
};
use openedx_events_catalog::learning::signals::{
    COURSE_ENROLLMENT_CREATED, CourseEnrollmentCreated, FORUM_THREAD_RESPONSE_CREATED, ForumThreadResponseCreated,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Payloads.

fn utc(year: i32, month: u32, day: u32, hour: u32, minute: u32, second: u32, micros: u32) -> DateTime<Utc> {
    let time = Utc.with_ymd_and_hms(year, month, day, hour, minute, second).single().expect("a valid time");
    time + chrono::Duration::microseconds(i64::from(micros))
}

fn course_key() -> CourseKey {
    CourseKey::from_str("course-v1:edX+DemoX+Demo_Course").expect("a valid course key")
}

fn learner() -> UserData {
    UserData {
        id: 4217,
        is_active: true,
        pii: UserPersonalData {
            username: "jdoe".to_owned(),
            email: "jane.doe@example.com".to_owned(),
            name: "Jane Doe".to_owned(),
        },
    }
}

/// A learner's self-enrollment in the verified track: `created_by` unknown, as for most.
fn enrollment() -> CourseEnrollmentCreated {
    CourseEnrollmentCreated {
        enrollment: CourseEnrollmentData {
            user: learner(),
            course: CourseData {
                course_key: course_key(),
                display_name: "Demonstration Course".to_owned(),
                start: Some(utc(2024, 1, 15, 0, 0, 0, 0)),
                end: Some(utc(2024, 6, 30, 23, 59, 59, 0)),
            },
            mode: "verified".to_owned(),
            is_active: true,
            creation_date: utc(2024, 5, 1, 12, 34, 56, 789_012),
            created_by: None,
        },
    }
}

/// A response in a thread, every optional field set and every list and map holding a few entries.
fn forum_response() -> ForumThreadResponseCreated {
    let strings = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    ForumThreadResponseCreated {
        thread: DiscussionThreadData {
            body: "Thanks, that helped! For problem 3 I first normalised the vectors, then took the dot \
                   product; the grader accepted 0.707 once I rounded to three decimal places. Is rounding \
                   expected everywhere in this problem set, or only where the question says so?"
                .to_owned(),
            commentable_id: "course-v1-week-2-linear-algebra".to_owned(),
            id: "6650f1c2e4a9b8c700123456".to_owned(),
            truncated: false,
            url: "https://courses.example.com/courses/course-v1:edX+DemoX+Demo_Course/discussion/forum/\
                  course-v1-week-2-linear-algebra/threads/6650f1a0e4a9b8c700123455"
                .to_owned(),
            user: learner(),
            course_id: course_key(),
            thread_type: Some("question".to_owned()),
            anonymous: Some(false),
            anonymous_to_peers: Some(false),
            title: Some("Rounding in problem set 3".to_owned()),
            title_truncated: Some(false),
            group_id: Some(12),
            team_id: Some(7),
            category_id: Some(31),
            category_name: Some("Week 2: Linear algebra".to_owned()),
            discussion: Some(BTreeMap::from([
                ("id".to_owned(), "6650f1a0e4a9b8c700123455".to_owned()),
                ("title".to_owned(), "Rounding in problem set 3".to_owned()),
            ])),
            user_course_roles: strings(&["Student", "Beta Tester"]),
            user_forums_roles: strings(&["Student", "Community TA"]),
            options: BTreeMap::from([
                ("followed".to_owned(), true),
                ("pinned".to_owned(), false),
                ("closed".to_owned(), false),
            ]),
        },
    }
}

/// A revoked learner-credit enrollment, every optional field set.
fn learner_credit_revoked() -> LearnerCreditCourseEnrollmentRevoked {
    let uuid = |text: &str| Uuid::parse_str(text).expect("a valid UUID");
    LearnerCreditCourseEnrollmentRevoked {
        learner_credit_course_enrollment: LearnerCreditEnterpriseCourseEnrollment {
            uuid: uuid("0c8d4ad7-5f3e-4a4b-9a3c-1f0e2d3c4b5a"),
            created: utc(2024, 3, 4, 9, 15, 0, 123_456),
            modified: utc(2024, 5, 2, 17, 45, 12, 654_321),
            fulfillment_type: "learner_credit".to_owned(),
            is_revoked: true,
            enterprise_course_entitlement_uuid: Some(uuid("7b1e2f3a-4c5d-4e6f-8a9b-0c1d2e3f4a5b")),
            enterprise_course_enrollment: Some(EnterpriseCourseEnrollment {
                id: 88_412,
                created: utc(2024, 3, 4, 9, 14, 59, 998_877),
                modified: utc(2024, 5, 2, 17, 45, 12, 0),
                enterprise_customer_user: EnterpriseCustomerUser {
                    id: 5123,
                    created: utc(2023, 11, 20, 8, 0, 0, 0),
                    modified: utc(2024, 3, 4, 9, 14, 0, 500_000),
                    enterprise_customer_uuid: uuid("e3b0c442-98fc-4c14-9afb-f4c8996fb924"),
                    user_id: 4217,
                    active: true,
                    linked: true,
                    is_relinkable: true,
                    should_inactivate_other_customers: false,
                    invite_key: Some(uuid("9f86d081-884c-4d63-9a2f-0b8c6a1e2d3f")),
                },
                course_id: course_key(),
                saved_for_later: false,
                source_slug: Some("enrollment_task".to_owned()),
                unenrolled: Some(true),
                unenrolled_at: Some(utc(2024, 5, 2, 17, 45, 11, 250_000)),
            }),
            transaction_id: Some(uuid("2c26b46b-68ff-4c68-9f8b-1d2e3f4a5b6c")),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Mirror structs for apache-avro: the same records, as serde sees them. Times, keys and UUIDs are
// the strings the schema declares, so apache-avro neither formats nor parses them; that work is
// left out of its numbers (and kept in ours and the floor's). apache-avro's serde reader checks
// that a struct's name is its record's, hence the renames.

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename = "CloudEvent")]
struct MirrorEnrollmentCreated {
    enrollment: MirrorEnrollment,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename = "CourseEnrollmentData")]
struct MirrorEnrollment {
    user: MirrorUser,
    course: MirrorCourse,
    mode: String,
    is_active: bool,
    creation_date: String,
    created_by: Option<MirrorUser>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename = "UserData")]
struct MirrorUser {
    id: i64,
    is_active: bool,
    pii: MirrorPersonalData,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename = "UserPersonalData")]
struct MirrorPersonalData {
    username: String,
    email: String,
    name: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename = "CourseData")]
struct MirrorCourse {
    course_key: String,
    display_name: String,
    start: Option<String>,
    end: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename = "CloudEvent")]
struct MirrorForumResponseCreated {
    thread: MirrorThread,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename = "DiscussionThreadData")]
struct MirrorThread {
    body: String,
    commentable_id: String,
    id: String,
    truncated: bool,
    url: String,
    user: MirrorUser,
    course_id: String,
    thread_type: Option<String>,
    anonymous: Option<bool>,
    anonymous_to_peers: Option<bool>,
    title: Option<String>,
    title_truncated: Option<bool>,
    group_id: Option<i64>,
    team_id: Option<i64>,
    category_id: Option<i64>,
    category_name: Option<String>,
    discussion: Option<BTreeMap<String, String>>,
    user_course_roles: Vec<String>,
    user_forums_roles: Vec<String>,
    options: BTreeMap<String, bool>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename = "CloudEvent")]
struct MirrorLearnerCreditRevoked {
    learner_credit_course_enrollment: MirrorLearnerCredit,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename = "LearnerCreditEnterpriseCourseEnrollment")]
struct MirrorLearnerCredit {
    uuid: String,
    created: String,
    modified: String,
    fulfillment_type: String,
    is_revoked: bool,
    enterprise_course_entitlement_uuid: Option<String>,
    enterprise_course_enrollment: Option<MirrorEnterpriseEnrollment>,
    transaction_id: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename = "EnterpriseCourseEnrollment")]
struct MirrorEnterpriseEnrollment {
    id: i64,
    created: String,
    modified: String,
    enterprise_customer_user: MirrorEnterpriseCustomerUser,
    course_id: String,
    saved_for_later: bool,
    source_slug: Option<String>,
    unenrolled: Option<bool>,
    unenrolled_at: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename = "EnterpriseCustomerUser")]
struct MirrorEnterpriseCustomerUser {
    id: i64,
    created: String,
    modified: String,
    enterprise_customer_uuid: String,
    user_id: i64,
    active: bool,
    linked: bool,
    is_relinkable: bool,
    should_inactivate_other_customers: bool,
    invite_key: Option<String>,
}

/// `CourseEnrollmentCreated` as a serde user of apache-avro would mirror it with the same Rust
/// types as ours: the course key through its own serde impls (`Display` and `FromStr`), times
/// through [`python_time`], so that apache-avro does the same formatting and parsing work.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename = "CloudEvent")]
struct TypedEnrollmentCreated {
    enrollment: TypedEnrollment,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename = "CourseEnrollmentData")]
struct TypedEnrollment {
    user: MirrorUser,
    course: TypedCourse,
    mode: String,
    is_active: bool,
    #[serde(with = "python_time")]
    creation_date: DateTime<Utc>,
    created_by: Option<MirrorUser>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename = "CourseData")]
struct TypedCourse {
    course_key: CourseKey,
    display_name: String,
    #[serde(with = "python_time::optional")]
    start: Option<DateTime<Utc>>,
    #[serde(with = "python_time::optional")]
    end: Option<DateTime<Utc>>,
}

/// Times as Python's `isoformat()` strings: written digit by digit as the floor writes them, read
/// by the same parser as ours (through `EventField::from_json`, which takes the `String` as it is).
mod python_time {
    use chrono::{DateTime, Utc};
    use openedx_events::EventField;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(time: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
        let (text, len) = super::isoformat(time);
        serializer.serialize_str(std::str::from_utf8(&text[..len]).map_err(serde::ser::Error::custom)?)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(deserializer)?;
        DateTime::from_json(&serde_json::Value::String(text)).map_err(serde::de::Error::custom)
    }

    /// The same for `["null", "string"]`.
    pub(super) mod optional {
        use chrono::{DateTime, Utc};
        use serde::{Deserialize, Deserializer, Serialize, Serializer};

        struct Time<'a>(&'a DateTime<Utc>);

        impl Serialize for Time<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                super::serialize(self.0, serializer)
            }
        }

        pub(in super::super) fn serialize<S: Serializer>(
            time: &Option<DateTime<Utc>>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match time {
                None => serializer.serialize_none(),
                Some(time) => serializer.serialize_some(&Time(time)),
            }
        }

        pub(in super::super) fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            // Not `#[derive(Deserialize)]`: apache-avro reads a newtype struct as a record.
            struct Time(DateTime<Utc>);
            impl<'de> Deserialize<'de> for Time {
                fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    super::deserialize(deserializer).map(Time)
                }
            }
            Ok(Option::<Time>::deserialize(deserializer)?.map(|Time(time)| time))
        }
    }
}

impl TypedEnrollmentCreated {
    fn new(data: &CourseEnrollmentCreated) -> Self {
        let user = |user: &UserData| MirrorUser {
            id: user.id,
            is_active: user.is_active,
            pii: MirrorPersonalData {
                username: user.pii.username.clone(),
                email: user.pii.email.clone(),
                name: user.pii.name.clone(),
            },
        };
        let enrollment = &data.enrollment;
        TypedEnrollmentCreated {
            enrollment: TypedEnrollment {
                user: user(&enrollment.user),
                course: TypedCourse {
                    course_key: enrollment.course.course_key.clone(),
                    display_name: enrollment.course.display_name.clone(),
                    start: enrollment.course.start,
                    end: enrollment.course.end,
                },
                mode: enrollment.mode.clone(),
                is_active: enrollment.is_active,
                creation_date: enrollment.creation_date,
                created_by: enrollment.created_by.as_ref().map(user),
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The floor: `CourseEnrollmentCreated`'s wire layout, written and read by hand.

/// Appends a `long`: zig-zag, then a base-128 varint.
#[inline]
fn put_long(out: &mut Vec<u8>, value: i64) {
    let mut n = ((value << 1) ^ (value >> 63)) as u64;
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

#[inline]
fn put_str(out: &mut Vec<u8>, text: &str) {
    put_long(out, text.len() as i64);
    out.extend_from_slice(text.as_bytes());
}

/// Writes `value` as `width` decimal digits into the end of `buf`.
#[inline]
fn put_digits(buf: &mut [u8], mut value: u32) {
    for byte in buf.iter_mut().rev() {
        *byte = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// Appends a time as Python's `isoformat()` writes it, `2024-05-01T12:34:56[.789012]+00:00`,
/// digit by digit (years 0 to 9999, which is all Python has).
#[inline]
fn put_time(out: &mut Vec<u8>, time: &DateTime<Utc>) {
    let (text, len) = isoformat(time);
    out.push(2 * len as u8);
    out.extend_from_slice(&text[..len]);
}

/// A time as Python's `isoformat()` writes it, `2024-05-01T12:34:56[.789012]+00:00`, digit by
/// digit (years 0 to 9999, which is all Python has), and its length.
#[inline]
fn isoformat(time: &DateTime<Utc>) -> ([u8; 32], usize) {
    // One conversion to the UTC calendar, not one per component.
    let time = time.naive_utc();
    let mut text = *b"0000-00-00T00:00:00.000000+00:00";
    put_digits(&mut text[0..4], time.year() as u32);
    put_digits(&mut text[5..7], time.month());
    put_digits(&mut text[8..10], time.day());
    put_digits(&mut text[11..13], time.hour());
    put_digits(&mut text[14..16], time.minute());
    put_digits(&mut text[17..19], time.second());
    let micros = time.nanosecond() / 1000;
    if micros == 0 {
        text.copy_within(26..32, 19);
        (text, 25)
    } else {
        put_digits(&mut text[20..26], micros);
        (text, 32)
    }
}

/// Appends a course key through its `Display`, patching the length in front afterwards.
#[inline]
fn put_key(out: &mut Vec<u8>, key: &CourseKey) {
    let start = out.len();
    out.push(0);
    // Keys are short; the placeholder holds a length under 64, and a longer one moves the text.
    // Writing to a Vec cannot fail.
    let _ = write!(VecWriter(out), "{key}");
    let len = out.len() - start - 1;
    if len < 64 {
        out[start] = (len as u8) << 1;
    } else {
        let mut prefix = Vec::with_capacity(10);
        put_long(&mut prefix, len as i64);
        out.splice(start..=start, prefix);
    }
}

/// `fmt::Write` into a byte buffer (a `Display` only ever writes UTF-8).
struct VecWriter<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for VecWriter<'_> {
    #[inline]
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

fn put_user(out: &mut Vec<u8>, user: &UserData) {
    put_long(out, user.id);
    out.push(u8::from(user.is_active));
    put_str(out, &user.pii.username);
    put_str(out, &user.pii.email);
    put_str(out, &user.pii.name);
}

fn put_optional_time(out: &mut Vec<u8>, time: Option<&DateTime<Utc>>) {
    match time {
        None => out.push(0),
        Some(time) => {
            out.push(2);
            put_time(out, time);
        }
    }
}

/// The floor's encoder.
#[inline(never)]
fn hand_encode(data: &CourseEnrollmentCreated, out: &mut Vec<u8>) {
    let enrollment = &data.enrollment;
    put_user(out, &enrollment.user);
    put_key(out, &enrollment.course.course_key);
    put_str(out, &enrollment.course.display_name);
    put_optional_time(out, enrollment.course.start.as_ref());
    put_optional_time(out, enrollment.course.end.as_ref());
    put_str(out, &enrollment.mode);
    out.push(u8::from(enrollment.is_active));
    put_time(out, &enrollment.creation_date);
    match &enrollment.created_by {
        None => out.push(0),
        Some(user) => {
            out.push(2);
            put_user(out, user);
        }
    }
}

/// The floor's reader: a position in the input; `None` on any malformed input.
struct Cursor<'a> {
    input: &'a [u8],
    position: usize,
}

impl<'a> Cursor<'a> {
    #[inline]
    fn long(&mut self) -> Option<i64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self.input.get(self.position)?;
            self.position += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(((value >> 1) as i64) ^ -((value & 1) as i64));
            }
        }
        None
    }

    #[inline]
    fn bool(&mut self) -> Option<bool> {
        let byte = *self.input.get(self.position)?;
        self.position += 1;
        match byte {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }

    #[inline]
    fn str(&mut self) -> Option<&'a str> {
        let len = usize::try_from(self.long()?).ok()?;
        let bytes = self.input.get(self.position..self.position.checked_add(len)?)?;
        self.position += len;
        std::str::from_utf8(bytes).ok()
    }

    #[inline]
    fn string(&mut self) -> Option<String> {
        self.str().map(str::to_owned)
    }

    /// The branch of a `["null", T]` union.
    #[inline]
    fn present(&mut self) -> Option<bool> {
        match self.long()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }

    /// A time, through the same parser as ours (`parse_isoformat` is private to
    /// `openedx-events`; its only public door is `EventField::read_avro`).
    #[inline]
    fn time(&mut self) -> Option<DateTime<Utc>> {
        let rest = self.input.get(self.position..)?;
        let mut reader = AvroReader::new(rest);
        let time = <DateTime<Utc> as EventField>::read_avro(&mut reader).ok()?;
        self.position += rest.len() - reader.remaining();
        Some(time)
    }

    #[inline]
    fn optional_time(&mut self) -> Option<Option<DateTime<Utc>>> {
        if self.present()? { self.time().map(Some) } else { Some(None) }
    }

    fn user(&mut self) -> Option<UserData> {
        Some(UserData {
            id: self.long()?,
            is_active: self.bool()?,
            pii: UserPersonalData { username: self.string()?, email: self.string()?, name: self.string()? },
        })
    }
}

/// The floor's decoder.
#[inline(never)]
fn hand_decode(input: &[u8]) -> Option<CourseEnrollmentCreated> {
    let mut cursor = Cursor { input, position: 0 };
    let user = cursor.user()?;
    let course = CourseData {
        course_key: CourseKey::from_str(cursor.str()?).ok()?,
        display_name: cursor.string()?,
        start: cursor.optional_time()?,
        end: cursor.optional_time()?,
    };
    let enrollment = CourseEnrollmentData {
        user,
        course,
        mode: cursor.string()?,
        is_active: cursor.bool()?,
        creation_date: cursor.time()?,
        created_by: if cursor.present()? { Some(cursor.user()?) } else { None },
    };
    (cursor.position == input.len()).then_some(CourseEnrollmentCreated { enrollment })
}

// ---------------------------------------------------------------------------------------------
// Setup checks and benchmarks.

/// apache-avro's writer and reader for one schema, built once.
struct Apache<'s> {
    writer: GenericDatumWriter<'s>,
    reader: GenericDatumReader<'s>,
}

impl<'s> Apache<'s> {
    fn new(schema: &'s Schema) -> Self {
        Apache {
            writer: GenericDatumWriter::builder(schema).build().expect("an apache-avro writer"),
            reader: GenericDatumReader::builder(schema).build().expect("an apache-avro reader"),
        }
    }

    fn write_ser<M: Serialize>(&self, mirror: &M, out: &mut Vec<u8>) {
        self.writer.write_ser(out, mirror).expect("apache-avro serde encoding");
    }

    fn write_value<M: Serialize>(&self, mirror: &M, out: &mut Vec<u8>) {
        let value = apache_avro::to_value(mirror).expect("apache-avro to_value");
        self.writer.write_value_ref(out, &value).expect("apache-avro Value encoding");
    }

    fn read_deser<M: DeserializeOwned>(&self, mut bytes: &[u8]) -> M {
        self.reader.read_deser(&mut bytes).expect("apache-avro serde decoding")
    }

    fn read_value<M: DeserializeOwned>(&self, mut bytes: &[u8]) -> M {
        let value = self.reader.read_value(&mut bytes).expect("apache-avro Value decoding");
        apache_avro::from_value(&value).expect("apache-avro from_value")
    }
}

/// Runs one measured routine, out of line, so that a profiler sees each call: under
/// `valgrind --tool=callgrind`, the inclusive cost of `avro::measured` over its call count is the
/// instructions per iteration (see `benches/README.md`).
#[inline(never)]
fn measured<R>(routine: impl FnOnce() -> R) -> R {
    routine()
}

/// Encodes `data` with `f` into a fresh buffer.
fn encoded(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::new();
    f(&mut out);
    out
}

/// A hand-written encoder and decoder of a payload.
type Floor<E> = (fn(&E, &mut Vec<u8>), fn(&[u8]) -> Option<E>);

/// Benchmarks one payload: ours, apache-avro's serde and `Value` paths, and optionally the floor.
fn bench_payload<E, M>(
    c: &mut Criterion,
    name: &str,
    signal: &'static OpenEdxPublicSignal<E>,
    data: &E,
    floor: Option<Floor<E>>,
) where
    E: EventData + PartialEq + std::fmt::Debug,
    M: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let schema = Schema::parse_str(signal.avro_schema().expect("a serializable event")).expect("apache-avro schema");
    let apache = Apache::new(&schema);
    // The mirror holds upstream's record dict, which is what our JSON form is.
    let mirror: M = serde_json::from_value(data.to_json()).expect("the mirror struct reads our JSON form");

    // Fairness: every encoder writes the same bytes, every decoder reads back the same record.
    let ours = signal.encode_avro(data).expect("a serializable event");
    assert_eq!(signal.decode_avro(&ours).as_ref(), Ok(data), "{name}: our round trip");
    assert_eq!(encoded(|out| apache.write_ser(&mirror, out)), ours, "{name}: apache-avro serde bytes");
    assert_eq!(apache.read_deser::<M>(&ours), mirror, "{name}: apache-avro serde decoding");
    assert_eq!(apache.read_value::<M>(&ours), mirror, "{name}: apache-avro Value decoding");
    // `to_value` makes maps `HashMap`s, so the `Value` path writes map entries in any order:
    // same length, and our decoder reads the same record from it.
    let value_bytes = encoded(|out| apache.write_value(&mirror, out));
    assert_eq!(value_bytes.len(), ours.len(), "{name}: apache-avro Value bytes");
    assert_eq!(signal.decode_avro(&value_bytes).as_ref(), Ok(data), "{name}: apache-avro Value bytes");
    if let Some((encode, decode)) = floor {
        assert_eq!(encoded(|out| encode(data, out)), ours, "{name}: floor bytes");
        assert_eq!(decode(&ours).as_ref(), Some(data), "{name}: floor decoding");
    }

    let mut group = c.benchmark_group(name);
    let mut buffer = Vec::with_capacity(4 * ours.len());
    group.bench_function("encode/ours", |b| {
        b.iter(|| {
            buffer.clear();
            measured(|| signal.encode_avro_into(black_box(data), &mut buffer).is_ok())
        });
    });
    group.bench_function("encode/apache-avro serde (write_ser)", |b| {
        b.iter(|| {
            buffer.clear();
            measured(|| apache.write_ser(black_box(&mirror), &mut buffer));
        });
    });
    group.bench_function("encode/apache-avro Value (to_value + write_value_ref)", |b| {
        b.iter(|| {
            buffer.clear();
            measured(|| apache.write_value(black_box(&mirror), &mut buffer));
        });
    });
    if let Some((encode, _)) = floor {
        group.bench_function("encode/hand floor", |b| {
            b.iter(|| {
                buffer.clear();
                measured(|| encode(black_box(data), &mut buffer));
            });
        });
    }

    group.bench_function("decode/ours", |b| b.iter(|| measured(|| signal.decode_avro(black_box(&ours)))));
    group.bench_function("decode/apache-avro serde (read_deser)", |b| {
        b.iter(|| measured(|| apache.read_deser::<M>(black_box(&ours))));
    });
    group.bench_function("decode/apache-avro Value (read_value + from_value)", |b| {
        b.iter(|| measured(|| apache.read_value::<M>(black_box(&ours))));
    });
    if let Some((_, decode)) = floor {
        group.bench_function("decode/hand floor", |b| b.iter(|| measured(|| decode(black_box(&ours)))));
    }
    group.finish();
}

/// Adds apache-avro's serde paths on [`TypedEnrollmentCreated`] to the enrollment's group.
fn bench_typed_enrollment(c: &mut Criterion, name: &str, data: &CourseEnrollmentCreated) {
    let schema = Schema::parse_str(COURSE_ENROLLMENT_CREATED.avro_schema().expect("a serializable event"))
        .expect("apache-avro schema");
    let apache = Apache::new(&schema);
    let typed = TypedEnrollmentCreated::new(data);
    let ours = COURSE_ENROLLMENT_CREATED.encode_avro(data).expect("a serializable event");
    assert_eq!(encoded(|out| apache.write_ser(&typed, out)), ours, "{name}: apache-avro typed serde bytes");
    assert_eq!(apache.read_deser::<TypedEnrollmentCreated>(&ours), typed, "{name}: apache-avro typed decoding");

    let mut group = c.benchmark_group(name);
    let mut buffer = Vec::with_capacity(4 * ours.len());
    group.bench_function("encode/apache-avro serde, typed mirror", |b| {
        b.iter(|| {
            buffer.clear();
            measured(|| apache.write_ser(black_box(&typed), &mut buffer));
        });
    });
    group.bench_function("decode/apache-avro serde, typed mirror", |b| {
        b.iter(|| measured(|| apache.read_deser::<TypedEnrollmentCreated>(black_box(&ours))));
    });
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench_payload::<_, MirrorEnrollmentCreated>(
        &mut c,
        "course_enrollment_created",
        &COURSE_ENROLLMENT_CREATED,
        &enrollment(),
        Some((hand_encode, hand_decode)),
    );
    bench_typed_enrollment(&mut c, "course_enrollment_created", &enrollment());
    bench_payload::<_, MirrorForumResponseCreated>(
        &mut c,
        "forum_thread_response_created",
        &FORUM_THREAD_RESPONSE_CREATED,
        &forum_response(),
        None,
    );
    bench_payload::<_, MirrorLearnerCreditRevoked>(
        &mut c,
        "learner_credit_course_enrollment_revoked",
        &LEARNER_CREDIT_COURSE_ENROLLMENT_REVOKED,
        &learner_credit_revoked(),
        None,
    );
    c.final_summary();
}
