//! The scalar types of the language and the one table of their names, as
//! schemas, signatures and messages write them. `schema::Kind`,
//! `stdlib::sig::SigTy` and `Value::kind_name` take their names from here
//! (each still has its own variants: see docs/design/11-checker-and-stdlib.md,
//! "Left for later").

/// A scalar type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scalar {
    String,
    Bool,
    Int,
    Decimal,
    Float,
    Date,
    DateTime,
    LocalDateTime,
    AnyDateTime,
    Time,
    Currency,
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
