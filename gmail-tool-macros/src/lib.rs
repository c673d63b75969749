//! `#[tool(...)]` on a tool's handler in gmail-shared's catalog declares the tool beside it, as
//! rmcp's `#[tool]` does: the name is the function's, the description is its doc comment, and
//! the attribute gives the title, the annotations and the toolset. It expands to the function,
//! unchanged, and `const <NAME>: crate::tools::Decl`, which the registry is built from.

use proc_macro::TokenStream;
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::{parse_macro_input, Expr, ExprLit, Ident, ItemFn, Lit, LitStr, Meta, Token};

/// `title = "...", annotations = READ, toolset = Read`, in any order.
struct ToolArgs {
    title: LitStr,
    annotations: Ident,
    toolset: Ident,
}

impl Parse for ToolArgs {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let (mut title, mut annotations, mut toolset) = (None, None, None);
        while !input.is_empty() {
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            match key.to_string().as_str() {
                "title" => title = Some(input.parse()?),
                "annotations" => annotations = Some(input.parse()?),
                "toolset" => toolset = Some(input.parse()?),
                _ => {
                    return Err(syn::Error::new(
                        key.span(),
                        "expected title, annotations or toolset",
                    ))
                }
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        let missing = |what: &str| syn::Error::new(input.span(), format!("#[tool] needs {what}"));
        Ok(ToolArgs {
            title: title.ok_or_else(|| missing("title = \"...\""))?,
            annotations: annotations.ok_or_else(|| missing("annotations = READ | WRITE | ..."))?,
            toolset: toolset.ok_or_else(|| missing("toolset = Read | Compose | ..."))?,
        })
    }
}

/// The doc comment as one line: a model reads it as the tool's description, so the lines a
/// comment is wrapped into join with a space.
fn description(f: &ItemFn) -> syn::Result<String> {
    let lines: Vec<String> = f
        .attrs
        .iter()
        .filter_map(|a| match &a.meta {
            Meta::NameValue(nv) if nv.path.is_ident("doc") => match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => Some(s.value().trim().to_string()),
                _ => None,
            },
            _ => None,
        })
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        return Err(syn::Error::new(
            f.sig.ident.span(),
            "a tool's doc comment is its description: add one",
        ));
    }
    Ok(lines.join(" "))
}

#[proc_macro_attribute]
pub fn tool(attr: TokenStream, item: TokenStream) -> TokenStream {
    let args = parse_macro_input!(attr as ToolArgs);
    let f = parse_macro_input!(item as ItemFn);
    let description = match description(&f) {
        Ok(d) => d,
        Err(e) => return e.to_compile_error().into(),
    };
    let name = f.sig.ident.to_string();
    let decl = format_ident!("{}", name.to_uppercase());
    let ToolArgs {
        title,
        annotations,
        toolset,
    } = args;
    quote! {
        const #decl: crate::tools::Decl = crate::tools::Decl {
            name: #name,
            title: #title,
            description: #description,
            annotations: crate::tools::Annotations::#annotations,
            toolset: crate::tools::Toolset::#toolset,
        };

        #f
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_description_is_the_doc_comment_on_one_line() {
        let f: ItemFn = syn::parse_quote! {
            /// Moves an email to the trash
            /// (recoverable with untrash_email).
            ///
            async fn trash_email() {}
        };
        assert_eq!(
            description(&f).unwrap(),
            "Moves an email to the trash (recoverable with untrash_email)."
        );
        let undocumented: ItemFn = syn::parse_quote! { async fn trash_email() {} };
        assert!(description(&undocumented).is_err());
    }

    #[test]
    fn arguments_are_named_and_all_required() {
        let args: ToolArgs =
            syn::parse_quote! { toolset = Organize, title = "Trash", annotations = WRITE };
        assert_eq!(args.title.value(), "Trash");
        assert_eq!(args.annotations.to_string(), "WRITE");
        assert!(syn::parse_str::<ToolArgs>("title = \"Trash\"").is_err());
        assert!(syn::parse_str::<ToolArgs>("name = \"x\"").is_err());
    }
}
