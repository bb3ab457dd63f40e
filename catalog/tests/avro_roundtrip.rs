//! Property tests of the Avro codec and the JSON form over arbitrary payloads of real catalog
//! events: `decode(encode(x)) == x`, `from_json(to_json(x)) == x` (through JSON text too), the
//! type-erased `avro_to_json` / `json_to_avro` agree with the typed ones, `write_json` writes
//! what serde_json writes of `to_json`, and no byte string,
//! arbitrary or a mutation of valid bytes, makes decoding panic.
//!
//! Times are generated at microsecond precision within Python's years 1 to 9999 (what the wire
//! form carries); doubles are finite (JSON has no NaN or infinity) and compared bit for bit.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use openedx_events::keys::{
    CcxLocator, CourseKey, LibraryCollectionLocator, LibraryContainerLocator, LibraryLocatorV2, LibraryUsageLocatorV2,
    UsageKey,
};
use openedx_events::{AnySignal, EventData, EventField, OpenEdxPublicSignal};
use openedx_events_catalog::content_authoring::data::{
    ContentObjectChangedData, CourseCatalogData, CourseScheduleData, DuplicatedXBlockData, LibraryBlockData,
    LibraryCollectionData, LibraryContainerData,
};
use openedx_events_catalog::content_authoring::signals::{
    CONTENT_OBJECT_ASSOCIATIONS_CHANGED, COURSE_CATALOG_INFO_CHANGED, ContentObjectAssociationsChanged,
    CourseCatalogInfoChanged, LIBRARY_BLOCK_CREATED, LIBRARY_COLLECTION_CREATED, LIBRARY_CONTAINER_CREATED,
    LibraryBlockCreated, LibraryCollectionCreated, LibraryContainerCreated, XBLOCK_DUPLICATED, XblockDuplicated,
};
use openedx_events_catalog::enterprise::data::{
    EnterpriseCourseEnrollment, EnterpriseCustomerUser, LearnerCreditEnterpriseCourseEnrollment, LedgerTransaction,
    LedgerTransactionReversal,
};
use openedx_events_catalog::enterprise::signals::{
    LEARNER_CREDIT_COURSE_ENROLLMENT_REVOKED, LEDGER_TRANSACTION_CREATED, LearnerCreditCourseEnrollmentRevoked,
    LedgerTransactionCreated,
};
use openedx_events_catalog::learning::data::{
    CcxCourseData, CcxCoursePassingStatusData, CourseData, CourseDiscussionConfigurationData, CourseEnrollmentData,
    CourseNotificationData, DiscussionThreadData, DiscussionTopicContext, ORASubmissionAnswer, ORASubmissionData,
    PersistentCourseGradeData, UserData, UserPersonalData,
};
use openedx_events_catalog::learning::signals::{
    CCX_COURSE_PASSING_STATUS_UPDATED, COURSE_DISCUSSIONS_CHANGED, COURSE_ENROLLMENT_CREATED,
    COURSE_NOTIFICATION_REQUESTED, CcxCoursePassingStatusUpdated, CourseDiscussionsChanged, CourseEnrollmentCreated,
    CourseNotificationRequested, FORUM_THREAD_CREATED, ForumThreadCreated, ORA_SUBMISSION_CREATED,
    OraSubmissionCreated, PERSISTENT_GRADE_SUMMARY_CHANGED, PersistentGradeSummaryChanged,
};
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use uuid::Uuid;

// Strategies for field types.

/// Any text, newlines and control characters included, mostly short.
fn text() -> impl Strategy<Value = String> {
    "(?s).{0,12}"
}

fn list<T: Debug>(item: impl Strategy<Value = T>) -> impl Strategy<Value = Vec<T>> {
    vec(item, 0..5)
}

fn map<T: Debug>(value: impl Strategy<Value = T>) -> impl Strategy<Value = BTreeMap<String, T>> {
    btree_map(text(), value, 0..5)
}

/// A UTC time at microsecond precision in Python's years 1 to 9999, whole seconds half the time
/// (their isoformat has no fraction).
fn time() -> impl Strategy<Value = DateTime<Utc>> {
    let micros = |year, month, day, h, m, s, us| {
        NaiveDate::from_ymd_opt(year, month, day)
            .and_then(|d| d.and_hms_micro_opt(h, m, s, us))
            .expect("a valid bound")
            .and_utc()
            .timestamp_micros()
    };
    let (first, last) = (micros(1, 1, 1, 0, 0, 0, 0), micros(9999, 12, 31, 23, 59, 59, 999_999));
    let at = |us: i64| DateTime::from_timestamp_micros(us).expect("within chrono's range");
    prop_oneof![
        (first..=last).prop_map(at),
        (first / 1_000_000..=last / 1_000_000).prop_map(move |s| at(s * 1_000_000)),
    ]
}

fn uuid() -> impl Strategy<Value = Uuid> {
    any::<u128>().prop_map(Uuid::from_u128)
}

/// A key parsed from a generated valid string; a string that does not parse fails the test.
fn parsed<K: FromStr<Err: Debug> + Debug>(text: impl Strategy<Value = String>) -> impl Strategy<Value = K> {
    text.prop_map(|s| s.parse::<K>().unwrap_or_else(|e| panic!("{s:?} must parse: {e:?}")))
}

/// `[\w\-~.:]+`, the parts of `+` keys, with some non-ASCII letters and digits.
const ID: &str = "[A-Za-z0-9_~.:\\-éλ中٣]{1,8}";
/// `[\w\-~.:%]+`, block ids of deprecated `i4x://` keys; `+` keys refuse `%` in block ids, as
/// upstream's `_parse_block_ref` does.
const I4X_BLOCK_ID: &str = "[A-Za-z0-9_~.:%\\-éλ]{1,8}";
/// `[\w.%-]`, the parts of deprecated slash keys.
const SLASH_PART: &str = "[A-Za-z0-9_.%\\-é]{1,8}";
/// `[a-zA-Z0-9_\-.]+`, a v2 library's org and block types.
const ASCII_FIELD: &str = "[A-Za-z0-9_.\\-]{1,8}";
/// `[\w\-.]+`, library slugs and ids.
const SLUG: &str = "[A-Za-z0-9_.\\-éλ٣]{1,8}";

/// `org+course+run`, sometimes with a branch or a version.
fn plus_body() -> impl Strategy<Value = String> {
    (ID, ID, ID, option::of(ID), option::of("[0-9a-f]{24}")).prop_map(|(org, course, run, branch, version)| {
        let mut body = format!("{org}+{course}+{run}");
        if let Some(branch) = branch {
            body.push_str(&format!("+branch@{branch}"));
        }
        if let Some(version) = version {
            body.push_str(&format!("+version@{version}"));
        }
        body
    })
}

fn course_key_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => plus_body().prop_map(|body| format!("course-v1:{body}")),
        1 => (SLASH_PART, SLASH_PART, "[A-Za-z0-9_.%\\-é]{0,8}").prop_map(|(o, c, r)| format!("{o}/{c}/{r}")),
        1 => (ID, ID, ID, "[0-9]{1,3}").prop_map(|(o, c, r, n)| format!("ccx-v1:{o}+{c}+{r}+ccx@{n}")),
        1 => (ID, ID).prop_map(|(o, l)| format!("library-v1:{o}+{l}")),
    ]
}

fn course_key() -> impl Strategy<Value = CourseKey> {
    parsed(course_key_text())
}

fn ccx_key() -> impl Strategy<Value = CcxLocator> {
    parsed((ID, ID, ID, "[0-9]{1,3}").prop_map(|(o, c, r, n)| format!("ccx-v1:{o}+{c}+{r}+ccx@{n}")))
}

fn library_key() -> impl Strategy<Value = LibraryLocatorV2> {
    parsed((ASCII_FIELD, SLUG).prop_map(|(org, slug)| format!("lib:{org}:{slug}")))
}

fn library_usage_key_text() -> impl Strategy<Value = String> {
    (ASCII_FIELD, SLUG, ASCII_FIELD, SLUG).prop_map(|(org, slug, t, id)| format!("lb:{org}:{slug}:{t}:{id}"))
}

fn library_usage_key() -> impl Strategy<Value = LibraryUsageLocatorV2> {
    parsed(library_usage_key_text())
}

fn usage_key() -> impl Strategy<Value = UsageKey> {
    parsed(prop_oneof![
        3 => (plus_body(), ID, ID).prop_map(|(body, t, id)| format!("block-v1:{body}+type@{t}+block@{id}")),
        1 => library_usage_key_text(),
        1 => (SLASH_PART, SLASH_PART, SLASH_PART, I4X_BLOCK_ID).prop_map(|(o, c, t, id)| format!("i4x://{o}/{c}/{t}/{id}")),
        1 => (ID, ID, ID, "[0-9]{1,3}", ID, ID)
            .prop_map(|(o, c, r, n, t, id)| format!("ccx-block-v1:{o}+{c}+{r}+ccx@{n}+type@{t}+block@{id}")),
    ])
}

fn collection_key() -> impl Strategy<Value = LibraryCollectionLocator> {
    parsed((ASCII_FIELD, SLUG, SLUG).prop_map(|(org, slug, id)| format!("lib-collection:{org}:{slug}:{id}")))
}

fn container_key() -> impl Strategy<Value = LibraryContainerLocator> {
    parsed((ASCII_FIELD, SLUG, ASCII_FIELD, SLUG).prop_map(|(org, slug, t, id)| format!("lct:{org}:{slug}:{t}:{id}")))
}

// Strategies for data types.

fn user() -> impl Strategy<Value = UserData> {
    (any::<i64>(), any::<bool>(), text(), text(), text()).prop_map(|(id, is_active, username, email, name)| UserData {
        id,
        is_active,
        pii: UserPersonalData { username, email, name },
    })
}

fn course() -> impl Strategy<Value = CourseData> {
    (course_key(), text(), option::of(time()), option::of(time()))
        .prop_map(|(course_key, display_name, start, end)| CourseData { course_key, display_name, start, end })
}

fn enrollment() -> impl Strategy<Value = CourseEnrollmentCreated> {
    (user(), course(), text(), any::<bool>(), time(), option::of(user())).prop_map(
        |(user, course, mode, is_active, creation_date, created_by)| CourseEnrollmentCreated {
            enrollment: CourseEnrollmentData { user, course, mode, is_active, creation_date, created_by },
        },
    )
}

fn forum_thread() -> impl Strategy<Value = ForumThreadCreated> {
    let required = (text(), text(), text(), any::<bool>(), text(), user(), course_key());
    let optional = (
        option::of(text()),
        option::of(any::<bool>()),
        option::of(any::<bool>()),
        option::of(text()),
        option::of(any::<bool>()),
        option::of(any::<i64>()),
        option::of(any::<i64>()),
        option::of(any::<i64>()),
        option::of(text()),
        option::of(map(text())),
    );
    let collections = (list(text()), list(text()), map(any::<bool>()));
    (required, optional, collections).prop_map(|(required, optional, collections)| {
        let (body, commentable_id, id, truncated, url, user, course_id) = required;
        let (thread_type, anonymous, anonymous_to_peers, title, title_truncated, group_id, team_id, category_id) =
            (optional.0, optional.1, optional.2, optional.3, optional.4, optional.5, optional.6, optional.7);
        let (category_name, discussion) = (optional.8, optional.9);
        let (user_course_roles, user_forums_roles, options) = collections;
        ForumThreadCreated {
            thread: DiscussionThreadData {
                body,
                commentable_id,
                id,
                truncated,
                url,
                user,
                course_id,
                thread_type,
                anonymous,
                anonymous_to_peers,
                title,
                title_truncated,
                group_id,
                team_id,
                category_id,
                category_name,
                discussion,
                user_course_roles,
                user_forums_roles,
                options,
            },
        }
    })
}

fn reversal() -> impl Strategy<Value = LedgerTransactionReversal> {
    (uuid(), time(), time(), text(), any::<i64>(), text()).prop_map(
        |(uuid, created, modified, idempotency_key, quantity, state)| LedgerTransactionReversal {
            uuid,
            created,
            modified,
            idempotency_key,
            quantity,
            state,
        },
    )
}

fn ledger_transaction() -> impl Strategy<Value = LedgerTransactionCreated> {
    let head = (uuid(), time(), time(), text(), any::<i64>(), text(), uuid(), uuid(), any::<i64>());
    let tail = (course_key(), option::of(text()), option::of(text()), option::of(reversal()));
    (head, tail).prop_map(|(head, tail)| {
        let (uuid, created, modified, idempotency_key, quantity, state, ledger_uuid, policy_uuid, lms_user_id) = head;
        let (content_key, parent_content_key, fulfillment_identifier, reversal) = tail;
        LedgerTransactionCreated {
            ledger_transaction: LedgerTransaction {
                uuid,
                created,
                modified,
                idempotency_key,
                quantity,
                state,
                ledger_uuid,
                subsidy_access_policy_uuid: policy_uuid,
                lms_user_id,
                content_key,
                parent_content_key,
                fulfillment_identifier,
                reversal,
            },
        }
    })
}

fn enterprise_customer_user() -> impl Strategy<Value = EnterpriseCustomerUser> {
    let flags = (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>());
    (any::<i64>(), time(), time(), uuid(), any::<i64>(), flags, option::of(uuid())).prop_map(
        |(id, created, modified, enterprise_customer_uuid, user_id, flags, invite_key)| EnterpriseCustomerUser {
            id,
            created,
            modified,
            enterprise_customer_uuid,
            user_id,
            active: flags.0,
            linked: flags.1,
            is_relinkable: flags.2,
            should_inactivate_other_customers: flags.3,
            invite_key,
        },
    )
}

fn enterprise_course_enrollment() -> impl Strategy<Value = EnterpriseCourseEnrollment> {
    let head = (any::<i64>(), time(), time(), enterprise_customer_user(), course_key(), any::<bool>());
    let tail = (option::of(text()), option::of(any::<bool>()), option::of(time()));
    (head, tail).prop_map(|(head, tail)| {
        let (id, created, modified, enterprise_customer_user, course_id, saved_for_later) = head;
        let (source_slug, unenrolled, unenrolled_at) = tail;
        EnterpriseCourseEnrollment {
            id,
            created,
            modified,
            enterprise_customer_user,
            course_id,
            saved_for_later,
            source_slug,
            unenrolled,
            unenrolled_at,
        }
    })
}

fn learner_credit_revoked() -> impl Strategy<Value = LearnerCreditCourseEnrollmentRevoked> {
    (
        uuid(),
        time(),
        time(),
        text(),
        any::<bool>(),
        option::of(uuid()),
        option::of(enterprise_course_enrollment()),
        option::of(uuid()),
    )
        .prop_map(
            |(uuid, created, modified, fulfillment_type, is_revoked, entitlement, enrollment, transaction_id)| {
                LearnerCreditCourseEnrollmentRevoked {
                    learner_credit_course_enrollment: LearnerCreditEnterpriseCourseEnrollment {
                        uuid,
                        created,
                        modified,
                        fulfillment_type,
                        is_revoked,
                        enterprise_course_entitlement_uuid: entitlement,
                        enterprise_course_enrollment: enrollment,
                        transaction_id,
                    },
                }
            },
        )
}

fn grade() -> impl Strategy<Value = PersistentGradeSummaryChanged> {
    (any::<i64>(), course(), time(), text(), text(), any::<f64>(), text(), time()).prop_map(
        |(user_id, course, edited, course_version, grading_policy_hash, percent_grade, letter_grade, passed)| {
            PersistentGradeSummaryChanged {
                grade: PersistentCourseGradeData {
                    user_id,
                    course,
                    course_edited_timestamp: edited,
                    course_version,
                    grading_policy_hash,
                    percent_grade,
                    letter_grade,
                    passed_timestamp: passed,
                },
            }
        },
    )
}

fn course_notification() -> impl Strategy<Value = CourseNotificationRequested> {
    (course_key(), text(), text(), text(), map(text()), map(list(text()))).prop_map(
        |(course_key, app_name, notification_type, content_url, content_context, audience_filters)| {
            CourseNotificationRequested {
                course_notification_data: CourseNotificationData {
                    course_key,
                    app_name,
                    notification_type,
                    content_url,
                    content_context,
                    audience_filters,
                },
            }
        },
    )
}

fn ora_submission() -> impl Strategy<Value = OraSubmissionCreated> {
    let answer = (list(map(text())), list(text()), list(text()), list(text()), list(any::<i64>()), list(text()))
        .prop_map(|(parts, file_keys, file_descriptions, file_names, file_sizes, file_urls)| ORASubmissionAnswer {
            parts,
            file_keys,
            file_descriptions,
            file_names,
            file_sizes,
            file_urls,
        });
    (text(), text(), text(), any::<i64>(), time(), time(), answer).prop_map(
        |(uuid, anonymous_user_id, location, attempt_number, created_at, submitted_at, answer)| OraSubmissionCreated {
            submission: ORASubmissionData {
                uuid,
                anonymous_user_id,
                location,
                attempt_number,
                created_at,
                submitted_at,
                answer,
            },
        },
    )
}

fn discussions_changed() -> impl Strategy<Value = CourseDiscussionsChanged> {
    let context = (
        text(),
        option::of(usage_key()),
        option::of(any::<i64>()),
        option::of(text()),
        option::of(any::<i64>()),
        map(text()),
    )
        .prop_map(|(title, usage_key, group_id, external_id, ordering, context)| DiscussionTopicContext {
            title,
            usage_key,
            group_id,
            external_id,
            ordering,
            context,
        });
    let flags = (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>());
    (course_key(), text(), flags, map(any::<bool>()), list(context)).prop_map(
        |(course_key, provider_type, flags, plugin_configuration, contexts)| CourseDiscussionsChanged {
            configuration: CourseDiscussionConfigurationData {
                course_key,
                provider_type,
                enabled: flags.0,
                enable_in_context: flags.1,
                enable_graded_units: flags.2,
                unit_level_visibility: flags.3,
                plugin_configuration,
                contexts,
            },
        },
    )
}

fn catalog_info() -> impl Strategy<Value = CourseCatalogInfoChanged> {
    let schedule = (time(), text(), option::of(time()), option::of(time()), option::of(time())).prop_map(
        |(start, pacing, end, enrollment_start, enrollment_end)| CourseScheduleData {
            start,
            pacing,
            end,
            enrollment_start,
            enrollment_end,
        },
    );
    (course_key(), text(), schedule, any::<bool>(), any::<bool>()).prop_map(
        |(course_key, name, schedule_data, hidden, invitation_only)| CourseCatalogInfoChanged {
            catalog_info: CourseCatalogData { course_key, name, schedule_data, hidden, invitation_only },
        },
    )
}

fn associations() -> impl Strategy<Value = ContentObjectAssociationsChanged> {
    (text(), list(text())).prop_map(|(object_id, changes)| ContentObjectAssociationsChanged {
        content_object: ContentObjectChangedData { object_id, changes },
    })
}

fn xblock_duplicated() -> impl Strategy<Value = XblockDuplicated> {
    (usage_key(), text(), option::of(usage_key()), usage_key()).prop_map(
        |(usage_key, block_type, version, source_usage_key)| XblockDuplicated {
            xblock_info: DuplicatedXBlockData { usage_key, block_type, version, source_usage_key },
        },
    )
}

fn library_block() -> impl Strategy<Value = LibraryBlockCreated> {
    (library_key(), library_usage_key()).prop_map(|(library_key, usage_key)| LibraryBlockCreated {
        library_block: LibraryBlockData { library_key, usage_key },
    })
}

fn collection() -> impl Strategy<Value = LibraryCollectionCreated> {
    (collection_key(), any::<bool>()).prop_map(|(collection_key, background)| LibraryCollectionCreated {
        library_collection: LibraryCollectionData { collection_key, background },
    })
}

fn container() -> impl Strategy<Value = LibraryContainerCreated> {
    (container_key(), any::<bool>()).prop_map(|(container_key, background)| LibraryContainerCreated {
        library_container: LibraryContainerData { container_key, background },
    })
}

fn ccx_passing() -> impl Strategy<Value = CcxCoursePassingStatusUpdated> {
    let ccx_course =
        (ccx_key(), course_key(), text(), text(), option::of(text()), option::of(text()), option::of(any::<i64>()))
            .prop_map(|(ccx_course_key, master_course_key, display_name, coach_email, start, end, max_students)| {
                CcxCourseData {
                    ccx_course_key,
                    master_course_key,
                    display_name,
                    coach_email,
                    start,
                    end,
                    max_students_allowed: max_students,
                }
            });
    (any::<bool>(), user(), ccx_course).prop_map(|(is_passing, user, course)| CcxCoursePassingStatusUpdated {
        course_passing_status: CcxCoursePassingStatusData { is_passing, user, course },
    })
}

// Properties.

fn fail(error: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(error.to_string())
}

fn erased<E: EventData>(signal: &OpenEdxPublicSignal<E>) -> &'static dyn AnySignal {
    openedx_events::get_signal_by_type(signal.event_type()).expect("every catalog event is registered")
}

/// Avro and the JSON form (as values and as text) both give the payload back, and the
/// type-erased codec agrees with the typed one.
fn assert_round_trips<E: EventData + PartialEq + Debug>(
    signal: &OpenEdxPublicSignal<E>,
    data: &E,
) -> Result<(), TestCaseError> {
    assert_codec_round_trips(signal, data)?;
    let reread = E::from_json(&json_text_round_trip(&data.to_json())?).map_err(fail)?;
    prop_assert_eq!(&reread, data, "JSON text round trip");
    Ok(())
}

/// Avro and the JSON form (as values) both give the payload back, and the type-erased codec
/// agrees with the typed one.
fn assert_codec_round_trips<E: EventData + PartialEq + Debug>(
    signal: &OpenEdxPublicSignal<E>,
    data: &E,
) -> Result<(), TestCaseError> {
    let bytes = signal.encode_avro(data).map_err(fail)?;
    prop_assert_eq!(&signal.decode_avro(&bytes).map_err(fail)?, data, "Avro round trip");

    let json = data.to_json();
    prop_assert_eq!(&E::from_json(&json).map_err(fail)?, data, "JSON round trip");

    let any = erased(signal);
    prop_assert_eq!(any.avro_to_json(&bytes).map_err(fail)?, json.clone(), "avro_to_json");
    prop_assert_eq!(any.json_to_avro(&json).map_err(fail)?, bytes, "json_to_avro");

    // The JSON text written directly is what serde_json writes of the value, byte for byte.
    let text = serde_json::to_vec(&json).map_err(fail)?;
    let mut direct = Vec::new();
    data.write_json(&mut direct);
    prop_assert_eq!(String::from_utf8_lossy(&direct), String::from_utf8_lossy(&text), "write_json");
    let mut erased_text = b"[".to_vec();
    prop_assert!(any.write_data_json(data, &mut erased_text), "write_data_json of its own payload");
    prop_assert_eq!(&erased_text[1..], &text[..], "write_data_json");
    prop_assert!(!any.write_data_json(&0u8, &mut erased_text), "write_data_json of another type");
    prop_assert_eq!(&erased_text[1..], &text[..], "nothing written for another type");
    Ok(())
}

/// The JSON value written as text and read back, as a service receiving it would.
fn json_text_round_trip(json: &serde_json::Value) -> Result<serde_json::Value, TestCaseError> {
    let text = serde_json::to_string(json).map_err(fail)?;
    serde_json::from_str(&text).map_err(fail)
}

/// Decoding `bytes` returns (never panics); what decodes re-encodes to bytes that decode to the
/// same payload.
fn assert_decodes_or_refuses<E: EventData + PartialEq + Debug>(
    signal: &OpenEdxPublicSignal<E>,
    bytes: &[u8],
) -> Result<(), TestCaseError> {
    if let Ok(data) = signal.decode_avro(bytes) {
        let again = signal.encode_avro(&data).map_err(fail)?;
        prop_assert_eq!(signal.decode_avro(&again).map_err(fail)?, data);
    }
    Ok(())
}

/// Valid bytes with one change: a byte replaced, inserted or removed.
fn mutate(mut bytes: Vec<u8>, at: prop::sample::Index, byte: u8, how: u8) -> Vec<u8> {
    if bytes.is_empty() {
        return vec![byte];
    }
    let i = at.index(bytes.len());
    match how % 3 {
        0 => bytes[i] = byte,
        1 => bytes.insert(i, byte),
        _ => {
            bytes.remove(i);
        }
    }
    bytes
}

proptest! {
    // Modest counts keep the file under a few seconds in debug builds; failures are not saved to
    // a regressions file (proptest finds none for an integration test), the seed is printed.
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn enrollments_round_trip(data in enrollment()) {
        assert_round_trips(&COURSE_ENROLLMENT_CREATED, &data)?;
    }

    #[test]
    fn forum_threads_round_trip(data in forum_thread()) {
        assert_round_trips(&FORUM_THREAD_CREATED, &data)?;
    }

    #[test]
    fn ledger_transactions_round_trip(data in ledger_transaction()) {
        assert_round_trips(&LEDGER_TRANSACTION_CREATED, &data)?;
    }

    #[test]
    fn learner_credit_enrollments_round_trip(data in learner_credit_revoked()) {
        assert_round_trips(&LEARNER_CREDIT_COURSE_ENROLLMENT_REVOKED, &data)?;
    }

    #[test]
    fn grades_round_trip_bit_for_bit(data in grade()) {
        assert_codec_round_trips(&PERSISTENT_GRADE_SUMMARY_CHANGED, &data)?;
        // `==` holds for 0.0 and -0.0; the sign must survive too.
        let bits = data.grade.percent_grade.to_bits();
        let bytes = PERSISTENT_GRADE_SUMMARY_CHANGED.encode_avro(&data).map_err(fail)?;
        let decoded = PERSISTENT_GRADE_SUMMARY_CHANGED.decode_avro(&bytes).map_err(fail)?;
        prop_assert_eq!(decoded.grade.percent_grade.to_bits(), bits);
        let reread = PersistentGradeSummaryChanged::from_json(&data.to_json()).map_err(fail)?;
        prop_assert_eq!(reread.grade.percent_grade.to_bits(), bits);

        // Through JSON text too, bit for bit: serde_json's `float_roundtrip` feature (on in this
        // workspace) reads back exactly the double it wrote, as Python's `json` does.
        let reread = PersistentGradeSummaryChanged::from_json(&json_text_round_trip(&data.to_json())?).map_err(fail)?;
        prop_assert_eq!(reread.grade.percent_grade.to_bits(), bits, "JSON text round trip of the double");
        prop_assert_eq!(reread, data, "JSON text round trip");
    }

    #[test]
    fn course_notifications_round_trip(data in course_notification()) {
        assert_round_trips(&COURSE_NOTIFICATION_REQUESTED, &data)?;
    }

    #[test]
    fn ora_submissions_round_trip(data in ora_submission()) {
        assert_round_trips(&ORA_SUBMISSION_CREATED, &data)?;
    }

    #[test]
    fn discussion_configurations_round_trip(data in discussions_changed()) {
        assert_round_trips(&COURSE_DISCUSSIONS_CHANGED, &data)?;
    }

    #[test]
    fn content_authoring_events_round_trip(
        catalog in catalog_info(),
        changed in associations(),
        duplicated in xblock_duplicated(),
        block in library_block(),
        collection in collection(),
        container in container(),
    ) {
        assert_round_trips(&COURSE_CATALOG_INFO_CHANGED, &catalog)?;
        assert_round_trips(&CONTENT_OBJECT_ASSOCIATIONS_CHANGED, &changed)?;
        assert_round_trips(&XBLOCK_DUPLICATED, &duplicated)?;
        assert_round_trips(&LIBRARY_BLOCK_CREATED, &block)?;
        assert_round_trips(&LIBRARY_COLLECTION_CREATED, &collection)?;
        assert_round_trips(&LIBRARY_CONTAINER_CREATED, &container)?;
    }

    #[test]
    fn ccx_passing_statuses_round_trip(data in ccx_passing()) {
        assert_round_trips(&CCX_COURSE_PASSING_STATUS_UPDATED, &data)?;
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..256)) {
        assert_decodes_or_refuses(&COURSE_ENROLLMENT_CREATED, &bytes)?;
        assert_decodes_or_refuses(&FORUM_THREAD_CREATED, &bytes)?;
        assert_decodes_or_refuses(&LEDGER_TRANSACTION_CREATED, &bytes)?;
        assert_decodes_or_refuses(&PERSISTENT_GRADE_SUMMARY_CHANGED, &bytes)?;
        assert_decodes_or_refuses(&COURSE_NOTIFICATION_REQUESTED, &bytes)?;
        assert_decodes_or_refuses(&ORA_SUBMISSION_CREATED, &bytes)?;
        assert_decodes_or_refuses(&CONTENT_OBJECT_ASSOCIATIONS_CHANGED, &bytes)?;
        assert_decodes_or_refuses(&LIBRARY_BLOCK_CREATED, &bytes)?;
        // Every registered event, through the type-erased decoder.
        for signal in openedx_events::all_events() {
            let _ = signal.avro_to_json(&bytes);
        }
    }

    #[test]
    fn mutated_valid_bytes_never_panic(
        enrollment in enrollment(),
        thread in forum_thread(),
        ledger in ledger_transaction(),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        how in any::<u8>(),
    ) {
        let bytes = COURSE_ENROLLMENT_CREATED.encode_avro(&enrollment).map_err(fail)?;
        assert_decodes_or_refuses(&COURSE_ENROLLMENT_CREATED, &mutate(bytes, at, byte, how))?;
        let bytes = FORUM_THREAD_CREATED.encode_avro(&thread).map_err(fail)?;
        assert_decodes_or_refuses(&FORUM_THREAD_CREATED, &mutate(bytes, at, byte, how))?;
        let bytes = LEDGER_TRANSACTION_CREATED.encode_avro(&ledger).map_err(fail)?;
        assert_decodes_or_refuses(&LEDGER_TRANSACTION_CREATED, &mutate(bytes, at, byte, how))?;
    }
}
