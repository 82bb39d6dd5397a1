//! The scalar types of the language and the one table of their names, as
//! schemas, signatures and messages write them. `schema::Kind`,
//! `stdlib::sig::SigTy` and `plan::ReadKind` hold one for their scalar
//! part (`Kind::Scalar(Scalar)`, ...), and `Value::scalar` answers with one.

/// A scalar type. Serialised by its variant name (plan files).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Scalar {
    String,
    Bool,
    Int,
    /// Exact decimal (`rust_decimal`), read from the number's text.
    Decimal,
    /// Binary floating point: only when a schema asks for it.
    Float,
    Date,
    /// An instant: date and time with an offset.
    DateTime,
    /// A date and time without an offset or zone.
    LocalDateTime,
    /// A date and time with or without an offset, as XML Schema's
    /// `xs:dateTime` allows: each value is one or the other.
    AnyDateTime,
    Time,
    /// An ISO 4217 currency code.
    Currency,
    /// An amount with its currency.
    Money,
}

/// The names, in the order suggestions list them.
const NAMES: [(Scalar, &str); 12] = [
    (Scalar::String, "string"),
    (Scalar::Bool, "bool"),
    (Scalar::Int, "int"),
    (Scalar::Decimal, "decimal"),
    (Scalar::Float, "float"),
    (Scalar::Date, "date"),
    (Scalar::DateTime, "datetime"),
    (Scalar::LocalDateTime, "localdatetime"),
    (Scalar::AnyDateTime, "anydatetime"),
    (Scalar::Time, "time"),
    (Scalar::Currency, "currency"),
    (Scalar::Money, "money"),
];

impl Scalar {
    pub fn name(self) -> &'static str {
        // The table is in variant order (a test checks it), so the
        // discriminant indexes it.
        NAMES[self as usize].1
    }

    pub fn from_name(name: &str) -> Option<Scalar> {
        NAMES.iter().find(|(_, n)| *n == name).map(|(s, _)| *s)
    }

    /// Every scalar with its name, in the table's order.
    pub fn all() -> impl Iterator<Item = (Scalar, &'static str)> {
        NAMES.into_iter()
    }
}

impl std::fmt::Display for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_variant_order_and_names_are_unique() {
        for (i, (s, n)) in Scalar::all().enumerate() {
            assert_eq!(s as usize, i, "{n}");
            assert_eq!(s.name(), n);
            assert_eq!(Scalar::from_name(n), Some(s));
        }
        assert_eq!(Scalar::from_name("any"), None);
        assert_eq!(Scalar::from_name("String"), None);
    }
}
