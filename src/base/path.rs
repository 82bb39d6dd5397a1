//! Paths to fields.

/// A path of field names relative to the rule's scope. Empty: the scope's
/// value itself (the element, inside an element-wise rule).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct FieldPath(pub Vec<String>);

impl std::fmt::Display for FieldPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            return f.write_str(".");
        }
        f.write_str(&self.0.join("."))
    }
}

/// One step of a path into a record value: a member by name, or every
/// element of an array. Typed, so a member that happens to be named `[]`
/// is a name, not an array step.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Seg {
    Name(String),
    Each,
}

impl std::fmt::Display for Seg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Seg::Name(n) => f.write_str(n),
            Seg::Each => f.write_str("[]"),
        }
    }
}

/// A path as messages write it: `lines.[].sku`.
pub fn dotted(path: &[Seg]) -> String {
    let parts: Vec<String> = path.iter().map(Seg::to_string).collect();
    parts.join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_written_with_dots_and_each_as_brackets() {
        let p = [
            Seg::Name("lines".into()),
            Seg::Each,
            Seg::Name("sku".into()),
        ];
        assert_eq!(dotted(&p), "lines.[].sku");
        assert_eq!(dotted(&[]), "");
        assert_eq!(FieldPath(Vec::new()).to_string(), ".");
        assert_eq!(FieldPath(vec!["a".into(), "b".into()]).to_string(), "a.b");
    }
}
