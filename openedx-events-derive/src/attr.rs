//! Parsing: the arguments of `#[openedx_event(...)]` and `#[receiver(...)]`.

use proc_macro2::{Span, TokenStream};
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::{Ident, LitInt, LitStr, Path};

use crate::errors::Errors;

/// The names `#[openedx_event]` takes, in the order the error message lists them.
const EVENT_ARGS: &[&str] =
    &["name", "event_type", "key_field", "minor_version", "allow_unversioned", "allow_unresolved_key_field"];

/// One argument's value and where it was written, set at most once.
pub(crate) struct Arg<T> {
    name: &'static str,
    value: Option<(Span, T)>,
}

impl<T> Arg<T> {
    fn new(name: &'static str) -> Self {
        Arg { name, value: None }
    }

    /// Every argument goes through here, so a repeated one is caught the same way for all.
    fn set(&mut self, errors: &mut Errors, span: Span, value: T) {
        if self.value.is_some() {
            errors.push(syn::Error::new(span, format!("duplicate `{}` argument", self.name)));
        } else {
            self.value = Some((span, value));
        }
    }

    pub(crate) fn get(&self) -> Option<&T> {
        self.value.as_ref().map(|(_, value)| value)
    }

    pub(crate) fn is_set(&self) -> bool {
        self.value.is_some()
    }
}

/// `#[openedx_event(name = NAME, event_type = "...", key_field = "...", minor_version = N,
/// allow_unversioned, allow_unresolved_key_field)]`.
pub(crate) struct EventArgs {
    pub(crate) name: Arg<Ident>,
    pub(crate) event_type: Arg<LitStr>,
    pub(crate) key_field: Arg<LitStr>,
    pub(crate) minor_version: Arg<LitInt>,
    pub(crate) allow_unversioned: Arg<()>,
    pub(crate) allow_unresolved_key_field: Arg<()>,
}

impl EventArgs {
    pub(crate) fn parse(args: TokenStream) -> syn::Result<Self> {
        let mut parsed = EventArgs {
            name: Arg::new("name"),
            event_type: Arg::new("event_type"),
            key_field: Arg::new("key_field"),
            minor_version: Arg::new("minor_version"),
            allow_unversioned: Arg::new("allow_unversioned"),
            allow_unresolved_key_field: Arg::new("allow_unresolved_key_field"),
        };
        let mut errors = Errors::default();
        let parser = syn::meta::parser(|meta| parsed.parse_one(&meta, &mut errors));
        if let Err(error) = parser.parse2(args) {
            errors.push(error);
        }
        errors.finish()?;
        Ok(parsed)
    }

    fn parse_one(&mut self, meta: &ParseNestedMeta<'_>, errors: &mut Errors) -> syn::Result<()> {
        let Some(key) = meta.path.get_ident() else {
            return Err(syn::Error::new_spanned(&meta.path, unknown_argument(&meta.path)));
        };
        let span = key.span();
        match key.to_string().as_str() {
            "name" => self.name.set(errors, span, meta.value()?.parse()?),
            "event_type" => self.event_type.set(errors, span, meta.value()?.parse()?),
            "key_field" => self.key_field.set(errors, span, meta.value()?.parse()?),
            "minor_version" => self.minor_version.set(errors, span, meta.value()?.parse()?),
            "allow_unversioned" => self.allow_unversioned.set(errors, span, ()),
            "allow_unresolved_key_field" => self.allow_unresolved_key_field.set(errors, span, ()),
            _ => {
                // Skip a value, if any, so that the arguments after it are still read.
                if meta.input.peek(syn::Token![=]) {
                    meta.value()?.parse::<syn::Expr>()?;
                }
                errors.push(syn::Error::new(span, unknown_argument(&meta.path)));
            }
        }
        Ok(())
    }
}

fn unknown_argument(path: &Path) -> String {
    let expected: Vec<String> = EVENT_ARGS.iter().map(|a| format!("`{a}`")).collect();
    let name = quote::quote!(#path).to_string().replace(' ', "");
    format!("unknown `openedx_event` argument `{name}`; expected one of {}", expected.join(", "))
}

/// `#[receiver(SIGNAL)]`: the path of the signal's static.
pub(crate) struct ReceiverArgs {
    pub(crate) signal: Path,
}

impl ReceiverArgs {
    pub(crate) fn parse(args: TokenStream) -> syn::Result<Self> {
        if args.is_empty() {
            return Err(syn::Error::new(
                Span::call_site(),
                "`#[receiver]` needs the signal it receives, such as `#[receiver(COURSE_ENROLLMENT_CREATED)]`",
            ));
        }
        let signal = syn::parse2::<Path>(args).map_err(|error| {
            syn::Error::new(
                error.span(),
                "`#[receiver]` takes one argument: the path of a signal, such as `#[receiver(COURSE_ENROLLMENT_CREATED)]`",
            )
        })?;
        Ok(ReceiverArgs { signal })
    }
}
