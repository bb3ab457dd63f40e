//! The macros' expansions name everything by absolute path: this file shadows the prelude and the
//! crates they use, then defines events, data and receivers among the shadows. It fails to build
//! if any expansion leans on a name in scope (serde's `test_gen.rs` idea).
#![deny(warnings)]
#![allow(missing_docs, reason = "a test program, not a library")]
#![forbid(unsafe_code)]

/// Everything the macros might reach for, shadowed by something that does not fit.
#[allow(dead_code, non_camel_case_types, reason = "shadows, never used")]
mod shadows {
    pub(crate) struct Result;
    pub(crate) struct Option;
    pub(crate) struct Some;
    pub(crate) struct None;
    pub(crate) struct Ok;
    pub(crate) struct Err;
    pub(crate) struct String;
    pub(crate) struct Box;
    pub(crate) struct Vec;
    pub(crate) struct Send;
    pub(crate) struct Sync;
    pub(crate) struct Sized;
    pub(crate) struct Copy;
    pub(crate) struct Clone;
    pub(crate) struct Drop;
    pub(crate) struct Fn;
    pub(crate) struct FnOnce;
    pub(crate) struct Into;
    pub(crate) struct From;
    pub(crate) struct Default;
    pub(crate) struct str;
    pub(crate) struct u32;
    pub(crate) struct EventData;
    pub(crate) struct EventField;
    pub(crate) struct EventsMetadata;
    pub(crate) struct OpenEdxPublicSignal;
    pub(crate) mod core {}
    pub(crate) mod std {}
    pub(crate) mod alloc {}
    pub(crate) mod inventory {}
    pub(crate) mod openedx_events {}
    pub(crate) mod __private {}
}

mod events {
    #![allow(unused_imports, unused_macros, reason = "the shadows only need to be in scope")]

    use super::shadows::*;

    // Shadow the macros the expansions might call unqualified.
    macro_rules! concat {
        ($($tokens:tt)*) => {
            compile_error!("an expansion called `concat!` unqualified")
        };
    }
    macro_rules! stringify {
        ($($tokens:tt)*) => {
            compile_error!("an expansion called `stringify!` unqualified")
        };
    }
    macro_rules! module_path {
        ($($tokens:tt)*) => {
            compile_error!("an expansion called `module_path!` unqualified")
        };
    }

    /// A learner.
    #[derive(::openedx_events::EventData)]
    pub(crate) struct LearnerData {
        /// The learner's name.
        pub(crate) username: ::std::string::String,
        pub(crate) email: ::core::option::Option<::std::string::String>,
        pub(crate) groups: ::std::vec::Vec<::std::string::String>,
    }

    /// Emitted when a learner earns a badge.
    #[::openedx_events::openedx_event(
        name = BADGE_EARNED,
        event_type = "org.openedx.learning.badge.earned.v1",
        key_field = "learner.username",
        minor_version = 2,
    )]
    pub(crate) struct BadgeEarned {
        pub(crate) learner: LearnerData,
        pub(crate) badge: ::std::string::String,
        pub(crate) points: i64,
    }

    /// Emitted when a learner leaves a course.
    #[::openedx_events::openedx_event(
        name = LEARNER_LEFT,
        event_type = "org.openedx.learning.learner.left",
        allow_unversioned,
        key_field = "learner.id",
        allow_unresolved_key_field,
    )]
    pub(crate) struct LearnerLeft {
        pub(crate) learner: LearnerData,
    }

    pub(crate) static RAN: ::std::sync::atomic::AtomicUsize = ::std::sync::atomic::AtomicUsize::new(0);

    fn ran() {
        RAN.fetch_add(1, ::std::sync::atomic::Ordering::SeqCst);
    }

    #[::openedx_events::receiver(BADGE_EARNED)]
    fn returns_unit(data: &BadgeEarned, metadata: &::openedx_events::EventsMetadata) {
        ::core::assert_eq!(metadata.event_type, "org.openedx.learning.badge.earned.v1");
        ::core::assert_eq!(data.learner.username, "ada");
        ran();
    }

    #[::openedx_events::receiver(self::BADGE_EARNED)]
    fn returns_result(
        data: &BadgeEarned,
        _metadata: &::openedx_events::EventsMetadata,
    ) -> ::core::result::Result<(), &'static ::core::primitive::str> {
        ran();
        if data.points > 0 { ::core::result::Result::Ok(()) } else { ::core::result::Result::Err("no points") }
    }

    #[::openedx_events::receiver(crate::events::BADGE_EARNED)]
    fn with_lifetime<'a>(data: &'a BadgeEarned, _metadata: &'a ::openedx_events::EventsMetadata) {
        let _: &'a ::core::option::Option<::std::string::String> = &data.learner.email;
        let _ = (&data.badge, &data.learner.groups);
        ran();
    }

    #[::openedx_events::receiver(LEARNER_LEFT)]
    fn learner_left(data: &LearnerLeft, _metadata: &::openedx_events::EventsMetadata) {
        let _ = &data.learner;
    }
}

#[test]
fn expansions_work_among_shadowed_names() {
    let event = events::BadgeEarned {
        learner: events::LearnerData { username: "ada".into(), email: None, groups: vec!["staff".into()] },
        badge: "first-steps".into(),
        points: 3,
    };
    let responses = events::BADGE_EARNED.send_event(event);
    assert_eq!(responses.len(), 3);
    assert!(responses.iter().all(|response| response.result.is_ok()), "{responses:?}");
    assert_eq!(events::RAN.load(std::sync::atomic::Ordering::SeqCst), 3);
    assert_eq!(events::BADGE_EARNED.minor_version(), 2);
    assert_eq!(events::BADGE_EARNED.event_key_field(), Some("learner.username"));
    assert_eq!(events::LEARNER_LEFT.event_type(), "org.openedx.learning.learner.left");
}
