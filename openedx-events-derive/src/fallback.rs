//! What a macro still emits when the user's input has errors: the item as written plus the
//! errors, so that code using the item does not fail as well (thiserror's fallback).

use proc_macro2::TokenStream;
use quote::quote;

pub(crate) fn openedx_event(item: TokenStream, error: syn::Error) -> TokenStream {
    let error = error.to_compile_error();
    quote! {
        #item
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
