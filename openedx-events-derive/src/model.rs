//! The typed model each macro works on, built from the parsed input with every span kept.

use proc_macro2::TokenStream;
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
    /// The name on the wire: the identifier without `r#`.
    pub(crate) name: String,
    pub(crate) ty: Type,
    pub(crate) docs: String,
}

impl Payload {
    pub(crate) fn from_syn(input: &DeriveInput) -> syn::Result<Self> {
        let mut errors = Errors::default();
        if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
            errors.at(&input.generics, "an `EventData` type cannot be generic");
        }
        let fields = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => named
                    .named
                    .iter()
                    .filter_map(|field| {
                        let ident = field.ident.as_ref()?;
                        Some(Field { name: ident.unraw().to_string(), ty: field.ty.clone(), docs: docs(&field.attrs) })
                    })
                    .collect(),
                Fields::Unnamed(_) => {
                    errors.at(
                        &input.ident,
                        "#[derive(EventData)] only supports structs with named fields, not tuple structs",
                    );
                    Vec::new()
                }
                Fields::Unit => {
                    errors.at(
                        &input.ident,
                        "#[derive(EventData)] only supports structs with named fields, not unit structs",
                    );
                    Vec::new()
                }
            },
            Data::Enum(data) => {
                errors.at(data.enum_token, "#[derive(EventData)] only supports structs with named fields, not enums");
                Vec::new()
            }
            Data::Union(data) => {
                errors.at(data.union_token, "#[derive(EventData)] only supports structs with named fields, not unions");
                Vec::new()
            }
        };
        errors.finish()?;
        Ok(Payload { ident: input.ident.clone(), vis: input.vis.clone(), docs: docs(&input.attrs), fields })
    }
}

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
        let item: DeriveInput = syn::parse2(item)?;
        let mut errors = Errors::default();
        let payload = Payload::from_syn(&item).map_err(|error| errors.push(error)).ok();
        if args.name.get().is_none() {
            errors.at(&item.ident, "`#[openedx_event]` needs `name = SIGNAL_NAME`, the name of the signal's static");
        }
        if args.event_type.get().is_none() {
            errors.at(
                &item.ident,
                "`#[openedx_event]` needs `event_type = \"org.openedx.<subdomain>.<subject>.<action>.v<major>\"`",
            );
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
        let mut found = Vec::new();
        for attr in self.item.attrs.iter().filter(|attr| attr.path().is_ident("derive")) {
            let _ = attr.parse_nested_meta(|meta| {
                if meta.path.segments.last().is_some_and(|s| s.ident == "EventData") {
                    found.push(meta.path.clone());
                }
                Ok(())
            });
        }
        found
    }
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
            text.lines().map(|line| line.strip_prefix(' ').unwrap_or(line).trim_end().to_owned()).collect::<Vec<_>>()
        })
        .collect();
    lines.join("\n").trim_matches('\n').to_owned()
}
