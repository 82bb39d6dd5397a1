//! The file-drop connector: each side is a folder, as SFTP integrations
//! with ERPs and banks are. The provider drops files into `inbox/`; tether
//! moves each to `done/` once its events are stored, and writes operations
//! to `outbox/` atomically (a temporary file, fsync, rename).

use super::failpoint;
use super::provider::{Item, Items, Provider, ProviderError, Sent, item_of, parse_item};
use super::store::Operation;
use crate::exec::lines::{DEFAULT_MAX_RECORD_BYTES, LineRead, LineReader, too_long_message};
use std::fs;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

pub struct FileDrop {
    root: PathBuf,
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> ProviderError {
    ProviderError {
        message: format!("{what} {}: {e}", path.display()),
        retryable: true,
    }
}

impl FileDrop {
    /// A side's folder; `inbox/`, `outbox/` and `done/` are created when
    /// missing.
    pub fn open(root: &Path) -> Result<FileDrop, ProviderError> {
        for sub in ["inbox", "outbox", "done"] {
            let dir = root.join(sub);
            fs::create_dir_all(&dir).map_err(|e| ProviderError {
                message: format!("cannot create {}: {e}", dir.display()),
                retryable: false,
            })?;
        }
        Ok(FileDrop {
            root: root.to_path_buf(),
        })
    }

    pub fn outbox_file(&self, batch: i64) -> PathBuf {
        self.root.join("outbox").join(format!("{batch:010}.ndjson"))
    }
}

/// A file still being written is dropped under a name starting with `.`
/// or ending in `.tmp`/`.part`, and renamed when complete.
fn in_progress(name: &str) -> bool {
    name.starts_with('.') || name.ends_with(".tmp") || name.ends_with(".part")
}

/// The items of a document file: an XML document is one record; a JSON
/// file is a record, an event, or an array of them.
fn document_items(name: &str, text: &str) -> Vec<Item> {
    if name.ends_with(".xml") {
        return vec![Item::Xml(text.to_string())];
    }
    if let Some(item) = super::provider::duplicated(text) {
        return vec![item];
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Array(items)) => items
            .into_iter()
            .map(|v| {
                let t = v.to_string();
                item_of(v, &t)
            })
            .collect(),
        Ok(v) => vec![item_of(v, text)],
        Err(e) => vec![Item::Malformed {
            text: text.to_string(),
            reason: format!("malformed JSON in {name}: {e}"),
        }],
    }
}

/// The lines of an NDJSON file, read as they are consumed, split as `run`
/// splits them (`exec::lines`: any line ending, a leading byte order mark
/// skipped, a line over the record limit a malformed item of its own); a
/// line that is not UTF-8 is a malformed item of its own.
struct NdjsonLines {
    reader: LineReader<BufReader<fs::File>>,
    path: PathBuf,
    line: Vec<u8>,
}

impl Iterator for NdjsonLines {
    type Item = Result<Item, ProviderError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let read = match self.reader.next_line(&mut self.line) {
                Ok(None) => return None,
                Ok(Some(read)) => read,
                Err(e) => return Some(Err(io_error("cannot read", &self.path, e))),
            };
            let item = match (read, std::str::from_utf8(&self.line)) {
                (LineRead::TooLong { bytes }, _) => Item::Malformed {
                    text: String::new(),
                    reason: too_long_message(bytes, self.reader.max()),
                },
                (LineRead::Line, Ok(text)) if text.trim().is_empty() => continue,
                (LineRead::Line, Ok(text)) => parse_item(text),
                (LineRead::Line, Err(e)) => Item::Malformed {
                    text: String::from_utf8_lossy(&self.line).into_owned(),
                    reason: format!("the line is not UTF-8: {e}"),
                },
            };
            return Some(Ok(item));
        }
    }
}

impl Provider for FileDrop {
    fn pending(&mut self) -> Result<Vec<String>, ProviderError> {
        let inbox = self.root.join("inbox");
        let mut names: Vec<String> = fs::read_dir(&inbox)
            .map_err(|e| io_error("cannot list", &inbox, e))?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| !in_progress(n))
            .collect();
        names.sort();
        Ok(names)
    }

    fn open(&mut self, name: &str) -> Result<Items<'_>, ProviderError> {
        let path = self.root.join("inbox").join(name);
        if name.ends_with(".json") || name.ends_with(".xml") {
            // A document is one unit: read whole.
            let bytes = fs::read(&path).map_err(|e| io_error("cannot read", &path, e))?;
            if name.ends_with(".xml") {
                // Decoded as `run` decodes it (UTF-8 or UTF-16).
                let item = match crate::exec::xml::decode(&bytes) {
                    Ok(text) => Item::Xml(text.into_owned()),
                    Err(e) => Item::Malformed {
                        text: String::from_utf8_lossy(&bytes).into_owned(),
                        reason: format!("malformed XML: {e}"),
                    },
                };
                return Ok(Box::new(std::iter::once(Ok(item))));
            }
            let bytes = bytes
                .strip_prefix(b"\xEF\xBB\xBF")
                .unwrap_or(&bytes)
                .to_vec();
            let items = match String::from_utf8(bytes) {
                Ok(text) => document_items(name, &text),
                Err(e) => vec![Item::Malformed {
                    text: String::from_utf8_lossy(e.as_bytes()).into_owned(),
                    reason: format!("{name} is not UTF-8"),
                }],
            };
            return Ok(Box::new(items.into_iter().map(Ok)));
        }
        let file = fs::File::open(&path).map_err(|e| io_error("cannot read", &path, e))?;
        Ok(Box::new(NdjsonLines {
            reader: LineReader::new(
                BufReader::with_capacity(1 << 16, file),
                DEFAULT_MAX_RECORD_BYTES,
            ),
            path,
            line: Vec::new(),
        }))
    }

    fn ack(&mut self, delivery: &str) -> Result<(), ProviderError> {
        let from = self.root.join("inbox").join(delivery);
        // A file of the same name done before (a provider re-uploading)
        // is kept: this one gets the next free suffix.
        let done = self.root.join("done");
        let mut to = done.join(delivery);
        let mut n = 1;
        while to.exists() {
            to = done.join(format!("{delivery}.{n}"));
            n += 1;
        }
        fs::rename(&from, &to).map_err(|e| io_error("cannot move", &from, e))
    }

    fn send(&mut self, batch: i64, ops: &[Operation]) -> Result<Vec<Sent>, ProviderError> {
        let path = self.outbox_file(batch);
        let tmp = self
            .root
            .join("outbox")
            .join(format!(".{batch:010}.ndjson.tmp"));
        let mut text = String::new();
        for op in ops {
            let line = serde_json::to_string(op).map_err(|e| ProviderError {
                message: format!("cannot encode an operation: {e}"),
                retryable: false,
            })?;
            text.push_str(&line);
            text.push('\n');
        }
        let mut f = fs::File::create(&tmp).map_err(|e| io_error("cannot create", &tmp, e))?;
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
