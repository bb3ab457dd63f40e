//! Parsing: the arguments of `#[openedx_event(...)]` and `#[receiver(...)]`.

use proc_macro2::{Span, TokenStream};
use syn::meta::ParseNestedMeta;
use syn::parse::ParseStream;
use syn::parse::Parser;
use syn::{Expr, Ident, LitStr, Path};

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

    /// Where the argument's name was written.
    pub(crate) fn span(&self) -> Option<Span> {
        self.value.as_ref().map(|(span, _)| *span)
    }
}

/// `#[openedx_event(name = NAME, event_type = "...", key_field = "...", minor_version = N,
/// allow_unversioned, allow_unresolved_key_field)]`.
pub(crate) struct EventArgs {
    pub(crate) name: Arg<Ident>,
    pub(crate) event_type: Arg<LitStr>,
    pub(crate) key_field: Arg<LitStr>,
    /// Any expression, so that validation can say what a minor version must be; it must be an
    /// integer literal.
    pub(crate) minor_version: Arg<Expr>,
    pub(crate) allow_unversioned: Arg<()>,
    pub(crate) allow_unresolved_key_field: Arg<()>,
}

impl EventArgs {
    pub(crate) fn parse(args: TokenStream) -> syn::Result<Self> {
        let (parsed, errors) = Self::parse_partial(args);
        errors.finish()?;
        Ok(parsed)
    }

    /// The arguments that could be read, and the errors found on the way; the fallback uses what
    /// was read to keep the signal's name defined.
    pub(crate) fn parse_partial(args: TokenStream) -> (Self, Errors) {
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
        (parsed, errors)
    }

    fn parse_one(&mut self, meta: &ParseNestedMeta<'_>, errors: &mut Errors) -> syn::Result<()> {
        let Some(key) = meta.path.get_ident() else {
            skip_value(meta)?;
            errors.at(&meta.path, unknown_argument(&meta.path));
            return Ok(());
        };
        let span = key.span();
        match key.to_string().as_str() {
            "name" => {
                let value = meta.value()?.parse::<Expr>()?;
                match as_ident(&value) {
                    Some(ident) => self.name.set(errors, span, ident.clone()),
                    None => errors.at(
                        value,
                        "`name` must be the identifier of the signal's static, such as `name = BADGE_EARNED`",
                    ),
                }
            }
            "event_type" => match string_value(meta)? {
                Ok(value) => self.event_type.set(errors, span, value),
                Err(other) => errors.at(
                    other,
                    "`event_type` must be a string literal, such as `event_type = \"org.openedx.learning.course.enrollment.created.v1\"`",
                ),
            },
            "key_field" => match string_value(meta)? {
                Ok(value) => self.key_field.set(errors, span, value),
                Err(other) => errors.at(other, "`key_field` must be a string literal, such as `key_field = \"enrollment.user.id\"`"),
            },
            "minor_version" => {
                let value = without_invisible_groups(meta.value()?.parse()?);
                self.minor_version.set(errors, span, value);
            }
            "allow_unversioned" => set_flag(&mut self.allow_unversioned, span, meta, errors)?,
            "allow_unresolved_key_field" => set_flag(&mut self.allow_unresolved_key_field, span, meta, errors)?,
            _ => {
                skip_value(meta)?;
                errors.push(syn::Error::new(span, unknown_argument(&meta.path)));
            }
        }
        Ok(())
    }
}

/// A flag is written alone: `allow_unversioned`, not `allow_unversioned = true`.
fn set_flag(flag: &mut Arg<()>, span: Span, meta: &ParseNestedMeta<'_>, errors: &mut Errors) -> syn::Result<()> {
    let path = &meta.path;
    if meta.input.peek(syn::Token![=]) {
        let value = meta.value()?.parse::<Expr>()?;
        errors.at(quote::quote!(#path = #value), format!("`{0}` takes no value; write `{0}` alone", flag.name));
    } else {
        flag.set(errors, span, ());
    }
    Ok(())
}

fn as_ident(expr: &Expr) -> Option<&Ident> {
    match expr {
        Expr::Path(path) if path.attrs.is_empty() && path.qself.is_none() => path.path.get_ident(),
        _ => None,
    }
}

/// Skips an unknown argument's value, if any, so that the arguments after it are still read.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse::<Expr>()?;
    }
    Ok(())
}

/// The value after `=`: a string literal, or the expression written instead.
fn string_value(meta: &ParseNestedMeta<'_>) -> syn::Result<Result<LitStr, Expr>> {
    Ok(match without_invisible_groups(meta.value()?.parse::<Expr>()?) {
        Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(value), attrs }) if attrs.is_empty() => Ok(value),
        other => Err(other),
    })
}

/// A value passed through a `macro_rules!` fragment (`$event_type:literal`, `$v:expr`) arrives
/// wrapped in an invisible group; what counts is the literal inside.
fn without_invisible_groups(mut expr: Expr) -> Expr {
    while let Expr::Group(group) = expr {
        expr = *group.expr;
    }
    expr
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
                format!("`#[receiver]` needs the signal it receives, {RECEIVER_USAGE}"),
            ));
        }
        let signal = parse_signal.parse2(args)?;
        Ok(ReceiverArgs { signal })
    }
}

const RECEIVER_USAGE: &str = "such as `#[receiver(COURSE_ENROLLMENT_CREATED)]`";

/// One path; anything after it is reported as a whole.
fn parse_signal(input: ParseStream<'_>) -> syn::Result<Path> {
    let signal = input.parse::<Path>().map_err(|error| {
        syn::Error::new(error.span(), format!("`#[receiver]` takes the path of a signal, {RECEIVER_USAGE}"))
    })?;
    if !input.is_empty() {
        let rest: TokenStream = input.parse()?;
        return Err(syn::Error::new_spanned(
            rest,
            format!("`#[receiver]` takes one signal, {RECEIVER_USAGE}; write one receiver per signal"),
        ));
    }
    Ok(signal)
}
