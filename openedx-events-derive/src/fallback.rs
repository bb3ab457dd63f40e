//! What a macro still emits when the user's input has errors: the item as written plus the
//! errors, and whatever else code using the item needs, so that it does not fail as well
//! (thiserror's fallback, clap's dummies). The user sees only the real errors.

use proc_macro2::TokenStream;
use quote::quote;

use crate::attr::EventArgs;
use crate::expand::event_data_impls;
use crate::model::{self, Origin, Payload};

/// Expands to the struct, its `EventData` impls and a signal of the given name that is never
/// registered, as far as the input allows:
///
/// ```text
/// pub struct BadgeEarned { ... }
/// impl EventData for BadgeEarned { ... }
/// pub static BADGE_EARNED: OpenEdxPublicSignal<BadgeEarned> = OpenEdxPublicSignal::__new(...);
/// compile_error!("...");
/// ```
pub(crate) fn openedx_event(args: TokenStream, item: TokenStream, error: syn::Error) -> TokenStream {
    let error = error.to_compile_error();
    let Ok(input) = model::parse_struct(item.clone()) else {
        return quote!(#item #error);
    };
    // A payload that cannot implement `EventData` has already been reported; a signal of it
    // would only add errors.
    let Ok(payload) = Payload::from_syn(&input, Origin::Event) else {
        return quote!(#item #error);
    };
    // With an explicit derive (reported as an error), the derive provides the impls.
    let impls = if model::derives_of_event_data(&input).is_empty() { event_data_impls(&payload) } else { quote!() };
    let (args, _) = EventArgs::parse_partial(args);
    let signal = args.name.get().map(|name| {
        let ident = &payload.ident;
        let vis = &payload.vis;
        let doc = format!("The signal for [`{ident}`].");
        quote! {
            #[doc = #doc]
            #[allow(dead_code, reason = "a stand-in while `#[openedx_event]` has errors")]
            #vis static #name: ::openedx_events::__private::OpenEdxPublicSignal<#ident> =
                ::openedx_events::__private::OpenEdxPublicSignal::__new("", 0, ::core::option::Option::None, "");
        }
    });
    quote! {
        #item
        #impls
        #signal
        #error
    }
}

pub(crate) fn receiver(item: TokenStream, error: syn::Error) -> TokenStream {
    let error = error.to_compile_error();
    quote! {
        #item
        #error
    }
}
