//! The data type that `authz` events carry.

use openedx_events::EventData;

/// A role given to a subject (usually a user) within a scope (such as a course or an
/// organization).
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct RoleAssignmentData {
    /// What happened to the assignment, such as `created` or `deleted`.
    pub operation: String,
    /// Who holds the role, in the framework's notation, such as `user^john_doe`.
    pub subject: String,
    /// The role, such as `course_admin`.
    pub role: String,
    /// Where the role applies, such as the course key `course-v1:edX+DemoX+Demo_Course`.
    pub scope: String,
    /// The database id of the user who made the change, when known.
    pub actor_id: Option<i64>,
}

impl RoleAssignmentData {
    /// An assignment whose author is not known.
    pub fn new(operation: String, subject: String, role: String, scope: String) -> Self {
        RoleAssignmentData { operation, subject, role, scope, actor_id: None }
    }
}
