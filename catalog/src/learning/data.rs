//! The data types that `learning` events carry: users, courses, enrollments, certificates,
//! grades, exams, discussions, notifications, badges, identity checks and LTI launches.
//!
//! Each type has upstream's name, field names, field order and field types. A field that upstream
//! leaves out as `None` by default is an `Option`. Types with other defaults (an empty string or
//! collection, `true` or `false`) have a `new` constructor that takes the required fields in order
//! and fills in the rest; every field stays public, so set the others after.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use openedx_events::EventData;
use openedx_events::keys::{CcxLocator, CourseKey, UsageKey};

/// A user of the platform: the account's id and state, with its personal details in `pii`.
///
/// Upstream builds this type by extending a non-personal user type with the `pii` field; here the
/// three fields sit in one struct, in the same order.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct UserData {
    /// The numeric id of the user's account.
    pub id: i64,
    /// Whether the account is active.
    pub is_active: bool,
    /// The user's personally identifiable details: username, email, full name.
    pub pii: UserPersonalData,
}

/// The personally identifiable part of a [`UserData`]. Handle it with care: it names a person.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct UserPersonalData {
    /// The user's login name.
    pub username: String,
    /// The user's email address.
    pub email: String,
    /// The full name from the user's profile; empty when unknown.
    pub name: String,
}

impl UserPersonalData {
    /// Personal details with a username and email; the full name is left empty.
    pub fn new(username: String, email: String) -> Self {
        UserPersonalData { username, email, name: String::new() }
    }
}

/// A course run, as the learning side of the platform sees it (from its course overview).
///
/// Not to be confused with `content_authoring::data::CourseData`, upstream's other type of the same
/// name.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct CourseData {
    /// The course run's key.
    pub course_key: CourseKey,
    /// The course's title as learners see it; empty when not given.
    pub display_name: String,
    /// When the course starts, if it has a start date.
    pub start: Option<DateTime<Utc>>,
    /// When the course ends, if it has an end date.
    pub end: Option<DateTime<Utc>>,
}

impl CourseData {
    /// A course known only by its key: no display name, no start or end date.
    pub fn new(course_key: CourseKey) -> Self {
        CourseData { course_key, display_name: String::new(), start: None, end: None }
    }
}

/// A custom course (CCX): a copy of a course run that a coach runs for their own group of
/// learners.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct CcxCourseData {
    /// The custom course's own key.
    pub ccx_course_key: CcxLocator,
    /// The key of the course run it was made from.
    pub master_course_key: CourseKey,
    /// The custom course's title; empty when not given.
    pub display_name: String,
    /// The coach's email address; empty when not given.
    pub coach_email: String,
    /// When the custom course starts, as text (upstream sends a string, not a date), if set.
    pub start: Option<String>,
    /// When the custom course ends, as text (upstream sends a string, not a date), if set.
    pub end: Option<String>,
    /// How many learners may enrol, if there is a limit.
    pub max_students_allowed: Option<i64>,
}

impl CcxCourseData {
    /// A custom course known by its key and its parent course's key; every other field is empty
    /// or unset.
    pub fn new(ccx_course_key: CcxLocator, master_course_key: CourseKey) -> Self {
        CcxCourseData {
            ccx_course_key,
            master_course_key,
            display_name: String::new(),
            coach_email: String::new(),
            start: None,
            end: None,
            max_students_allowed: None,
        }
    }
}

/// A learner's enrollment in a course run.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct CourseEnrollmentData {
    /// The enrolled learner.
    pub user: UserData,
    /// The course run the learner is enrolled in.
    pub course: CourseData,
    /// The enrollment track, such as `audit` or `verified`.
    pub mode: String,
    /// Whether the enrollment is active (false once the learner unenrolls).
    pub is_active: bool,
    /// When the enrollment was first created.
    pub creation_date: DateTime<Utc>,
    /// Who created the enrollment (a staff member, for instance), when that is known.
    pub created_by: Option<UserData>,
}

impl CourseEnrollmentData {
    /// An enrollment with its required fields; `created_by` is left unknown.
    pub fn new(
        user: UserData,
        course: CourseData,
        mode: String,
        is_active: bool,
        creation_date: DateTime<Utc>,
    ) -> Self {
        CourseEnrollmentData { user, course, mode, is_active, creation_date, created_by: None }
    }
}

/// A course certificate issued (or withheld) for a learner in a course run.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct CertificateData {
    /// The learner the certificate belongs to.
    pub user: UserData,
    /// The course run the certificate is for.
    pub course: CourseData,
    /// The enrollment track the certificate was earned in, such as `verified`.
    pub mode: String,
    /// The learner's grade in the course run, as text.
    pub grade: String,
    /// Where the certificate's PDF can be downloaded.
    pub download_url: String,
    /// The learner's name as printed on the certificate.
    pub name: String,
    /// The certificate's status now, such as `downloadable`.
    pub current_status: String,
    /// The certificate's status before this event; empty when unknown.
    pub previous_status: String,
}

impl CertificateData {
    /// A certificate with its required fields; `previous_status` is left empty.
    pub fn new(
        user: UserData,
        course: CourseData,
        mode: String,
        grade: String,
        download_url: String,
        name: String,
        current_status: String,
    ) -> Self {
        CertificateData {
            user,
            course,
            mode,
            grade,
            download_url,
            name,
            current_status,
            previous_status: String::new(),
        }
    }
}

/// A program: a series of courses, as the course catalog (course-discovery) describes it.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct ProgramData {
    /// The program's UUID in the course catalog, as text.
    pub uuid: String,
    /// The program's title.
    pub title: String,
    /// The kind of program, as a slug such as `professional` or `micromasters`.
    pub program_type: String,
}

/// A program certificate (a credential held in the Credentials service) for a learner.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct ProgramCertificateData {
    /// The learner holding the certificate.
    pub user: UserData,
    /// The program the certificate is for.
    pub program: ProgramData,
    /// The UUID of the learner's credential record in Credentials, as text.
    pub uuid: String,
    /// The credential's status, such as `awarded` or `revoked`.
    pub status: String,
    /// Where the learner can view the credential.
    pub url: String,
    /// From when the learner may see the credential, if a date is set.
    pub certificate_available_date: Option<DateTime<Utc>>,
}

impl ProgramCertificateData {
    /// A program certificate with its required fields; no availability date.
    pub fn new(user: UserData, program: ProgramData, uuid: String, status: String, url: String) -> Self {
        ProgramCertificateData { user, program, uuid, status, url, certificate_available_date: None }
    }
}

/// A learner's membership in a cohort (a group of learners within a course).
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct CohortData {
    /// The learner placed in the cohort.
    pub user: UserData,
    /// The course the cohort belongs to.
    pub course: CourseData,
    /// The cohort's name.
    pub name: String,
}

/// One place in a course where a discussion topic appears, tying the topic's id in the
/// discussion service to the course content.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct DiscussionTopicContext {
    /// The topic's title, kept here so it need not be looked up in the course.
    pub title: String,
    /// The unit the topic is attached to, if any.
    pub usage_key: Option<UsageKey>,
    /// The learner group the context is for, if any; lets a provider without cohorts of its own
    /// keep groups apart.
    pub group_id: Option<i64>,
    /// The topic's id in the discussion service (its commentable id), if any.
    pub external_id: Option<String>,
    /// The topic's position among the course's topics, if set.
    pub ordering: Option<i64>,
    /// More about where the topic is used (section, subsection, ...), as text pairs.
    pub context: BTreeMap<String, String>,
}

impl DiscussionTopicContext {
    /// A topic context with only a title: every optional field unset, no extra context.
    pub fn new(title: String) -> Self {
        DiscussionTopicContext {
            title,
            usage_key: None,
            group_id: None,
            external_id: None,
            ordering: None,
            context: BTreeMap::new(),
        }
    }
}

/// How discussions are set up for a course run: the provider, its switches and the topics.
///
/// `plugin_configuration` has, upstream, the class `dict` itself as its default rather than an
/// empty dict (an upstream slip); here its default is an empty map, which is what upstream means.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct CourseDiscussionConfigurationData {
    /// The course run the configuration belongs to.
    pub course_key: CourseKey,
    /// Which discussion provider the course uses.
    pub provider_type: String,
    /// Whether discussions are on for the course; true by default.
    pub enabled: bool,
    /// Whether discussions appear next to course content; true by default, and only meaningful
    /// when `enabled` is true.
    pub enable_in_context: bool,
    /// Whether graded units also get discussion topics; false by default.
    pub enable_graded_units: bool,
    /// Whether discussions are shown at unit level; false by default.
    pub unit_level_visibility: bool,
    /// The provider's own on/off settings; empty by default (see the type's documentation).
    pub plugin_configuration: BTreeMap<String, bool>,
    /// The places where discussion topics are enabled; none by default.
    pub contexts: Vec<DiscussionTopicContext>,
}

impl CourseDiscussionConfigurationData {
    /// A configuration with upstream's defaults: discussions enabled and shown in context, graded
    /// units and unit-level visibility off, no plugin settings, no topic contexts.
    pub fn new(course_key: CourseKey, provider_type: String) -> Self {
        CourseDiscussionConfigurationData {
            course_key,
            provider_type,
            enabled: true,
            enable_in_context: true,
            enable_graded_units: false,
            unit_level_visibility: false,
            plugin_configuration: BTreeMap::new(),
            contexts: Vec::new(),
        }
    }
}

/// A learner's stored overall grade in a course run.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct PersistentCourseGradeData {
    /// The id of the learner the grade belongs to.
    pub user_id: i64,
    /// The course run graded.
    pub course: CourseData,
    /// When the course content was last edited, as the grade saw it.
    pub course_edited_timestamp: DateTime<Utc>,
    /// The version of the course content the grade was computed on.
    pub course_version: String,
    /// A hash of the grading policy the grade was computed with.
    pub grading_policy_hash: String,
    /// The grade as a fraction between 0 and 1.
    pub percent_grade: f64,
    /// The letter grade, such as `Pass` or `A`; may be empty.
    pub letter_grade: String,
    /// When the learner passed the course.
    pub passed_timestamp: DateTime<Utc>,
}

/// A learner's verdict on the skills tagged on an XBlock: which tags fit and which do not.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct XBlockSkillVerificationData {
    /// The XBlock whose skill tags were reviewed.
    pub usage_key: UsageKey,
    /// The ids of the skills confirmed as relevant; none by default.
    pub verified_skills: Vec<i64>,
    /// The ids of the skills judged irrelevant; none by default.
    pub ignored_skills: Vec<i64>,
}

impl XBlockSkillVerificationData {
    /// A verification for an XBlock with no skills confirmed or ignored yet.
    pub fn new(usage_key: UsageKey) -> Self {
        XBlockSkillVerificationData { usage_key, verified_skills: Vec::new(), ignored_skills: Vec::new() }
    }
}

/// A notification to send to a list of users.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct UserNotificationData {
    /// The ids of the users to notify.
    pub user_ids: Vec<i64>,
    /// The kind of notification, which selects its template.
    pub notification_type: String,
    /// Where the notification leads when opened.
    pub content_url: String,
    /// The app the notification belongs to, such as `discussion`.
    pub app_name: String,
    /// The course run the notification is about.
    pub course_key: CourseKey,
    /// Values to fill into the notification's template; empty by default.
    pub context: BTreeMap<String, String>,
}

impl UserNotificationData {
    /// A notification with its required fields and no template values.
    pub fn new(
        user_ids: Vec<i64>,
        notification_type: String,
        content_url: String,
        app_name: String,
        course_key: CourseKey,
    ) -> Self {
        UserNotificationData {
            user_ids,
            notification_type,
            content_url,
            app_name,
            course_key,
            context: BTreeMap::new(),
        }
    }
}

/// A learner's attempt at a special exam (a timed or proctored exam, not an ordinary graded
/// subsection called an exam), as the edx-exams service records it.
///
/// The `EXAM_ATTEMPT_*` events that carry it come only from edx-exams, never from the older
/// edx-proctoring backend.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct ExamAttemptData {
    /// The learner who took the exam.
    pub student_user: UserData,
    /// The course run the exam is in.
    pub course_key: CourseKey,
    /// The exam's content block.
    pub usage_key: UsageKey,
    /// The kind of exam, such as `timed` or `proctored`.
    pub exam_type: String,
    /// Who caused the event, when known; may be staff rather than the learner.
    pub requesting_user: Option<UserData>,
}

impl ExamAttemptData {
    /// An exam attempt with its required fields; the requesting user is left unknown.
    pub fn new(student_user: UserData, course_key: CourseKey, usage_key: UsageKey, exam_type: String) -> Self {
        ExamAttemptData { student_user, course_key, usage_key, exam_type, requesting_user: None }
    }
}

/// A role a user holds in a course run, such as staff or instructor.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct CourseAccessRoleData {
    /// The user holding the role.
    pub user: UserData,
    /// The organization the course belongs to.
    pub org_key: String,
    /// The course run the role applies to.
    pub course_key: CourseKey,
    /// The role's name, such as `staff` or `instructor`.
    pub role: String,
}

/// A forum post (a thread, a response to one, or a comment on a response) and its author.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct DiscussionThreadData {
    /// The post's text.
    pub body: String,
    /// The id of the discussion topic the post belongs to.
    pub commentable_id: String,
    /// The post's id, as text.
    pub id: String,
    /// Whether `body` was cut short.
    pub truncated: bool,
    /// Where the post can be read.
    pub url: String,
    /// The post's author.
    pub user: UserData,
    /// The course run of the discussion.
    pub course_id: CourseKey,
    /// The thread's kind, such as `discussion` or `question`, if given.
    pub thread_type: Option<String>,
    /// Whether the author posted anonymously, if known.
    pub anonymous: Option<bool>,
    /// Whether the author is hidden from other learners (but not staff), if known.
    pub anonymous_to_peers: Option<bool>,
    /// The thread's title, if any.
    pub title: Option<String>,
    /// Whether `title` was cut short, if known.
    pub title_truncated: Option<bool>,
    /// The id of the learner group the post is limited to, if any.
    pub group_id: Option<i64>,
    /// The id of the team the post belongs to, if any.
    pub team_id: Option<i64>,
    /// The id of the discussion category, if any.
    pub category_id: Option<i64>,
    /// The discussion category's name, if any.
    pub category_name: Option<String>,
    /// Details of the enclosing discussion, for responses and comments; absent for threads.
    pub discussion: Option<BTreeMap<String, String>>,
    /// The author's roles in the course; none by default.
    pub user_course_roles: Vec<String>,
    /// The author's roles in the forums, such as moderator; none by default.
    pub user_forums_roles: Vec<String>,
    /// The post's on/off options, by name; none by default.
    pub options: BTreeMap<String, bool>,
}

impl DiscussionThreadData {
    /// A forum post with its required fields; every optional field unset and every list and map
    /// empty.
    pub fn new(
        body: String,
        commentable_id: String,
        id: String,
        truncated: bool,
        url: String,
        user: UserData,
        course_id: CourseKey,
    ) -> Self {
        DiscussionThreadData {
            body,
            commentable_id,
            id,
            truncated,
            url,
            user,
            course_id,
            thread_type: None,
            anonymous: None,
            anonymous_to_peers: None,
            title: None,
            title_truncated: None,
            group_id: None,
            team_id: None,
            category_id: None,
            category_name: None,
            discussion: None,
            user_course_roles: Vec::new(),
            user_forums_roles: Vec::new(),
            options: BTreeMap::new(),
        }
    }
}

/// A notification to send to some or all of a course's learners.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct CourseNotificationData {
    /// The course run whose audience is notified.
    pub course_key: CourseKey,
    /// The app asking for the notification, such as `discussion`.
    pub app_name: String,
    /// The kind of notification, which selects its template.
    pub notification_type: String,
    /// Where the notification leads when opened.
    pub content_url: String,
    /// Values to fill into the notification's template (a post's title, a replier's name, ...);
    /// empty by default.
    pub content_context: BTreeMap<String, String>,
    /// Who in the course is notified, as filters by kind (`enrollment`, `role`, `cohort`, ...),
    /// each with its accepted values; empty by default.
    pub audience_filters: BTreeMap<String, Vec<String>>,
}

impl CourseNotificationData {
    /// A course notification with its required fields, no template values and no audience filters.
    pub fn new(course_key: CourseKey, app_name: String, notification_type: String, content_url: String) -> Self {
        CourseNotificationData {
            course_key,
            app_name,
            notification_type,
            content_url,
            content_context: BTreeMap::new(),
            audience_filters: BTreeMap::new(),
        }
    }
}

/// What a learner handed in for an open response assessment (ORA): text parts and files.
///
/// The five `file_*` lists run in parallel: entry `i` of each describes the same file.
#[derive(EventData, Clone, Debug, PartialEq, Default)]
pub struct ORASubmissionAnswer {
    /// The text parts of the answer, each a map of text fields; none by default.
    pub parts: Vec<BTreeMap<String, String>>,
    /// The storage keys of the uploaded files; none by default.
    pub file_keys: Vec<String>,
    /// The learner's descriptions of the uploaded files; none by default.
    pub file_descriptions: Vec<String>,
    /// The names of the uploaded files; none by default.
    pub file_names: Vec<String>,
    /// The sizes of the uploaded files, in bytes; none by default.
    pub file_sizes: Vec<i64>,
    /// Where the uploaded files can be fetched; none by default.
    pub file_urls: Vec<String>,
}

impl ORASubmissionAnswer {
    /// An empty answer: no text parts and no files (the same as [`Default::default`]).
    pub fn new() -> Self {
        Self::default()
    }
}

/// A learner's submission to an open response assessment (ORA).
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct ORASubmissionData {
    /// The submission's UUID, as text.
    pub uuid: String,
    /// The anonymised id of the learner who submitted.
    pub anonymous_user_id: String,
    /// Where the assessment sits in the course (its block's location), as text.
    pub location: String,
    /// Which of the learner's attempts this is.
    pub attempt_number: i64,
    /// When the submission was created.
    pub created_at: DateTime<Utc>,
    /// When the submission was handed in.
    pub submitted_at: DateTime<Utc>,
    /// What was handed in.
    pub answer: ORASubmissionAnswer,
}

/// Whether a learner's current grade in a course run is enough to pass it.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct CoursePassingStatusData {
    /// Whether the learner's grade is now a passing grade.
    pub is_passing: bool,
    /// The course run graded.
    pub course: CourseData,
    /// The learner whose grade changed.
    pub user: UserData,
}

/// Whether a learner's current grade in a custom course (CCX) is enough to pass it.
///
/// Upstream derives this type from [`CoursePassingStatusData`] and replaces its `course` field,
/// which moves `course` after `user`; the field order here follows.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct CcxCoursePassingStatusData {
    /// Whether the learner's grade is now a passing grade.
    pub is_passing: bool,
    /// The learner whose grade changed.
    pub user: UserData,
    /// The custom course graded.
    pub course: CcxCourseData,
}

/// A badge design in the Credentials service, from which badges are issued.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct BadgeTemplateData {
    /// The template's UUID, as text.
    pub uuid: String,
    /// Which badge provider the template comes from.
    pub origin: String,
    /// The badge's name, if given.
    pub name: Option<String>,
    /// What the badge stands for, if given.
    pub description: Option<String>,
    /// Where the badge's picture can be fetched, if given.
    pub image_url: Option<String>,
}

impl BadgeTemplateData {
    /// A badge template known by its UUID and origin; name, description and image unset.
    pub fn new(uuid: String, origin: String) -> Self {
        BadgeTemplateData { uuid, origin, name: None, description: None, image_url: None }
    }
}

/// A badge issued to a learner.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct BadgeData {
    /// The badge's UUID, as text.
    pub uuid: String,
    /// The learner holding the badge.
    pub user: UserData,
    /// The template the badge was issued from.
    pub template: BadgeTemplateData,
}

/// An identity verification (IDV) attempt: a user proving who they are.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct VerificationAttemptData {
    /// The attempt's id.
    pub attempt_id: i64,
    /// The user being verified, usually a learner.
    pub user: UserData,
    /// The attempt's status, such as `pending` or `approved`.
    pub status: String,
    /// The name being verified, if given.
    pub name: Option<String>,
    /// When the verification stops being valid, if set.
    pub expiration_date: Option<DateTime<Utc>>,
}

impl VerificationAttemptData {
    /// A verification attempt with its required fields; no name and no expiry.
    pub fn new(attempt_id: i64, user: UserData, status: String) -> Self {
        VerificationAttemptData { attempt_id, user, status, name: None, expiration_date: None }
    }
}

/// A score that an external grader (through the grading queue) gives a learner's submission.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct ExternalGraderScoreData {
    /// The highest score the problem allows.
    pub points_possible: i64,
    /// The score the submission earned.
    pub points_earned: i64,
    /// The course run's id, as text.
    pub course_id: String,
    /// The grader's feedback on the score.
    pub score_msg: String,
    /// The id of the graded submission.
    pub submission_id: i64,
    /// The id of the learner who submitted, as text.
    pub user_id: String,
    /// The id of the problem graded, as text.
    pub module_id: String,
    /// The submission's key in the grading queue.
    pub queue_key: String,
    /// The grading queue that handled the submission.
    pub queue_name: String,
}

/// The LTI parameters of a launch into Open edX content from another platform.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct LtiProviderLaunchParamsData {
    /// The launching user's LTI roles, comma-separated.
    pub roles: String,
    /// The id of the LTI context (the consumer's course or activity) the launch comes from.
    pub context_id: String,
    /// The launching user's id on the LTI consumer's side.
    pub user_id: String,
    /// Any other launch parameters, by name; none by default.
    pub extra_params: BTreeMap<String, String>,
}

impl LtiProviderLaunchParamsData {
    /// Launch parameters with the required fields and no extra parameters.
    pub fn new(roles: String, context_id: String, user_id: String) -> Self {
        LtiProviderLaunchParamsData { roles, context_id, user_id, extra_params: BTreeMap::new() }
    }
}

/// A successful LTI launch: an Open edX user reaching course content from another platform
/// through LTI.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct LtiProviderLaunchData {
    /// The Open edX user who launched the content.
    pub user: UserData,
    /// The course run the content belongs to.
    pub course_key: CourseKey,
    /// The content launched.
    pub usage_key: UsageKey,
    /// The LTI parameters of the launch.
    pub launch_params: LtiProviderLaunchParamsData,
}
