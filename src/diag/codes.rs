//! Every diagnostic and runtime error code, with its explanation.
//!
//! One table serves `tether explain CODE` and the generated `docs/errors.md`
//! (a test fails when the file is stale). Codes are stable: never renumber,
//! only add.

use std::fmt;

macro_rules! codes {
    ($( $code:ident => $title:literal, $explanation:literal ;)*) => {
        /// A stable diagnostic code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum Code { $($code),* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$code),*];

            pub fn as_str(self) -> &'static str {
                match self { $(Code::$code => stringify!($code)),* }
            }

            /// A one-line summary.
            pub fn title(self) -> &'static str {
                match self { $(Code::$code => $title),* }
            }

            /// The long explanation, Markdown, with an example.
            pub fn explanation(self) -> &'static str {
                match self { $(Code::$code => $explanation),* }
            }
        }
    };
}

impl Code {
    /// Codes no longer reported (kept: codes are never reused).
    pub const RETIRED: &'static [Code] = &[Code::W0003];

    pub fn parse(s: &str) -> Option<Code> {
        let wanted = s.trim().to_ascii_uppercase();
        Code::ALL.iter().copied().find(|c| c.as_str() == wanted)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

codes! {
    // ---------------------------------------------------------------- syntax
    E0001 => "syntax error",
"The text is not valid tether syntax at this point. The message says what was
expected there.

```
mapping lead: web.Form -> crm.Contact {
  email  Email          // error: expected an arrow `->`, `<-` or `<->`
}
```

Write the rule as `email -> Email`.";

    E0002 => "invalid literal",
"A string or number literal could not be read: an unknown escape in a string
(`\"\\q\"`), or a number too large to represent.

Strings accept the JSON escapes `\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX`.";

    E0003 => "duplicate definition",
"Two items of one kind share a name: two schemas, two types in a schema, two
fields in a record, two tables, two mappings, or two enum values.

```
table status { \"a\" -> \"x\" }
table status { \"b\" -> \"y\" }   // error: `status` is defined twice
```

Rename or merge one of them.";

    E0004 => "file cannot be read",
"A file named by `import schema ... from \"PATH\"` (or on the command line)
could not be read or is not a schema file. Paths in `import` are relative to
the file that imports them.";

    // ---------------------------------------------------------------- names
    E0101 => "unknown schema",
"A type reference names a schema (namespace) that is neither declared with
`schema NAME { ... }` nor imported with `import schema NAME from \"...\"`.

```
mapping m: crm.Lead -> erp.Customer {   // error if `erp` is not declared
```";

    E0102 => "unknown type",
"A type name is neither a built-in scalar (`string`, `int`, `decimal`, `float`,
`bool`, `date`, `datetime`, `localdatetime`, `time`, `currency`, `money`,
`any`) nor a record or enum of the schema.

```
record Lead { email: strng }   // error: did you mean `string`?
```";

    E0103 => "unknown field",
"A path in a rule names a field that the record type does not have. The
message names the type, and suggests the nearest field names.

```
mapping lead: web.Form -> crm.Contact {
  emial -> Email   // error: `web.Form` has no field `emial`; did you mean `email`?
}
```";

    E0104 => "unknown table",
"A pipeline step names neither a transform of the standard library nor a
`table` of the file, and the name is closest to one of the file's tables, so
it is most likely a misspelt table name. (A name close to no table is
reported as E0105.)

```
table deal_stage { \"new\" -> \"OPEN\" }
status -> Stage : deal_stages   // error: did you mean the table `deal_stage`?
```";

    E0105 => "unknown transform",
"A pipeline step names a transform that does not exist. The message suggests
the nearest names; `docs/stdlib.md` lists them all.

```
email -> Email : lowercase   // error: did you mean `lower`?
```";

    E0106 => "unknown mapping",
"A `test` block names a mapping that the file does not declare.";

    E0107 => "unknown side",
"A side name (in `given`, `expect` or a `conflict` rule) is neither the schema
name of one of the mapping's two types nor `left`/`right`.

```
mapping contact: hubspot.Contact <-> salesforce.Contact { ... }
test contact \"t\" { given hubspt { ... } ... }   // error: did you mean `hubspot`?
```";

    E0108 => "path into a non-record",
"A path continues past a field that is not a record (for example
`email.domain` where `email` is a string), or iterates with `[]` over a field
that is not an array.";

    // ---------------------------------------------------------------- types
    E0201 => "type mismatch",
"The value a rule produces does not have the target field's type, and tether
does not convert silently. Add the conversion that says what you mean.

```
amount_text -> Amount : trim   // error: expected `decimal`, found `string`
amount_text -> Amount : trim | parse_decimal   // ok
```";

    E0202 => "wrong arguments",
"A transform was called with the wrong number or types of arguments. The
message shows the transform's signature.

```
name -> Name : pad_left(\"x\")   // error: pad_left(width: int, fill: string = \" \")
```";

    E0203 => "transform does not accept this input",
"A pipeline step receives a value of a type the transform does not take.

```
created -> Created : lower   // error: `lower` takes a `string`, found `int`
```";

    E0204 => "target may end up empty",
"A required target field (declared without `?` after its name) is fed by a
source that may be missing, or a non-nullable target (declared without `?`
after its type) by a source that may be null. tether refuses to write an
absent or null value where the target schema forbids it.

Say what should happen: `default(\"...\")` supplies a value, `required` turns
an absent value into a rejected record with a clear error.

```
last_name -> LastName                        // error: `last_name` may be missing
last_name -> LastName : default(\"Unknown\")   // ok
```";

    E0205 => "required target field not mapped",
"A field of the target type is required (no `?` after its name) but no rule
writes it in this direction. Map it, give it a constant
(`\"web\" -> LeadSource`), or make it optional in the schema.";

    E0206 => "target written twice",
"Two rules write the same target field in the same direction; the result
would depend on rule order. Remove one, or combine the sources with a
multi-field rule: `(a, b) -> target : coalesce`.";

    E0207 => "table does not cover every value",
"A table is applied to an enum-typed value but has no entry (and no `else`)
for some values of the enum. The message lists the missing values. When a
provider adds a status, this is the error that makes CI fail.";

    E0208 => "table produces a value outside the target enum",
"A table (or literal) produces a value that is not one of the target enum's
values.";

    E0209 => "direction not allowed",
"The rule's arrow does not fit: a `<-` or `<->` rule in a one-way (`->`)
mapping, a literal on the receiving side, or a `<->` rule with a transform
pipeline (only renames are invertible for now; write separate `->` and `<-`
rules).";

    E0210 => "arity mismatch",
"The number of sources or targets does not fit: a tuple source needs a
first step that takes several values (`concat`, `coalesce`, `join`); a tuple
target needs a pipeline that produces an array.";

    E0211 => "literal does not fit",
"A literal (in a table, a default, or an argument) is not of the type the
place requires, or is not one of an enum's values.";

    E0212 => "iteration mismatch",
"The `[]` markers of a rule do not line up: an element-wise rule needs one
`[]` in the source and a target ending in `[]`; a block
`items[] -> lines[] { ... }` needs arrays on both sides.";

    E0213 => "condition is not a boolean",
"The condition of an `if` step must produce a `bool` (use `is_blank`,
`is_null`, `eq(...)`, `gt(...)`, ...).";

    E0214 => "invalid conflict rule",
"A `conflict` entry names a field that no rule maps both ways, a side that is
not one of the mapping's sides, or uses a rule that does not fit the field's
type (`max`/`min` need numbers or dates, `union` needs arrays).";

    E0215 => "test does not fit its mapping",
"A `test` block's `given` or `expect` side is not one of the mapping's sides,
or both name the same side.";

    E0216 => "unknown currency",
"A currency code written in the mapping (a literal, an argument such as
`from_minor(\"KWX\")`, or a type `money<KWX>`) is not in the ISO 4217 table
compiled into tether (List One, published 2026-01-01). Codes are
case-insensitive; withdrawn codes (BGN, ANG, CUC, ...) are not accepted.

```
amount -> Amount : from_minor(\"KWX\")   // error: did you mean `KWD`?
```";

    E0217 => "unknown time zone",
"A time zone argument is not an IANA zone name (the database is compiled
into tether; no system tzdata is read). Names are case-sensitive, as in the
IANA database: `Asia/Dubai`, `Europe/London`, `UTC`.

```
created -> Created : to_zone(\"Asia/Dubia\")   // error: did you mean `Asia/Dubai`?
```";

    E0218 => "invalid date format",
"A date format argument is neither a named format (`iso8601`, `rfc3339`,
`rfc3339_seconds`, `rfc3339_millis`, `rfc2822`, `epoch_seconds`,
`epoch_millis`, `msjson`, `xsd`) nor a valid pattern: an unknown pattern
letter, a letter repeated more times than it has forms (`MMMMMM`), a field
given twice, `hh` without `a`, or a pattern that cannot produce the type
(`parse_date` needs `y`, `M` and `d`; `parse_datetime` needs an offset
`XXX`/`Z`). The message points at the offending letter.

```
d -> D : parse_date(\"dd/MM/yyyyy\")   // error: `y` has no form of 5 letters
d -> D : parse_date(\"dd/MM/yyyy\")    // ok
```";

    E0219 => "money in different currencies",
"Arithmetic (`add`, `sub`) combines two money values whose currencies are
both known to the checker and differ (`money<USD>` and `money<EUR>`). Convert
one first with `convert_currency`. When the checker cannot know the
currencies, the same mistake rejects the record at run time (E1008).";

    E0220 => "invalid iteration",
"A `for` clause cannot iterate as written: its path does not end with `[]`
(or iterates twice), a second `for` does not iterate inside the first, the
`for` sits inside an element block, or the mapping is not one-way `->`.

```
mapping entries: camt.Document -> ledger.Entry {
  for stmt in BkToCstmrStmt.Stmt[]
  for entry at n in stmt.Ntry[]      // one ledger entry per Ntry of every Stmt
  entry.AcctSvcrRef -> ref
}
```";

    E0221 => "name already in use",
"A `for` binding or its position (`for e at n in ...`) has the name of a
field of the mapping's source, or of another binding. Rules could not tell
them apart; choose another name.";

    E0222 => "lossy step in a two-way rule",
"A `<->` rule's way back is derived from its steps, each undone in reverse
order (`prefix` by `strip_prefix`, `parse_date(\"dd/MM/yyyy\")` by
`format_date(\"dd/MM/yyyy\")`, a table by its `<-` column). This step cannot
be undone: different values give the same result (`lower`, `trim`,
`default`), a date pattern drops fields, `mul(0)`, a `div` that rounds, a
constant, a condition, or a table whose `else` applies both ways. Write the
way back yourself with a `<-` rule (`email -> Email : trim | lower` and
`email <- Email`), or map the field one way only.";

    // ---------------------------------------------------------------- warnings
    W0001 => "optional target field not mapped",
"A target field that may be absent is not written by any rule. This is only a
warning: it is often intended, but a field forgotten here is data lost
quietly.";

    W0002 => "unused table",
"A table is declared but no rule uses it.";

    W0003 => "lossy format on a two-way rule (retired)",
"No longer reported: a date pattern on a `<->` rule that drops fields (the
seconds, the offset...) is now error E0222, since the way back cannot restore
them. The code stays so that old CI configurations keep their meaning.";

    W0004 => "schema construct not supported",
"An imported schema (JSON Schema, OpenAPI, XSD) uses something tether cannot
represent: a `$ref` into a file that cannot be read, an unknown `type`. The warning names
the construct and points at it in the schema file; that one type becomes
`any`, so values pass through unchecked. Mappings that read inside it are not
type-checked there.";

    W0005 => "values that do not round-trip",
"A table used by a `<->` rule has one-way entries (`\"evangelist\" ->
\"Closed - Converted\"`, `\"other\" <- \"Closed - Not Converted\"`) or a
one-way `else`: those values map to something that maps back to another
value. That is allowed (the entries say so); the warning lists each value
with where it goes and comes back, and the law tests leave them out.";

    // ---------------------------------------------------------------- runtime
    E1001 => "malformed input",
"A record of the input is not well-formed JSON, or an XML document is not
well-formed XML (or is not the document the mapping reads: another root
element or namespace). It is written to the rejects output as a string, with
the line and column of the fault; the rest of the batch is mapped. A
malformed XML document is rejected whole: none of its rows is written.";

    E1002 => "input value has the wrong type",
"A value of an input record does not have the type its schema declares (a
string where a decimal is expected, a fraction where an int is expected, a
value outside the enum). The record is rejected with the path and the value.";

    E1003 => "conversion failed",
"A transform could not convert the value (`parse_decimal` on `\"12,5\"`,
`parse_int` on `\"x\"`, `to_int` on `1.5`). The record is rejected; nothing is
guessed.";

    E1004 => "required value missing",
"A value that the mapping requires (`required`, or a target that may not be
empty) is missing or null in this record.";

    E1005 => "value not in table",
"A value has no entry in the table and the table has no `else` fallback for
this direction. Add the entry, or a fallback.";

    E1006 => "arithmetic error",
"Division by zero, or a result outside the range of exact decimals
(28 significant digits) or of `int` (64 bits).";

    E1007 => "output value does not fit the target",
"A value produced for the target (from an `any` source, or a tuple target)
does not have the target field's type or is not one of its enum values; or,
with `--output-format xml`, it cannot be written as XML 1.0 (a control
character, a member name that is not an XML name, an array inside an array).
The record is rejected with the path; the rest of the batch is written.";

    E1008 => "currency, zone or money error",
"A value is not an ISO 4217 currency code (`\"usdx\"`), a currency has no
minor unit (XAU), two money values have different currencies, a local time
does not exist or exists twice in the zone (a DST gap or overlap) under the
`error` policy, or no exchange rate is given for a currency pair. The record
is rejected with the path and the value.";

    E1009 => "record without a key, or write refused",
"`tether sync` matches the two sides' records by the mapping's `key`: a
record whose key field is missing or null cannot be matched, and a
provider may refuse an operation (a validation error). Either way the
record goes to the dead-letter store with the error, and later events for
the same key wait behind it. Fix the record or the mapping, then
`tether dlq replay ID` (or `discard` it).";

    E1010 => "money with more decimals than its currency",
"A value written to a `money` target has more decimals than its currency
has minor units (ISO 4217: USD 2, KWD 3, JPY 0). Money arithmetic keeps
every digit (`mul`, `div`, `add` of amounts), and a money field of the
input may carry more; tether never rounds silently, so the record is
rejected with the value, the currency and the target. Round in the rule:

```
(price, qty) -> total : mul(qty) | round_money            // half-even
(price, qty) -> total : mul(qty) | round_money(\"half_up\")
```

Trailing zeros are not decimals: `3.000` USD is written `3.00`.";
}
