//! Which tools an agent gets: toolsets (groups switched on together, as in GitHub's MCP
//! server), single tools added or excluded by name, and read-only mode. A policy can only be
//! narrowed: the server's configuration, then the API key's, then a request's headers or path.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::ToolSpec;

/// A group of tools switched on together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Toolset {
    /// Search, read messages and threads, profile, attachments.
    Read,
    /// Send, draft, reply, forward, and the draft lifecycle.
    Compose,
    /// Labels on messages and threads, trash.
    Organize,
    /// Permanent deletes (off by default: they cannot be undone).
    Delete,
    /// The label list itself: create, rename, delete.
    Labels,
    /// Filters.
    Filters,
    /// Vacation responder, send-as identities.
    Settings,
    /// The mailbox's history: what changed since a point, and waiting for new mail.
    History,
    /// Connected Gmail accounts (multi-user mode).
    Connections,
}

impl Toolset {
    pub const ALL: [Toolset; 9] = [
        Toolset::Read,
        Toolset::Compose,
        Toolset::Organize,
        Toolset::Delete,
        Toolset::Labels,
        Toolset::Filters,
        Toolset::Settings,
        Toolset::History,
        Toolset::Connections,
    ];

    /// What `default` means: reading and writing mail and keeping it in order (and, on a
    /// multi-user server, connecting accounts).
    pub const DEFAULT: [Toolset; 3] = [Toolset::Read, Toolset::Compose, Toolset::Organize];

    pub fn as_str(self) -> &'static str {
        match self {
            Toolset::Read => "read",
            Toolset::Compose => "compose",
            Toolset::Organize => "organize",
            Toolset::Delete => "delete",
            Toolset::Labels => "labels",
            Toolset::Filters => "filters",
            Toolset::Settings => "settings",
            Toolset::History => "history",
            Toolset::Connections => "connections",
        }
    }
}

impl fmt::Display for Toolset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Toolset {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Toolset::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!(
                    "unknown toolset {s:?}; known: {}, default, all",
                    Toolset::ALL.map(|t| t.as_str()).join(", ")
                )
            })
    }
}

/// Which tools are on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolPolicy {
    toolsets: BTreeSet<Toolset>,
    /// Tools on whatever their toolset.
    tools: BTreeSet<String>,
    /// Tools off whatever else says.
    excluded: BTreeSet<String>,
    read_only: bool,
    /// A narrowing may only keep tools every policy it came from allows.
    within: Option<Box<ToolPolicy>>,
}

impl Default for ToolPolicy {
    /// Every tool.
    fn default() -> Self {
        ToolPolicy::all()
    }
}

impl ToolPolicy {
    pub fn all() -> Self {
        ToolPolicy {
            toolsets: Toolset::ALL.into_iter().collect(),
            tools: BTreeSet::new(),
            excluded: BTreeSet::new(),
            read_only: false,
            within: None,
        }
    }

    /// No tool at all.
    pub fn none() -> Self {
        ToolPolicy {
            toolsets: BTreeSet::new(),
            ..ToolPolicy::all()
        }
    }

    /// Parses `toolsets` (names, `default`, `all`; empty means `default`), `tools` to add and
    /// `exclude` to remove, and read-only. Unknown toolset names are an error.
    pub fn parse(
        toolsets: &[String],
        tools: &[String],
        exclude: &[String],
        read_only: bool,
    ) -> Result<Self, String> {
        let mut sets = BTreeSet::new();
        let names: Vec<&str> = toolsets
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect();
        if names.is_empty() {
            sets.extend(Toolset::DEFAULT);
        }
        for name in names {
            match name.to_ascii_lowercase().as_str() {
                "all" => sets.extend(Toolset::ALL),
                "default" => sets.extend(Toolset::DEFAULT),
                other => {
                    sets.insert(other.parse::<Toolset>()?);
                }
            }
        }
        let clean = |list: &[String]| -> BTreeSet<String> {
            list.iter()
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect()
        };
        Ok(ToolPolicy {
            toolsets: sets,
            tools: clean(tools),
            excluded: clean(exclude),
            read_only,
            within: None,
        })
    }

    /// The server's policy: its configuration, with `connections` only in multi-user mode
    /// (`default` includes it there; single-user servers have no connections to manage).
    pub fn from_settings(settings: &crate::config::Settings) -> Result<Self, String> {
        let mcp = &settings.mcp;
        let mut policy =
            ToolPolicy::parse(&mcp.toolsets, &mcp.tools, &mcp.exclude_tools, mcp.read_only)?;
        policy.check_names()?;
        let named = |name: &str| {
            mcp.toolsets
                .iter()
                .any(|t| t.trim().eq_ignore_ascii_case(name))
        };
        let default_asked = mcp.toolsets.iter().all(|t| t.trim().is_empty()) || named("default");
        if settings.multi_user.enabled && default_asked {
            policy.toolsets.insert(Toolset::Connections);
        }
        // Asked for by name (or with `all`), a single-user server lists them: they explain
        // that connections need multi-user mode.
        if !settings.multi_user.enabled && !named("connections") && !named("all") {
            policy.toolsets.remove(&Toolset::Connections);
        }
        Ok(policy)
    }

    /// What a request's headers (`X-MCP-Toolsets`, `X-MCP-Tools`, `X-MCP-Exclude-Tools`,
    /// `X-MCP-Readonly`) or path (`…/readonly`) ask for, as a narrowing; `None` when they ask
    /// nothing.
    pub fn from_request(
        header: impl Fn(&str) -> Option<String>,
        path: &str,
    ) -> Result<Option<ToolPolicy>, String> {
        let list = |name: &str| -> Vec<String> {
            header(name)
                .map(|v| v.split(',').map(|s| s.trim().to_string()).collect())
                .unwrap_or_default()
        };
        let toolsets = list("x-mcp-toolsets");
        let tools = list("x-mcp-tools");
        let exclude = list("x-mcp-exclude-tools");
        let read_only = header("x-mcp-readonly")
            .map(|v| {
                matches!(
                    v.trim().to_ascii_lowercase().as_str(),
                    "true" | "1" | "yes" | "on"
                )
            })
            .unwrap_or(false)
            || path.trim_end_matches('/').ends_with("/readonly");
        if toolsets.is_empty() && tools.is_empty() && exclude.is_empty() && !read_only {
            return Ok(None);
        }
        // Only tools named: those tools alone; otherwise everything the server allows.
        let toolsets = if toolsets.is_empty() && !tools.is_empty() {
            vec![]
        } else if toolsets.is_empty() {
            vec!["all".to_string()]
        } else {
            toolsets
        };
        let mut policy = ToolPolicy::parse(&toolsets, &tools, &exclude, read_only)?;
        policy.check_names()?;
        if toolsets.is_empty() {
            policy.toolsets.clear();
        }
        Ok(Some(policy))
    }

    /// Whether a key, a user or a request narrowed the server's configuration.
    pub fn is_narrowed(&self) -> bool {
        self.within.is_some()
    }

    /// Refuses tool names the registry does not have (a typo would silently hide a tool).
    pub fn check_names(&self) -> Result<(), String> {
        let known = super::catalog::names();
        let unknown: Vec<&str> = self
            .tools
            .iter()
            .chain(&self.excluded)
            .map(String::as_str)
            .filter(|name| !known.contains(name))
            .collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(format!("unknown tool {}", unknown.join(", ")))
        }
    }

    pub fn is_read_only(&self) -> bool {
        self.read_only || self.within.as_ref().is_some_and(|w| w.is_read_only())
    }

    /// Whether this policy lets `spec` through.
    pub fn allows(&self, spec: &ToolSpec) -> bool {
        let on = (self.toolsets.contains(&spec.toolset) || self.tools.contains(spec.name))
            && !self.excluded.contains(spec.name)
            && (!self.read_only || spec.annotations.read_only_hint);
        on && self.within.as_ref().is_none_or(|w| w.allows(spec))
    }

    /// This policy further limited by `narrower`: a tool is on only when both allow it.
    pub fn narrowed(&self, narrower: ToolPolicy) -> ToolPolicy {
        ToolPolicy {
            within: Some(Box::new(self.clone())),
            ..narrower
        }
    }

    /// The toolsets that have at least one tool on, for the server's instructions.
    pub fn active_toolsets<'a>(&self, specs: impl Iterator<Item = &'a ToolSpec>) -> Vec<Toolset> {
        let mut on: BTreeSet<Toolset> = BTreeSet::new();
        for spec in specs {
            if self.allows(spec) {
                on.insert(spec.toolset);
            }
        }
        on.into_iter().collect()
    }
}
