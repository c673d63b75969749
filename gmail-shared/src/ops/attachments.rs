//! Attachments: download (to memory or into the configured download directory) and reading
//! files to attach from the configured directories only — no traversal, no symlink escapes.

use std::path::{Component, Path, PathBuf};

use schemars::JsonSchema;
use serde::Serialize;

use super::read::read_message;
use super::{AttachmentId, Mailbox, MessageId};
use crate::error::GmailError;
use crate::mail::{check_attachments_total, AttachmentInfo};

/// An attachment's bytes, fetched with messages.attachments.get.
#[tracing::instrument(skip_all, fields(message = %message_id))]
pub async fn fetch(
    mailbox: &Mailbox,
    message_id: &MessageId,
    attachment_id: &AttachmentId,
) -> Result<Vec<u8>, GmailError> {
    let (_, body) = gmail_call!(
        mailbox,
        idempotent,
        |u| u.messages_attachments_get("me", message_id, attachment_id),
        large
    )
    .map_err(|e| {
        super::messages::not_found_as(
            e,
            "attachment",
            &format!("{attachment_id} of message {message_id}"),
        )
    })?;
    Ok(body.data.unwrap_or_default())
}

/// How a caller names an attachment: the handle read_email shows (its MIME part id, such as
/// `2` or, nested, `0.1`) or Gmail's own (long) attachment id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachmentHandle {
    Part(String),
    Gmail(AttachmentId),
}

impl AttachmentHandle {
    pub fn parse(field: &str, text: &str) -> Result<AttachmentHandle, GmailError> {
        let text = text.trim();
        let is_part = !text.is_empty()
            && text.len() <= 12
            && text.chars().all(|c| c.is_ascii_digit() || c == '.');
        if is_part {
            return Ok(AttachmentHandle::Part(text.to_owned()));
        }
        AttachmentId::parse(field, text).map(AttachmentHandle::Gmail)
    }
}

/// An attachment found in its message: the id to fetch it by, and its name and type when the
/// message lists it.
#[derive(Debug, Clone)]
pub struct Located {
    pub id: AttachmentId,
    pub info: Option<AttachmentInfo>,
}

/// Finds an attachment in its message (one messages.get). Real Gmail may hand out a different
/// attachment id on each read, so a Gmail id the message does not list still fetches, named
/// after the message's only attachment if it has one.
#[tracing::instrument(skip_all, fields(message = %message_id))]
pub async fn locate(
    mailbox: &Mailbox,
    message_id: &MessageId,
    handle: &AttachmentHandle,
) -> Result<Located, GmailError> {
    let attachments = read_message(mailbox, message_id).await?.attachments;
    match handle {
        AttachmentHandle::Part(part) => {
            let (info, id) = attachments
                .into_iter()
                .filter(|a| a.part_id.as_deref() == Some(part.as_str()))
                .find_map(|a| a.attachment_id.clone().map(|id| (a, id)))
                .ok_or_else(|| {
                    GmailError::not_found(format!("attachment {part} of message {message_id}"))
                })?;
            Ok(Located {
                id: AttachmentId::parse("attachmentId", &id)?,
                info: Some(info),
            })
        }
        AttachmentHandle::Gmail(id) => {
            let info = attachments
                .iter()
                .find(|a| a.attachment_id.as_deref() == Some(id.as_str()))
                .or((attachments.len() == 1).then(|| &attachments[0]))
                .cloned();
            Ok(Located {
                id: id.clone(),
                info,
            })
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SavedFile {
    /// Where it was saved: absolute for the single-user server (its user owns the machine),
    /// relative to the caller's own download directory in multi-user mode.
    pub path: String,
    pub filename: String,
    pub size: u64,
}

/// File names on disk are at most this many bytes (Linux's NAME_MAX).
pub const MAX_NAME_BYTES: usize = 255;
/// `savePath` and attachment paths are at most this long.
pub const MAX_PATH_BYTES: usize = 1024;

/// One caller's files: the directories attachments may be read from and the directory
/// downloads are saved in. In multi-user mode each user gets their own (`users/<id>` under
/// the configured ones), downloads one more level per connected account, and paths are shown
/// relative to the caller's root, so no caller learns or reaches another's files or the
/// server's layout.
#[derive(Debug, Clone, Default)]
pub struct FileSpace {
    pub attachment_dirs: Vec<PathBuf>,
    pub download_dir: Option<PathBuf>,
    /// Multi-user: per-connection download folders, paths shown relative.
    pub private: bool,
    /// Multi-user: the most bytes one user's download folder may hold.
    pub download_quota: Option<u64>,
}

/// What one user's download folder may hold (multi-user mode): downloads are files on the
/// server's disk, which one tenant must not fill.
pub const USER_DOWNLOAD_QUOTA: u64 = 1024 * 1024 * 1024;

impl FileSpace {
    pub fn from_settings(tools: &crate::config::ToolSettings) -> Self {
        FileSpace {
            attachment_dirs: tools.attachment_dirs.clone(),
            download_dir: Some(tools.download_dir.clone()),
            private: false,
            download_quota: None,
        }
    }

    /// The same directories narrowed to one user (multi-user mode).
    pub fn for_user(&self, user_id: &str) -> FileSpace {
        // User ids are ours (`usr_<hex>`); anything else gets no directory at all.
        let safe = !user_id.is_empty()
            && user_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        let mine = |dir: &PathBuf| dir.join("users").join(user_id);
        FileSpace {
            attachment_dirs: if safe {
                self.attachment_dirs.iter().map(mine).collect()
            } else {
                vec![]
            },
            download_dir: self.download_dir.as_ref().filter(|_| safe).map(mine),
            private: true,
            download_quota: Some(USER_DOWNLOAD_QUOTA),
        }
    }

    /// Refuses a download of `bytes` that would take the caller's download folder past its
    /// quota (multi-user mode; nothing to check otherwise).
    pub fn check_room(&self, bytes: u64) -> Result<(), GmailError> {
        let (Some(quota), Some(dir)) = (self.download_quota, &self.download_dir) else {
            return Ok(());
        };
        let held = folder_bytes(dir);
        if held.saturating_add(bytes) > quota {
            return Err(GmailError::TooLarge {
                message: format!(
                    "your download folder holds {held} bytes and this file is {bytes}; delete \
                     files you saved before, or read the attachment inline instead"
                ),
                limit_bytes: quota,
            });
        }
        Ok(())
    }

    /// Where downloads from `mailbox` go, and the root paths are shown relative to.
    pub fn download_root(
        &self,
        mailbox: &Mailbox,
    ) -> Result<(PathBuf, Option<PathBuf>), GmailError> {
        let dir = self.download_dir.clone().ok_or_else(|| {
            GmailError::invalid(
                "savePath",
                "downloads are disabled: no download directory is configured",
            )
        })?;
        if !self.private {
            return Ok((dir, None));
        }
        let account = mailbox.account().unwrap_or("account").to_ascii_lowercase();
        let folder = safe_filename(&account, "account").unwrap_or_else(|_| "account".into());
        Ok((dir.join(folder), Some(dir)))
    }
}

/// The bytes of the files under `dir` (links not followed; a folder that cannot be read
/// counts as empty).
fn folder_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(t) if t.is_dir() => folder_bytes(&entry.path()),
            Ok(t) if t.is_file() => entry.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}

/// Keeps only a safe base name: no directories, no `..`, no control characters. A name the
/// caller gave (`field` says which) that is too long is refused; callers shorten their own.
pub fn safe_filename(name: &str, field: &str) -> Result<String, GmailError> {
    let base = usable_name(name)
        .ok_or_else(|| GmailError::invalid(field, format!("{name:?} is not a usable file name")))?;
    at_most(field, &base, MAX_NAME_BYTES, "file names")?;
    Ok(base)
}

/// Refuses `text` longer than `max` bytes, saying the limit for `what`.
fn at_most(field: &str, text: &str, max: usize, what: &str) -> Result<(), GmailError> {
    if text.len() > max {
        return Err(GmailError::invalid(
            field,
            format!(
                "is {} bytes long; {what} are at most {max} bytes",
                text.len()
            ),
        ));
    }
    Ok(())
}

/// A file name taken from the message (not chosen by the caller): cut to fit instead.
pub fn fitted_filename(name: &str) -> Option<String> {
    let mut base = usable_name(name)?;
    base.truncate(base.floor_char_boundary(MAX_NAME_BYTES));
    Some(base)
}

/// The base name left once directories, control characters and leading dots are gone;
/// None when nothing usable is left.
fn usable_name(name: &str) -> Option<String> {
    let base = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>();
    let base = base.trim().trim_start_matches('.');
    (!base.is_empty()).then(|| base.to_string())
}

/// Length, NUL and control characters, and per-component length of a caller's path.
fn check_path_text(field: &str, given: &str) -> Result<(), GmailError> {
    at_most(field, given, MAX_PATH_BYTES, "paths")?;
    if given.chars().any(char::is_control) {
        return Err(GmailError::invalid(
            field,
            "contains a NUL or another control character",
        ));
    }
    if let Some(long) = given.split(['/', '\\']).find(|c| c.len() > MAX_NAME_BYTES) {
        return Err(GmailError::invalid(
            field,
            format!(
                "has a component of {} bytes; names are at most {MAX_NAME_BYTES} bytes",
                long.len()
            ),
        ));
    }
    Ok(())
}

fn outside(field: &str, given: &str) -> GmailError {
    GmailError::invalid(
        field,
        format!("{given:?} is not a folder inside your download directory"),
    )
}

/// The folder `relative` names under `root`, created one level at a time and never through
/// a symlink that leads out: nothing is created outside `root`, even on refusal.
fn confined_dir(root: &Path, relative: &str, field: &str) -> Result<PathBuf, GmailError> {
    let io = |e: std::io::Error| GmailError::internal_from("cannot create the folder", e);
    let rel = Path::new(relative);
    let rel = rel.strip_prefix(root).unwrap_or(rel);
    let mut dir = root.to_path_buf();
    for part in rel.components() {
        let part = match part {
            // Hidden folders (.ssh, .config/autostart) are where a planted file does harm.
            Component::Normal(p) if p.to_string_lossy().starts_with('.') => {
                return Err(GmailError::invalid(
                    field,
                    format!("{relative:?}: folders starting with '.' are not for downloads"),
                ))
            }
            Component::Normal(p) => p,
            Component::CurDir => continue,
            Component::RootDir | Component::Prefix(_) | Component::ParentDir => {
                return Err(outside(field, relative))
            }
        };
        let next = dir.join(part);
        match std::fs::symlink_metadata(&next) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let real = next.canonicalize().map_err(|_| outside(field, relative))?;
                if !real.starts_with(root) || !real.is_dir() {
                    return Err(outside(field, relative));
                }
                dir = real;
            }
            Ok(meta) if meta.is_dir() => dir = next,
            Ok(_) => {
                return Err(GmailError::invalid(
                    field,
                    format!("{relative:?}: a file is in the way of that folder"),
                ))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir(&next).map_err(io)?;
                dir = next;
            }
            Err(e) => return Err(io(e)),
        }
    }
    Ok(dir)
}

/// Checks a download's `savePath` and chosen `filename` before anything is fetched.
pub fn check_download(save_path: Option<&str>, filename: Option<&str>) -> Result<(), GmailError> {
    check_path_text("savePath", save_path.unwrap_or(""))?;
    if let Some(name) = filename {
        safe_filename(name, "filename")?;
    }
    Ok(())
}

/// Saves bytes as `filename` in `save_path` (relative to, and confined in, `root`). With
/// `shown_from`, the answer's path is relative to it (multi-user mode).
pub fn save(
    root: &Path,
    save_path: Option<&str>,
    filename: &str,
    bytes: &[u8],
    shown_from: Option<&Path>,
) -> Result<SavedFile, GmailError> {
    let save_path = save_path.unwrap_or("");
    check_path_text("savePath", save_path)?;
    let filename = safe_filename(filename, "filename")?;
    let io = |what: &str, e: std::io::Error| GmailError::internal_from(what, e);
    std::fs::create_dir_all(root).map_err(|e| io("cannot create the download directory", e))?;
    let root = root
        .canonicalize()
        .map_err(|e| io("cannot resolve the download directory", e))?;
    let dir = confined_dir(&root, save_path, "savePath")?;
    // Written beside, then linked under the first free name ("name (2).ext" after "name.ext"):
    // an existing file, or a symlink planted there, is never replaced nor followed (another
    // message's attachment of the same name would otherwise overwrite one saved before).
    let tmp = dir.join(format!(".part-{}", uuid::Uuid::new_v4().simple()));
    std::fs::write(&tmp, bytes).map_err(|e| io("cannot write the file", e))?;
    let linked = (1..=MAX_SAME_NAME).find_map(|n| {
        let name = numbered(&filename, n);
        match std::fs::hard_link(&tmp, dir.join(&name)) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => None,
            done => Some(done.map(|()| name)),
        }
    });
    let _ = std::fs::remove_file(&tmp);
    let filename = match linked {
        Some(done) => done.map_err(|e| io("cannot write the file", e))?,
        None => {
            return Err(GmailError::Conflict {
                message: format!(
                    "{MAX_SAME_NAME} files named like {filename:?} are in that folder already; choose another filename or savePath"
                ),
            })
        }
    };
    let target = dir.join(&filename);
    let path = match shown_from.and_then(|from| from.canonicalize().ok()) {
        Some(from) => target
            .strip_prefix(&from)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| filename.clone()),
        None => target.display().to_string(),
    };
    Ok(SavedFile {
        path,
        filename,
        size: bytes.len() as u64,
    })
}

/// Downloads of one name kept side by side in one folder, at most.
const MAX_SAME_NAME: usize = 100;

/// `name.ext` for the first, `name (n).ext` after.
fn numbered(filename: &str, n: usize) -> String {
    if n == 1 {
        return filename.to_string();
    }
    match filename.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem} ({n}).{ext}"),
        _ => format!("{filename} ({n})"),
    }
}

/// A file to attach, read from one of the allowed directories.
#[derive(Debug, Clone)]
pub struct FileAttachment {
    pub filename: String,
    pub data: Vec<u8>,
}

/// Reads the files to attach. Every path must resolve (after following symlinks) inside one of
/// `allowed`; the total must stay within Gmail's 25 MiB attachment limit. A path outside them
/// gets the same answer as one that does not exist, so nobody can probe the server's files.
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
    let mut total = 0u64;
    let mut files = Vec::with_capacity(paths.len());
    for given in paths {
        check_path_text("attachments", given)?;
        let missing = || {
            GmailError::invalid(
                "attachments",
                format!("{given:?}: no such file in your attachment directory (or send the content inline with attachmentContents)"),
            )
        };
        let candidate = Path::new(given);
        let resolved = roots
            .iter()
            .find_map(|root| {
                let full = if candidate.is_absolute() {
                    candidate.to_path_buf()
                } else {
                    root.join(candidate)
                };
                full.canonicalize().ok().filter(|r| r.starts_with(root))
            })
            .ok_or_else(missing)?;
        let meta = std::fs::metadata(&resolved).map_err(|_| missing())?;
        if !meta.is_file() {
            return Err(GmailError::invalid(
                "attachments",
                format!("{given:?} is not a file"),
            ));
        }
        // Before reading the file: a path list over the limit never loads it all.
        total += meta.len();
        check_attachments_total(total)?;
        let data = std::fs::read(&resolved).map_err(|_| missing())?;
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
    fn a_users_download_folder_has_a_quota() {
        let root = tempfile::tempdir().unwrap();
        let mut space = FileSpace {
            download_dir: Some(root.path().to_path_buf()),
            ..FileSpace::default()
        }
        .for_user("usr_1");
        assert_eq!(space.download_quota, Some(USER_DOWNLOAD_QUOTA));
        space.download_quota = Some(100);
        let mine = root.path().join("users/usr_1/a@example.com/deep");
        std::fs::create_dir_all(&mine).unwrap();
        std::fs::write(mine.join("x.bin"), [0u8; 60]).unwrap();
        // Another user's files are not counted.
        std::fs::create_dir_all(root.path().join("users/usr_2")).unwrap();
        std::fs::write(root.path().join("users/usr_2/y.bin"), [0u8; 90]).unwrap();
        space.check_room(40).unwrap();
        let err = space.check_room(41).unwrap_err();
        assert!(err.to_string().contains("holds 60 bytes"), "{err}");
        assert_eq!(err.kind(), "too-large");
        // Single-user mode has no quota.
        FileSpace::default().check_room(u64::MAX).unwrap();
    }

    #[test]
    fn downloads_stay_inside_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("downloads");
        let saved = save(&root, Some("reports/2026"), "q3.pdf", b"%PDF", None).unwrap();
        assert!(
            saved.path.ends_with("reports/2026/q3.pdf"),
            "{}",
            saved.path
        );
        for bad in ["../escape", "/etc", "a/../../b"] {
            let err = save(&root, Some(bad), "x.txt", b"x", None).unwrap_err();
            assert_eq!(err.kind(), "invalid-argument", "{bad}");
        }
        // A filename cannot carry a path.
        let saved = save(&root, None, "../../etc/passwd", b"x", None).unwrap();
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
        let err = save(&root, Some("link"), "x.txt", b"x", None).unwrap_err();
        assert!(err.to_string().contains("not a folder inside"), "{err}");
        assert!(!outside.join("x.txt").exists());
        // Nothing is created outside on the way to a refusal.
        let err = save(&root, Some("link/new/deeper"), "x.txt", b"x", None).unwrap_err();
        assert_eq!(err.field(), Some("savePath"), "{err}");
        assert!(
            !outside.join("new").exists(),
            "a folder was created outside"
        );

        let attach = dir.path().join("attach");
        std::fs::create_dir_all(&attach).unwrap();
        std::fs::write(outside.join("secret.txt"), b"s").unwrap();
        std::os::unix::fs::symlink(outside.join("secret.txt"), attach.join("innocent.txt"))
            .unwrap();
        let err = read_files(std::slice::from_ref(&attach), &["innocent.txt".into()]).unwrap_err();
        assert!(err.to_string().contains("no such file"), "{err}");
        let err = read_files(
            std::slice::from_ref(&attach),
            &["../outside/secret.txt".into()],
        )
        .unwrap_err();
        // Outside and missing read the same, and no server path is shown.
        let missing = read_files(
            std::slice::from_ref(&attach),
            &["../outside/nope.txt".into()],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string().replace("secret", "X"),
            missing.to_string().replace("nope", "X")
        );
        assert!(
            !err.to_string().contains(&dir.path().display().to_string()),
            "{err}"
        );
        std::fs::write(attach.join("ok.txt"), b"hello").unwrap();
        let files = read_files(&[attach], &["ok.txt".into()]).unwrap();
        assert_eq!(files[0].data, b"hello");
    }

    #[test]
    fn no_attachment_directory_means_no_file_attachments() {
        let err = read_files(&[PathBuf::from("/nonexistent/x")], &["a.txt".into()]).unwrap_err();
        assert!(err.to_string().contains("no such file"), "{err}");
    }

    #[test]
    fn names_and_paths_that_cannot_be_files_are_400s_naming_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("downloads");
        let long = "é".repeat(200);
        let err = save(&root, None, &long, b"x", None).unwrap_err();
        assert_eq!(
            (err.kind(), err.field()),
            ("invalid-argument", Some("filename"))
        );
        assert!(err.to_string().contains("255 bytes"), "{err}");
        let err = save(&root, Some(&"a/".repeat(2500)), "x", b"x", None).unwrap_err();
        assert_eq!(err.field(), Some("savePath"));
        assert!(err.to_string().contains("1024 bytes"), "{err}");
        let err = save(&root, Some("a\0b"), "x", b"x", None).unwrap_err();
        assert_eq!(err.field(), Some("savePath"));
        let err = save(&root, Some(&"z".repeat(300)), "x", b"x", None).unwrap_err();
        assert_eq!(err.field(), Some("savePath"));
        let err = read_files(std::slice::from_ref(&root), &["a\0b".into()]).unwrap_err();
        assert_eq!(err.field(), Some("attachments"));
        // A name from the message itself is cut to fit instead.
        assert_eq!(fitted_filename(&long).unwrap().len(), 254);
        // Shown relative to the caller's root when asked.
        let saved = save(
            &root.join("demo@example.com"),
            Some("r"),
            "f.txt",
            b"x",
            Some(&root),
        )
        .unwrap();
        assert_eq!(saved.path, "demo@example.com/r/f.txt");
    }
}
