//! Generation: each macro's model turned into tokens. Every path is absolute, through
//! `::openedx_events::__private`, so the user's crate needs nothing else in scope.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned as _;
use syn::{DeriveInput, LitStr, ReturnType};

use crate::attr::{EventArgs, ReceiverArgs};
use crate::fallback;
use crate::model::{EventDef, Payload, ReceiverFn};

pub(crate) fn event_data(input: &DeriveInput) -> TokenStream {
    match Payload::from_syn(input) {
        Ok(payload) => event_data_impls(&payload),
        Err(error) => error.to_compile_error(),
    }
}

pub(crate) fn openedx_event(args: TokenStream, item: TokenStream) -> TokenStream {
    match try_openedx_event(args, item.clone()) {
        Ok(expanded) => expanded,
        Err(error) => fallback::openedx_event(item, error),
    }
}

fn try_openedx_event(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let args = EventArgs::parse(args)?;
    let def = EventDef::from_syn(args, item)?;
    def.validate()?;
    Ok(expand_event(&def))
}

pub(crate) fn receiver(args: TokenStream, item: TokenStream) -> TokenStream {
    match try_receiver(args, item.clone()) {
        Ok(expanded) => expanded,
        Err(error) => fallback::receiver(item, error),
    }
}

fn try_receiver(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let args = ReceiverArgs::parse(args)?;
    let receiver = ReceiverFn::from_syn(args, item)?;
    receiver.validate()?;
    Ok(expand_receiver(&receiver))
}

/// Expands to:
///
/// ```ignore
/// impl EventData for LearnerData {
///     const DESCRIPTION: &DataDescription = &DataDescription::new("LearnerData", module_path!(), "docs", &[
///         FieldDescription::new("id", <i64 as EventField>::TYPE, "docs"), ...
///     ]);
/// }
/// impl EventField for LearnerData {
///     const TYPE: &FieldType = &FieldType::Record(<Self as EventData>::DESCRIPTION);
/// }
/// ```
fn event_data_impls(payload: &Payload) -> TokenStream {
    let ident = &payload.ident;
    let name = ident.to_string();
    let docs = &payload.docs;
    let fields = payload.fields.iter().map(|field| {
        let name = &field.name;
        let ty = &field.ty;
        let docs = &field.docs;
        // Spanned on the field's type, so that an unsupported type is reported there.
        let field_type = quote_spanned!(ty.span()=> <#ty as ::openedx_events::__private::EventField>::TYPE);
        quote! { ::openedx_events::__private::FieldDescription::new(#name, #field_type, #docs) }
    });
    quote! {
        #[automatically_derived]
        impl ::openedx_events::__private::EventData for #ident {
            const DESCRIPTION: &'static ::openedx_events::__private::DataDescription = {
                const FIELDS: &[::openedx_events::__private::FieldDescription] = &[#(#fields),*];
                &::openedx_events::__private::DataDescription::new(#name, ::core::module_path!(), #docs, FIELDS)
            };
        }

        #[automatically_derived]
        impl ::openedx_events::__private::EventField for #ident {
            const TYPE: &'static ::openedx_events::__private::FieldType =
                &::openedx_events::__private::FieldType::Record(
                    <Self as ::openedx_events::__private::EventData>::DESCRIPTION,
                );
        }
    }
}

/// Expands to the struct unchanged, its `EventData` impls, and:
///
/// ```ignore
/// /// The signal for [`BadgeEarned`] (`org.openedx.learning.badge.earned.v1`).
/// pub static BADGE_EARNED: OpenEdxPublicSignal<BadgeEarned> = OpenEdxPublicSignal::__new(...);
/// const _: () = {
///     inventory::submit! { StaticSignal::new(&BADGE_EARNED) }
///     let _ = |data: &BadgeEarned| { let _ = &data.learner.username; }; // key_field, checked by rustc
/// };
/// ```
fn expand_event(def: &EventDef) -> TokenStream {
    let item = &def.item;
    let payload = &def.payload;
    let ident = &payload.ident;
    let vis = &payload.vis;
    let name = &def.name;
    let event_type = &def.event_type;
    // Validation has checked that the number fits.
    let minor_version: u32 = def.args.minor_version.get().and_then(|v| v.base10_parse().ok()).unwrap_or(0);
    let key_field = match def.args.key_field.get() {
        Some(key_field) => quote!(::core::option::Option::Some(#key_field)),
        None => quote!(::core::option::Option::None),
    };
    let key_field_check = match (def.key_field_path(), def.args.key_field.get()) {
        (Some(path), Some(literal)) if !def.args.allow_unresolved_key_field.is_set() => {
            key_field_access(ident, &path, literal)
        }
        _ => TokenStream::new(),
    };
    let impls = event_data_impls(payload);
    let signal_doc = format!("The signal for [`{ident}`] (`{}`).", event_type.value());
    quote! {
        #item

        #impls

        #[doc = #signal_doc]
        #vis static #name: ::openedx_events::__private::OpenEdxPublicSignal<#ident> =
            ::openedx_events::__private::OpenEdxPublicSignal::__new(
                #event_type,
                #minor_version,
                #key_field,
                ::core::concat!(::core::module_path!(), "::", ::core::stringify!(#name)),
            );

        #[doc(hidden)]
        const _: () = {
            ::openedx_events::__private::inventory::submit! {
                ::openedx_events::__private::StaticSignal::new(&#name)
            }
            #key_field_check
        };
    }
}

/// A closure that is only type-checked: each segment of the key field is a field access, so a
/// misspelt nested field is reported by rustc at the `key_field` string.
fn key_field_access(ident: &syn::Ident, path: &[syn::Ident], literal: &LitStr) -> TokenStream {
    let data = format_ident!("__openedx_data", span = literal.span());
    quote_spanned! {literal.span()=>
        let _ = |#data: &#ident| { let _ = &#data #(.#path)*; };
    }
}

/// Expands to the function unchanged, and:
///
/// ```ignore
/// const _: () = {
///     fn __openedx_receiver(data: &Payload, metadata: &EventsMetadata) -> Result<(), BoxError> {
///         ReceiverReturn::into_receiver_result(congratulate(data, metadata))
///     }
///     static __OPENEDX_RECEIVER: TypedReceiver<Payload> =
///         TypedReceiver::new(&SIGNAL, "path::to::congratulate", __openedx_receiver);
///     inventory::submit! { StaticReceiver::new(&__OPENEDX_RECEIVER) }
/// };
/// ```
fn expand_receiver(receiver: &ReceiverFn) -> TokenStream {
    let func = &receiver.func;
    let fn_name = &func.sig.ident;
    let signal = &receiver.signal;
    let Some(payload) = receiver.payload_type() else {
        // Validation guarantees a reference payload; keep the function if that ever changes.
        return quote!(#func);
    };
    let arg_types = receiver.arg_types();
    let metadata_span = arg_types.get(1).map_or_else(|| fn_name.span(), |ty| ty.span());
    let return_span = match receiver.return_type() {
        ReturnType::Type(_, ty) => ty.span(),
        ReturnType::Default => fn_name.span(),
    };
    let metadata_arg = quote_spanned!(metadata_span=> __openedx_metadata);
    let call = quote!(#fn_name(__openedx_data, #metadata_arg));
    let into_result = quote_spanned! {return_span=>
        ::openedx_events::__private::ReceiverReturn::into_receiver_result(#call)
    };
    // Spanned on the payload type, so that a payload the signal does not carry is reported there.
    let typed_new = quote_spanned!(payload.span()=> ::openedx_events::__private::TypedReceiver::<#payload>::new);
    quote! {
        #func

        #[doc(hidden)]
        const _: () = {
            fn __openedx_receiver(
                __openedx_data: &#payload,
                __openedx_metadata: &::openedx_events::__private::EventsMetadata,
            ) -> ::core::result::Result<(), ::openedx_events::__private::BoxError> {
                #into_result
            }

            static __OPENEDX_RECEIVER: ::openedx_events::__private::TypedReceiver<#payload> = #typed_new(
                &#signal,
                ::core::concat!(::core::module_path!(), "::", ::core::stringify!(#fn_name)),
                __openedx_receiver,
            );

            ::openedx_events::__private::inventory::submit! {
                ::openedx_events::__private::StaticReceiver::new(&__OPENEDX_RECEIVER)
            }
        };
    }
}
