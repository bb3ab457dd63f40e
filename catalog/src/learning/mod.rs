//! The `learning` subdomain: what happens to learners and their progress.
//!
//! Its 37 events cover accounts (registration, sign-in), enrollments, course and program
//! certificates, cohorts, course discussions and forum posts, grades and passing status, special
//! exams, course access roles, notifications, open response submissions, badges, identity
//! verification, external grading and LTI launches. They are sent mostly by `openedx/edx-platform`,
//! and also by `openedx/credentials`, `openedx/edx-ora2`, `edx/edx-exams` and
//! `openedx/xblock-skill-tagging`.
//!
//! [`signals`] holds the events (a static per event, such as
//! [`signals::COURSE_ENROLLMENT_CREATED`], and its payload struct); [`data`] holds the types they
//! carry, such as [`data::CourseEnrollmentData`]. The paths follow upstream's
//! `openedx_events.learning.signals` and `openedx_events.learning.data`.

pub mod data;
pub mod signals;
