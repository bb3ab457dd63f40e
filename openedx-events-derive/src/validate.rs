//! Checks over the model, one function per rule; every problem is reported at its token.

use syn::ext::IdentExt as _;
use syn::{Expr, ExprLit, FnArg, GenericParam, Ident, Lit, LitStr, Type};

use crate::errors::Errors;
use crate::model::{EventDef, IMPLIED_DERIVE, ReceiverFn};

const CONVENTION: &str = "event type must look like `org.openedx.<subdomain>.<subject>.<action>.v<major>`";

impl EventDef {
    pub(crate) fn validate(&self) -> syn::Result<()> {
        let mut errors = Errors::default();
        check_event_type_convention(&self.event_type, self.args.allow_unversioned.is_set(), &mut errors);
        if let Err(error) = self.minor_version() {
            errors.push(error);
        }
        if let Some(key_field) = self.args.key_field.get() {
            check_key_field_head(self, key_field, &mut errors);
        } else if let Some(span) = self.args.allow_unresolved_key_field.span() {
            errors.push(syn::Error::new(span, "`allow_unresolved_key_field` needs a `key_field`"));
        }
        for derive in self.derives_of_event_data() {
            errors.at(derive, IMPLIED_DERIVE);
        }
        errors.finish()
    }

    /// The minor version: an integer literal that fits a `u32`, 0 when not given.
    pub(crate) fn minor_version(&self) -> syn::Result<u32> {
        let Some(version) = self.args.minor_version.get() else {
            return Ok(0);
        };
        let out_of_range =
            || syn::Error::new_spanned(version, format!("`minor_version` must be from 0 to {}", u32::MAX));
        match version {
            Expr::Lit(ExprLit { lit: Lit::Int(int), attrs }) if attrs.is_empty() => {
                int.base10_parse::<u32>().map_err(|_| out_of_range())
            }
            Expr::Unary(syn::ExprUnary { op: syn::UnOp::Neg(_), expr, .. })
                if matches!(&**expr, Expr::Lit(ExprLit { lit: Lit::Int(_), .. })) =>
            {
                Err(out_of_range())
            }
            _ => Err(syn::Error::new_spanned(
                version,
                "`minor_version` must be a whole number written as a literal, such as `minor_version = 1`",
            )),
        }
    }

    /// The key field's segments as identifiers, once validation has passed.
    pub(crate) fn key_field_path(&self) -> Option<Vec<Ident>> {
        let key_field = self.args.key_field.get()?;
        key_field.value().split('.').map(|segment| parse_segment(segment, key_field)).collect()
    }
}

/// `org.openedx.<subdomain>.<subject>.<action>.v<major>`: lower-case words of letters, digits, `_`
/// and `-`, the subject possibly several words; without the version under `allow_unversioned`.
fn check_event_type_convention(event_type: &LitStr, allow_unversioned: bool, errors: &mut Errors) {
    let value = event_type.value();
    let segments: Vec<&str> = value.split('.').collect();
    let is_word = |s: &&str| {
        s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
    };
    let is_version =
        |s: &str| s.strip_prefix('v').is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    let versioned = segments.last().is_some_and(|last| is_version(last));
    let words = if versioned { &segments[..segments.len() - 1] } else { &segments[..] };
    let problem = if segments.len() < 2 || segments[0] != "org" || segments[1] != "openedx" {
        Some("it must start with `org.openedx.`".to_owned())
    } else if let Some(bad) = words.iter().skip(2).find(|s| !is_word(s)) {
        Some(format!("`{bad}` is not a lower-case word of letters, digits, `_` or `-`"))
    } else if words.len() < 5 {
        Some("it needs a subdomain, a subject and an action".to_owned())
    } else if !versioned && !allow_unversioned {
        Some("it must end with the major version, such as `.v1` (`allow_unversioned` opts out)".to_owned())
    } else {
        None
    };
    if let Some(problem) = problem {
        errors.push(syn::Error::new(event_type.span(), format!("{CONVENTION}; {problem}")));
    }
}

/// The key field's first segment must be a field of the payload; rustc checks the rest through
/// a field access the expansion generates, spanned on the string.
fn check_key_field_head(def: &EventDef, key_field: &LitStr, errors: &mut Errors) {
    let value = key_field.value();
    let mut segments = Vec::new();
    for segment in value.split('.') {
        match parse_segment(segment, key_field) {
            Some(ident) => segments.push(ident),
            None => {
                let problem = if segment.is_empty() {
                    "it has an empty segment".to_owned()
                } else {
                    format!("`{segment}` is not a field name")
                };
                errors.push(syn::Error::new(
                    key_field.span(),
                    format!(
                        "`key_field` must be a dotted path of field names, such as `enrollment.user.id`; {problem}"
                    ),
                ));
                return;
            }
        }
    }
    if def.args.allow_unresolved_key_field.is_set() {
        return;
    }
    let head = &segments[0];
    if !def.payload.fields.iter().any(|field| head.unraw() == field.name) {
        let fields: Vec<String> = def.payload.fields.iter().map(|f| format!("`{}`", f.name)).collect();
        let known = if fields.is_empty() {
            "it has no fields".to_owned()
        } else {
            format!("its fields are {}", fields.join(", "))
        };
        errors.push(syn::Error::new(
            key_field.span(),
            format!("`key_field` starts with `{head}`, which is not a field of `{}`; {known}", def.payload.ident),
        ));
    }
}

fn parse_segment(segment: &str, span_of: &LitStr) -> Option<Ident> {
    let name = syn::parse::Parser::parse_str(Ident::parse_any, segment).ok()?.unraw().to_string();
    // Keep the string's span so that rustc's errors about the path point at it. Keywords need
    // the raw form, which these few names cannot take (and no field can have).
    let span = span_of.span();
    match name.as_str() {
        "self" | "Self" | "super" | "crate" | "_" => None,
        _ if syn::parse_str::<Ident>(&name).is_ok() => Some(Ident::new(&name, span)),
        _ => Some(Ident::new_raw(&name, span)),
    }
}

impl ReceiverFn {
    pub(crate) fn validate(&self) -> syn::Result<()> {
        let mut errors = Errors::default();
        check_receiver_shape(self, &mut errors);
        errors.finish()
    }
}

const SHAPE: &str = "a receiver takes `(data: &Payload, metadata: &EventsMetadata)`";

/// A receiver is a plain (or `async`), non-generic free function of two reference arguments.
fn check_receiver_shape(receiver: &ReceiverFn, errors: &mut Errors) {
    let sig = &receiver.func.sig;
    if let Some(token) = &sig.constness {
        errors.at(token, "a receiver cannot be `const`");
    }
    if let Some(token) = &sig.unsafety {
        errors.at(token, "a receiver cannot be `unsafe`");
    }
    if let Some(abi) = &sig.abi {
        errors.at(abi, "a receiver cannot declare an ABI");
    }
    // Lifetime parameters are harmless: the handler passes plain references.
    let type_or_const: Vec<&GenericParam> =
        sig.generics.params.iter().filter(|param| !matches!(param, GenericParam::Lifetime(_))).collect();
    if !type_or_const.is_empty() {
        errors.at(
            quote::quote!(#(#type_or_const),*),
            "a receiver cannot be generic; it receives one signal's payload type",
        );
    }
    if let Some(clause) = &sig.generics.where_clause {
        errors.at(clause, "a receiver cannot have a `where` clause");
    }
    if let Some(variadic) = &sig.variadic {
        errors.at(variadic, "a receiver cannot be variadic");
    }
    for arg in &sig.inputs {
        if let FnArg::Receiver(receiver) = arg {
            errors.at(receiver, "a receiver must be a free function, not a method taking `self`");
        }
    }
    let typed: Vec<&Type> = receiver.arg_types();
    let has_self = sig.inputs.iter().any(|arg| matches!(arg, FnArg::Receiver(_)));
    if typed.len() != 2 && !has_self {
        let found = match typed.len() {
            1 => "1 argument".to_owned(),
            n => format!("{n} arguments"),
        };
        let message = format!("{SHAPE}; found {found}");
        if sig.inputs.is_empty() {
            errors.push(syn::Error::new(sig.paren_token.span.join(), message));
        } else {
            errors.at(&sig.inputs, message);
        }
    } else if typed.len() == 2 {
        for (ty, what) in typed.iter().zip(["payload", "metadata"]) {
            if !matches!(ty, Type::Reference(r) if r.mutability.is_none()) {
                errors.at(ty, format!("{SHAPE}; the {what} must be taken by shared reference (`&`)"));
            }
        }
    }
}
