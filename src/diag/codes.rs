//! Every diagnostic and runtime error code, with its explanation.
//!
//! One table serves `tether explain CODE` and the generated `docs/errors.md`
//! (a test fails when the file is stale). Codes are stable: never renumber,
//! only add.
//!
//! Why one file of about 900 lines: the registry: one row per code with its
//! explanation, one table by design (it generates `tether explain` and
//! docs/errors.md).

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

    E0005 => "schema file declares no types",
"An imported JSON Schema, OpenAPI or Swagger document was read, but nothing in
it is a type tether can declare: no `definitions` (Swagger 2.0), no
`components.schemas` (OpenAPI 3), and no request or response body schema
under `paths`, or only named scalars and arrays. An empty schema would only
move the error to every mapping that uses it, so the import fails here.

```yaml
openapi: 3.0.3
info: { title: Files, version: \"1\" }
paths:
  /files/{id}:
    delete:
      responses:
        \"204\": { description: deleted }   # no body: nothing to import
```

Check that the file is the API description (not an index of other files),
or import the files its `$ref`s name.";

    E0006 => "API description version not supported",
"The document says it is an API description of a version tether does not
read: Swagger 1.x (`swaggerVersion: \"1.2\"`), or a `swagger`/`openapi` value
other than `2.0` and `3.x`. Read as JSON Schema it would give wrong types, so
it is refused.

```json
{ \"swaggerVersion\": \"1.2\", \"apis\": [ ... ] }   // error
```

Convert it to OpenAPI 3 (or Swagger 2.0) first.";

    E0007 => "nested too deeply",
"Types, literals, `if` steps or rule blocks are nested more than 64 levels
deep, in a mapping file, a `.tschema` file or an imported JSON Schema,
OpenAPI or XSD document. Every phase of tether walks these structures, so
the limit keeps a hostile or generated file from exhausting the stack; no
hand-written mapping or real provider schema comes near it.

```
schema s {
  record R { a: [[[[[[ ... 65 levels ... string ]]]]]] }   // error
}
```

Name an inner record type and refer to it (a chain of named types is not
nesting), or flatten the value. The message names the construct and the
place where the limit was passed.";

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
"A side name (in `given`, `expect`, a `conflict` rule or `unmapped`) is
neither the schema name of one of the mapping's two types nor
`left`/`right`.

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
```

The same holds for the elements of an array: `units[].amount.value -> Values`
gathers one element per unit, a null one where a unit has no `amount` (an
optional field). A target `Values: [int]` does not allow null elements;
declare `[int?]`, or gather a field every element has.";

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
"The rule's arrow does not fit: a rule flowing a way the mapping's header
does not (a `<-` or `<->` rule in a `->` mapping, a `->` or `<->` rule in a
`<-` mapping), or a literal on the receiving side.

```
mapping lead: web.Form -> crm.Contact {
  email <- Email          // error: the mapping goes left to right only
  \"web\" <- LeadSource     // error: a literal cannot receive a value
}
```

Write the header as `web.Form <-> crm.Contact` to map both ways. A `<->`
rule may have a pipeline: its way back is derived from the steps' inverses;
a step that cannot be undone is E0222, not this error.";

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
"A `conflict` entry names a field that no rule maps, or uses a rule that
does not fit the types of the field and of the fields the rules map it with
on the other side, as the sync merge applies it: `max`/`min` need one
ordered type on both sides (numbers, dates, times, date-times, text, bools;
not arrays, records, enums, currency codes or money), `union` needs arrays
with elements of one kind on both sides, and `newest(a, b)` needs
timestamps of one kind (date-times or dates on both sides, or integers on
both). A `default` of `max`, `min` or `union` must fit every field without
its own rule.

```
tags  <-> Tags            // [string] on both sides
v -> V : to_string        // int on the left, string on the right
conflict {
  Tags max                // error: arrays do not order
  V max                   // error: `V` (string) and `v` (int) order differently
}
```

Resolve such a field with `prefer SIDE`, `newest` or `review`, or give both
sides' fields types that fit.";

    E0215 => "test does not fit its mapping",
"A `test` block's `given` or `expect` side is not one of the mapping's sides,
or both name the same side.";

    E0216 => "unknown currency",
"A currency code written in the mapping (a literal, an argument such as
`from_minor(\"KWX\")`, or a type `money<KWX>`) is not in the ISO 4217 table
compiled into tether (List One, published 2026-01-01). Codes are
case-insensitive; withdrawn codes (BGN, ANG, CUC, ...) are not accepted, and
the error says when a code was withdrawn and what its country uses now
(from ISO 4217 List Three, also compiled in). At run time, a record whose
field holds a withdrawn code is rejected (E1002, E1008) with the same words.

```
amount -> Amount : from_minor(\"KWX\")   // error: did you mean `KWD`?
amount -> Amount : from_minor(\"HRK\")   // error: withdrawn in 2023-01; CROATIA now uses EUR
```";

    E0217 => "unknown time zone",
"A time zone argument is not an IANA zone name (the database is compiled
into tether; no system tzdata is read). Names are case-sensitive, as in the
IANA database: `Asia/Dubai`, `Europe/London`, `UTC`. Abbreviations are
not accepted, since they are ambiguous (`IST`: India, Israel, Ireland) and
do not say when daylight saving applies; the error suggests the zone and
lists the other meanings. Offsets are not zones: `+04:00` suggests
`Etc/GMT-4` (a fixed UTC+04:00; the IANA sign is inverted), an offset that
is not whole hours suggests a place.

```
created -> Created : to_zone(\"Asia/Dubia\")   // error: did you mean `Asia/Dubai`?
created -> Created : to_zone(\"GST\")          // error: did you mean `Asia/Dubai` (Gulf Standard Time)?
created -> Created : to_zone(\"+04:00\")       // error: did you mean `Etc/GMT-4`?
```";

    E0218 => "invalid date format",
"A date format argument is neither a named format (`iso8601`, `rfc3339`,
`rfc3339_seconds`, `rfc3339_millis`, `rfc2822`, `epoch_seconds`,
`epoch_millis`, `msjson`, `xsd`) nor a valid pattern: an unknown pattern
letter, a letter repeated more times than it has forms (`MMMMMM`), a field
given twice, `hh` without `a`, or a pattern that cannot produce the type
(`parse_date` needs `y`, `M` and `d`; `parse_datetime` needs an offset
`XXX`/`Z`). The message points at the offending letter. A word near a named
format gets it suggested (`iso`: `iso8601`; `rfc`: the four RFC formats),
and letters commonly confused get a note and the pattern meant (`mm` is
the minute, `MM` the month; `DD` is the day of the year, `dd` of the month;
`YYYY` is the week-based year, `yyyy` the calendar year).

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

    E0223 => "source path through a write-only field",
"A rule reads a field its schema marks write-only (JSON Schema / OpenAPI
`writeOnly: true`, `writeonly password: string` in a tether schema): the
provider accepts it but never sends it back, so a record read never has it.
Map it the other way only (`password <- Password`), or read another field.";

    E0224 => "rule writes a read-only field",
"A rule writes a field its schema marks read-only (JSON Schema / OpenAPI
`readOnly: true`, `readonly id: string` in a tether schema): the provider
sets it (an id, a creation time) and a write must not carry it. Map it the
other way only (`created <- createdAt`), or leave it out of this direction.
A read-only field is never reported as unmapped (E0205, W0001), and a `key`
rule may name one: the key says which record is meant.";

    E0229 => "XML namespace differs from the schema's",
"`tether check --schema NAME=PATH` checks a schema block against the real XML
Schema, and the block's `xmlns` is not the XSD's `targetNamespace` (or one of
them has none). The mapping as shipped reads documents in the block's
namespace and rejects the others (E1001), and writes its output in it, so a
provider sending documents of the real schema would have every one rejected.
Declare the XSD's namespace on the block.

```
schema camt xmlns \"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\" {  // error:
  ...                                 // the XSD is camt.053.001.02
}
```";

    E0233 => "required field declared unmapped",
"An `unmapped` declaration names a field the target requires. Leaving it out
cannot satisfy the schema: every record written would lack it. Map it, give
it a constant (`\"web\" -> LeadSource`), or make it optional in the schema.

```
mapping m: web.Form -> crm.Contact {
  email -> Email
  unmapped LastName, Fax    // error: `LastName` is required
}
```";

    E0234 => "invalid `unmapped` declaration",
"An `unmapped` declaration cannot say which fields it leaves out: in a `<->`
mapping it does not name the side (`unmapped salesforce: Id`: both sides
are targets), it names the side the mapping only reads, or a path goes
through an array (declare the element's fields inside the element block:
`lines[] -> Lines[] { ... unmapped Note }`) or into a `map`/`any` value
(whose members are never reported unmapped).

```
mapping contact: hubspot.Contact <-> salesforce.Contact {
  unmapped Id                      // error: which side's `Id`?
  unmapped salesforce: Id          // ok
}
```";

    E0226 => "more expected records than the mapping produces",
"A test has several `expect` blocks, but its mapping produces one record from
each input: only a mapping with `for` produces one record per element. Write
one test per input record, or check that the test names the mapping you meant.

```
test order_lines \"two lines, two records\" {
  given shop { number: \"A1\", lines: [ { sku: \"ab\" }, { sku: \"cd\" } ] }
  expect erp { OrderRef: \"A1\", Sku: \"AB\" }   // for a mapping with
  expect erp { OrderRef: \"A1\", Sku: \"CD\" }   // `for l in lines[]`
}
```";

    // ---------------------------------------------------------------- providers
    E0240 => "invalid provider declaration",
"A `provider` declaration is incomplete or says something twice: it has no
`base` or no `auth` (write `auth none` on purpose), a clause or a resource's
`read`/`fetch`/`create`/`update`/`delete` is written twice, a clause stands where it
does not apply (`upsert` or `id at` on an update, `message at` outside
`refuse`), a create is made safe two ways, a template names something a
request cannot send (a read's templates name `cursor`, `page` and `limit`; a
write's name `record` and `record.FIELD`; a `fetch` names only `{id}`, and
must name it), a `fetch` is not a GET, a `webhook` clause names no preset,
no `event`, no `record`/`fetch` (or both), an `event` or `fetch` that is
not a string or an integer, or a `record` from a body its preset does not
sign, a read sends `cursor` without
declaring one, a request path does not begin with `/` or holds `#`, a space
or another character a URL cannot carry, or a header name is not an HTTP
token or a header value holds a line break.

```
provider crm {
  base \"https://api.example.com\"
  // error: provider `crm` has no `auth`
  resource contacts: crm.Contact {
    read GET \"/contacts\" returns api.Page { records results }
  }
}
```";

    E0241 => "secret written as a literal",
"A credential is written into the file: a token, key, password or client
secret as a string (or read with `env(…)`, whose values are not treated as
secrets), or a literal `Authorization`, `Cookie`, `*-Key` or `*-Token`
header. Files end up in version control, plan files and logs. Write
`secret(\"NAME\")`: tether reads the value from `$NAME`, or from the file
`$NAME_FILE` names, when the sync starts, and redacts it from every message.

```
provider crm {
  base \"https://api.example.com\"
  auth bearer \"pat-na1-2f9c…\"          // error: a token cannot be written here
  auth bearer secret(\"CRM_TOKEN\")      // ok
}
```";

    E0242 => "invalid base URL",
"A provider's `base` (or its default) is not an absolute `https://` URL: it
has no scheme or host, it carries a query, a fragment or credentials, or it
is `http://` to a host that is not loopback, which would send credentials
unencrypted. Plain `http://` is for `localhost`, `127.0.0.1` and `[::1]`
(a local fake or proxy). A value from `env(…)` is checked the same way when
the sync starts.

```
provider crm {
  base \"http://api.example.com\"      // error: use https://
  base env(\"CRM_BASE_URL\") ?? \"https://api.example.com\"   // ok
}
```";

    E0243 => "records path does not lead to the mapped records",
"A read's `records PATH` must name, in the response type (`returns`), an
array whose elements are the resource's record type: the records the
mapping maps. A read that declares its response must say where the
records are. A `webhook` clause's `record at PATH` must likewise lead to a
record type one of the provider's resources serves.

```
resource contacts: hubspot.Contact {
  read POST \"/crm/v3/objects/contacts/search\" returns hubspot_api.SearchPage {
    records paging          // error: `records` must lead to `[hubspot.Contact]`
    records results         // ok
  }
}
```";

    E0244 => "pagination does not fit the response",
"A read's `page` clause does not fit its response or its cursor: a page
token that is not a string or an integer, a `next_url` that is not a
string, a `stop when` flag that is not a boolean, `keyset` paging without a
`cursor`, an `offset`, `page_number` or `keyset` style without the page's
`limit`, an option of another style, a style that sends the page's
offset, number or token as `page` when no part of the request names
`page` (every request would ask for the first page), or paging by position
(`offset`, `page_number`) with a cursor that has no `lookback` (records
that change while a read pages move between pages).

```
read GET \"/contacts\" returns api.Page {
  records results
  page keyset, limit 100     // error: keyset paging needs a cursor
}
```";

    E0245 => "cursor is not a date-time or number",
"A read's `cursor PATH` must name a field of the record type that grows with
every change: a date-time (or its text: RFC 3339, or epoch milliseconds in
a string, as HubSpot sends them), or an integer sequence. An integer cursor
is sent as it is: a date-time format (`iso8601`) does not fit it. A
`webhook` clause's `version PATH` must be an integer or a date-time too.

```
resource contacts: crm.Contact {
  read GET \"/contacts?since={cursor}\" returns api.Page {
    records results
    cursor archived as millis   // error: `archived` is `bool`
    cursor updatedAt as millis  // ok
  }
}
```";

    E0246 => "path template field an operation may not carry",
"A `{FIELD}` in a write's path must be a single value (a string, a number)
of the record: a record, an array or a map cannot be one path segment.
And an update or a delete is addressed only by what every such operation
carries: the side's `key` or `ids` path in the mapping that writes it (a
delete carries no record, an update only the changed fields).

```
update PATCH \"/contacts/{properties}\"   // error: `properties` is a record
update PATCH \"/contacts/{id}\"           // ok
```";

    E0247 => "create cannot be made safe to repeat",
"A create whose answer is lost (a timeout, a reset connection) is sent
again, and without a way to tell the provider it is the same create, the
record is made twice. Each `create` declares one: `idempotency header
\"NAME\"` (the provider answers a repeat of the key with the first answer),
`upsert` (the path names the record's external key), or a `lookup` by a
field the create itself writes (a consistent read sent before a create
whose outcome is unknown). A lookup by a field the create does not send
would never find what the create made.

```
create POST \"/contacts\" returns api.Contact {   // error: no way to repeat safely
  id at id
}
create POST \"/contacts\" returns api.Contact {
  id at id
  idempotency header \"Idempotency-Key\"         // ok
}
```";

    E0248 => "invalid status classes",
"A `status` block (or an `ok` list) names a number that is not an HTTP
status (100–599), puts one status in two classes, or calls a 2xx success
`retry` or `refuse`.

```
status {
  retry  429, 503
  refuse 400, 503      // error: status 503 is in two classes
}
```";

    E0249 => "invalid limit",
"A limit cannot work as written: a budget of 0 requests or per 0 s,
`retry max 0`, a timeout of 0, a backoff or breaker range whose minimum is
above its maximum, a number too large, a duration longer than 366 days (a
clock could not add it), or a cursor `lookback` of 7 days or
more (events are deduplicated for 7 days: a longer look-back could apply an
old version twice).

```
limits {
  retry max 5, backoff 30s..500ms   // error: the shortest is longer than the longest
}
```";

    E0250 => "response path without a response type",
"A request names a path in its response (`records`, `id at`, a page token,
`stop when`) but does not declare the response's type with `returns`, so
the path cannot be checked. Declare it: a `.tschema` record for the API's
envelope.

```
create POST \"/contacts\" {
  id at id                         // error: no `returns` type
}
create POST \"/contacts\" returns api.Contact {
  id at id                         // ok
}
```";

    E0251 => "records born here cannot be linked",
"A provider's resource is read, and its records may lack the mapping's key
on that side (the key field is optional: a record made in that system by
hand has none). Such a record can only be linked to the other side if
tether writes the key back to it, which needs a writable key field, a
mapping that writes that side, the resource's `update`, the mapping's
`ids` to address the record until it has a key, and a key that is the
other side's own id (`key id <-> HubSpot_Id__c` with `ids id <-> Id`: the
other side's create answers with its new record's id, which is a key to
write back only there). One of them is missing.

```
mapping contact: crm.Contact -> erp.Customer {   // one way: never writes crm
  key properties.ref -> ref                       // error: `ref` is optional in crm
}
```";

    E0252 => "incomplete authentication",
"An `oauth2` block lacks what its grant needs (`token_url`, `client_id`,
`client_secret`, and for `refresh_token` the refresh token), says a key
twice, names a key of the other grant (`scope` on a refresh grant, a refresh
token on client credentials), marks a value other than the refresh token
`rotating`, or has a token URL that is not a path or an `https://` URL.

```
auth oauth2 refresh_token {       // error: missing `refresh_token`
  token_url     \"/oauth/v1/token\"
  client_id     env(\"CRM_CLIENT_ID\")
  client_secret secret(\"CRM_CLIENT_SECRET\")
}
```";

    E0253 => "provider cannot write what the mapping sends",
"A mapping writes a side whose record type a declared provider's resource
serves, and that resource lacks a request the mapping will send: every
written side gets creates and updates, and deletes too under `on delete
propagate` or `review`. Declare the request, or make the mapping one-way
(`->`) if that side is only read.

```
resource contacts: crm.Contact {
  read GET \"/contacts\" returns api.Page { records results }
  // error when a `<->` mapping writes crm.Contact: no `create`, `update`
}
```";

    // ---------------------------------------------------------------- documents
    E0260 => "selector not allowed here",
"An index (`tax_lines[0]`, `tax_lines[-1]`: the element at a position,
counted from 0, negative from the end) stands where it cannot: on a field
that is not an array, in a path that is not a rule's source (a target, a
`key`, an argument, a `(path)` step, a block, a `for`, a tuple), or in a
path that also iterates or picks twice. A pick gives one value, missing
when the array has no element there, so a required target needs
`| default(...)` or `| required`.

```
tax_lines[0].price  -> FirstTax : default(\"0.00\")   // ok
tax_lines[].rate[0] -> Rate                          // error: `rate` is not an array
total -> Lines[0].Amount                             // error: not on a target (yet)
```";

    E0262 => "sum of money whose currencies may differ",
"`sum`, `min` or `max` is applied to money whose currency the checker cannot
know to be one: a `[money]` field read from input, or a gather of money
values, carries a currency per element, and nothing says which currency the
result should be in. State it: `sum(\"EUR\")` or `sum(currency)` (an element
in another currency then rejects the record, E1008, naming the element, and
an empty array sums to 0 in that currency), or sum plain amounts where a
total irrespective of currency is meant (pain.001's `CtrlSum` is defined
so). Money of a schema-declared currency (`[money<EUR>]`) sums without
being told.

```
payments[].amount -> Total : sum            // error: each amount has its own currency
payments[].amount -> Total : sum(\"EUR\")   // ok: another currency rejects the record
```";

    // ---------------------------------------------------------------- warnings
    W0001 => "optional target field not mapped",
"A target field that may be absent is not written by any rule. This is only a
warning: it is often intended, but a field forgotten here is data lost
quietly. Say so in the mapping when it is intended: `unmapped Fax, Title`
(in a one-way mapping), `unmapped salesforce: Id` (one side of a `<->`
mapping); the warning then names only the fields nobody decided about.";

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

    W0006 => "timestamp compared as text",
"A `newest(a, b)` conflict rule names a `string` field as a timestamp. The
sync merge compares two values as instants when both read as RFC 3339
date-times (`2024-01-15T10:30:00Z`, or with a `+0000` offset as Salesforce
writes them); any other text is compared as text, which is not time order
(`\"15/01/2024\"` sorts after `\"01/02/2024\"`).

```
conflict {
  default newest(updatedAt, LastModified)   // warning: `LastModified` is a string
}
```

Declare the field `datetime` (or `int`, for versions and epoch numbers) in
its schema. Fields that are not timestamps at all (a bool, an array) are
E0214.";

    W0007 => "table key outside the source enum",
"A table applied to an enum value has a key that is not one of the enum's
values: the entry can never match, and with an `else` nothing else says so
(a typo such as `\"opne\"` quietly falls to the fallback).

```
enum Status { \"new\", \"open\", \"closed\" }
table stage { \"new\" -> \"OPEN\"  \"opne\" -> \"OPEN\"  else -> \"DONE\" }
status -> Stage : stage   // warning: \"opne\" is not a value of `Status`
```

The warning is given where the table is used on the enum, with the nearest
value of the enum. Fix the key, or remove the entry if the provider no
longer sends that value.";

    W0008 => "field declared unmapped is mapped",
"An `unmapped` declaration names a field that a rule writes: the declaration
is stale (the rule wins; the field is mapped). Remove the field from
`unmapped`.";

    W0009 => "argument probably not what was meant",
"A constant argument is valid but reads like a common mistake, so the rule
would quietly produce something else than intended:

* a date pattern that puts minutes where a month belongs (`yyyy-mm-dd`: `mm`
  is minutes, the month is `MM`), a month among the time fields
  (`HH:MM`), or a fraction of a second without seconds (`HH:mm:SS`: `S` is a
  fraction, seconds are `ss`). The same confusions, and `D` (day of the
  year), `Y` (week-based year), `hh` without `a`, in a pattern that is not
  valid are notes on its error, E0218;
* a time zone name that the IANA database keeps for old systems and that
  has no daylight saving time: `EST` is UTC-05:00 all year (it is
  `America/Panama`), not New York's time; `MST` is `America/Phoenix`.

```
at -> Day : format_datetime(\"yyyy-mm-dd\")   // warning: did you mean `yyyy-MM-dd`?
at -> At  : to_zone(\"EST\")                  // warning: `America/New_York` has DST
```

Write what was meant; the warning does not stop `check` or `build`.";

    W0011 => "allOf parts disagree on a property",
"Two parts of an `allOf` (in a JSON Schema or OpenAPI document) declare the
same property with different types. The parts are composed transitively
(`A = allOf[$ref B, {size}]`, `B = allOf[$ref C, {name}]` gives A `id`,
`name` and `size`), and `required` lists of every part apply, so the only
question left is the type of a property declared twice. tether does not
let the last part win: the property gets the type common to both (an
enum and a string are a `string`, an `int` and a number a `decimal`),
or `any` when there is none. The warning points at the later part.

```yaml
Base:     { properties: { id: { type: integer } } }
Resource:
  allOf:
    - $ref: '#/components/schemas/Base'
    - properties: { id: { type: string } }   # warning: `id` is `int` in `Base`
```

Fix the schema if you can; otherwise map the field with a conversion that
accepts both.";

    W0012 => "enum value listed twice in a schema",
"An enum in an imported schema lists the same value twice. Real provider
specs have such mistakes (one duplicate in an 893-value list); the value is
kept once and the import goes on. The warning points at the second
occurrence. In a `schema` block or `.tschema` file written for tether, the
same mistake is error E0003.

```yaml
status: { type: string, enum: [open, closed, open] }   # warning: \"open\" twice
```";

    W0013 => "union imported as a weaker type",
"A `oneOf`/`anyOf` (a union) has variants that disagree, and tether has no
union type: the union is imported as the honest common type, never as
whichever variant is written last. Variants that are all objects become
one record with every variant's fields (a field in only some variants is
optional; one whose type differs between variants takes the common type,
or `any`, and the warning names the field and the variants' types).
Variants that are not all objects (`string` or a `Customer`, Stripe's
expandable fields) become `any`, read with `id_of` and friends. The result
does not depend on the order the variants are written. One warning per
file is given for unions that become `any` (the first, with a count of the
others).

```yaml
Payment:
  oneOf:
    - { properties: { amount: { type: integer } } }
    - { properties: { amount: { type: string } } }   # warning: `amount` is `any`
```";

    W0015 => "types named from method and path",
"An OpenAPI or Swagger operation without an `operationId` has a request or
response body that tether imports as a type. Body types are named
`<operationId>_request` and `<operationId>_<status>` (`createCustomer_201`);
without an id the name comes from the method and path instead
(`post /customers/{id}` gives `post_customers_id_201`). That name is
stable, but changes when the path is renamed, and every mapping that uses
it breaks. One warning names the first such operation and counts the others.

```yaml
paths:
  /customers:
    post:                 # warning: no operationId
      responses:
        \"201\": { content: { application/json: { schema: { $ref: customer.json } } } }
```

Give the operation an `operationId` (or map the named schema it returns).";

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
value outside the enum), or a field the mapping cannot do without is absent.
A record read may lack a field its schema requires (a query that did not
select it, a webhook with only the changed fields): that is an error only
where the field is needed, as the key, an array a `for` iterates, a field a
step or argument reads, or the source of a required target that nothing in
its pipeline (`default`, `if is_missing`) stands in for. Elsewhere its
target is left out. The record is rejected with the path and the value.";

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

    E1014 => "record larger than the limit",
"An NDJSON record (one line) is longer than the per-record limit, 16 MiB by
default. It is rejected without being read whole (the reader keeps at most
the limit in memory, so one huge line cannot exhaust it) and the rest of
the input is mapped. The reject names the line and the record's length;
the record itself is left out of the reject. A sync inbox line over the
limit is a dead letter with the same message.

```
tether run m.tether --mapping orders --input big.ndjson --max-record-bytes 67108864
```

Raise the limit only for inputs whose records really are that large.";
}
