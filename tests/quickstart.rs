//! The program of the core issue, as a test: events, receivers that succeed, fail and panic.
#![allow(missing_docs, reason = "a test program, not a library")]
#![forbid(unsafe_code)]

use chrono::{DateTime, Utc};
use openedx_events::{EventData, EventsMetadata, openedx_event, receiver};

#[derive(EventData, Clone, Debug, PartialEq)]
pub struct LearnerData {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
}

/// Emitted when a learner earns a badge.
#[openedx_event(name = BADGE_EARNED, event_type = "org.openedx.learning.badge.earned.v1", key_field = "learner.username")]
#[derive(Clone, Debug, PartialEq)]
pub struct BadgeEarned {
    pub learner: LearnerData,
    pub badge: String,
    pub earned_at: DateTime<Utc>,
}

#[receiver(BADGE_EARNED)]
fn congratulate(data: &BadgeEarned, metadata: &EventsMetadata) {
    assert_eq!(metadata.event_type, "org.openedx.learning.badge.earned.v1");
    println!("well done, {}", data.learner.username);
}

#[receiver(BADGE_EARNED)]
fn send_mail(_data: &BadgeEarned, _metadata: &EventsMetadata) -> Result<(), String> {
    Err("mail server down".to_string())
}

#[receiver(BADGE_EARNED)]
fn buggy_plugin(_data: &BadgeEarned, _metadata: &EventsMetadata) {
    panic!("bug in a plugin");
}

#[test]
fn the_issue_program_runs() {
    let event = BadgeEarned {
        learner: LearnerData { id: 7, username: "ada".into(), email: None },
        badge: "first-steps".into(),
        earned_at: Utc::now(),
    };
    let responses = BADGE_EARNED.send_event(event.clone());
    assert_eq!(responses.len(), 3); // all three ran
    assert_eq!(responses.iter().filter(|r| r.result.is_ok()).count(), 1);
    assert!(responses.iter().any(|r| r.result.as_ref().is_err_and(|e| e.to_string().contains("mail server down"))));
    assert!(responses.iter().any(|r| r.result.as_ref().is_err_and(|e| e.to_string().contains("bug in a plugin"))));
    assert!(openedx_events::get_signal_by_type("org.openedx.learning.badge.earned.v1").is_some());
    BADGE_EARNED.disable();
    assert!(BADGE_EARNED.send_event(event).is_empty());
}
