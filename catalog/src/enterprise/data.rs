//! The data types that `enterprise` events carry: subsidy redemptions, ledger transactions and
//! their reversals, learner-credit enrollments with the enterprise records behind them, and
//! enterprise groups.

use chrono::{DateTime, Utc};
use openedx_events::EventData;
use openedx_events::keys::CourseKey;
use uuid::Uuid;

/// The use of an enterprise subsidy to pay for some content.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct SubsidyRedemption {
    /// Identifies the subsidy that paid.
    pub subsidy_identifier: String,
    /// The content the subsidy paid for.
    pub content_key: String,
    /// The LMS user id of the learner who benefits.
    pub lms_user_id: i64,
}

/// The reversal of a ledger transaction (a record of `openedx-ledger`), for instance after an
/// unenrollment or a refund.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct LedgerTransactionReversal {
    /// The reversal's id.
    pub uuid: Uuid,
    /// When the record was made.
    pub created: DateTime<Utc>,
    /// When the record last changed.
    pub modified: DateTime<Utc>,
    /// A value chosen by the client so that repeating the operation has no further effect.
    pub idempotency_key: String,
    /// How many units of value the reversal gives back (such as US cents).
    pub quantity: i64,
    /// Where the record is in its lifecycle: `created`, `pending`, `committed` or `failed`.
    pub state: String,
}

/// A transaction of an enterprise ledger (a record of `openedx-ledger`): value moving into or out
/// of a ledger, as when a subsidized enrollment is paid for.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct LedgerTransaction {
    /// The transaction's id.
    pub uuid: Uuid,
    /// When the record was made.
    pub created: DateTime<Utc>,
    /// When the record last changed.
    pub modified: DateTime<Utc>,
    /// A value chosen by the client so that repeating the operation has no further effect.
    pub idempotency_key: String,
    /// How many units of value the transaction moves (such as US cents).
    pub quantity: i64,
    /// Where the record is in its lifecycle: `created`, `pending`, `committed` or `failed`.
    pub state: String,
    /// The id of the ledger the transaction belongs to.
    pub ledger_uuid: Uuid,
    /// The id of the subsidy access policy the transaction was made under.
    pub subsidy_access_policy_uuid: Uuid,
    /// The LMS user id of the learner the transaction is for.
    pub lms_user_id: i64,
    /// The course run the transaction pays for.
    pub content_key: CourseKey,
    /// The course (not the run) that `content_key` belongs to, when known.
    pub parent_content_key: Option<String>,
    /// The id of the learner's subsidized enrollment record, made at enrollment, when known.
    pub fulfillment_identifier: Option<String>,
    /// The reversal of this transaction, if it has been reversed.
    pub reversal: Option<LedgerTransactionReversal>,
}

impl LedgerTransaction {
    /// A transaction without a parent content key, fulfillment identifier or reversal.
    #[expect(clippy::too_many_arguments, reason = "one argument per required upstream field")]
    pub fn new(
        uuid: Uuid,
        created: DateTime<Utc>,
        modified: DateTime<Utc>,
        idempotency_key: String,
        quantity: i64,
        state: String,
        ledger_uuid: Uuid,
        subsidy_access_policy_uuid: Uuid,
        lms_user_id: i64,
        content_key: CourseKey,
    ) -> Self {
        LedgerTransaction {
            uuid,
            created,
            modified,
            idempotency_key,
            quantity,
            state,
            ledger_uuid,
            subsidy_access_policy_uuid,
            lms_user_id,
            content_key,
            parent_content_key: None,
            fulfillment_identifier: None,
            reversal: None,
        }
    }
}

/// A learner linked to an enterprise customer (an `EnterpriseCustomerUser` record of
/// `edx-enterprise`).
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct EnterpriseCustomerUser {
    /// The record's id.
    pub id: i64,
    /// When the record was made.
    pub created: DateTime<Utc>,
    /// When the record last changed.
    pub modified: DateTime<Utc>,
    /// The id of the enterprise customer the learner is linked to.
    pub enterprise_customer_uuid: Uuid,
    /// The learner's LMS user id.
    pub user_id: i64,
    /// Whether this is the learner's active enterprise.
    pub active: bool,
    /// Whether the learner is linked to the enterprise customer.
    pub linked: bool,
    /// Whether the learner may be linked again once unlinked.
    pub is_relinkable: bool,
    /// Whether saving this record as active makes the learner's other enterprise links inactive.
    pub should_inactivate_other_customers: bool,
    /// The invitation key through which the learner was linked, if any.
    pub invite_key: Option<Uuid>,
}

impl EnterpriseCustomerUser {
    /// A link made without an invitation key.
    #[expect(clippy::too_many_arguments, reason = "one argument per required upstream field")]
    pub fn new(
        id: i64,
        created: DateTime<Utc>,
        modified: DateTime<Utc>,
        enterprise_customer_uuid: Uuid,
        user_id: i64,
        active: bool,
        linked: bool,
        is_relinkable: bool,
        should_inactivate_other_customers: bool,
    ) -> Self {
        EnterpriseCustomerUser {
            id,
            created,
            modified,
            enterprise_customer_uuid,
            user_id,
            active,
            linked,
            is_relinkable,
            should_inactivate_other_customers,
            invite_key: None,
        }
    }
}

/// An enterprise learner's enrollment in a course (an `EnterpriseCourseEnrollment` record of
/// `edx-enterprise`).
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct EnterpriseCourseEnrollment {
    /// The record's id.
    pub id: i64,
    /// When the record was made.
    pub created: DateTime<Utc>,
    /// When the record last changed.
    pub modified: DateTime<Utc>,
    /// The enterprise learner who is enrolled.
    pub enterprise_customer_user: EnterpriseCustomerUser,
    /// The course run the learner is enrolled in.
    pub course_id: CourseKey,
    /// Whether the learner saved the course for later in the learner portal.
    pub saved_for_later: bool,
    /// What made the enrollment, such as `enrollment_task` or `management_command`, when known.
    pub source_slug: Option<String>,
    /// Whether the LMS enrollment behind this record was unenrolled, when known.
    pub unenrolled: Option<bool>,
    /// When the LMS enrollment behind this record was unenrolled, if it was.
    pub unenrolled_at: Option<DateTime<Utc>>,
}

impl EnterpriseCourseEnrollment {
    /// An enrollment without source or unenrollment information.
    pub fn new(
        id: i64,
        created: DateTime<Utc>,
        modified: DateTime<Utc>,
        enterprise_customer_user: EnterpriseCustomerUser,
        course_id: CourseKey,
        saved_for_later: bool,
    ) -> Self {
        EnterpriseCourseEnrollment {
            id,
            created,
            modified,
            enterprise_customer_user,
            course_id,
            saved_for_later,
            source_slug: None,
            unenrolled: None,
            unenrolled_at: None,
        }
    }
}

/// An enrollment paid for with learner credit (a `LearnerCreditEnterpriseCourseEnrollment`
/// record of `edx-enterprise`): how an enterprise subsidy was fulfilled, plus the ledger
/// transaction behind it.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct LearnerCreditEnterpriseCourseEnrollment {
    /// The record's id.
    pub uuid: Uuid,
    /// When the record was made.
    pub created: DateTime<Utc>,
    /// When the record last changed.
    pub modified: DateTime<Utc>,
    /// How the subsidy was fulfilled, such as `license`, `learner_credit` or `coupon_code`.
    pub fulfillment_type: String,
    /// Whether the subsidy has been revoked (for instance, the learner's license was).
    pub is_revoked: bool,
    /// The course entitlement the subsidy pays for, if any.
    pub enterprise_course_entitlement_uuid: Option<Uuid>,
    /// The course enrollment the subsidy pays for, if any.
    pub enterprise_course_enrollment: Option<EnterpriseCourseEnrollment>,
    /// The id of the ledger transaction that pays for this enrollment, when known.
    pub transaction_id: Option<Uuid>,
}

impl LearnerCreditEnterpriseCourseEnrollment {
    /// A fulfillment without entitlement, enrollment or transaction.
    pub fn new(
        uuid: Uuid,
        created: DateTime<Utc>,
        modified: DateTime<Utc>,
        fulfillment_type: String,
        is_revoked: bool,
    ) -> Self {
        LearnerCreditEnterpriseCourseEnrollment {
            uuid,
            created,
            modified,
            fulfillment_type,
            is_revoked,
            enterprise_course_entitlement_uuid: None,
            enterprise_course_enrollment: None,
            transaction_id: None,
        }
    }
}

/// A group of learners within an enterprise customer (an `EnterpriseGroup` record of
/// `edx-enterprise`).
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct EnterpriseGroup {
    /// The group's id.
    pub uuid: Uuid,
}
