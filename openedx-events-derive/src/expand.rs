//! Generation: each macro's model turned into tokens. Every path is absolute, through
//! `::openedx_events::__private`, so the user's crate needs nothing else in scope.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned as _;
use syn::{DeriveInput, LitStr, ReturnType};

use crate::attr::{EventArgs, ReceiverArgs};
use crate::fallback;
use crate::model::{EventDef, Origin, Payload, ReceiverFn};

pub(crate) fn event_data(input: &DeriveInput) -> TokenStream {
    match Payload::from_syn(input, Origin::Derive) {
        Ok(payload) => event_data_impls(&payload),
        Err(error) => error.to_compile_error(),
    }
}

pub(crate) fn openedx_event(args: TokenStream, item: TokenStream) -> TokenStream {
    match try_openedx_event(args.clone(), item.clone()) {
        Ok(expanded) => expanded,
        Err(error) => fallback::openedx_event(args, item, error),
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
/// ```text
/// impl EventData for LearnerData {
///     const DESCRIPTION: &DataDescription = &DataDescription::new("LearnerData", module_path!(), "docs", &[
///         FieldDescription::new("id", <i64 as EventField>::TYPE, "docs"), ...
///     ]);
/// }
/// impl EventField for LearnerData {
///     const TYPE: &FieldType = &FieldType::Record(<Self as EventData>::DESCRIPTION);
/// }
/// ```
pub(crate) fn event_data_impls(payload: &Payload) -> TokenStream {
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
    let codec = codec_methods(payload);
    quote! {
        #[automatically_derived]
        impl ::openedx_events::__private::EventData for #ident {
            const DESCRIPTION: &'static ::openedx_events::__private::DataDescription = {
                const FIELDS: &[::openedx_events::__private::FieldDescription] = &[#(#fields),*];
                &::openedx_events::__private::DataDescription::new(#name, ::core::module_path!(), #docs, FIELDS)
            };
        }

        // Not recommended: rustc would otherwise list every payload of the crate under each
        // unsupported field type.
        #[automatically_derived]
        #[diagnostic::do_not_recommend]
        impl ::openedx_events::__private::EventField for #ident {
            const TYPE: &'static ::openedx_events::__private::FieldType =
                &::openedx_events::__private::FieldType::Record(
                    <Self as ::openedx_events::__private::EventData>::DESCRIPTION,
                );

            #codec
        }
    }
}

/// The Avro codec and JSON form of a struct: its fields in order, each through its own
/// `EventField` impl, so the code is direct and needs no value tree. Expands to:
///
/// ```text
/// fn write_avro(&self, w) { self.id.write_avro(w); self.username.write_avro(w); }
/// fn read_avro(r) -> Result<Self, DecodeError> {
///     Ok(Self { id: read_avro(r).map_err(|e| e.in_field("id"))?, username: ... })
/// }
/// fn to_json(&self) -> Value { {"id": ..., "username": ...} }
/// fn from_json(v) -> Result<Self, JsonError> { Ok(Self { id: <field of "id", or absent_from_json()>, ... }) }
/// ```
fn codec_methods(payload: &Payload) -> TokenStream {
    let private = quote!(::openedx_events::__private);
    let idents: Vec<_> = payload.fields.iter().map(|field| &field.ident).collect();
    let names: Vec<_> = payload.fields.iter().map(|field| &field.name).collect();
    // Each field's impl, named `<Type as EventField>` with every token on the type's span, as in
    // `DESCRIPTION`: for an unsupported type, rustc then reports one error, at the type, and
    // drops the identical ones from these methods. (A generic helper call such as `field::<Type>(...)`
    // would add its own "required by a bound" error.)
    let impls: Vec<_> = payload
        .fields
        .iter()
        .map(|field| {
            let ty = &field.ty;
            quote_spanned!(ty.span()=> <#ty as ::openedx_events::__private::EventField>)
        })
        .collect();
    let json_keys: Vec<proc_macro2::Literal> = payload
        .fields
        .iter()
        .enumerate()
        .map(|(index, field)| {
            let mut text = String::from(if index == 0 { "{" } else { "," });
            text.push_str(&json_string(&field.name));
            text.push(':');
            proc_macro2::Literal::byte_string(text.as_bytes())
        })
        .collect();
    let json_end = proc_macro2::Literal::byte_string(if payload.fields.is_empty() { b"{}" } else { b"}" });
    quote! {
        #[inline]
        fn write_avro(&self, __openedx_writer: &mut #private::AvroWriter<'_>) {
            #( #impls::write_avro(&self.#idents, __openedx_writer); )*
        }

        fn read_avro(
            __openedx_reader: &mut #private::AvroReader<'_>,
        ) -> ::core::result::Result<Self, #private::DecodeError> {
            ::core::result::Result::Ok(Self {
                #( #idents: #impls::read_avro(__openedx_reader)
                    .map_err(|__openedx_error| __openedx_error.in_field(#names))?, )*
            })
        }

        fn to_json(&self) -> #private::JsonValue {
            let mut __openedx_object = #private::JsonMap::new();
            #( __openedx_object.insert(
                ::std::string::String::from(#names),
                #impls::to_json(&self.#idents),
            ); )*
            #private::JsonValue::Object(__openedx_object)
        }

        // The keys' JSON text (`{"id":`, `,"username":`) is made here, once; the values write
        // themselves.
        fn write_json(&self, __openedx_out: &mut ::std::vec::Vec<u8>) {
            #( __openedx_out.extend_from_slice(#json_keys);
               #impls::write_json(&self.#idents, __openedx_out); )*
            __openedx_out.extend_from_slice(#json_end);
        }

        // The segment before the first dot picks the field; the rest goes on into it.
        fn event_key(&self, __openedx_path: &::core::primitive::str) -> ::core::option::Option<#private::EventKey> {
            let (__openedx_head, __openedx_rest) = match __openedx_path.split_once('.') {
                ::core::option::Option::Some(split) => split,
                ::core::option::Option::None => (__openedx_path, ""),
            };
            match __openedx_head {
                #( #names => #impls::event_key(&self.#idents, __openedx_rest), )*
                _ => ::core::option::Option::None,
            }
        }

        // Each field read through `<Type as EventField>` (see above); an absent key is
        // `absent_from_json()`: `None` for an `Option`, an error otherwise.
        fn from_json(
            __openedx_value: &#private::JsonValue,
        ) -> ::core::result::Result<Self, #private::JsonError> {
            let __openedx_object = #private::json_object(__openedx_value, &[#(#names),*])?;
            ::core::result::Result::Ok(Self {
                #( #idents: match __openedx_object.get(#names) {
                    ::core::option::Option::Some(__openedx_field) => #impls::from_json(__openedx_field)
                        .map_err(|__openedx_error| __openedx_error.in_field(#names))?,
                    ::core::option::Option::None => #impls::absent_from_json().ok_or_else(|| {
                        #private::JsonError::new(::core::concat!("missing field `", #names, "`"))
                    })?,
                }, )*
            })
        }
    }
}

/// Expands to the struct unchanged, its `EventData` impls, and:
///
/// ```text
/// /// The signal for [`BadgeEarned`] (`org.openedx.learning.badge.earned.v1`).
/// pub static BADGE_EARNED: OpenEdxPublicSignal<BadgeEarned> = OpenEdxPublicSignal::__new(...);
/// const _: () = {
///     inventory::submit! { StaticSignal::new(&BADGE_EARNED) }
///     // key_field, checked by rustc: each segment a field, the last a value that can key an event.
///     let _ = |data: &BadgeEarned| assert_key_value(&data.learner.username);
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
    let minor_version = def.minor_version().unwrap_or(0);
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
/// misspelt nested field is reported by rustc at the `key_field` string, and so is a value that
/// cannot key an event (an `Option`, a struct, a list).
fn key_field_access(ident: &syn::Ident, path: &[syn::Ident], literal: &LitStr) -> TokenStream {
    // Mixed-site hygiene marks the tokens as macro-made, so rustc does not suggest replacing the
    // whole string with the field it guesses (`key_field = username`); the error stays at the string.
    let span = Span::mixed_site().located_at(literal.span());
    let data = format_ident!("__openedx_data", span = span);
    let path = path.iter().map(|segment| {
        let mut segment = segment.clone();
        segment.set_span(span);
        segment
    });
    quote_spanned! {span=>
        let _ = |#data: &#ident| ::openedx_events::__private::assert_key_value(&#data #(.#path)*);
    }
}

/// Expands to the function unchanged, and:
///
/// ```text
/// const _: () = {
///     fn __openedx_receiver(data: &Payload, metadata: &EventsMetadata) -> Result<(), BoxError> {
///         let returned = congratulate(data, metadata);
///         ReceiverReturn::into_receiver_result(returned)
///     }
///     // for an `async fn`, instead:
///     fn __openedx_receiver<'a>(data: &'a Payload, metadata: &'a EventsMetadata) -> ReceiverFuture<'a> {
///         box_receiver_future(async move {
///             let returned = congratulate(data, metadata).await;
///             ReceiverReturn::into_receiver_result(returned)
///         })
///     }
///     static __OPENEDX_RECEIVER: TypedReceiver<Payload> =
///         TypedReceiver::new(&SIGNAL, "path::to::congratulate", __openedx_receiver);
///     inventory::submit! { StaticReceiver::new(&__OPENEDX_RECEIVER) }
/// };
/// ```
///
/// rustc checks the rest, at the user's tokens: the signal carries `Payload` (the bound on
/// `TypedReceiver::new`, at the signal), the metadata type (the call, at the metadata type) and the
/// return type (the bound on `into_receiver_result`, at the return type).
fn expand_receiver(receiver: &ReceiverFn) -> TokenStream {
    let func = &receiver.func;
    let fn_name = &func.sig.ident;
    let signal = &receiver.signal;
    let Some(payload) = receiver.payload_type() else {
        // Validation guarantees a reference payload; keep the function if that ever changes.
        return quote!(#func);
    };
    let data = quote!(__openedx_data);
    let metadata = match receiver.arg_types().get(1) {
        Some(ty) => spanning(ty, quote!(__openedx_metadata)),
        None => quote!(__openedx_metadata),
    };
    let is_async = func.sig.asyncness.is_some();
    let call = if is_async { quote!(#fn_name(#data, #metadata).await) } else { quote!(#fn_name(#data, #metadata)) };
    let into_result = match receiver.return_type() {
        ReturnType::Type(_, ty) => {
            let (first, last) = first_and_last_spans(ty);
            let path = quote_spanned!(first=> ::openedx_events::__private::ReceiverReturn::into_receiver_result);
            let returned = spanning(ty, quote!(__openedx_returned));
            let call_result = quote_spanned!(last=> (#returned));
            quote! {
                let __openedx_returned = #call;
                #path #call_result
            }
        }
        ReturnType::Default => quote! {
            #call;
            ::core::result::Result::Ok(())
        },
    };
    // `TypedReceiver::<Payload>::new(&SIGNAL, ...)`: the call spans the payload type, where a
    // payload that is no `EventData` is reported; the argument spans the signal, where a signal
    // that does not carry the payload is reported (with the payload type labelled as well).
    let (payload_first, payload_last) = first_and_last_spans(payload);
    let (signal_first, _) = first_and_last_spans(signal);
    let signal_ref = quote_spanned!(signal_first=> &#signal);
    let args = quote_spanned! {payload_last=>
        (
            #signal_ref,
            ::core::concat!(::core::module_path!(), "::", ::core::stringify!(#fn_name)),
            __openedx_receiver,
        )
    };
    let constructor =
        if is_async { quote_spanned!(payload_first=> new_async) } else { quote_spanned!(payload_first=> new) };
    let typed_receiver =
        quote_spanned!(payload_first=> ::openedx_events::__private::TypedReceiver::<#payload>::#constructor #args);
    let handler = if is_async {
        // Spanned on the function's name: a future that is not `Send` is reported there.
        let boxed = quote_spanned!(fn_name.span()=> ::openedx_events::__private::box_receiver_future);
        let async_block = quote_spanned!(fn_name.span()=> async move { #into_result });
        let boxed_call = quote_spanned!(fn_name.span()=> #boxed(#async_block));
        quote! {
            fn __openedx_receiver<'__openedx>(
                #data: &'__openedx #payload,
                __openedx_metadata: &'__openedx ::openedx_events::__private::EventsMetadata,
            ) -> ::openedx_events::__private::ReceiverFuture<'__openedx> {
                #boxed_call
            }
        }
    } else {
        quote! {
            fn __openedx_receiver(
                #data: &#payload,
                __openedx_metadata: &::openedx_events::__private::EventsMetadata,
            ) -> ::core::result::Result<(), ::openedx_events::__private::BoxError> {
                #into_result
            }
        }
    };
    quote! {
        #func

        #[doc(hidden)]
        const _: () = {
            #handler

            // The receiver is built inline, not in a `static` of its own: a payload type that is
            // no `EventData` then makes one error, at `TypedReceiver::new`, not a second one at
            // `StaticReceiver::new`. The reference is promoted to `'static` (a `const fn` call in
            // a static's initializer).
            ::openedx_events::__private::inventory::submit! {
                ::openedx_events::__private::StaticReceiver::new(&#typed_receiver)
            }
        };
    }
}

/// The spans of the first and last tokens of `tokens`.
fn first_and_last_spans(tokens: &impl ToTokens) -> (Span, Span) {
    let mut tokens = tokens.to_token_stream().into_iter();
    let first = tokens.next().map_or_else(Span::call_site, |token| token.span());
    let last = tokens.last().map_or(first, |token| token.span());
    (first, last)
}

/// `(value,).0`, its parentheses spanned on the first token of `over` and its `.0` on the last,
/// so that rustc, reporting the expression, underlines all of `over` (a single span cannot cover
/// several tokens on stable Rust).
fn spanning(over: &impl ToTokens, value: TokenStream) -> TokenStream {
    let (first, last) = first_and_last_spans(over);
    let tuple = quote_spanned!(first=> (#value,));
    quote_spanned!(last=> #tuple.0)
}

/// `text` as a JSON string, escaped as serde_json escapes it (the runtime's `write_json` of a
/// struct must be what `serde_json` writes of its `to_json`).
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
