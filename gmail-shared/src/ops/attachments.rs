//! Attachments: download (to memory or into the configured download directory) and reading
//! files to attach from the configured directories only — no traversal, no symlink escapes.

use std::path::{Component, Path, PathBuf};

use schemars::JsonSchema;
use serde::Serialize;

use super::{check_id, Mailbox};
use crate::error::GmailError;

/// Gmail's limit for attachments on one message.
pub const MAX_ATTACHMENTS_BYTES: u64 = 25 * 1024 * 1024;

/// An attachment's bytes, fetched with messages.attachments.get.
#[tracing::instrument(skip_all, fields(message = message_id))]
pub async fn fetch(
    mailbox: &Mailbox,
    message_id: &str,
    attachment_id: &str,
) -> Result<Vec<u8>, GmailError> {
    let message_id = check_id("messageId", message_id)?;
    let attachment_id = check_id("attachmentId", attachment_id)?;
    let (_, body) = mailbox
        .hub()
        .users()
        .messages_attachments_get("me", message_id, attachment_id)
        .doit()
        .await
        .map_err(|e| {
            super::messages::not_found_as(
                e,
                "attachment",
                &format!("{attachment_id} of message {message_id}"),
            )
        })?;
    Ok(body.data.unwrap_or_default())
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SavedFile {
    pub path: String,
    pub filename: String,
    pub size: u64,
}

/// Keeps only a safe base name: no directories, no `..`, no control characters.
pub fn safe_filename(name: &str) -> Result<String, GmailError> {
    let base = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>();
    let base = base.trim().trim_start_matches('.').to_string();
    if base.is_empty() || base == ".." {
        return Err(GmailError::invalid(
            "filename",
            format!("{name:?} is not a usable file name"),
        ));
    }
    Ok(base.chars().take(200).collect())
}

/// Joins a caller's relative path onto `root`, refusing anything that climbs out.
fn confined(root: &Path, relative: &str, field: &str) -> Result<PathBuf, GmailError> {
    let rel = Path::new(relative);
    let rel = rel.strip_prefix(root).unwrap_or(rel);
    let mut out = root.to_path_buf();
    for part in rel.components() {
        match part {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => {
                return Err(GmailError::invalid(
                    field,
                    format!(
                        "{relative:?} is outside the download directory {}",
                        root.display()
                    ),
                ))
            }
            Component::ParentDir => {
                return Err(GmailError::invalid(
                    field,
                    format!(
                        "{relative:?} climbs out with '..'; paths stay inside {}",
                        root.display()
                    ),
                ))
            }
        }
    }
    Ok(out)
}

/// Saves bytes as `filename` in `save_path` (relative to, and confined in, `root`).
pub fn save(
    root: &Path,
    save_path: Option<&str>,
    filename: &str,
    bytes: &[u8],
) -> Result<SavedFile, GmailError> {
    let filename = safe_filename(filename)?;
    let io = |what: &str, e: std::io::Error| GmailError::internal(format!("{what}: {e}"));
    std::fs::create_dir_all(root).map_err(|e| io("cannot create the download directory", e))?;
    let root = root
        .canonicalize()
        .map_err(|e| io("cannot resolve the download directory", e))?;
    let dir = confined(&root, save_path.unwrap_or(""), "savePath")?;
    std::fs::create_dir_all(&dir).map_err(|e| io("cannot create the directory", e))?;
    // A symlink inside the tree must not lead out of it.
    let dir = dir
        .canonicalize()
        .map_err(|e| io("cannot resolve the directory", e))?;
    if !dir.starts_with(&root) {
        return Err(GmailError::invalid(
            "savePath",
            format!("it leads outside the download directory {}", root.display()),
        ));
    }
    let target = dir.join(&filename);
    // Write beside, then rename: a symlink planted at the target is replaced, not followed.
    let tmp = dir.join(format!(
        ".{filename}.part-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&tmp, bytes).map_err(|e| io("cannot write the file", e))?;
    std::fs::rename(&tmp, &target).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io("cannot write the file", e)
    })?;
    Ok(SavedFile {
        path: target.display().to_string(),
        filename,
        size: bytes.len() as u64,
    })
}

/// A file to attach, read from one of the allowed directories.
#[derive(Debug, Clone)]
pub struct FileAttachment {
    pub filename: String,
    pub data: Vec<u8>,
}

/// Reads the files to attach. Every path must resolve (after following symlinks) inside one of
/// `allowed`; the total must stay within Gmail's 25 MiB attachment limit.
pub fn read_files(
    allowed: &[PathBuf],
    paths: &[String],
) -> Result<Vec<FileAttachment>, GmailError> {
    if paths.is_empty() {
        return Ok(vec![]);
    }
    let roots: Vec<PathBuf> = allowed
        .iter()
        .filter_map(|d| d.canonicalize().ok())
        .collect();
    if roots.is_empty() {
        return Err(GmailError::invalid(
            "attachments",
            "attaching files is disabled: no attachment directory exists (configure tools.attachment_dirs), or send the content inline",
        ));
    }
    let mut total = 0u64;
    let mut files = Vec::with_capacity(paths.len());
    for given in paths {
        let candidate = Path::new(given);
        let resolved = if candidate.is_absolute() {
            candidate.canonicalize()
        } else {
            // Relative paths are looked up in each allowed directory in turn.
            roots
                .iter()
                .map(|r| r.join(candidate).canonicalize())
                .find(|r| r.is_ok())
                .unwrap_or_else(|| candidate.canonicalize())
        }
        .map_err(|_| {
            GmailError::invalid(
                "attachments",
                format!("{given:?}: no such file in the attachment directories"),
            )
        })?;
        if !roots.iter().any(|r| resolved.starts_with(r)) {
            return Err(GmailError::invalid(
                "attachments",
                format!(
                    "{given:?} is outside the attachment directories ({})",
                    roots
                        .iter()
                        .map(|r| r.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let meta = std::fs::metadata(&resolved)
            .map_err(|e| GmailError::invalid("attachments", format!("{given:?}: {e}")))?;
        if !meta.is_file() {
            return Err(GmailError::invalid(
                "attachments",
                format!("{given:?} is not a file"),
            ));
        }
        total += meta.len();
        if total > MAX_ATTACHMENTS_BYTES {
            return Err(GmailError::TooLarge {
                message: format!("attachments total more than {MAX_ATTACHMENTS_BYTES} bytes (25 MiB), Gmail's limit"),
                limit_bytes: MAX_ATTACHMENTS_BYTES,
            });
        }
        let data = std::fs::read(&resolved)
            .map_err(|e| GmailError::invalid("attachments", format!("{given:?}: {e}")))?;
        let filename = resolved
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "attachment".into());
        files.push(FileAttachment { filename, data });
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downloads_stay_inside_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("downloads");
        let saved = save(&root, Some("reports/2026"), "q3.pdf", b"%PDF").unwrap();
        assert!(
            saved.path.ends_with("reports/2026/q3.pdf"),
            "{}",
            saved.path
        );
        for bad in ["../escape", "/etc", "a/../../b"] {
            let err = save(&root, Some(bad), "x.txt", b"x").unwrap_err();
            assert_eq!(err.kind(), "invalid-argument", "{bad}");
        }
        // A filename cannot carry a path.
        let saved = save(&root, None, "../../etc/passwd", b"x").unwrap();
        assert!(saved.path.ends_with("downloads/passwd"), "{}", saved.path);
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_out_of_the_directories_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("downloads");
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("link")).unwrap();
        let err = save(&root, Some("link"), "x.txt", b"x").unwrap_err();
        assert!(err.to_string().contains("outside"), "{err}");
        assert!(!outside.join("x.txt").exists());

        let attach = dir.path().join("attach");
        std::fs::create_dir_all(&attach).unwrap();
        std::fs::write(outside.join("secret.txt"), b"s").unwrap();
        std::os::unix::fs::symlink(outside.join("secret.txt"), attach.join("innocent.txt"))
            .unwrap();
        let err = read_files(std::slice::from_ref(&attach), &["innocent.txt".into()]).unwrap_err();
        assert!(err.to_string().contains("outside"), "{err}");
        let err = read_files(
            std::slice::from_ref(&attach),
            &["../outside/secret.txt".into()],
        )
        .unwrap_err();
        assert!(err.to_string().contains("outside"), "{err}");
        std::fs::write(attach.join("ok.txt"), b"hello").unwrap();
        let files = read_files(&[attach], &["ok.txt".into()]).unwrap();
        assert_eq!(files[0].data, b"hello");
    }

    #[test]
    fn no_attachment_directory_means_no_file_attachments() {
        let err = read_files(&[PathBuf::from("/nonexistent/x")], &["a.txt".into()]).unwrap_err();
        assert!(err.to_string().contains("disabled"), "{err}");
    }
}
