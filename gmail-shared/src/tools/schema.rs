//! Tool schemas as a model reads them: JSON Schema 2020-12 without what costs context and says
//! nothing (`$schema`, titles, `format` names, `"type": [T, "null"]` and `"default": null` on
//! optional fields — an optional field is simply not `required`), nested types inlined. rmcp's
//! `schema_for_type` keeps those, so the registry makes its own with schemars' settings.

use schemars::generate::SchemaSettings;
use schemars::transform::{RecursiveTransform, Transform};
use schemars::{JsonSchema, Schema};
use serde_json::Value;

fn generator() -> schemars::SchemaGenerator {
    SchemaSettings::draft2020_12()
        .with(|s| {
            s.meta_schema = None;
            s.inline_subschemas = true;
        })
        .with_transform(RecursiveTransform(compact))
        .into_generator()
}

/// Drops the noise from one schema node.
fn compact(schema: &mut Schema) {
    let Some(map) = schema.as_object_mut() else {
        return;
    };
    map.remove("title");
    map.remove("format");
    // Unknown arguments are refused by name when a call arrives; saying so in every schema
    // costs context for nothing.
    map.remove("additionalProperties");
    if let Some(Value::Array(values)) = map.get_mut("enum") {
        values.retain(|v| !v.is_null());
        // An enum of strings says its type itself.
        if values.iter().all(Value::is_string) {
            map.remove("type");
        }
    }
    if map.get("default") == Some(&Value::Null) {
        map.remove("default");
    }
    // `"type": ["string", "null"]` from types that are themselves optional.
    if let Some(Value::Array(types)) = map.get("type") {
        let kept: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
        if kept.len() == 1 {
            map.insert("type".into(), kept[0].clone());
        }
    }
    // `anyOf: [T, {"type": "null"}]`: the same, for inlined enums and objects.
    if let Some(Value::Array(any)) = map.get("anyOf") {
        let kept: Vec<Value> = any
            .iter()
            .filter(|s| s.get("type") != Some(&Value::from("null")))
            .cloned()
            .collect();
        if kept.len() == 1 && any.len() == 2 {
            map.remove("anyOf");
            if let Value::Object(inner) = &kept[0] {
                for (k, v) in inner {
                    map.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
        }
    }
    // Integers need no bound a model would miss (the server checks the real range).
    if map.get("minimum") == Some(&Value::from(0)) || map.get("minimum") == Some(&Value::from(0.0))
    {
        map.remove("minimum");
    }
}

/// `T`'s schema, compact.
fn compact_schema<T: JsonSchema>() -> Value {
    let mut schema = generator().into_root_schema_for::<T>();
    RecursiveTransform(compact).transform(&mut schema);
    schema.to_value()
}

/// The input schema of a tool taking `P`: always an object with `properties`.
pub fn input<P: JsonSchema>() -> Value {
    let mut schema = compact_schema::<P>();
    if let Value::Object(map) = &mut schema {
        map.entry("type").or_insert_with(|| Value::from("object"));
        map.entry("properties")
            .or_insert_with(|| Value::Object(Default::default()));
    }
    schema
}

/// Declares one more argument, `name`, taking `T`, in an input schema made by [`input`].
pub fn add_argument<T: JsonSchema>(schema: &mut Value, name: &str) {
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        properties.insert(name.into(), compact_schema::<T>());
    }
}

/// schemars' numeric `format`s (`uint64`, `int32`, `double`, ...) are not JSON Schema's:
/// validators such as the TypeScript SDK's Ajv warn about each on every `tools/list`.
fn standard_formats(schema: &mut Schema) {
    if let Some(map) = schema.as_object_mut() {
        let numeric = map.get("format").and_then(Value::as_str).is_some_and(|f| {
            f.starts_with("int") || f.starts_with("uint") || f == "double" || f == "float"
        });
        if numeric {
            map.remove("format");
        }
    }
}

/// The output schema of a tool returning `O`, when it is an object (MCP requires that).
pub fn output<O: JsonSchema>() -> Option<Value> {
    let schema = SchemaSettings::draft2020_12()
        .with(|s| s.meta_schema = None)
        .with_transform(RecursiveTransform(standard_formats))
        .into_generator()
        .into_root_schema_for::<O>()
        .to_value();
    (schema.get("type") == Some(&Value::from("object"))).then_some(schema)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Args {
        /// The query
        query: String,
        #[serde(default)]
        max_results: Option<u32>,
        #[serde(default)]
        nested: Option<Inner>,
    }

    #[derive(serde::Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Inner {
        flag: bool,
    }

    #[test]
    fn optional_fields_are_plain_and_nothing_models_skip_is_kept() {
        let s = input::<Args>();
        let text = s.to_string();
        for noise in [
            "$schema",
            "\"title\"",
            "null",
            "format",
            "$defs",
            "$ref",
            "additionalProperties",
        ] {
            assert!(!text.contains(noise), "{noise} in {text}");
        }
        assert_eq!(s["properties"]["max_results"]["type"], "integer");
        assert_eq!(s["properties"]["nested"]["type"], "object");
        assert_eq!(s["required"], serde_json::json!(["query"]));
        assert_eq!(s["properties"]["query"]["description"], "The query");
    }

    #[derive(serde::Serialize, JsonSchema)]
    #[allow(dead_code)]
    struct Out {
        size: u64,
        at: Option<i32>,
        ratio: f64,
    }

    #[test]
    fn output_schemas_carry_only_standard_formats() {
        let s = output::<Out>().unwrap().to_string();
        assert!(!s.contains("format"), "{s}");
    }
}
