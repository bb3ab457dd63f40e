//! The committed reference page, `docs/reference/events.md`, must be what
//! `openedx_events_catalog::reference::events_markdown` renders now. Set `UPDATE_DOCS=1` to
//! rewrite it instead of checking it.

use openedx_events_catalog::reference::events_markdown;

/// The page, from the workspace root.
const PAGE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/reference/events.md");

/// The command that rewrites the page.
const REGENERATE: &str = "UPDATE_DOCS=1 cargo test -p openedx-events-catalog --test reference_docs";

#[test]
fn reference_page_is_up_to_date() {
    let rendered = events_markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        if let Some(folder) = std::path::Path::new(PAGE).parent() {
            std::fs::create_dir_all(folder)
                .unwrap_or_else(|error| panic!("cannot create `{}`: {error}", folder.display()));
        }
        std::fs::write(PAGE, &rendered).unwrap_or_else(|error| panic!("cannot write `{PAGE}`: {error}"));
        return;
    }
    let committed = std::fs::read_to_string(PAGE)
        .unwrap_or_else(|error| panic!("cannot read `{PAGE}`: {error}; generate it with `{REGENERATE}`"));
    if committed != rendered {
        let first_difference = committed
            .lines()
            .zip(rendered.lines())
            .position(|(old, new)| old != new)
            .unwrap_or_else(|| committed.lines().count().min(rendered.lines().count()));
        let line = |text: &str| text.lines().nth(first_difference).unwrap_or("<end of page>").to_owned();
        panic!(
            "`docs/reference/events.md` is stale: it no longer matches the catalog.\n\
             First difference, line {}:\n  committed: {}\n  generated: {}\n\
             Regenerate it with `{REGENERATE}` and commit the result.",
            first_difference + 1,
            line(&committed),
            line(&rendered),
        );
    }
}
