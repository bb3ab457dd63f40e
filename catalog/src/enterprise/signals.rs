//! The `enterprise` signals and their payloads.

use openedx_events::openedx_event;

use crate::enterprise::data::{
    EnterpriseGroup, LearnerCreditEnterpriseCourseEnrollment, LedgerTransaction, SubsidyRedemption,
};

/// Meant to be sent when an enterprise subsidy pays for some content.
///
/// No Open edX service emits it today; upstream may change or drop it (see
/// <https://github.com/openedx/openedx-events/issues/445>). No key field.
#[openedx_event(name = SUBSIDY_REDEEMED, event_type = "org.openedx.enterprise.subsidy.redeemed.v1")]
#[derive(Clone, Debug, PartialEq)]
pub struct SubsidyRedeemed {
    /// The redemption.
    pub redemption: SubsidyRedemption,
}

/// Meant to be sent when the use of an enterprise subsidy is undone.
///
/// No Open edX service emits it today; upstream may change or drop it (see
/// <https://github.com/openedx/openedx-events/issues/445>). No key field.
#[openedx_event(
    name = SUBSIDY_REDEMPTION_REVERSED,
    event_type = "org.openedx.enterprise.subsidy.redemption-reversed.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct SubsidyRedemptionReversed {
    /// The redemption that was undone.
    pub redemption: SubsidyRedemption,
}

/// Sent when a transaction is recorded in an enterprise ledger. The ledger's design is described
/// in <https://github.com/openedx/openedx-ledger/tree/main/docs/decisions>.
///
/// Emitted by `openedx/enterprise-subsidy`. No key field.
#[openedx_event(
    name = LEDGER_TRANSACTION_CREATED,
    event_type = "org.openedx.enterprise.subsidy_ledger_transaction.created.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct LedgerTransactionCreated {
    /// The new transaction.
    pub ledger_transaction: LedgerTransaction,
}

/// Sent when an enterprise ledger transaction is committed, so that the value has moved.
///
/// Emitted by `openedx/enterprise-subsidy`. No key field.
#[openedx_event(
    name = LEDGER_TRANSACTION_COMMITTED,
    event_type = "org.openedx.enterprise.subsidy_ledger_transaction.committed.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct LedgerTransactionCommitted {
    /// The committed transaction.
    pub ledger_transaction: LedgerTransaction,
}

/// Sent when an enterprise ledger transaction does not go through.
///
/// Emitted by `openedx/enterprise-subsidy`. No key field.
#[openedx_event(
    name = LEDGER_TRANSACTION_FAILED,
    event_type = "org.openedx.enterprise.subsidy_ledger_transaction.failed.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct LedgerTransactionFailed {
    /// The failed transaction.
    pub ledger_transaction: LedgerTransaction,
}

/// Sent when an enterprise ledger transaction is reversed, giving its value back.
///
/// Emitted by `openedx/enterprise-subsidy`. No key field.
#[openedx_event(
    name = LEDGER_TRANSACTION_REVERSED,
    event_type = "org.openedx.enterprise.subsidy_ledger_transaction.reversed.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct LedgerTransactionReversed {
    /// The reversed transaction.
    pub ledger_transaction: LedgerTransaction,
}

/// Sent when an enrollment paid for with learner credit is revoked, most often because the
/// enterprise learner left the course.
///
/// Emitted by `openedx/edx-enterprise`. No key field.
#[openedx_event(
    name = LEARNER_CREDIT_COURSE_ENROLLMENT_REVOKED,
    event_type = "org.openedx.enterprise.learner_credit_course_enrollment.revoked.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct LearnerCreditCourseEnrollmentRevoked {
    /// The revoked enrollment.
    pub learner_credit_course_enrollment: LearnerCreditEnterpriseCourseEnrollment,
}

/// Sent when an enterprise group is removed.
///
/// Emitted by `openedx/edx-enterprise`. No key field.
#[openedx_event(
    name = ENTERPRISE_GROUP_DELETED,
    event_type = "org.openedx.enterprise.enterprise_group.deleted.v1"
)]
#[derive(Clone, Debug, PartialEq)]
pub struct EnterpriseGroupDeleted {
    /// The removed group.
    pub enterprise_group: EnterpriseGroup,
}
