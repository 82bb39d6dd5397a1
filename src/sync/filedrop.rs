//! The file-drop connector: each side is a folder, as SFTP integrations
//! with ERPs and banks are. The provider drops files into `inbox/`; tether
//! moves each to `done/` once its events are stored, and writes operations
//! to `outbox/` atomically (a temporary file, fsync, rename).

use super::failpoint;
use super::provider::{Item, Items, Provider, ProviderError, Received, Sent, parse_item};
use super::store::Operation;
use crate::diag::Code;
use crate::exec::RecordError;
use crate::exec::lines::{DEFAULT_MAX_RECORD_BYTES, LineRead, LineReader, too_long_message};
use crate::safe_fs::{self, EntryKind};
use serde_json::value::RawValue;
use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{BufReader, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, SystemTime};

/// A side's folder. Its entries are trusted no further than a provider
/// with write access to it: links, folders and devices in `inbox/`,
/// `outbox/` or `done/` are never followed or written through, and a file
/// still being written is left for a later pass
/// (docs/design/09-hostile-input.md, "The file system and the store").
pub struct FileDrop {
    root: PathBuf,
    /// How long a file that looks unfinished (an NDJSON file whose last
    /// line has no line end, a document that does not parse) must be left
    /// unchanged before it is read as it is.
    pub settle: Duration,
    /// The longest NDJSON line read as a record (`--max-record-bytes`, as
    /// for `run`); a longer one is a dead letter (E1014), read no further.
    pub max_record_bytes: usize,
    /// What each delivery looked like when it was opened, to see at
    /// [`Provider::ack`] whether it changed since (still being written).
    opened: HashMap<String, Opened>,
    notes: Vec<Note>,
    /// Entries already reported: a `--watch` reports each once.
    reported: HashSet<String>,
}

/// How long an unfinished-looking file waits by default.
pub const SETTLE: Duration = Duration::from_secs(5);

/// A delivery as opened.
struct Opened {
    at_open: Option<Snapshot>,
    /// Set while reading when the file turned out unfinished: the part
    /// read is stored, the file stays in `inbox/` for the next pass.
    unfinished: Rc<Cell<bool>>,
}

/// What says a file changed: its inode, length and modification time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Snapshot {
    ino: u64,
    len: u64,
    modified: Option<SystemTime>,
}

impl Snapshot {
    fn of(m: &fs::Metadata) -> Snapshot {
        Snapshot {
            ino: m.ino(),
            len: m.len(),
            modified: m.modified().ok(),
        }
    }

    fn of_path(path: &Path) -> Option<Snapshot> {
        fs::symlink_metadata(path).ok().map(|m| Snapshot::of(&m))
    }

    /// Unchanged for at least `settle`.
    fn settled(&self, settle: Duration) -> bool {
        self.modified
            .and_then(|m| SystemTime::now().duration_since(m).ok())
            .is_some_and(|age| age >= settle)
    }
}

/// Something about a side's folder the operator should know; the pass
/// goes on without the entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Note {
    /// An entry that is a link, a folder or a device: left alone, never
    /// followed (an error: someone put it there).
    NotAFile { path: PathBuf, kind: EntryKind },
    /// A file tether does not read (`.csv`): left alone.
    NotRead { path: PathBuf },
    /// A file that changed while it was read, or looks unfinished: what
    /// was read is stored, the rest is read by a later pass.
    Unfinished { path: PathBuf },
}

impl Note {
    /// Whether the note is an error (the exit code says so) rather than a
    /// warning.
    pub fn is_error(&self) -> bool {
        matches!(self, Note::NotAFile { .. })
    }
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Note::NotAFile { path, kind } => write!(
                f,
                "{} is {}, not a regular file; left alone (tether never follows or \
                 writes through it)",
                path.display(),
                kind.describe()
            ),
            Note::NotRead { path } => write!(
                f,
                "{} is not a file tether reads (.ndjson, .jsonl, .json, .xml); left alone",
                path.display()
            ),
            Note::Unfinished { path } => write!(
                f,
                "{} is still being written; what was read is stored, the rest is read \
                 by the next pass",
                path.display()
            ),
        }
    }
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> ProviderError {
    ProviderError {
        message: format!("{what} {}: {e}", path.display()),
        retryable: true,
    }
}

/// The kinds of delivery tether reads, by file name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Ndjson,
    Json,
    Xml,
}

impl Format {
    fn of(name: &str) -> Option<Format> {
        let ext = Path::new(name).extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "ndjson" | "jsonl" => Some(Format::Ndjson),
            "json" => Some(Format::Json),
            "xml" => Some(Format::Xml),
            _ => None,
        }
    }
}

impl FileDrop {
    /// A side's folder. It must exist unless `create` (a typo must not
    /// start a new side); `inbox/`, `outbox/` and `done/` are created when
    /// missing, and must be folders, not links.
    pub fn open(root: &Path, create: bool) -> Result<FileDrop, ProviderError> {
        let refuse = |message: String| ProviderError {
            message,
            retryable: false,
        };
        match fs::metadata(root) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(refuse(format!("{} is not a folder", root.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(refuse(format!(
                    "{} does not exist (pass --create to start a new side there)",
                    root.display()
                )));
            }
            Err(e) => return Err(refuse(format!("cannot open {}: {e}", root.display()))),
        }
        for sub in ["inbox", "outbox", "done"] {
            let dir = root.join(sub);
            match EntryKind::of(&dir) {
                Ok(Some(EntryKind::Dir)) => {}
                Ok(None) => fs::create_dir_all(&dir)
                    .map_err(|e| refuse(format!("cannot create {}: {e}", dir.display())))?,
                Ok(Some(kind)) => {
                    return Err(refuse(format!(
                        "{} is {}, not a folder; tether does not follow it",
                        dir.display(),
                        kind.describe()
                    )));
                }
                Err(e) => return Err(refuse(format!("cannot open {}: {e}", dir.display()))),
            }
        }
        Ok(FileDrop {
            root: root.to_path_buf(),
            settle: SETTLE,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            opened: HashMap::new(),
            notes: Vec::new(),
            reported: HashSet::new(),
        })
    }

    /// Removes the files in `done/` last modified before `before`
    /// (`--retain-done`); how many. Only plain files: a link or a folder
    /// someone put there is left alone (and never followed), as are names
    /// starting with a dot. A file's age is its modification time, the
    /// delivery's last write (a move to `done/` keeps it).
    pub fn prune_done(&self, before: SystemTime) -> std::io::Result<usize> {
        let mut removed = 0;
        for entry in fs::read_dir(self.root.join("done"))? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            // `symlink_metadata`: the entry itself, a link is not followed.
            let Ok(meta) = fs::symlink_metadata(entry.path()) else {
                continue;
            };
            if meta.file_type().is_file() && meta.modified().is_ok_and(|m| m < before) {
                match fs::remove_file(entry.path()) {
                    Ok(()) => removed += 1,
                    // Removed meanwhile by someone else: what was wanted.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(removed)
    }

    pub fn outbox_file(&self, batch: i64) -> PathBuf {
        self.root.join("outbox").join(format!("{batch:010}.ndjson"))
    }

    /// The notes of the passes so far, each entry's once.
    pub fn take_notes(&mut self) -> Vec<Note> {
        std::mem::take(&mut self.notes)
    }

    /// Notes `note` unless its entry was reported already (unfinished
    /// files are noted each time: they are transient).
    fn note(&mut self, note: Note) {
        let path = match &note {
            Note::NotAFile { path, .. } | Note::NotRead { path } => path,
            Note::Unfinished { .. } => {
                self.notes.push(note);
                return;
            }
        };
        if self.reported.insert(path.display().to_string()) {
            self.notes.push(note);
        }
    }

    /// Moves a delivery to `done/` unless it changed since it was opened;
    /// `false`: it was left in `inbox/` for the next pass.
    fn move_to_done(&mut self, delivery: &str, opened: Opened) -> Result<bool, ProviderError> {
        let from = self.root.join("inbox").join(delivery);
        let unchanged = |now: Option<Snapshot>| opened.at_open.is_some() && now == opened.at_open;
        if opened.unfinished.get() || !unchanged(Snapshot::of_path(&from)) {
            self.note(Note::Unfinished { path: from });
            return Ok(false);
        }
        // A file of the same name done before (a provider re-uploading)
        // is kept: this one gets the next free suffix. Whatever is at a
        // name (a link too) counts as taken: nothing is replaced.
        let done = self.root.join("done");
        let mut to = done.join(delivery);
        let mut n = 1;
        while let Ok(Some(kind)) = EntryKind::of(&to) {
            if kind != EntryKind::File {
                self.note(Note::NotAFile {
                    path: to.clone(),
                    kind,
                });
            }
            to = done.join(format!("{delivery}.{n}"));
            n += 1;
        }
        fs::rename(&from, &to).map_err(|e| io_error("cannot move", &from, e))?;
        // A writer that went on between the check and the rename wrote into
        // the moved file: it goes back to be read again (its records read
        // so far are duplicates then), unless a new file took the name.
        if !unchanged(Snapshot::of_path(&to))
            && fs::symlink_metadata(&from).is_err()
            && fs::rename(&to, &from).is_ok()
        {
            self.note(Note::Unfinished { path: from });
            return Ok(false);
        }
        Ok(true)
    }
}

/// A file still being written is dropped under a name starting with `.`
/// or ending in `.tmp`/`.part`, and renamed when complete.
fn in_progress(name: &str) -> bool {
    name.starts_with('.') || name.ends_with(".tmp") || name.ends_with(".part")
}

/// The items of a document file: an XML document is one record; a JSON
/// file is a record, an event, or an array of them, each item judged on
/// its own (one with a member twice is refused, the others go on, as
/// `run` does).
fn document_items(format: Format, name: &str, text: &str) -> Vec<Item> {
    if format == Format::Xml {
        return vec![Item::Xml(text.to_string())];
    }
    if let Ok(items) = serde_json::from_str::<Vec<&RawValue>>(text) {
        return items.iter().map(|raw| parse_item(raw.get())).collect();
    }
    match serde_json::from_str::<serde::de::IgnoredAny>(text) {
        Ok(_) => vec![parse_item(text)],
        Err(e) => vec![Item::unreadable(
            text,
            "",
            format!("malformed JSON in {name}: {e}"),
        )],
    }
}

/// Whether a document was cut short: JSON that ends before its value
/// does, XML that ends inside a tag or with elements open. A document
/// that is malformed in any other way is whole (and a dead letter); one
/// cut short may be a writer still at work.
fn cut_short(format: Format, text: &str) -> bool {
    use quick_xml::events::Event;
    match format {
        Format::Json | Format::Ndjson => {
            serde_json::from_str::<serde::de::IgnoredAny>(text).is_err_and(|e| e.is_eof())
        }
        Format::Xml => {
            let mut reader = quick_xml::Reader::from_str(text);
            let mut depth = 0usize;
            let mut rooted = false;
            loop {
                match reader.read_event() {
                    Ok(Event::Start(_)) => depth += 1,
                    Ok(Event::Empty(_)) => rooted = true,
                    Ok(Event::End(_)) => {
                        depth = depth.saturating_sub(1);
                        rooted = true;
                    }
                    Ok(Event::Eof) => return !rooted || depth > 0,
                    Ok(_) => {}
                    // Each syntax error is input ending inside a construct.
                    Err(quick_xml::Error::Syntax(_)) => return true,
                    Err(_) => return false,
                }
            }
        }
    }
}

/// The lines of an NDJSON file, read as they are consumed, split as `run`
/// splits them (`exec::lines`: any line ending, a leading byte order mark
/// skipped, a line over the record limit a malformed item of its own); a
/// line that is not UTF-8 is a malformed item of its own. A last line
/// without a line end is read only when the file has settled; otherwise the
/// writer may be in the middle of it, and the file is marked unfinished.
struct NdjsonLines {
    reader: LineReader<BufReader<fs::File>>,
    path: PathBuf,
    line: Vec<u8>,
    settled: bool,
    unfinished: Rc<Cell<bool>>,
}

impl Iterator for NdjsonLines {
    type Item = Result<Received, ProviderError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let read = match self.reader.next_line(&mut self.line) {
                Ok(None) => return None,
                Ok(Some(read)) => read,
                Err(e) => return Some(Err(io_error("cannot read", &self.path, e))),
            };
            if !self.reader.ended() && !self.settled {
                self.unfinished.set(true);
                return None;
            }
            let item = match (read, std::str::from_utf8(&self.line)) {
                (LineRead::TooLong { bytes }, _) => Item::rejected(
                    "",
                    RecordError::of_input(Code::E1014, too_long_message(bytes, self.reader.max())),
                ),
                (LineRead::Line, Ok(text)) if text.trim().is_empty() => continue,
                (LineRead::Line, Ok(text)) => parse_item(text),
                (LineRead::Line, Err(e)) => Item::unreadable(
                    String::from_utf8_lossy(&self.line),
                    "",
                    format!("the line is not UTF-8: {e}"),
                ),
            };
            return Some(Ok(item.into()));
        }
    }
}

/// Opens an inbox file to read without following a link or blocking on a
/// FIFO put there after it was listed; `None`: it is not a regular file
/// (any more).
fn open_regular(path: &Path) -> Result<Option<(fs::File, Snapshot)>, ProviderError> {
    let file = match fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Ok(None),
        Err(e) => return Err(io_error("cannot read", path, e)),
    };
    let meta = file
        .metadata()
        .map_err(|e| io_error("cannot read", path, e))?;
    Ok(meta.is_file().then(|| (file, Snapshot::of(&meta))))
}

impl Provider for FileDrop {
    fn pending(&mut self) -> Result<Vec<String>, ProviderError> {
        let inbox = self.root.join("inbox");
        let mut names = Vec::new();
        for entry in fs::read_dir(&inbox).map_err(|e| io_error("cannot list", &inbox, e))? {
            let entry = entry.map_err(|e| io_error("cannot list", &inbox, e))?;
            // A name that is not UTF-8 cannot be a delivery name.
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if in_progress(&name) {
                continue;
            }
            // `file_type` does not follow links.
            let kind = entry
                .file_type()
                .map(EntryKind::of_type)
                .map_err(|e| io_error("cannot list", &inbox, e))?;
            if kind != EntryKind::File {
                self.note(Note::NotAFile {
                    path: entry.path(),
                    kind,
                });
            } else if Format::of(&name).is_none() {
                self.note(Note::NotRead { path: entry.path() });
            } else {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    fn open(&mut self, name: &str) -> Result<Items<'_>, ProviderError> {
        let path = self.root.join("inbox").join(name);
        let unfinished = Rc::new(Cell::new(false));
        let opened = open_regular(&path)?;
        self.opened.insert(
            name.to_string(),
            Opened {
                at_open: opened.as_ref().map(|(_, s)| *s),
                unfinished: unfinished.clone(),
            },
        );
        let Some((mut file, at_open)) = opened else {
            // Swapped for a link or a device since it was listed.
            if let Ok(Some(kind)) = EntryKind::of(&path) {
                self.note(Note::NotAFile { path, kind });
            }
            unfinished.set(true);
            return Ok(Box::new(std::iter::empty()));
        };
        let settled = at_open.settled(self.settle);
        let format = Format::of(name).unwrap_or(Format::Ndjson);
        if format != Format::Ndjson {
            // A document is one unit: read whole.
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes)
                .map_err(|e| io_error("cannot read", &path, e))?;
            let text = match format {
                // Decoded as `run` decodes it (UTF-8 or UTF-16).
                Format::Xml => crate::exec::xml::decode(&bytes)
                    .map(std::borrow::Cow::into_owned)
                    .map_err(|e| {
                        Item::unreadable(
                            String::from_utf8_lossy(&bytes),
                            "",
                            format!("malformed XML: {e}"),
                        )
                    }),
                Format::Json | Format::Ndjson => {
                    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
                    String::from_utf8(bytes.to_vec()).map_err(|e| {
                        Item::unreadable(
                            String::from_utf8_lossy(e.as_bytes()),
                            "",
                            format!("{name} is not UTF-8: {}", e.utf8_error()),
                        )
                    })
                }
            };
            let items = match text {
                // Cut short by a writer still at work: read when whole, or
                // once it has settled (and is then what it is).
                Ok(text) if !settled && cut_short(format, &text) => {
                    unfinished.set(true);
                    Vec::new()
                }
                Ok(text) => document_items(format, name, &text),
                Err(item) => vec![item],
            };
            return Ok(Box::new(items.into_iter().map(|i| Ok(i.into()))));
        }
        Ok(Box::new(NdjsonLines {
            reader: LineReader::new(
                BufReader::with_capacity(1 << 16, file),
                self.max_record_bytes,
            ),
            path,
            line: Vec::new(),
            settled,
            unfinished,
        }))
    }

    fn ack(&mut self, delivery: &str) -> Result<(), ProviderError> {
        let Some(opened) = self.opened.remove(delivery) else {
            // Never opened by this connector: nothing says it is whole.
            return Ok(());
        };
        self.move_to_done(delivery, opened).map(|_| ())
    }

    fn send(&mut self, batch: i64, ops: &[Operation]) -> Result<Vec<Sent>, ProviderError> {
        let path = self.outbox_file(batch);
        let mut text = String::new();
        for op in ops {
            let line = serde_json::to_string(op).map_err(|e| ProviderError {
                message: format!("cannot encode an operation: {e}"),
                retryable: false,
            })?;
            text.push_str(&line);
            text.push('\n');
        }
        // The batch's own name may hold an earlier write of the same batch
        // (a crash after the rename): that is replaced. Anything else there
        // is refused, not followed.
        match EntryKind::of(&path) {
            Ok(None | Some(EntryKind::File)) => {}
            Ok(Some(kind)) => {
                return Err(ProviderError {
                    message: format!(
                        "{} is {}; tether writes only regular files into outbox/ \
                         (remove it)",
                        path.display(),
                        kind.describe()
                    ),
                    retryable: false,
                });
            }
            Err(e) => return Err(io_error("cannot write", &path, e)),
        }
        // Created exclusively, never through a link (src/safe_fs.rs).
        let tmp = safe_fs::temporary_name(&path);
        let mut f =
            safe_fs::create_exclusive(&tmp).map_err(|e| io_error("cannot create", &tmp, e))?;
        f.write_all(text.as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(|e| io_error("cannot write", &tmp, e))?;
        drop(f);
        failpoint("write-written");
        fs::rename(&tmp, &path).map_err(|e| io_error("cannot rename", &tmp, e))?;
        // The rename is durable once the directory is.
        if let Ok(dir) = fs::File::open(self.root.join("outbox")) {
            let _ = dir.sync_all();
        }
        failpoint("write-sent");
        Ok(ops
            .iter()
            .map(|_| Sent::Accepted { native_id: None })
            .collect())
    }
}
