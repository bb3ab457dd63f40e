//! The `authz` signals and their payloads.

use openedx_events::openedx_event;

use crate::authz::data::RoleAssignmentData;

/// Sent when a role is given to a subject in some scope.
///
/// Emitted by `openedx/openedx-authz`. Its event type has no major version, as upstream defines
/// it. Upstream declares the key field `user.pii.username`, which does not exist in this payload
/// (the subject is at `role_assignment.subject`); it is kept as upstream declares it.
#[openedx_event(
    name = ROLE_ASSIGNMENT_CREATED,
    event_type = "org.openedx.authz.role_assignment.created",
    key_field = "user.pii.username",
    allow_unversioned,
    allow_unresolved_key_field
)]
#[derive(Clone, Debug, PartialEq)]
pub struct RoleAssignmentCreated {
    /// The new assignment.
    pub role_assignment: RoleAssignmentData,
}

/// Sent when a role is taken away from a subject in some scope.
///
/// Emitted by `openedx/openedx-authz`. Its event type has no major version, as upstream defines
/// it. Upstream declares the key field `user.pii.username`, which does not exist in this payload
/// (the subject is at `role_assignment.subject`); it is kept as upstream declares it.
#[openedx_event(
    name = ROLE_ASSIGNMENT_DELETED,
    event_type = "org.openedx.authz.role_assignment.deleted",
    key_field = "user.pii.username",
    allow_unversioned,
    allow_unresolved_key_field
)]
#[derive(Clone, Debug, PartialEq)]
pub struct RoleAssignmentDeleted {
    /// The removed assignment.
    pub role_assignment: RoleAssignmentData,
}
