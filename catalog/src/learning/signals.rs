//! The 37 `learning` events, each a payload struct and, generated beside it, its signal: a
//! `static` named as upstream names it, such as [`COURSE_ENROLLMENT_CREATED`].
//!
//! A payload's fields are the event's data keys. Each payload's documentation says when the event
//! is sent, which service sends it, what it carries and, where upstream declares one, its key
//! field: the dotted path of the value that keys the event on the event bus.

use openedx_events::openedx_event;

use super::data::{
    BadgeData, CcxCoursePassingStatusData, CertificateData, CohortData, CourseAccessRoleData,
    CourseDiscussionConfigurationData, CourseEnrollmentData, CourseNotificationData, CoursePassingStatusData,
    DiscussionThreadData, ExamAttemptData, ExternalGraderScoreData, LtiProviderLaunchData, ORASubmissionData,
    PersistentCourseGradeData, ProgramCertificateData, UserData, UserNotificationData, VerificationAttemptData,
    XBlockSkillVerificationData,
};

// Accounts.

/// Sent when someone finishes creating an account.
///
/// Sent by `openedx/edx-platform`. Carries the new account in `user`. Key field:
/// `user.pii.username`.
#[openedx_event(
    name = STUDENT_REGISTRATION_COMPLETED,
    event_type = "org.openedx.learning.student.registration.completed.v1",
    key_field = "user.pii.username"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct StudentRegistrationCompleted {
    /// The user who has just registered.
    pub user: UserData,
}

/// Sent when a user signs in.
///
/// Sent by `openedx/edx-platform`. Carries the signed-in user in `user`. Key field:
/// `user.pii.username`.
#[openedx_event(
    name = SESSION_LOGIN_COMPLETED,
    event_type = "org.openedx.learning.auth.session.login.completed.v1",
    key_field = "user.pii.username"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct SessionLoginCompleted {
    /// The user who has just signed in.
    pub user: UserData,
}

// Enrollments.

/// Sent when a learner enrolls in a course run.
///
/// Sent by `openedx/edx-platform`. Carries the new enrollment in `enrollment`. Key field:
/// `enrollment.course.course_key`, so the events of one course run share a key.
#[openedx_event(
    name = COURSE_ENROLLMENT_CREATED,
    event_type = "org.openedx.learning.course.enrollment.created.v1",
    key_field = "enrollment.course.course_key"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct CourseEnrollmentCreated {
    /// The enrollment just created.
    pub enrollment: CourseEnrollmentData,
}

/// Sent when an existing enrollment changes, for instance its mode (track) or whether it is
/// active.
///
/// Sent by `openedx/edx-platform`. Carries the enrollment as it now is in `enrollment`. Key field:
/// `enrollment.course.course_key`.
#[openedx_event(
    name = COURSE_ENROLLMENT_CHANGED,
    event_type = "org.openedx.learning.course.enrollment.changed.v1",
    key_field = "enrollment.course.course_key"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct CourseEnrollmentChanged {
    /// The enrollment after the change.
    pub enrollment: CourseEnrollmentData,
}

/// Sent when a learner leaves a course run.
///
/// Sent by `openedx/edx-platform`. Carries the enrollment that ended in `enrollment`. Key field:
/// `enrollment.course.course_key`.
#[openedx_event(
    name = COURSE_UNENROLLMENT_COMPLETED,
    event_type = "org.openedx.learning.course.unenrollment.completed.v1",
    key_field = "enrollment.course.course_key"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct CourseUnenrollmentCompleted {
    /// The enrollment the learner has left.
    pub enrollment: CourseEnrollmentData,
}

// Certificates.

/// Sent when a course certificate is generated for a learner.
///
/// Sent by `openedx/edx-platform`. Carries the certificate in `certificate`. Key field:
/// `certificate.course.course_key`.
#[openedx_event(
    name = CERTIFICATE_CREATED,
    event_type = "org.openedx.learning.certificate.created.v1",
    key_field = "certificate.course.course_key"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct CertificateCreated {
    /// The certificate just generated.
    pub certificate: CertificateData,
}

/// Sent when the Credentials service awards a learner a program certificate.
///
/// Sent by `openedx/credentials`. Carries the credential in `program_certificate`. Key field:
/// `program_certificate.program.uuid`, so the events of one program share a key.
#[openedx_event(
    name = PROGRAM_CERTIFICATE_AWARDED,
    event_type = "org.openedx.learning.program.certificate.awarded.v1",
    key_field = "program_certificate.program.uuid"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct ProgramCertificateAwarded {
    /// The program certificate awarded.
    pub program_certificate: ProgramCertificateData,
}

/// Sent when a learner's course certificate changes, for instance its status.
///
/// Sent by `openedx/edx-platform`. Carries the certificate as it now is in `certificate` (its
/// `previous_status` tells what it was). No key field.
#[openedx_event(name = CERTIFICATE_CHANGED, event_type = "org.openedx.learning.certificate.changed.v1")]
#[derive(Clone, Debug, PartialEq)]
pub struct CertificateChanged {
    /// The certificate after the change.
    pub certificate: CertificateData,
}

/// Sent when a learner's course certificate is taken back.
///
/// Sent by `openedx/edx-platform`. Carries the revoked certificate in `certificate`. Key field:
/// `certificate.course.course_key`.
#[openedx_event(
    name = CERTIFICATE_REVOKED,
    event_type = "org.openedx.learning.certificate.revoked.v1",
    key_field = "certificate.course.course_key"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct CertificateRevoked {
    /// The certificate revoked.
    pub certificate: CertificateData,
}

/// Sent when the Credentials service takes back a learner's program certificate.
///
/// Sent by `openedx/credentials`. Carries the credential in `program_certificate`. Key field:
/// `program_certificate.program.uuid`.
#[openedx_event(
    name = PROGRAM_CERTIFICATE_REVOKED,
    event_type = "org.openedx.learning.program.certificate.revoked.v1",
    key_field = "program_certificate.program.uuid"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct ProgramCertificateRevoked {
    /// The program certificate revoked.
    pub program_certificate: ProgramCertificateData,
}

// Cohorts, discussions and grades.

/// Sent when a learner is placed in a cohort or moved to another one.
///
/// Sent by `openedx/edx-platform`. Carries the membership in `cohort`. No key field.
#[openedx_event(name = COHORT_MEMBERSHIP_CHANGED, event_type = "org.openedx.learning.cohort_membership.changed.v1")]
#[derive(Clone, Debug, PartialEq)]
pub struct CohortMembershipChanged {
    /// The learner's cohort membership after the change.
    pub cohort: CohortData,
}

/// Sent when the discussion settings of a course run change.
///
/// Sent by `openedx/edx-platform`. Carries the new settings in `configuration`. No key field.
///
/// Event bus: upstream warns that this event cannot go over the event bus yet, because its
/// `contexts` field is a list of records. In-process receivers are not affected.
#[openedx_event(
    name = COURSE_DISCUSSIONS_CHANGED,
    event_type = "org.openedx.learning.discussions.configuration.changed.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct CourseDiscussionsChanged {
    /// The course's discussion settings after the change.
    pub configuration: CourseDiscussionConfigurationData,
}

/// Sent when a learner's stored overall grade in a course run changes.
///
/// Sent by `openedx/edx-platform`. Carries the grade in `grade`. No key field.
#[openedx_event(
    name = PERSISTENT_GRADE_SUMMARY_CHANGED,
    event_type = "org.openedx.learning.course.persistent_grade_summary.changed.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct PersistentGradeSummaryChanged {
    /// The learner's course grade after the change.
    pub grade: PersistentCourseGradeData,
}

/// Sent when a learner confirms or rejects the skills tagged on an XBlock.
///
/// Sent by `openedx/xblock-skill-tagging`. Carries the verdict in `xblock_info`. Key field:
/// `xblock_info.usage_key`, so the events of one XBlock share a key.
#[openedx_event(
    name = XBLOCK_SKILL_VERIFIED,
    event_type = "org.openedx.learning.xblock.skill.verified.v1",
    key_field = "xblock_info.usage_key"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct XblockSkillVerified {
    /// Which skills were confirmed and which were rejected, for which XBlock.
    pub xblock_info: XBlockSkillVerificationData,
}

/// Sent by an app that wants some users notified; the notifications app delivers it.
///
/// Sent by `openedx/edx-platform` and `openedx/edx-ora2`. Carries the notification in
/// `notification_data`. No key field.
///
/// Event bus: upstream warns that this event cannot go over the event bus yet, because of a list
/// it carries. In-process receivers are not affected.
#[openedx_event(
    name = USER_NOTIFICATION_REQUESTED,
    event_type = "org.openedx.learning.user.notification.requested.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct UserNotificationRequested {
    /// The notification to deliver and to whom.
    pub notification_data: UserNotificationData,
}

// Special exams (edx-exams).

/// Sent when a learner hands in a special (timed or proctored) exam in edx-exams.
///
/// Sent by `edx/edx-exams`. Carries the attempt in `exam_attempt`. No key field.
#[openedx_event(name = EXAM_ATTEMPT_SUBMITTED, event_type = "org.openedx.learning.exam.attempt.submitted.v1")]
#[derive(Clone, Debug, PartialEq)]
pub struct ExamAttemptSubmitted {
    /// The exam attempt handed in.
    pub exam_attempt: ExamAttemptData,
}

/// Sent when edx-exams marks a special exam attempt as rejected, after review.
///
/// Sent by `edx/edx-exams`. Carries the attempt in `exam_attempt`. No key field.
#[openedx_event(name = EXAM_ATTEMPT_REJECTED, event_type = "org.openedx.learning.exam.attempt.rejected.v1")]
#[derive(Clone, Debug, PartialEq)]
pub struct ExamAttemptRejected {
    /// The exam attempt rejected.
    pub exam_attempt: ExamAttemptData,
}

/// Sent when edx-exams marks a special exam attempt as verified, after review.
///
/// Sent by `edx/edx-exams`. Carries the attempt in `exam_attempt`. No key field.
#[openedx_event(name = EXAM_ATTEMPT_VERIFIED, event_type = "org.openedx.learning.exam.attempt.verified.v1")]
#[derive(Clone, Debug, PartialEq)]
pub struct ExamAttemptVerified {
    /// The exam attempt verified.
    pub exam_attempt: ExamAttemptData,
}

/// Sent when a learner's special exam attempt fails with an error in edx-exams.
///
/// Sent by `edx/edx-exams`. Carries the attempt in `exam_attempt`. No key field.
#[openedx_event(name = EXAM_ATTEMPT_ERRORED, event_type = "org.openedx.learning.exam.attempt.errored.v1")]
#[derive(Clone, Debug, PartialEq)]
pub struct ExamAttemptErrored {
    /// The exam attempt that failed.
    pub exam_attempt: ExamAttemptData,
}

/// Sent when a special exam attempt is reset in edx-exams, so the learner can start over.
///
/// Sent by `edx/edx-exams`. Carries the attempt in `exam_attempt` (its `requesting_user` is
/// often a staff member). No key field.
#[openedx_event(name = EXAM_ATTEMPT_RESET, event_type = "org.openedx.learning.exam.attempt.reset.v1")]
#[derive(Clone, Debug, PartialEq)]
pub struct ExamAttemptReset {
    /// The exam attempt reset.
    pub exam_attempt: ExamAttemptData,
}

// Course access roles.

/// Sent when a user is given a role in a course run, such as staff.
///
/// Upstream names no service that sends it. Carries the role in `course_access_role_data`. Key
/// field: `course_access_role_data.course_key`.
#[openedx_event(
    name = COURSE_ACCESS_ROLE_ADDED,
    event_type = "org.openedx.learning.user.course_access_role.added.v1",
    key_field = "course_access_role_data.course_key"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct CourseAccessRoleAdded {
    /// The role given, to whom, in which course.
    pub course_access_role_data: CourseAccessRoleData,
}

/// Sent when a user loses a role in a course run.
///
/// Sent by `openedx/edx-platform`. Carries the role in `course_access_role_data`. Key field:
/// `course_access_role_data.course_key`.
#[openedx_event(
    name = COURSE_ACCESS_ROLE_REMOVED,
    event_type = "org.openedx.learning.user.course_access_role.removed.v1",
    key_field = "course_access_role_data.course_key"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct CourseAccessRoleRemoved {
    /// The role taken away, from whom, in which course.
    pub course_access_role_data: CourseAccessRoleData,
}

// Forums and notifications.

/// Sent when someone starts a new thread in a course discussion.
///
/// Sent by `openedx/edx-platform`. Carries the thread in `thread`. No key field.
///
/// Event bus: upstream warns that this event cannot go over the event bus yet, because of a map
/// it carries. In-process receivers are not affected.
#[openedx_event(name = FORUM_THREAD_CREATED, event_type = "org.openedx.learning.forum.thread.created.v1")]
#[derive(Clone, Debug, PartialEq)]
pub struct ForumThreadCreated {
    /// The new thread.
    pub thread: DiscussionThreadData,
}

/// Sent when someone responds to a thread in a course discussion.
///
/// Sent by `openedx/edx-platform`. Carries the response in `thread`. No key field.
///
/// Event bus: upstream warns that this event cannot go over the event bus yet, because of a map
/// it carries. In-process receivers are not affected.
#[openedx_event(
    name = FORUM_THREAD_RESPONSE_CREATED,
    event_type = "org.openedx.learning.forum.thread.response.created.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct ForumThreadResponseCreated {
    /// The new response.
    pub thread: DiscussionThreadData,
}

/// Sent when someone comments on a response in a course discussion.
///
/// Sent by `openedx/edx-platform`. Carries the comment in `thread`. No key field.
///
/// Event bus: upstream warns that this event cannot go over the event bus yet, because of a map
/// it carries. In-process receivers are not affected.
#[openedx_event(
    name = FORUM_RESPONSE_COMMENT_CREATED,
    event_type = "org.openedx.learning.forum.thread.response.comment.created.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct ForumResponseCommentCreated {
    /// The new comment.
    pub thread: DiscussionThreadData,
}

/// Sent to ask for a notification to (part of) a course's audience.
///
/// Sent by `openedx/edx-platform`. Carries the notification and its audience filters in
/// `course_notification_data`. No key field.
///
/// Event bus: upstream warns that this event cannot go over the event bus yet, because of the maps
/// it carries. In-process receivers are not affected.
#[openedx_event(
    name = COURSE_NOTIFICATION_REQUESTED,
    event_type = "org.openedx.learning.course.notification.requested.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct CourseNotificationRequested {
    /// The notification to deliver and its audience.
    pub course_notification_data: CourseNotificationData,
}

/// Sent when a learner submits an answer to an open response assessment (ORA).
///
/// Sent by `openedx/edx-ora2`. Carries the submission in `submission`. No key field.
///
/// Event bus: upstream warns that this event cannot go over the event bus yet, because the
/// answer's `parts` is a list of maps. In-process receivers are not affected.
#[openedx_event(name = ORA_SUBMISSION_CREATED, event_type = "org.openedx.learning.ora.submission.created.v1")]
#[derive(Clone, Debug, PartialEq)]
pub struct OraSubmissionCreated {
    /// The learner's submission.
    pub submission: ORASubmissionData,
}

// Passing status.

/// Sent when a learner's grade in a course run is recomputed, telling whether it now passes.
///
/// Sent by `openedx/edx-platform`. Carries the status in `course_passing_status`. No key field.
#[openedx_event(
    name = COURSE_PASSING_STATUS_UPDATED,
    event_type = "org.openedx.learning.course.passing.status.updated.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct CoursePassingStatusUpdated {
    /// Whether the learner now passes, in which course.
    pub course_passing_status: CoursePassingStatusData,
}

/// Sent when a learner's grade in a custom course (CCX) is recomputed, telling whether it now
/// passes.
///
/// Sent by `openedx/edx-platform`. Carries the status in `course_passing_status`. No key field.
#[openedx_event(
    name = CCX_COURSE_PASSING_STATUS_UPDATED,
    event_type = "org.openedx.learning.ccx.course.passing.status.updated.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct CcxCoursePassingStatusUpdated {
    /// Whether the learner now passes, in which custom course.
    pub course_passing_status: CcxCoursePassingStatusData,
}

// Badges.

/// Sent when the Credentials service awards a learner a badge.
///
/// Sent by `openedx/credentials`. Carries the badge in `badge`. No key field.
#[openedx_event(name = BADGE_AWARDED, event_type = "org.openedx.learning.badge.awarded.v1")]
#[derive(Clone, Debug, PartialEq)]
pub struct BadgeAwarded {
    /// The badge awarded.
    pub badge: BadgeData,
}

/// Sent when the Credentials service takes a badge back from a learner.
///
/// Sent by `openedx/credentials`. Carries the badge in `badge`. No key field.
#[openedx_event(name = BADGE_REVOKED, event_type = "org.openedx.learning.badge.revoked.v1")]
#[derive(Clone, Debug, PartialEq)]
pub struct BadgeRevoked {
    /// The badge revoked.
    pub badge: BadgeData,
}

// Identity verification.

/// Sent when a user starts an identity verification (IDV) attempt.
///
/// Sent by `openedx/edx-platform`. Carries the attempt in `idv_attempt`. No key field.
#[openedx_event(name = IDV_ATTEMPT_CREATED, event_type = "org.openedx.learning.idv_attempt.created.v1")]
#[derive(Clone, Debug, PartialEq)]
pub struct IdvAttemptCreated {
    /// The new verification attempt.
    pub idv_attempt: VerificationAttemptData,
}

/// Sent when an identity verification attempt is waiting for a decision.
///
/// Sent by `openedx/edx-platform`. Carries the attempt in `idv_attempt`. No key field.
#[openedx_event(name = IDV_ATTEMPT_PENDING, event_type = "org.openedx.learning.idv_attempt.pending.v1")]
#[derive(Clone, Debug, PartialEq)]
pub struct IdvAttemptPending {
    /// The verification attempt now pending.
    pub idv_attempt: VerificationAttemptData,
}

/// Sent when an identity verification attempt succeeds.
///
/// Sent by `openedx/edx-platform`. Carries the attempt in `idv_attempt`. No key field.
#[openedx_event(name = IDV_ATTEMPT_APPROVED, event_type = "org.openedx.learning.idv_attempt.approved.v1")]
#[derive(Clone, Debug, PartialEq)]
pub struct IdvAttemptApproved {
    /// The verification attempt approved.
    pub idv_attempt: VerificationAttemptData,
}

/// Sent when an identity verification attempt is turned down.
///
/// Sent by `openedx/edx-platform`. Carries the attempt in `idv_attempt`. No key field.
#[openedx_event(name = IDV_ATTEMPT_DENIED, event_type = "org.openedx.learning.idv_attempt.denied.v1")]
#[derive(Clone, Debug, PartialEq)]
pub struct IdvAttemptDenied {
    /// The verification attempt denied.
    pub idv_attempt: VerificationAttemptData,
}

// External grading and LTI.

/// Sent when an external grader returns a score for a learner's submission.
///
/// Upstream names no service that sends it. Carries the score in `score`. No key field.
#[openedx_event(
    name = EXTERNAL_GRADER_SCORE_SUBMITTED,
    event_type = "org.openedx.learning.external_grader.score.submitted.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct ExternalGraderScoreSubmitted {
    /// The score and the submission it grades.
    pub score: ExternalGraderScoreData,
}

/// Sent when a learner reaches Open edX course content from another platform through an LTI
/// launch that succeeds.
///
/// Upstream names no service that sends it. Carries the launch in `launch_data`. No key field.
#[openedx_event(
    name = LTI_PROVIDER_LAUNCH_SUCCESS,
    event_type = "org.openedx.learning.lti_provider.launch.success.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct LtiProviderLaunchSuccess {
    /// The launch: who, which content, with which LTI parameters.
    pub launch_data: LtiProviderLaunchData,
}
