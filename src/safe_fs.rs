//! Writing files without following links. Anyone who can write to a
//! folder tether writes into (a drop folder shared with a provider, the
//! directory of an output file) could plant a symbolic link under the name
//! tether is about to write, and tether would write the link's target: any
//! file the process may write. So every write here opens its file with
//! `O_NOFOLLOW` (a link at the last component is refused), temporary files
//! are created exclusively (`O_CREAT|O_EXCL`: nothing that already exists,
//! link or not, is opened), and a finished file is renamed into place,
//! which replaces a link at the final name rather than writing through it.
//! docs/design/09-hostile-input.md, "The file system and the store".

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// What is at a path, as far as deciding whether to touch it goes (the
/// link itself, never its target).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Link,
    Dir,
    /// A device, a FIFO, a socket.
    Special,
}

impl EntryKind {
    /// What the path names, without following a link; `None` when nothing
    /// is there.
    pub fn of(path: &Path) -> io::Result<Option<EntryKind>> {
        match fs::symlink_metadata(path) {
            Ok(m) => Ok(Some(EntryKind::of_type(m.file_type()))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn of_type(t: fs::FileType) -> EntryKind {
        if t.is_symlink() {
            EntryKind::Link
        } else if t.is_dir() {
            EntryKind::Dir
        } else if t.is_file() {
            EntryKind::File
        } else {
            // Block and character devices, FIFOs, sockets (and whatever
            // else a file system may hold).
            EntryKind::Special
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            EntryKind::File => "a regular file",
            EntryKind::Link => "a symbolic link",
            EntryKind::Dir => "a folder",
            EntryKind::Special => "a device, FIFO or socket",
        }
    }
}

/// An `open` that refused a link says so, rather than the OS's "too many
/// levels of symbolic links".
fn explain(path: &Path, e: io::Error) -> io::Error {
    if e.raw_os_error() == Some(libc::ELOOP) {
        return io::Error::other(format!(
            "{} is a symbolic link; tether does not write through links \
             (remove it, or name the file it points to)",
            path.display()
        ));
    }
    e
}

/// Opens a file to write, truncated, creating it when missing; a link at
/// `path` is refused. For outputs the user names (`run --output`,
/// `--rejects`), which may also be a device such as `/dev/null`.
pub fn create_output(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| explain(path, e))
}

/// Opens (creating) a lock file without truncating it; a link is refused.
pub fn open_lock(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| explain(path, e))?;
    // A FIFO or device under the lock's name is not a lock.
    if !file.metadata()?.is_file() {
        return Err(io::Error::other(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    Ok(file)
}

/// Creates `tmp` exclusively: whatever is at that name (a leftover of a
/// crash, or a planted link) is removed first, the entry itself and never
/// its target; a new entry appearing in between makes the create fail.
pub fn create_exclusive(tmp: &Path) -> io::Result<File> {
    create_exclusive_mode(tmp, 0o644)
}

/// [`create_exclusive`] with the file's permission bits.
fn create_exclusive_mode(tmp: &Path, mode: u32) -> io::Result<File> {
    match EntryKind::of(tmp)? {
        None => {}
        Some(EntryKind::Dir) => {
            return Err(io::Error::other(format!(
                "{} is a folder; tether does not replace it",
                tmp.display()
            )));
        }
        Some(_) => fs::remove_file(tmp)?,
    }
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(mode)
        .open(tmp)
        .map_err(|e| explain(tmp, e))
}

/// The temporary name `path` is written under before its rename: hidden,
/// in the same folder (a rename does not cross file systems).
pub fn temporary_name(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.tmp"))
}

/// Writes `bytes` to `path` whole: to a temporary file created exclusively,
/// synced, then renamed over `path`. A reader never sees half a file; a
/// link at `path` is replaced by the file (the link's target is left
/// untouched); a folder at `path` is an error.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_whole(path, bytes, 0o644)
}

/// [`write_atomically`] for a secret the operator keeps in a file (a
/// rotated refresh token): readable by its owner only (`0600`), and the
/// rename made durable (the folder synced) before this returns, since the
/// provider has already revoked the old value.
pub fn write_secret_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_whole(path, bytes, 0o600)?;
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(folder)?.sync_all()
}

fn write_whole(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    if let Some(kind @ (EntryKind::Dir | EntryKind::Special)) = EntryKind::of(path)? {
        return Err(io::Error::other(format!(
            "{} is {}; tether writes only regular files there",
            path.display(),
            kind.describe()
        )));
    }
    let tmp = temporary_name(path);
    let mut f = create_exclusive_mode(&tmp, mode)?;
    let written = f.write_all(bytes).and_then(|()| f.sync_all());
    drop(f);
    if let Err(e) = written.and_then(|()| fs::rename(&tmp, path)) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tempdir() -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "tether-safe-fs-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn a_link_at_the_temporary_name_is_replaced_not_written_through() {
        let d = tempdir();
        let victim = d.join("victim");
        fs::write(&victim, "precious").unwrap();
        let out = d.join("plan.json");
        symlink(&victim, temporary_name(&out)).unwrap();
        write_atomically(&out, b"new").unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(fs::read_to_string(&out).unwrap(), "new");
        assert_eq!(EntryKind::of(&out).unwrap(), Some(EntryKind::File));
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn a_link_at_the_final_name_is_replaced_not_written_through() {
        let d = tempdir();
        let victim = d.join("victim");
        fs::write(&victim, "precious").unwrap();
        let out = d.join("plan.json");
        symlink(&victim, &out).unwrap();
        write_atomically(&out, b"new").unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(EntryKind::of(&out).unwrap(), Some(EntryKind::File));
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn outputs_and_locks_refuse_links() {
        let d = tempdir();
        let victim = d.join("victim");
        fs::write(&victim, "precious").unwrap();
        let out = d.join("out.ndjson");
        symlink(&victim, &out).unwrap();
        let e = create_output(&out).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        let e = open_lock(&out).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
        fs::remove_dir_all(d).unwrap();
    }
}
