//! A receiver of the catalog's `COURSE_ENROLLMENT_CREATED`, and an enrollment sent to it.
//!
//! Run it with `cargo run -p openedx-events-catalog --example send_enrollment`.

use chrono::Utc;
use openedx_events::keys::CourseKey;
use openedx_events::{EventsMetadata, receiver};
use openedx_events_catalog::learning::data::{CourseData, CourseEnrollmentData, UserData, UserPersonalData};
use openedx_events_catalog::learning::signals::{COURSE_ENROLLMENT_CREATED, CourseEnrollmentCreated};

/// Welcomes each new learner (standing in for a welcome email).
#[receiver(COURSE_ENROLLMENT_CREATED)]
fn welcome(data: &CourseEnrollmentCreated, metadata: &EventsMetadata) {
    let enrollment = &data.enrollment;
    println!(
        "welcome, {}: you are enrolled in {} ({}), {} track (event {} at {})",
        enrollment.user.pii.username,
        enrollment.course.display_name,
        enrollment.course.course_key,
        enrollment.mode,
        metadata.id,
        metadata.time,
    );
}

/// Refuses audit enrollments: a receiver that fails, which does not stop the others.
#[receiver(COURSE_ENROLLMENT_CREATED)]
fn require_verified(data: &CourseEnrollmentCreated, _metadata: &EventsMetadata) -> Result<(), String> {
    match data.enrollment.mode.as_str() {
        "verified" => Ok(()),
        mode => Err(format!("this course takes verified learners only, not `{mode}`")),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let course_key: CourseKey = "course-v1:edX+DemoX+Demo_Course".parse()?;

    // Required fields go to `new`; the defaulted ones (here `display_name`) are set after.
    let mut course = CourseData::new(course_key);
    course.display_name = "Demonstration Course".into();
    let user = UserData { id: 42, is_active: true, pii: UserPersonalData::new("ada".into(), "ada@example.com".into()) };
    let enrollment = CourseEnrollmentData::new(user, course, "audit".into(), true, Utc::now());

    for response in COURSE_ENROLLMENT_CREATED.send_event(CourseEnrollmentCreated { enrollment }) {
        match response.result {
            Ok(()) => println!("{}: ok", response.receiver),
            Err(error) => println!("{}: failed: {error}", response.receiver),
        }
    }

    // The same signal, found by its event type at run time.
    let signal = openedx_events::get_signal_by_type("org.openedx.learning.course.enrollment.created.v1")
        .ok_or("the catalog's events are registered")?;
    println!("{} carries {} and is keyed by {:?}", signal.event_type(), signal.data().name, signal.event_key_field());
    Ok(())
}
