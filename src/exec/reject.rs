//! The one JSON form of a record's errors, wherever they are shown: the
//! rejects of `tether run`, the dead letters the sync store keeps, and
//! `tether dlq show` / `dlq list --format json`.
//!
//! `{"code": "E1003", "rule": "file:line:col" | null, "path": "a.b",
//! "value": <the offending value as JSON> | null, "message": "..."}`
//!
//! The value is the input's own JSON (a number keeps its digits), not JSON
//! text inside a string; an error without a rule (an input error) or without
//! a value says `null`.

use super::RecordError;
use crate::diag::Code;
use serde::de::Deserializer;
use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

impl Serialize for RecordError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut out = s.serialize_struct("RecordError", 5)?;
        out.serialize_field("code", &self.code)?;
        out.serialize_field("rule", &non_empty(&self.rule))?;
        out.serialize_field("path", &self.path)?;
        match non_empty(&self.value) {
            None => out.serialize_field("value", &None::<&RawValue>)?,
            Some(text) => match serde_json::from_str::<&RawValue>(text) {
                Ok(raw) => out.serialize_field("value", raw)?,
                // Not JSON (it should always be): kept as a string rather
                // than lost.
                Err(_) => out.serialize_field("value", text)?,
            },
        }
        out.serialize_field("message", &self.message)?;
        out.end()
    }
}

fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

/// The stored form, read back.
#[derive(Deserialize)]
struct Stored {
    code: Code,
    rule: Option<String>,
    path: String,
    value: Option<Box<RawValue>>,
    message: String,
}

impl<'de> Deserialize<'de> for RecordError {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RecordError, D::Error> {
        let s = Stored::deserialize(d)?;
        Ok(RecordError {
            code: s.code,
            rule: s.rule.unwrap_or_default(),
            path: s.path,
            value: s.value.map(|v| v.get().to_string()).unwrap_or_default(),
            message: s.message,
        })
    }
}

/// A record's errors as a JSON array, for the rejects output.
pub(super) fn errors_json(errors: &[RecordError]) -> String {
    // Serialising these into a string cannot fail: every field is a string
    // or JSON checked above.
    serde_json::to_string(errors).unwrap_or_else(|e| {
        let mut s = String::from(
            "[{\"code\":\"E1001\",\"rule\":null,\"path\":\"\",\"value\":null,\"message\":",
        );
        crate::base::write_json_str(&mut s, &format!("the errors could not be written: {e}"));
        s.push_str("}]");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(rule: &str, value: &str) -> RecordError {
        RecordError {
            code: Code::E1003,
            rule: rule.into(),
            path: "properties.annualrevenue".into(),
            value: value.into(),
            message: "not a decimal".into(),
        }
    }

    #[test]
    fn the_value_is_json_and_what_is_absent_is_null() {
        let json = errors_json(&[error("m.tether:3:1", "\"1.5 million\""), error("", "")]);
        assert_eq!(
            json,
            "[{\"code\":\"E1003\",\"rule\":\"m.tether:3:1\",\"path\":\"properties.annualrevenue\",\
             \"value\":\"1.5 million\",\"message\":\"not a decimal\"},\
             {\"code\":\"E1003\",\"rule\":null,\"path\":\"properties.annualrevenue\",\
             \"value\":null,\"message\":\"not a decimal\"}]"
        );
    }

    #[test]
    fn errors_read_back_as_they_were_written_digits_included() {
        let errors = vec![
            error("m.tether:3:1", "12345678901234567890.10"),
            error("", ""),
        ];
        let back: Vec<RecordError> =
            serde_json::from_str(&errors_json(&errors)).expect("read back");
        assert_eq!(back, errors);
    }
}
