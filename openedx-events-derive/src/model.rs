//! The typed model each macro works on, built from the parsed input with every span kept.

use proc_macro2::{Span, TokenStream};
use syn::ext::IdentExt as _;
use syn::{Attribute, Data, DeriveInput, Fields, FnArg, Ident, ItemFn, LitStr, Path, ReturnType, Type, Visibility};

use crate::attr::{EventArgs, ReceiverArgs};
use crate::errors::Errors;

/// A struct that derives `EventData`.
pub(crate) struct Payload {
    pub(crate) ident: Ident,
    pub(crate) vis: Visibility,
    pub(crate) docs: String,
    pub(crate) fields: Vec<Field>,
}

/// One named field of a [`Payload`].
pub(crate) struct Field {
    /// The field as written, to access it.
    pub(crate) ident: Ident,
    /// The name on the wire: the identifier without `r#`.
    pub(crate) name: String,
    pub(crate) ty: Type,
    pub(crate) docs: String,
}

/// Which macro a [`Payload`] comes from, to name it in errors.
#[derive(Clone, Copy)]
pub(crate) enum Origin {
    /// `#[derive(EventData)]`.
    Derive,
    /// `#[openedx_event(...)]`, which implies the derive.
    Event,
}

impl Origin {
    fn only_named_fields(self, not: &str) -> String {
        let by = match self {
            Origin::Derive => "#[derive(EventData)]",
            Origin::Event => "`#[openedx_event]`",
        };
        format!("{by} only supports structs with named fields, not {not}")
    }
}

impl Payload {
    pub(crate) fn from_syn(input: &DeriveInput, origin: Origin) -> syn::Result<Self> {
        let mut errors = Errors::default();
        // A derive written above `#[openedx_event]` runs first and sees the attribute; the
        // attribute's own impls would conflict with ours. (Below it, the attribute reports it.)
        if let Origin::Derive = origin
            && input.attrs.iter().any(|attr| attr.path().segments.last().is_some_and(|s| s.ident == "openedx_event"))
        {
            // The call site of a derive is its name in the `#[derive(...)]` list.
            return Err(syn::Error::new(Span::call_site(), IMPLIED_DERIVE));
        }
        if !input.generics.params.is_empty() {
            errors.at(&input.generics, "an `EventData` type cannot be generic");
        } else if let Some(clause) = &input.generics.where_clause {
            errors.at(clause, "an `EventData` type cannot have a `where` clause");
        }
        let fields = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => named
                    .named
                    .iter()
                    .filter_map(|field| {
                        let ident = field.ident.as_ref()?;
                        Some(Field {
                            ident: ident.clone(),
                            name: ident.unraw().to_string(),
                            ty: field.ty.clone(),
                            docs: docs(&field.attrs),
                        })
                    })
                    .collect(),
                Fields::Unnamed(unnamed) => {
                    errors.at(unnamed, origin.only_named_fields("tuple structs"));
                    Vec::new()
                }
                Fields::Unit => {
                    errors.at(&input.ident, origin.only_named_fields("unit structs"));
                    Vec::new()
                }
            },
            Data::Enum(data) => {
                let (token, ident) = (&data.enum_token, &input.ident);
                errors.at(quote::quote!(#token #ident), origin.only_named_fields("enums"));
                Vec::new()
            }
            Data::Union(data) => {
                let (token, ident) = (&data.union_token, &input.ident);
                errors.at(quote::quote!(#token #ident), origin.only_named_fields("unions"));
                Vec::new()
            }
        };
        errors.finish()?;
        Ok(Payload { ident: input.ident.clone(), vis: input.vis.clone(), docs: docs(&input.attrs), fields })
    }
}

pub(crate) const IMPLIED_DERIVE: &str = "`#[openedx_event]` already implies `#[derive(EventData)]`; remove the derive";

/// A struct under `#[openedx_event(...)]`.
pub(crate) struct EventDef {
    pub(crate) args: EventArgs,
    pub(crate) name: Ident,
    pub(crate) event_type: LitStr,
    pub(crate) payload: Payload,
    /// The struct as written, to emit again unchanged.
    pub(crate) item: DeriveInput,
}

impl EventDef {
    pub(crate) fn from_syn(args: EventArgs, item: TokenStream) -> syn::Result<Self> {
        let item = parse_struct(item)?;
        let mut errors = Errors::default();
        let payload = Payload::from_syn(&item, Origin::Event).map_err(|error| errors.push(error)).ok();
        // A missing argument is reported at the attribute, where it goes.
        if args.name.get().is_none() {
            errors.push(syn::Error::new(
                Span::call_site(),
                "`#[openedx_event]` needs `name = SIGNAL_NAME`, the name of the signal's static",
            ));
        }
        if args.event_type.get().is_none() {
            errors.push(syn::Error::new(
                Span::call_site(),
                "`#[openedx_event]` needs `event_type = \"org.openedx.<subdomain>.<subject>.<action>.v<major>\"`",
            ));
        }
        errors.finish()?;
        match (args.name.get().cloned(), args.event_type.get().cloned(), payload) {
            (Some(name), Some(event_type), Some(payload)) => Ok(EventDef { args, name, event_type, payload, item }),
            // Each missing piece was reported above.
            _ => Err(syn::Error::new_spanned(&item.ident, "invalid `#[openedx_event]`")),
        }
    }

    /// The struct's `#[derive(...)]` paths that name `EventData`, which the attribute implies.
    pub(crate) fn derives_of_event_data(&self) -> Vec<Path> {
        derives_of_event_data(&self.item)
    }
}

/// The `#[derive(...)]` paths on `item` that name `EventData`.
pub(crate) fn derives_of_event_data(item: &DeriveInput) -> Vec<Path> {
    let mut found = Vec::new();
    for attr in item.attrs.iter().filter(|attr| attr.path().is_ident("derive")) {
        // A derive list that does not parse is rustc's to report.
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.segments.last().is_some_and(|s| s.ident == "EventData") {
                found.push(meta.path.clone());
            }
            Ok(())
        });
    }
    found
}

/// The item under `#[openedx_event]`, which must be a struct (an enum or union is parsed, to be
/// reported by [`Payload::from_syn`] like the derive does).
pub(crate) fn parse_struct(item: TokenStream) -> syn::Result<DeriveInput> {
    syn::parse2(item).map_err(|error| {
        syn::Error::new(error.span(), "`#[openedx_event]` goes on a struct with named fields, the event's payload")
    })
}

/// A function under `#[receiver(SIGNAL)]`.
pub(crate) struct ReceiverFn {
    pub(crate) signal: Path,
    pub(crate) func: ItemFn,
}

impl ReceiverFn {
    pub(crate) fn from_syn(args: ReceiverArgs, item: TokenStream) -> syn::Result<Self> {
        let func: ItemFn = syn::parse2(item).map_err(|error| {
            syn::Error::new(
                error.span(),
                "`#[receiver]` goes on a function: `fn name(data: &Payload, metadata: &EventsMetadata)`",
            )
        })?;
        Ok(ReceiverFn { signal: args.signal, func })
    }

    /// The argument types, when there are exactly two typed arguments (validation has checked).
    pub(crate) fn arg_types(&self) -> Vec<&Type> {
        self.func
            .sig
            .inputs
            .iter()
            .filter_map(|arg| match arg {
                FnArg::Typed(typed) => Some(&*typed.ty),
                FnArg::Receiver(_) => None,
            })
            .collect()
    }

    /// The payload type: what the first argument refers to.
    pub(crate) fn payload_type(&self) -> Option<&Type> {
        match self.arg_types().first() {
            Some(Type::Reference(reference)) => Some(&reference.elem),
            _ => None,
        }
    }

    pub(crate) fn return_type(&self) -> &ReturnType {
        &self.func.sig.output
    }
}

/// A doc comment's text: each `///` line without its first space, blank edges trimmed.
pub(crate) fn docs(attrs: &[Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| match &attr.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .flat_map(|text| {
            // `split`, not `lines`: an empty `///` line is an empty string, which `lines` would drop
            // along with the paragraph break it makes.
            text.split('\n')
                .map(|line| line.strip_prefix(' ').unwrap_or(line).trim_end().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    lines.join("\n").trim_matches('\n').to_owned()
}
