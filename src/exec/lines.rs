//! NDJSON input cut into records: the one line splitter of `run` and of the
//! sync inbox, so both see the same records (issue 17).
//!
//! * A line ends at LF, CR LF, or a CR alone (files from old Mac tools and
//!   some exports); each ending counts one line for the line numbers of
//!   reject reports.
//! * A UTF-8 byte order mark at the start of the input is skipped (it is
//!   not part of the first record).
//! * A line longer than the record limit is not buffered: its first bytes
//!   past the limit end the buffering, the rest is read and dropped up to
//!   its end, and the line is reported as [`LineRead::TooLong`] with its
//!   length. Memory stays at the limit whatever the input holds.

use std::io::{self, BufRead};

/// The default per-record limit (`--max-record-bytes`): far above any
/// record a provider sends, far below what would exhaust memory.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 16 << 20;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// What [`LineReader::next_line`] read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineRead {
    /// A line, now in the buffer (without its ending).
    Line,
    /// A line of this many bytes, over the limit; the buffer is empty.
    TooLong { bytes: u64 },
}

/// Reads lines of at most `max` bytes from a buffered input.
pub struct LineReader<R> {
    input: R,
    max: usize,
    /// Nothing read yet: a byte order mark may come.
    at_start: bool,
    /// The last line ended with a CR: a LF right after it belongs to it.
    after_cr: bool,
    /// The last line read ended with a line ending (not at the end of the
    /// input): a file still being written may end inside its last line.
    ended: bool,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(input: R, max: usize) -> Self {
        LineReader {
            input,
            max,
            at_start: true,
            after_cr: false,
            ended: false,
        }
    }

    /// Whether the last line read ended with a line ending, rather than
    /// with the end of the input.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// The limit in bytes.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Reads the next line into `buf` (cleared first). `None` at the end of
    /// the input.
    pub fn next_line(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<LineRead>> {
        buf.clear();
        self.append_line(buf)
    }

    /// Appends the next line to `buf` (a line over the limit appends
    /// nothing): a chunk of lines is read without copying each twice.
    pub fn append_line(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<LineRead>> {
        if self.at_start {
            self.at_start = false;
            if self.input.fill_buf()?.starts_with(BOM) {
                self.input.consume(BOM.len());
            }
        }
        let start = buf.len();
        let mut bytes: u64 = 0;
        let mut any = false;
        loop {
            let avail = self.input.fill_buf()?;
            if avail.is_empty() {
                if !any {
                    return Ok(None);
                }
                self.ended = false;
                return Ok(Some(self.finish(bytes, buf, start)));
            }
            if self.after_cr {
                self.after_cr = false;
                if avail.first() == Some(&b'\n') {
                    self.input.consume(1);
                    continue;
                }
            }
            any = true;
            let (take, end) = match memchr::memchr2(b'\n', b'\r', avail) {
                Some(i) => (i, avail.get(i).copied()),
                None => (avail.len(), None),
            };
            let part = avail.get(..take).unwrap_or_default();
            bytes += take as u64;
            if bytes <= self.max as u64 {
                buf.extend_from_slice(part);
            } else if buf.len() > start {
                // Over the limit: keep nothing more of it.
                buf.truncate(start);
            }
            match end {
                Some(b) => {
                    self.input.consume(take + 1);
                    self.after_cr = b == b'\r';
                    self.ended = true;
                    return Ok(Some(self.finish(bytes, buf, start)));
                }
                None => self.input.consume(take),
            }
        }
    }

    fn finish(&self, bytes: u64, buf: &mut Vec<u8>, start: usize) -> LineRead {
        if bytes > self.max as u64 {
            buf.truncate(start);
            LineRead::TooLong { bytes }
        } else {
            LineRead::Line
        }
    }
}

/// The message for a record over the limit, for `run` and `sync` alike.
pub fn too_long_message(bytes: u64, max: usize) -> String {
    format!("the record is {bytes} bytes, more than the limit of {max} bytes (--max-record-bytes)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8], max: usize) -> Vec<Result<String, u64>> {
        let mut r = LineReader::new(input, max);
        let mut buf = Vec::new();
        let mut out = Vec::new();
        while let Some(read) = r.next_line(&mut buf).unwrap() {
            out.push(match read {
                LineRead::Line => Ok(String::from_utf8(buf.clone()).unwrap()),
                LineRead::TooLong { bytes } => Err(bytes),
            });
        }
        out
    }

    #[test]
    fn every_line_ending_ends_a_line() {
        assert_eq!(
            all(b"a\nb\r\nc\rd", 100),
            [
                Ok("a".into()),
                Ok("b".into()),
                Ok("c".into()),
                Ok("d".into())
            ]
        );
        // An empty line between two CRs is a line; CR LF is one ending.
        assert_eq!(
            all(b"a\r\rb\r\n", 100),
            [Ok("a".into()), Ok("".into()), Ok("b".into())]
        );
    }

    #[test]
    fn only_a_line_cut_by_the_end_of_the_input_is_unended() {
        let mut r = LineReader::new(&b"a\nb\r\nc\rd"[..], 100);
        let mut buf = Vec::new();
        let mut ended = Vec::new();
        while r.next_line(&mut buf).unwrap().is_some() {
            ended.push(r.ended());
        }
        assert_eq!(ended, [true, true, true, false]);
    }

    #[test]
    fn a_leading_byte_order_mark_is_skipped_once() {
        assert_eq!(
            all(b"\xEF\xBB\xBFa\n\xEF\xBB\xBFb", 100),
            [Ok("a".into()), Ok("\u{FEFF}b".into())]
        );
    }

    #[test]
    fn a_line_over_the_limit_is_reported_and_the_next_one_read() {
        assert_eq!(
            all(b"abc\nabcdef\r\nxy", 4),
            [Ok("abc".into()), Err(6), Ok("xy".into())]
        );
        // Split across the reader's buffer: still counted whole.
        let long = vec![b'x'; 100_000];
        let input = [&long[..], b"\nok\n"].concat();
        let r = io::BufReader::with_capacity(1024, &input[..]);
        let mut lines = LineReader::new(r, 10);
        let mut buf = Vec::new();
        assert_eq!(
            lines.next_line(&mut buf).unwrap(),
            Some(LineRead::TooLong { bytes: 100_000 })
        );
        assert!(buf.capacity() <= 1 << 11);
        assert_eq!(lines.next_line(&mut buf).unwrap(), Some(LineRead::Line));
        assert_eq!(buf, b"ok");
    }
}
