//! Secrets and the redactor.
//!
//! A secret comes from the environment only: `$NAME`, or the file that
//! `$NAME_FILE` names (the Docker and Kubernetes secrets convention). Its
//! value lives in a [`Secret`], which prints as `[secret]` and cannot be
//! serialised, so it cannot reach a log, a plan, the state store or a dead
//! letter by accident. Text a provider sends back (an error body, a refusal
//! message) goes through a [`Redactor`] before tether stores or prints it:
//! a careless or hostile provider that echoes the `Authorization` header
//! does not put the token into a dead letter.

use base64::Engine as _;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use std::fmt;
use std::path::PathBuf;

/// A secret value. `Debug` and `Display` print `[secret]`; there is no
/// `Serialize`. [`Secret::expose`] is the one way to the value, for the
/// request that needs it.
pub struct Secret(Box<str>);

impl Secret {
    pub fn new(value: impl Into<Box<str>>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[secret]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[secret]")
    }
}

/// Where a secret comes from: the name of an environment variable.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SecretRef {
    pub env: String,
}

/// The largest secret file read: far above any token or key, and a bound
/// on what a wrong path (a log file, a device) can cost.
const MAX_SECRET_FILE: u64 = 64 << 10;

/// Why a secret could not be had. Messages name the variables and the
/// file, never a value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the secret {name} is not set: set {name}, or {name}_FILE to a file holding it")]
    Unset { name: String },
    #[error("both {name} and {name}_FILE are set: set one, so it is plain which is used")]
    Both { name: String },
    #[error("the secret {name} is empty")]
    Empty { name: String },
    #[error("cannot read the secret file {} ({name}_FILE): {reason}", path.display())]
    File {
        name: String,
        path: PathBuf,
        reason: String,
    },
}

impl SecretRef {
    pub fn new(env: impl Into<String>) -> SecretRef {
        SecretRef { env: env.into() }
    }

    /// The variable naming the file that holds the secret.
    pub fn file_var(&self) -> String {
        format!("{}_FILE", self.env)
    }

    /// Resolves the secret from the process environment.
    pub fn resolve(&self) -> Result<Secret, SecretError> {
        self.resolve_with(&|name| std::env::var(name).ok())
    }

    /// Resolves the secret with `env` as the environment (tests pass their
    /// own). A file's value is taken without its trailing line end, as
    /// secret files are usually written by `echo` or an editor. The file
    /// is followed through links: Kubernetes mounts secrets as links.
    pub fn resolve_with(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Secret, SecretError> {
        let name = self.env.clone();
        let value = match (env(&self.env), env(&self.file_var())) {
            (Some(_), Some(_)) => return Err(SecretError::Both { name }),
            (None, None) => return Err(SecretError::Unset { name }),
            (Some(v), None) => v,
            (None, Some(path)) => read_secret_file(&name, PathBuf::from(path))?,
        };
        if value.trim().is_empty() {
            return Err(SecretError::Empty { name });
        }
        Ok(Secret::new(value))
    }
}

fn read_secret_file(name: &str, path: PathBuf) -> Result<String, SecretError> {
    use std::io::Read as _;
    let fail = |reason: String, path: PathBuf| SecretError::File {
        name: name.to_string(),
        path,
        reason,
    };
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) => return Err(fail(e.to_string(), path)),
    };
    let mut bytes = Vec::new();
    if let Err(e) = file.take(MAX_SECRET_FILE + 1).read_to_end(&mut bytes) {
        return Err(fail(e.to_string(), path));
    }
    if bytes.len() as u64 > MAX_SECRET_FILE {
        return Err(fail(format!("larger than {MAX_SECRET_FILE} bytes"), path));
    }
    let mut text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(_) => return Err(fail("not UTF-8 text".into(), path)),
    };
    while text.ends_with(['\n', '\r']) {
        text.pop();
    }
    Ok(text)
}

/// The longest provider text tether keeps, in characters.
pub const MAX_PROVIDER_TEXT: usize = 500;

/// Replaces every known secret value in provider text with `[secret]`,
/// in the forms a provider may echo it: as it is, base64 (a Basic
/// `Authorization` header, with and without padding) and percent-encoded
/// (a query string). Then the text is cut to [`MAX_PROVIDER_TEXT`]
/// characters and control characters are escaped, so a provider cannot
/// fill a dead letter or write escape sequences to a terminal.
#[derive(Default)]
pub struct Redactor {
    /// Every form of every secret, longest first, so a secret that
    /// contains another is replaced whole.
    needles: Vec<String>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} forms)", self.needles.len())
    }
}

impl Redactor {
    pub fn new() -> Redactor {
        Redactor::default()
    }

    /// Adds a secret (and its encoded forms).
    pub fn add(&mut self, secret: &Secret) {
        self.add_value(secret.expose());
    }

    /// Adds a value that is secret without being a [`Secret`] of its own:
    /// `user:password` for Basic auth, a fetched access token.
    pub fn add_value(&mut self, value: &str) {
        if value.is_empty() {
            return;
        }
        let b64 = base64::engine::general_purpose::STANDARD.encode(value);
        let forms = [
            value.to_string(),
            b64.trim_end_matches('=').to_string(),
            b64,
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value),
            utf8_percent_encode(value, NON_ALPHANUMERIC).to_string(),
            utf8_percent_encode(value, super::COMPONENT).to_string(),
        ];
        for form in forms {
            if !form.is_empty() && !self.needles.contains(&form) {
                self.needles.push(form);
            }
        }
        self.needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
    }

    /// `text` with every secret form replaced, bounded and escaped.
    pub fn clean(&self, text: &str) -> String {
        let mut redacted = text.to_string();
        for needle in &self.needles {
            if redacted.contains(needle.as_str()) {
                redacted = redacted.replace(needle.as_str(), "[secret]");
            }
        }
        bounded(&redacted)
    }
}

/// At most [`MAX_PROVIDER_TEXT`] characters (then `…`), control and
/// format characters escaped (`\u{1b}`), line ends as spaces.
fn bounded(text: &str) -> String {
    shown(text, MAX_PROVIDER_TEXT)
}

/// Provider text as a message may show it: at most `max` characters (then
/// `…`); line ends and tabs as spaces; control characters (ESC opens a
/// terminal sequence) and format characters (bidi overrides reorder what
/// a reader sees, zero-width ones hide text) escaped as `\u{…}`, so no
/// provider value can forge or disguise a log line.
pub fn shown(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max + 8));
    for (i, c) in text.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() || is_format(c) => out.extend(c.escape_unicode()),
            c => out.push(c),
        }
    }
    out
}

/// Unicode's format characters (general category Cf) and the other
/// invisible ones a terminal does not show: the bidi embeddings,
/// overrides and isolates (U+202A–202E, U+2066–2069), zero-width
/// characters, the byte-order mark, interlinear annotations, tags.
fn is_format(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x0890..=0x0891
        | 0x08E2 | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064
        | 0x2066..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD
        | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0001
        | 0xE0020..=0xE007F)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.get(name).cloned()
    }

    #[test]
    fn bidi_and_other_invisible_characters_are_escaped() {
        let r = Redactor::default();
        assert_eq!(
            r.clean("ok\u{202E}gnp.exe\u{2066}x\u{200B}y\u{FEFF}\u{1b}[2J"),
            "ok\\u{202e}gnp.exe\\u{2066}x\\u{200b}y\\u{feff}\\u{1b}[2J"
        );
        assert_eq!(shown("abcdef", 3), "abc…");
        assert_eq!(shown("é ü 中", 10), "é ü 中", "visible text is kept");
    }

    #[test]
    fn a_secret_never_prints_its_value() {
        let s = Secret::new("sk_live_123");
        assert_eq!(format!("{s} {s:?}"), "[secret] [secret]");
        assert_eq!(s.expose(), "sk_live_123");
    }

    #[test]
    fn a_secret_comes_from_the_variable_or_the_file_it_names() {
        let r = SecretRef::new("HUBSPOT_TOKEN");
        let got = r.resolve_with(&env(&[("HUBSPOT_TOKEN", "pat-1")])).unwrap();
        assert_eq!(got.expose(), "pat-1");

        let dir = std::env::temp_dir().join(format!("tether-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("token");
        std::fs::write(&file, "pat-2\n").unwrap();
        let path = file.to_str().unwrap();
        let got = r
            .resolve_with(&env(&[("HUBSPOT_TOKEN_FILE", path)]))
            .unwrap();
        assert_eq!(
            got.expose(),
            "pat-2",
            "the trailing line end is not part of it"
        );

        let both = r.resolve_with(&env(&[
            ("HUBSPOT_TOKEN", "a"),
            ("HUBSPOT_TOKEN_FILE", path),
        ]));
        assert!(matches!(both, Err(SecretError::Both { .. })));
        let unset = r.resolve_with(&env(&[])).unwrap_err().to_string();
        assert!(unset.contains("HUBSPOT_TOKEN_FILE"), "{unset}");
        let empty = r.resolve_with(&env(&[("HUBSPOT_TOKEN", "  ")]));
        assert!(matches!(empty, Err(SecretError::Empty { .. })));
        let missing = dir.join("nope");
        let missing = r
            .resolve_with(&env(&[("HUBSPOT_TOKEN_FILE", missing.to_str().unwrap())]))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("nope"), "{missing}");

        std::fs::write(&file, vec![b'x'; (MAX_SECRET_FILE + 1) as usize]).unwrap();
        let big = r.resolve_with(&env(&[("HUBSPOT_TOKEN_FILE", path)]));
        assert!(matches!(big, Err(SecretError::File { .. })));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn every_echoed_form_of_a_secret_is_redacted() {
        let mut r = Redactor::new();
        r.add(&Secret::new("s3cr3t/+key="));
        r.add_value("user:pa ss");
        let b64 = base64::engine::general_purpose::STANDARD.encode("user:pa ss");
        let echoed = format!(
            "bad token s3cr3t/+key= in Authorization: Basic {b64}; url ?key=s3cr3t%2F%2Bkey%3D; \
             bearer {}",
            base64::engine::general_purpose::STANDARD.encode("s3cr3t/+key=")
        );
        let clean = r.clean(&echoed);
        assert!(!clean.contains("s3cr3t"), "{clean}");
        assert!(!clean.contains(&b64), "{clean}");
        assert!(!clean.contains("user:pa ss"), "{clean}");
        assert_eq!(clean.matches("[secret]").count(), 4, "{clean}");
    }

    #[test]
    fn provider_text_is_bounded_and_escaped() {
        let r = Redactor::new();
        let long = "é".repeat(2000);
        let clean = r.clean(&long);
        assert_eq!(clean.chars().count(), MAX_PROVIDER_TEXT + 1);
        assert!(clean.ends_with('…'));
        let ansi = r.clean("red \u{1b}[31mALERT\u{1b}[0m\nnext\u{0}");
        assert_eq!(ansi, "red \\u{1b}[31mALERT\\u{1b}[0m next\\u{0}");
    }
}
