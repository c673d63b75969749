//! Columns the `Any` driver cannot decode into their field by itself, for the row types'
//! `#[sqlx(try_from = "…")]`: each is read as a plain SQL type and converted (portable SQL
//! has no boolean, array or JSON type that SQLite and PostgreSQL agree on).

use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use sqlx::any::{Any, AnyTypeInfo, AnyValueRef};
use sqlx::error::BoxDynError;
use sqlx::{Decode, Type};

use crate::ops::policy::CallerPolicy;

/// A column type read as `$raw` and turned into `$field` by `$convert`.
macro_rules! column {
    ($(#[$doc:meta])* $name:ident($raw:ty) -> $field:ty = $convert:expr) => {
        $(#[$doc])*
        pub(super) struct $name($field);

        impl Type<Any> for $name {
            fn type_info() -> AnyTypeInfo {
                <$raw as Type<Any>>::type_info()
            }

            fn compatible(ty: &AnyTypeInfo) -> bool {
                <$raw as Type<Any>>::compatible(ty)
            }
        }

        impl<'r> Decode<'r, Any> for $name {
            fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
                let convert: fn($raw) -> $field = $convert;
                Ok($name(convert(<$raw as Decode<'r, Any>>::decode(value)?)))
            }
        }

        impl From<$name> for $field {
            fn from(column: $name) -> Self {
                column.0
            }
        }
    };
}

column! {
    /// A flag stored as an integer, 0 or 1.
    Flag(i64) -> bool = |n| n != 0
}

column! {
    /// A list stored as words separated by spaces (OAuth scopes).
    Words(String) -> Vec<String> = |s| s.split_whitespace().map(str::to_owned).collect()
}

column! {
    /// A list stored as items separated by commas, none empty.
    Commas(String) -> Vec<String> = |s| {
        s.split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

column! {
    /// A list stored as a JSON array; empty when unreadable.
    JsonList(String) -> Vec<String> = |s| json_or_default(&s)
}

column! {
    /// A JSON document stored as text; `null` when unreadable.
    JsonText(String) -> serde_json::Value = |s| json_or_default(&s)
}

column! {
    /// Caller rules stored as JSON text: none when absent, unreadable or empty.
    Rules(Option<String>) -> Option<CallerPolicy> = |s| {
        s.and_then(|t| serde_json::from_str::<CallerPolicy>(&t).ok())
            .filter(|p| !p.is_empty())
    }
}

fn json_or_default<T: DeserializeOwned + Default>(text: &str) -> T {
    serde_json::from_str(text).unwrap_or_default()
}

/// Whether a nullable column of type `T` holds a value (a revocation time, a browser's
/// binding): the field is a flag, the column when it happened or who.
pub(super) struct IsSet<T>(bool, PhantomData<T>);

impl<T: Type<Any>> Type<Any> for IsSet<T> {
    fn type_info() -> AnyTypeInfo {
        <Option<T> as Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        <Option<T> as Type<Any>>::compatible(ty)
    }
}

impl<'r, T: Decode<'r, Any>> Decode<'r, Any> for IsSet<T> {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        let value = <Option<T> as Decode<'r, Any>>::decode(value)?;
        Ok(IsSet(value.is_some(), PhantomData))
    }
}

impl<T> From<IsSet<T>> for bool {
    fn from(column: IsSet<T>) -> Self {
        column.0
    }
}
