//! The data type that `analytics` events carry.

use chrono::{DateTime, Utc};
use openedx_events::EventData;

/// One entry of the tracking log, as the event-tracking library records it.
#[derive(EventData, Clone, Debug, PartialEq)]
pub struct TrackingLogData {
    /// The tracking event's name, such as `edx.course.enrollment.activated`.
    pub name: String,
    /// When the tracking event happened.
    pub timestamp: DateTime<Utc>,
    /// The event's own data: a JSON object encoded as a string, such as
    /// `{"course_id": "course-v1:edX+DemoX+Demo_Course"}`.
    pub data: String,
    /// The context the event happened in (user, course, request, ...): a JSON object encoded as
    /// a string, in the Open edX tracking-log context format.
    pub context: String,
}
