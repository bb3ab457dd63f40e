//! Arguments of `#[openedx_event]` may come from a `macro_rules!` macro's fragments, as when a
//! crate defines many similar events with one macro.
#![allow(missing_docs, reason = "test payloads need no docs")]

macro_rules! event {
    ($name:ident, $payload:ident, $event_type:literal, $minor:expr) => {
        #[openedx_events::openedx_event(name = $name, event_type = $event_type, minor_version = $minor)]
        pub struct $payload {
            pub n: i64,
        }
    };
}

event!(MACRO_FIRST, MacroFirst, "org.openedx.learning.macro_args.first.v1", 2);
event!(MACRO_SECOND, MacroSecond, "org.openedx.learning.macro_args.second.v1", 0);

#[test]
fn literals_from_macro_fragments_are_accepted() {
    assert_eq!(MACRO_FIRST.event_type(), "org.openedx.learning.macro_args.first.v1");
    assert_eq!(MACRO_FIRST.minor_version(), 2);
    assert_eq!(MACRO_SECOND.minor_version(), 0);
    assert!(MACRO_SECOND.send_event(MacroSecond { n: 1 }).is_empty());
    assert_eq!(MacroFirst { n: 3 }.n, 3);
}
