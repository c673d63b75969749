//! What the tool definitions cost a model: the compact JSON of each tool's name, description
//! and input schema, as a client puts them in context. Deterministic, so a test holds the
//! budget (scripts/bench-context prints it too).

use serde_json::json;

use super::{Registry, ToolPolicy, ToolSpec};

/// The default toolset's definitions, at most.
pub const DEFAULT_TOOLSET_BUDGET: usize = 10_000;
/// One tool's definition, at most.
pub const TOOL_BUDGET: usize = 20_000;

/// Bytes of one definition as a model sees it.
pub fn definition_bytes(spec: &ToolSpec) -> usize {
    json!({"name": spec.name, "description": spec.description, "inputSchema": spec.input_schema})
        .to_string()
        .len()
}

/// Bytes of every definition `policy` lets through, and how many tools that is.
pub fn definitions_bytes(registry: &Registry, policy: &ToolPolicy) -> (usize, usize) {
    registry
        .list()
        .filter(|s| policy.allows(s))
        .fold((0, 0), |(bytes, n), s| (bytes + definition_bytes(s), n + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::catalog;

    #[test]
    fn tool_definitions_stay_within_their_budget() {
        // As the default install lists them: single-user, so no `account` argument.
        let registry = catalog::registry().without_account_argument();
        let mut report = String::new();
        for spec in registry.list() {
            let bytes = definition_bytes(spec);
            report.push_str(&format!("{:6} {} ({})\n", bytes, spec.name, spec.toolset));
            assert!(bytes <= TOOL_BUDGET, "{} is {bytes} bytes", spec.name);
        }
        let default = ToolPolicy::parse(&[], &[], &[], false).unwrap();
        let (bytes, n) = definitions_bytes(&registry, &default);
        let (all, total) = definitions_bytes(&registry, &ToolPolicy::all());
        println!("{report}default: {bytes} bytes, {n} tools; all: {all} bytes, {total} tools");
        assert!(
            bytes <= DEFAULT_TOOLSET_BUDGET,
            "the default toolset is {bytes} bytes ({n} tools), over {DEFAULT_TOOLSET_BUDGET}\n{report}"
        );
    }
}
