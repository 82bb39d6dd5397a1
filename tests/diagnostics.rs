//! Snapshots of rendered diagnostics, and the parser/checker never panic.

use proptest::prelude::*;
use tether::compile::compile_source;
use tether::diag::{Code, render_plain};

const SCHEMAS: &str = r#"
schema a {
  record In { email: string, name?: string?, amount: string, status: Status, n: int }
  enum Status { "new", "open", "closed" }
}
schema b {
  record Out { Email: string, Name: string, Amount?: decimal, Stage?: Stage, Label?: string }
  enum Stage { "OPEN", "DONE" }
}
"#;

fn render(body: &str) -> String {
    let src = format!("{SCHEMAS}{body}");
    let c = compile_source("case.tether", &src, None);
    render_plain(&c.sources, &c.diagnostics)
}

/// A snapshot of the rendered diagnostics, which must include `$code`: a
/// case that stops producing its code fails even if someone re-blesses it.
macro_rules! snap {
    ($name:ident, $code:literal, $body:expr) => {
        #[test]
        fn $name() {
            let rendered = render($body);
            assert!(
                rendered.contains(&format!("[{}]", $code)),
                "expected {} in:\n{rendered}",
                $code
            );
            insta::assert_snapshot!(rendered);
        }
    };
    // The same, and the output must say `$says` (the hint under test).
    ($name:ident, $code:literal, $body:expr, says $says:literal) => {
        #[test]
        fn $name() {
            let rendered = render($body);
            assert!(
                rendered.contains(&format!("[{}]", $code)) && rendered.contains($says),
                "expected {} saying {:?} in:\n{rendered}",
                $code,
                $says
            );
            insta::assert_snapshot!(rendered);
        }
    };
}

snap!(
    e0001_missing_arrow,
    "E0001",
    "mapping m: a.In -> b.Out {\n  email Email\n}"
);
snap!(
    e0103_unknown_field,
    "E0103",
    "mapping m: a.In -> b.Out {\n  emial -> Email\n  name -> Name : default(\"x\")\n}"
);
snap!(
    e0003_second_delete_policy,
    "E0003",
    "mapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name : default(\"x\")\n  conflict {\n    on delete propagate\n    on delete ignore\n  }\n}"
);
snap!(
    e0201_delete_flag_not_boolean,
    "E0201",
    "mapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name : default(\"x\")\n  conflict {\n    on delete review when email\n  }\n}"
);
snap!(
    e0103_unknown_ids_field,
    "E0103",
    "mapping m: a.In -> b.Out {\n  ids email <-> Emial\n  email -> Email\n  name -> Name : default(\"x\")\n}"
);
snap!(
    e0204_element_wise_array_from_an_optional_array,
    "E0204",
    "schema c {\n  record Src { tags?: [Tag]? }\n  record Tag { name: string }\n  record Dst { Names: [string] }\n}\nmapping m: c.Src -> c.Dst {\n  tags[].name -> Names[]\n}"
);
snap!(
    e0204_gathered_elements_may_be_null,
    "E0204",
    "schema c {\n  record Src { units: [Unit] }\n  record Unit { amount?: Amount }\n  record Amount { value: int }\n  record Dst { Values: [int] }\n}\nmapping m: c.Src -> c.Dst {\n  units[].amount.value -> Values\n}",
    says "elements"
);

#[test]
fn an_element_wise_array_into_an_optional_array_checks() {
    let body = "schema c {\n  record Src { tags?: [Tag]? }\n  record Tag { name: string }\n  record Dst { Names?: [string]? }\n}\nmapping m: c.Src -> c.Dst {\n  tags[].name -> Names[]\n}";
    let rendered = render(body);
    assert!(!rendered.contains("error"), "{rendered}");
}

snap!(
    e0105_unknown_transform,
    "E0105",
    "mapping m: a.In -> b.Out {\n  email -> Email : lowercase\n  name -> Name : default(\"x\")\n}"
);
snap!(
    e0201_type_mismatch,
    "E0201",
    "mapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name : default(\"x\")\n  amount -> Amount : trim\n}"
);
snap!(
    e0201_string_into_currency_suggests_currency_code,
    "E0201",
    "schema c {\n  record In { cur: string, at: datetime, price: decimal }\n  record Out { Cur: currency, Day: date, Price: money<USD>, Epoch: int }\n}\nmapping m: c.In -> c.Out {\n  cur -> Cur\n  at -> Day\n  price -> Price\n  at -> Epoch\n}",
    says "`: currency_code`"
);
snap!(
    e0204_may_be_missing,
    "E0204",
    "mapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name\n}"
);
snap!(
    e0205_required_unmapped,
    "E0205",
    "mapping m: a.In -> b.Out {\n  email -> Email\n}"
);
snap!(
    e0206_written_twice,
    "E0206",
    "mapping m: a.In -> b.Out {\n  email -> Email\n  name -> Email : default(\"x\")\n  name -> Name : default(\"x\")\n}"
);
snap!(
    e0207_table_not_exhaustive,
    "E0207",
    "table st { \"new\" -> \"OPEN\"  \"open\" -> \"OPEN\" }\nmapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name : default(\"x\")\n  status -> Stage : st\n}"
);
snap!(
    e0208_table_outside_enum,
    "E0208",
    "table st { \"new\" -> \"OPEN\"  \"open\" -> \"OPEN\"  else -> \"CLOSED\" }\nmapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name : default(\"x\")\n  status -> Stage : st\n}"
);
snap!(
    e0209_backward_rule_in_one_way_mapping,
    "E0209",
    "mapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name : default(\"x\")\n  email <- Label\n}"
);
snap!(
    e0202_wrong_arguments,
    "E0202",
    "mapping m: a.In -> b.Out {\n  email -> Email : pad_left(\"x\")\n  name -> Name : default(\"x\")\n}"
);
snap!(
    all_errors_of_a_file_in_one_run,
    "E0103",
    "table broken { \"a\" \"b\" }\nmapping m: a.In -> b.Out {\n  emial -> Email\n  name -> Name : defualt(\"x\")\n}"
);

snap!(
    e0002_unknown_escape,
    "E0002",
    "mapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name : default(\"x\\q\")\n}"
);
snap!(
    e0003_table_defined_twice,
    "E0003",
    "table st { \"new\" -> \"OPEN\"  else -> \"DONE\" }\ntable st { else -> \"DONE\" }\nmapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name : default(\"x\")\n  status -> Stage : st\n}"
);
snap!(
    e0004_import_of_unsupported_file,
    "E0004",
    "import schema c from \"contact.graphql\"\nmapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name : default(\"x\")\n}"
);
// Issue 16 item 6: API descriptions that imported as nothing (fixtures and
// behaviour in tests/swagger_and_paths.rs).
snap!(
    e0005_api_description_without_types,
    "E0005",
    "import schema api from \"tests/data/swagger/empty.openapi.yaml\"",
    says "no definitions, no components.schemas, no schemas under paths"
);
snap!(
    e0006_swagger_1_document,
    "E0006",
    "import schema api from \"tests/data/swagger/swagger-1.2.json\""
);
snap!(
    w0015_body_types_named_from_method_and_path,
    "W0015",
    "import schema api from \"tests/data/swagger/paths-only/openapi.yaml\""
);
// Issue 16 items 1, 3, 7: JSON Schema composition (fixtures and behaviour
// in tests/jsonschema_composition.rs).
snap!(
    w0011_allof_parts_disagree_on_a_property,
    "W0011",
    "import schema api from \"tests/data/jsonschema/allof.yaml\"",
    says "`id` is `int` in `Base`, `string` in part 2 of the allOf of `Clash`"
);
snap!(
    w0012_enum_value_listed_twice_in_a_schema,
    "W0012",
    "import schema api from \"tests/data/jsonschema/duplicate-enum.yaml\""
);
snap!(
    w0013_union_imported_as_a_weaker_type,
    "W0013",
    "import schema api from \"tests/data/jsonschema/unions.json\"",
    says "`fee` is `string` in variant `Bank`, `int` in variant `Card`"
);
// Issue 17 item 10: nesting past syntax::MAX_NESTING (64), by brackets
// before the parser runs, and by the AST where no bracket nests (`else if`).
snap!(
    e0007_brackets_nested_too_deeply,
    "E0007",
    &format!(
        "schema c {{ record R {{ x: {}string{} }} }}",
        "[".repeat(70),
        "]".repeat(70)
    ),
    says "more than 64 levels of brackets"
);
snap!(
    e0007_else_if_chain_nested_too_deeply,
    "E0007",
    &format!(
        "mapping m: a.In -> b.Out {{\n  email -> Email : {}{{ trim }}\n  name -> Name : default(\"x\")\n}}",
        "if is_blank { \"x\" } else ".repeat(70)
    ),
    says "more than 64 levels of types, values, `if` steps and rule blocks"
);
snap!(
    e0101_unknown_schema,
    "E0101",
    "mapping m: aa.In -> b.Out {\n  email -> Email\n}"
);
snap!(
    e0102_unknown_type,
    "E0102",
    "schema c { record R { x: strng } }\nmapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name : default(\"x\")\n}"
);
snap!(
    e0104_unknown_table,
    "E0104",
    "table deal_stage { \"new\", \"open\" -> \"OPEN\"  else -> \"DONE\" }\nmapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name : default(\"x\")\n  status -> Stage : deal_stages\n}"
);
snap!(
    e0106_unknown_mapping,
    "E0106",
    "mapping lead: a.In -> b.Out {\n  email -> Email\n  name -> Name : default(\"x\")\n}\ntest laed \"t\" { given a { email: \"x\" } expect b { Email: \"x\" } }"
);
snap!(
    e0107_unknown_side,
    "E0107",
    "mapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name : default(\"x\")\n}\ntest m \"t\" { given aa { email: \"x\" } expect b { Email: \"x\" } }"
);
snap!(
    e0108_path_into_a_string,
    "E0108",
    "mapping m: a.In -> b.Out {\n  email.domain -> Email\n  name -> Name : default(\"x\")\n}"
);
snap!(
    e0203_transform_does_not_take_input,
    "E0203",
    "mapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name : default(\"x\")\n  n -> Label : lower\n}"
);
snap!(
    e0210_tuple_source_without_combining_step,
    "E0210",
    "mapping m: a.In -> b.Out {\n  (email, amount) -> Email\n  name -> Name : default(\"x\")\n}"
);
snap!(
    e0211_table_mixes_value_types,
    "E0211",
    "table st { \"new\" -> \"OPEN\"  \"open\" -> 1  else -> \"DONE\" }\nmapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name : default(\"x\")\n  status -> Stage : st\n}"
);
snap!(
    e0212_block_from_array_to_non_array,
    "E0212",
    "schema c { record In { items: [{ sku: string }] } }\nmapping m: c.In -> b.Out {\n  items[] -> Email {\n    sku -> Email\n  }\n  \"x\" -> Name\n}"
);
snap!(
    e0213_condition_not_bool,
    "E0213",
    "mapping m: a.In -> b.Out {\n  email -> Email : if trim { \"x\" } else { lower }\n  name -> Name : default(\"x\")\n}"
);
snap!(
    e0214_conflict_on_unmapped_field,
    "E0214",
    "schema c {\n  record L { x: string, y?: string }\n  record R { X: string, Y?: string }\n}\nmapping m: c.L <-> c.R {\n  x <-> X\n  conflict {\n    Y prefer left\n  }\n}"
);
snap!(
    e0215_test_with_one_side_twice,
    "E0215",
    "mapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name : default(\"x\")\n}\ntest m \"t\" { given a { email: \"x\" } expect a { email: \"x\" } }"
);
snap!(
    w0001_optional_target_unmapped,
    "W0001",
    "mapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name : default(\"x\")\n}"
);

// ---- `unmapped`: optional target fields left out on purpose

snap!(
    w0001_names_only_fields_not_declared_unmapped,
    "W0001",
    "mapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name : default(\"x\")\n  unmapped Amount, Stage\n}"
);

#[test]
fn optional_fields_declared_unmapped_are_not_warned_about() {
    let rendered = render(
        "mapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name : default(\"x\")\n  unmapped Amount, Stage, Label\n}",
    );
    assert_eq!(rendered, "");
}

#[test]
fn unmapped_names_the_side_of_a_two_way_mapping_and_works_in_element_blocks() {
    let rendered = render(
        "schema l { record L { id: string, note?: string, lines?: [LL]? }\n  record LL { sku: string, memo?: string } }\n\
         schema r { record R { Id: string, Note?: string, Lines?: [RL]? }\n  record RL { Sku: string, Memo?: string } }\n\
         mapping m: l.L <-> r.R {\n  id <-> Id\n  lines[] <-> Lines[] {\n    sku <-> Sku\n    unmapped right: Memo\n    unmapped l: memo\n  }\n  unmapped r: Note\n  unmapped left: note\n}",
    );
    assert_eq!(rendered, "");
}

#[test]
fn a_field_named_unmapped_is_still_mapped_by_a_rule() {
    let rendered = render(
        "schema c {\n  record S { unmapped: string }\n  record T { Out: string }\n}\nmapping m: c.S -> c.T {\n  unmapped -> Out\n}",
    );
    assert_eq!(rendered, "");
}

snap!(
    e0103_unknown_field_declared_unmapped,
    "E0103",
    "mapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name : default(\"x\")\n  unmapped Amount, Stage, Lable\n}"
);
snap!(
    e0233_required_field_declared_unmapped,
    "E0233",
    "mapping m: a.In -> b.Out {\n  email -> Email\n  unmapped Name, Amount, Stage, Label\n}"
);
snap!(
    e0234_unmapped_without_a_side_in_a_two_way_mapping,
    "E0234",
    "schema c {\n  record L { id: string, note?: string }\n  record R { Id: string, Note?: string }\n}\nmapping m: c.L <-> c.R {\n  id <-> Id\n  unmapped Note\n}"
);
snap!(
    e0234_unmapped_on_the_side_a_mapping_reads,
    "E0234",
    "mapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name : default(\"x\")\n  unmapped Amount, Stage, Label\n  unmapped a: name\n}"
);
snap!(
    e0234_unmapped_through_an_array,
    "E0234",
    "schema c {\n  record S { id: string }\n  record T { Id: string, Lines?: [Line] }\n  record Line { Sku?: string }\n}\nmapping m: c.S -> c.T {\n  id -> Id\n  unmapped Lines[].Sku\n}"
);
snap!(
    w0008_field_declared_unmapped_is_mapped,
    "W0008",
    "mapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name : default(\"x\")\n  email -> Label\n  unmapped Amount, Stage, Label\n}"
);

snap!(
    w0002_unused_table,
    "W0002",
    "table st { else -> \"DONE\" }\nmapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name : default(\"x\")\n  amount -> Amount : parse_decimal\n  \"OPEN\" -> Stage\n  \"x\" -> Label\n}"
);

snap!(
    e0216_unknown_currency,
    "E0216",
    "schema c {\n  record In { amount: int }\n  record Out { total: money<KWD>, fee: money<KWX> }\n}\nmapping m: c.In -> c.Out {\n  amount -> total : from_minor(\"KWD\")\n  amount -> fee : from_minor(\"kwdd\")\n}"
);
snap!(
    e0216_withdrawn_currency,
    "E0216",
    "schema c {\n  record In { amount: int }\n  record Out { total: money<HRK>, fee: money<EUR>, old: money }\n}\nmapping m: c.In -> c.Out {\n  amount -> total : from_minor(\"EUR\")\n  amount -> fee : from_minor(\"hrk\")\n  amount -> old : money(\"YUM\")\n}"
);
snap!(
    e0217_unknown_zone,
    "E0217",
    "schema c {\n  record In { created: int }\n  record Out { at: datetime }\n}\nmapping m: c.In -> c.Out {\n  created -> at : parse_datetime(\"epoch_seconds\") | to_zone(\"Asia/Dubia\")\n}"
);
snap!(
    e0217_zone_abbreviations_and_offsets,
    "E0217",
    "schema c {\n  record In { at: datetime }\n  record Out { a: datetime, b: datetime, c: datetime, d: datetime }\n}\nmapping m: c.In -> c.Out {\n  at -> a : to_zone(\"GST\")\n  at -> b : to_zone(\"IST\")\n  at -> c : to_zone(\"+04:00\")\n  at -> d : to_zone(\"UTC+05:30\")\n}",
    says "did you mean \"Asia/Dubai\" (Gulf Standard Time)?"
);
snap!(
    w0009_zone_without_daylight_saving,
    "W0009",
    "schema c {\n  record In { at: localdatetime }\n  record Out { a: datetime }\n}\nmapping m: c.In -> c.Out {\n  at -> a : assume_zone(\"EST\")\n}",
    says "America/New_York"
);
snap!(
    e0218_invalid_date_pattern,
    "E0218",
    "schema c {\n  record In { d: string }\n  record Out { d: date }\n}\nmapping m: c.In -> c.Out {\n  d -> d : parse_date(\"dd/MM/yyyyy\")\n}"
);
snap!(
    e0218_format_names_and_confused_pattern_letters,
    "E0218",
    "schema c {\n  record In { s: string, t: time }\n  record Out { a: datetime, b: date, c: datetime, d: date, e: string }\n}\nmapping m: c.In -> c.Out {\n  s -> a : parse_datetime(\"iso\")\n  s -> b : parse_date(\"yyyy-mm-dd\")\n  s -> c : parse_datetime(\"rfc\")\n  s -> d : parse_date(\"YYYY-MM-DD\")\n  t -> e : format_time(\"HH:mm:ss.sss\")\n}",
    says "`mm` is the minute; the month is `MM`"
);
snap!(
    w0009_pattern_probably_not_meant,
    "W0009",
    "schema c {\n  record In { at: datetime, t: string }\n  record Out { day: string, at: time }\n}\nmapping m: c.In -> c.Out {\n  at -> day : format_datetime(\"yyyy-mm-dd\")\n  t -> at : parse_time(\"HH:mm:SS\")\n}",
    says "did you mean \"yyyy-MM-dd\"?"
);
snap!(
    e0219_money_across_currencies,
    "E0219",
    "schema c {\n  record In { price: money<USD>, fee: money<EUR> }\n  record Out { total: money }\n}\nmapping m: c.In -> c.Out {\n  price -> total : add(fee)\n}"
);
snap!(
    e0260_index_on_a_field_that_is_not_an_array,
    "E0260",
    "schema c {\n  record In { lines: [Line] }\n  record Line { sku: string }\n  record Out { sku?: string }\n}\nmapping m: c.In -> c.Out {\n  lines[0].sku[1] -> sku\n}",
    says "not an array"
);
snap!(
    e0260_index_on_a_target,
    "E0260",
    "schema c {\n  record In { sku: string }\n  record Out { skus: [string] }\n}\nmapping m: c.In -> c.Out {\n  sku -> skus[0]\n}",
    says "source path"
);
snap!(
    e0204_a_pick_into_a_required_target,
    "E0204",
    "schema c {\n  record In { lines: [Line] }\n  record Line { sku: string }\n  record Out { sku: string }\n}\nmapping m: c.In -> c.Out {\n  lines[0].sku -> sku\n}"
);
snap!(
    e0262_sum_of_money_with_per_element_currencies,
    "E0262",
    "schema c {\n  record In { payments: [Pay] }\n  record Pay { amount: money }\n  record Out { total: money }\n}\nmapping m: c.In -> c.Out {\n  payments[].amount -> total : sum\n}",
    says "sum(\"EUR\")"
);
snap!(
    e0219_sum_of_parts_in_known_different_currencies,
    "E0219",
    "schema c {\n  record In { subtotal: money<EUR>, shipping: money<USD> }\n  record Out { total: money }\n}\nmapping m: c.In -> c.Out {\n  (subtotal, shipping) -> total : sum\n}"
);
snap!(
    e0212_element_wise_rule_over_two_arrays,
    "E0212",
    "schema c {\n  record In { blocks: [Block] }\n  record Block { ids: [string] }\n  record Out { ids: [string] }\n}\nmapping m: c.In -> c.Out {\n  blocks[].ids[] -> ids[]\n}",
    says "second `[]`"
);
snap!(
    e0203_each_on_a_value_that_is_not_an_array,
    "E0203",
    "mapping m: a.In -> b.Out {\n  email -> Email : each { trim }\n  name -> Name : default(\"x\")\n}",
    says "`each` takes an array"
);
snap!(
    e0222_each_in_a_two_way_rule,
    "E0222",
    "schema c {\n  record L { ids: [int] }\n  record R { ids: [string] }\n}\nmapping m: c.L <-> c.R {\n  ids <-> ids : each { to_string }\n}",
    says "one-way"
);
snap!(
    e0204_max_of_nothing_into_a_required_target,
    "E0204",
    "schema c {\n  record In { ns: [int] }\n  record Out { top: int }\n}\nmapping m: c.In -> c.Out {\n  ns[] -> top : max\n}"
);
snap!(
    e0220_for_that_does_not_nest,
    "E0220",
    "schema c {\n  record Doc { stmts: [Stmt], notes: [string] }\n  record Stmt { id: string, entries: [Entry] }\n  record Entry { amount: decimal }\n  record Out { id: string, amount: decimal }\n}\nmapping m: c.Doc -> c.Out {\n  for s in stmts[]\n  for e in notes[]\n  s.id -> id\n  e -> amount\n}"
);
snap!(
    e0220_for_without_brackets,
    "E0220",
    "schema c {\n  record Doc { stmts: [Stmt] }\n  record Stmt { id: string }\n  record Out { id: string }\n}\nmapping m: c.Doc -> c.Out {\n  for s in stmts\n  s.id -> id\n}"
);
snap!(
    e0221_binding_shadows_a_field,
    "E0221",
    "schema c {\n  record Doc { stmts: [Stmt], n: int }\n  record Stmt { id: string }\n  record Out { id: string }\n}\nmapping m: c.Doc -> c.Out {\n  for s at n in stmts[]\n  s.id -> id\n}"
);
snap!(
    e0222_lossy_format_on_a_two_way_rule,
    "E0222",
    "schema c {\n  record L { at: datetime }\n  record R { at: string }\n}\nmapping m: c.L <-> c.R {\n  at <-> at : format_datetime(\"dd/MM/yyyy\")\n}"
);
snap!(
    e0222_lower_in_a_two_way_rule,
    "E0222",
    "schema c {\n  record L { email: string }\n  record R { Email: string }\n}\nmapping m: c.L <-> c.R {\n  email <-> Email : trim | lower\n}"
);
snap!(
    e0222_to_string_of_a_date_in_a_two_way_rule,
    "E0222",
    "schema c {\n  record L { on: date }\n  record R { On: string }\n}\nmapping m: c.L <-> c.R {\n  on <-> On : to_string\n}"
);
snap!(
    e0222_division_that_rounds,
    "E0222",
    "schema c {\n  record L { n: decimal }\n  record R { n: decimal }\n}\nmapping m: c.L <-> c.R {\n  n <-> n : div(3)\n}"
);
snap!(
    w0005_table_values_that_do_not_round_trip,
    "W0005",
    "schema c {\n  record L { stage: string }\n  record R { Status: string }\n}\ntable st {\n  \"lead\" <-> \"Open\"\n  \"customer\" <-> \"Won\"\n  \"evangelist\" -> \"Won\"\n  \"other\" <- \"Lost\"\n}\nmapping m: c.L <-> c.R {\n  stage <-> Status : st\n}"
);

snap!(
    e0223_reading_a_write_only_field,
    "E0223",
    "schema c {\n  record L { login: string, writeonly password: string }\n  record R { Login: string, Secret: string }\n}\nmapping m: c.L <-> c.R {\n  login <-> Login\n  password <-> Secret\n}"
);
snap!(
    e0224_writing_a_read_only_field,
    "E0224",
    "schema c {\n  record L { id: string, created?: string }\n  record R { readonly Id: string, readonly CreatedAt?: string, Ref: string }\n}\nmapping m: c.L -> c.R {\n  key id -> Ref\n  created -> CreatedAt\n}"
);

#[test]
fn a_read_only_field_is_never_unmapped_and_may_be_the_key() {
    // `Id` is read-only and required: no E0205 for leaving it out, and the
    // key may name it (it says which record is meant).
    let body = "schema c {\n  record L { id: string }\n  record R { readonly Id: string, readonly At?: string }\n}\nmapping m: c.L <-> c.R {\n  key id <-> Id\n}";
    let rendered = render(body);
    assert!(!rendered.contains("E0224"), "{rendered}");
    let unkeyed = "schema c {\n  record L { id?: string }\n  record R { readonly Id: string, Ref?: string }\n}\nmapping m: c.L -> c.R {\n  id -> Ref\n}";
    let rendered = render(unkeyed);
    assert!(
        !rendered.contains("error") && !rendered.contains("W0001"),
        "{rendered}"
    );
}

snap!(
    w0004_unsupported_schema_construct,
    "W0004",
    "import schema shop from \"tests/fixtures/dangling_ref.json\"\nmapping m: shop.order -> b.Out {\n  id -> Email\n  id -> Name\n}"
);

// ---------------------------------------------------------------- issue 15

/// Two providers with fields of every kind a conflict rule cares about.
const SYNC_SCHEMAS: &str = "schema l {\n  record C { id: string, score?: int?, tags?: [string]?, note?: string?, stage?: St?, at?: datetime?, flag?: bool?, price?: money<USD>?, v?: int? }\n  enum St { \"new\", \"won\" }\n}\nschema r {\n  record C { Id: string, Score?: int?, Tags?: [string]?, Note?: string?, Stage?: St?, At?: datetime?, Flag?: bool?, Price?: money<USD>?, V?: string?, Changed?: string? }\n  enum St { \"new\", \"won\" }\n}\n";

/// `mapping m: l.C <-> r.C` with one-to-one rules and this conflict block.
fn sync_case(conflict: &str) -> String {
    format!(
        "{SYNC_SCHEMAS}mapping m: l.C <-> r.C {{\n  key id <-> Id\n  score <-> Score\n  tags <-> Tags\n  note <-> Note\n  stage <-> Stage\n  at <-> At\n  flag <-> Flag\n  price <-> Price\n  v -> V : to_string\n  v <- V : parse_int\n  conflict {{\n{conflict}\n  }}\n}}"
    )
}

snap!(e0214_max_on_an_array, "E0214", &sync_case("    Tags max"));
snap!(
    e0214_union_on_an_enum,
    "E0214",
    &sync_case("    Stage union")
);
snap!(e0214_max_on_money, "E0214", &sync_case("    Price max"));
snap!(
    e0214_max_on_a_number_written_as_text,
    "E0214",
    &sync_case("    V max")
);
snap!(
    e0214_union_on_a_string_and_an_array,
    "E0214",
    "schema l { record C { id: string, tags?: [string]? } }\nschema r { record C { Id: string, Tags?: string? } }\nmapping m: l.C <-> r.C {\n  key id <-> Id\n  tags -> Tags : join(\",\")\n  tags <- Tags : split(\",\")\n  conflict {\n    Tags union\n  }\n}"
);
snap!(
    e0214_newest_by_a_field_that_is_not_a_timestamp,
    "E0214",
    &sync_case("    default newest(flag, Flag)")
);
snap!(
    e0214_newest_by_timestamps_of_two_kinds,
    "E0214",
    &sync_case("    default newest(v, At)")
);
snap!(
    e0214_default_max_on_fields_that_do_not_order,
    "E0214",
    &sync_case(
        "    default max\n    Note prefer left\n    Stage prefer left\n    Flag prefer left"
    )
);
snap!(
    e0003_conflict_rule_for_a_field_twice,
    "E0003",
    &sync_case("    Score max\n    score min")
);
snap!(
    w0006_timestamps_compared_as_text,
    "W0006",
    &sync_case("    default newest(at, Changed)")
);

#[test]
fn conflict_rules_that_fit_their_fields_check() {
    let rendered = render(&sync_case(
        "    default newest(at, At)\n    Score max\n    at min\n    Flag max\n    Tags union\n    Note prefer right unless blank\n    Stage prefer left\n    Price review\n    V prefer left unless blank",
    ));
    assert!(!rendered.contains("error"), "{rendered}");
    assert!(!rendered.contains("W0006"), "{rendered}");
}

snap!(
    w0007_table_key_outside_the_source_enum,
    "W0007",
    "table st { \"new\" -> \"OPEN\"  \"opne\" -> \"OPEN\"  else -> \"DONE\" }\nmapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name : default(\"x\")\n  status -> Stage : st\n}"
);

#[test]
fn a_null_table_key_maps_null_so_the_target_is_never_null() {
    let body = "schema c {\n  record L { s?: St? }\n  record R { S?: string }\n  enum St { \"a\", \"b\" }\n}\ntable t { \"a\" -> \"A\"  \"b\" -> \"B\"  null -> \"none\" }\nmapping m: c.L -> c.R {\n  s -> S : t\n}";
    let rendered = render(body);
    assert!(!rendered.contains("error"), "{rendered}");
    assert!(!rendered.contains("W0007"), "{rendered}");
}

#[test]
fn a_table_used_by_a_rule_that_fails_is_not_unused() {
    let rendered = render(
        "table st { \"new\" -> \"OPEN\"  else -> \"DONE\" }\nmapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name : default(\"x\")\n  status -> Stage : lowr | st\n}",
    );
    assert!(rendered.contains("[E0105]"), "{rendered}");
    assert!(!rendered.contains("W0002"), "{rendered}");
}

snap!(
    e0202_field_argument_of_the_wrong_type,
    "E0202",
    "schema c {\n  record In { price: money<USD>, a2: decimal }\n  record Out { total: money<USD> }\n}\nmapping m: c.In -> c.Out {\n  price -> total : add(a2)\n}"
);

#[test]
fn e0209_explanation_agrees_with_two_way_pipelines() {
    // A `<->` rule with an invertible pipeline is allowed ...
    let rendered = render(
        "schema c {\n  record L { id: string }\n  record R { Id: string }\n}\nmapping m: c.L <-> c.R {\n  id <-> Id : prefix(\"hs:\")\n}",
    );
    assert!(!rendered.contains("error"), "{rendered}");
    // ... so E0209 must not say it is refused.
    let text = Code::E0209.explanation();
    assert!(!text.contains("only renames"), "{text}");
    assert!(text.contains("E0222"), "{text}");
}

const XML_SCHEMAS: &str = "schema x {\n  record Entry { Amt: Amount, Ref?: string }\n  record Amount { #value: decimal, @Ccy: string, Note?: string }\n}\nschema o { record Out { amount: decimal, currency: string, note?: string } }\n";

#[test]
fn xml_attribute_and_text_paths_are_written_as_declared() {
    let rendered = render(&format!(
        "{XML_SCHEMAS}mapping m: x.Entry -> o.Out {{\n  Amt.#value -> amount\n  Amt.@Ccy -> currency\n  Amt.Note -> note\n}}"
    ));
    assert!(!rendered.contains("error"), "{rendered}");
}

snap!(
    e0103_attribute_marker_on_a_child_element,
    "E0103",
    &format!(
        "{XML_SCHEMAS}mapping m: x.Entry -> o.Out {{\n  Amt.#value -> amount\n  Amt.@Ccy -> currency\n  Amt.@Note -> note\n}}"
    )
);
snap!(
    e0103_text_marker_with_another_name,
    "E0103",
    &format!(
        "{XML_SCHEMAS}mapping m: x.Entry -> o.Out {{\n  Amt.#text -> amount\n  Amt.@Ccy -> currency\n}}"
    )
);

// A test has one `given`, then one `expect` per record the mapping
// produces: the errors say so where the test goes wrong.
snap!(
    e0001_second_given_in_a_test,
    "E0001",
    "mapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name : default(\"x\")\n}\ntest m \"two inputs\" {\n  given a { email: \"x\" }\n  expect b { Email: \"x\", Name: \"x\" }\n  given a { email: \"y\" }\n  expect b { Email: \"y\", Name: \"x\" }\n}"
);
snap!(
    e0001_expect_before_given_in_a_test,
    "E0001",
    "mapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name : default(\"x\")\n}\ntest m \"backwards\" {\n  expect b { Email: \"x\", Name: \"x\" }\n  given a { email: \"x\" }\n}"
);
snap!(
    e0001_test_without_expect,
    "E0001",
    "mapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name : default(\"x\")\n}\ntest m \"nothing expected\" {\n  given a { email: \"x\" }\n}"
);
snap!(
    e0226_several_expects_for_a_mapping_without_for,
    "E0226",
    "mapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name : default(\"x\")\n}\ntest m \"two records from one\" {\n  given a { email: \"x\" }\n  expect b { Email: \"x\", Name: \"x\" }\n  expect b { Email: \"x\", Name: \"x\" }\n}"
);

// ---------------------------------------------------------------- providers

/// A schema for the provider cases: a record type and the API's envelopes.
const API: &str = r#"
schema api {
  record Contact { id: string, email?: string, updatedAt?: datetime, seq?: int, props?: { ref?: string }, archived?: bool }
  record Page { results: [Contact], next?: string, done?: bool, total?: int }
  record One { id: string }
}
"#;

fn provider_case(body: &str) -> String {
    format!("{API}provider crm {{\n{body}\n}}\n")
}

snap!(
    e0240_provider_without_auth,
    "E0240",
    &provider_case("  base \"https://api.example.com\"\n  resource contacts: api.Contact {\n    read GET \"/contacts\" returns api.Page { records results }\n  }"),
    says "has no `auth`"
);
snap!(
    e0241_provider_literal_secret,
    "E0241",
    &provider_case("  base \"https://api.example.com\"\n  auth bearer \"pat-na1-2f9c0a\""),
    says "write `secret("
);
snap!(
    e0242_provider_http_base_to_a_remote_host,
    "E0242",
    &provider_case("  base \"http://api.example.com\"\n  auth none"),
    says "use `https://`"
);
snap!(
    e0243_provider_records_path_wrong_type,
    "E0243",
    &provider_case(
        "  base \"https://api.example.com\"\n  auth none\n  resource contacts: api.Contact {\n    read GET \"/contacts\" returns api.Page { records total }\n  }"
    )
);
snap!(
    e0244_provider_keyset_without_cursor,
    "E0244",
    &provider_case(
        "  base \"https://api.example.com\"\n  auth none\n  resource contacts: api.Contact {\n    read GET \"/contacts\" returns api.Page {\n      records results\n      page keyset, limit 100\n    }\n  }"
    )
);
snap!(
    e0240_provider_read_sends_a_cursor_it_does_not_declare,
    "E0240",
    &provider_case("  base \"https://api.example.com\"\n  auth none\n  resource contacts: api.Contact {\n    read GET \"/contacts?since={cursor}\" returns api.Page { records results }\n  }"),
    says "declares none"
);
snap!(
    e0244_provider_token_paging_without_page,
    "E0244",
    &provider_case("  base \"https://api.example.com\"\n  auth none\n  resource contacts: api.Contact {\n    read GET \"/contacts\" returns api.Page {\n      records results\n      page token next\n    }\n  }"),
    says "no part of the request names it"
);
snap!(
    e0245_provider_cursor_not_a_time_or_number,
    "E0245",
    &provider_case(
        "  base \"https://api.example.com\"\n  auth none\n  resource contacts: api.Contact {\n    read GET \"/contacts?since={cursor}\" returns api.Page {\n      records results\n      cursor archived as millis\n    }\n  }"
    )
);
snap!(
    e0246_provider_path_field_not_a_scalar,
    "E0246",
    &provider_case(
        "  base \"https://api.example.com\"\n  auth none\n  resource contacts: api.Contact {\n    update PATCH \"/contacts/{props}\"\n  }"
    )
);
snap!(
    e0247_provider_create_not_safe_to_repeat,
    "E0247",
    &provider_case("  base \"https://api.example.com\"\n  auth none\n  resource contacts: api.Contact {\n    create POST \"/contacts\" returns api.One { id at id }\n  }"),
    says "idempotency header"
);
snap!(
    e0247_provider_lookup_by_a_field_the_create_does_not_send,
    "E0247",
    &provider_case(
        "  base \"https://api.example.com\"\n  auth none\n  resource contacts: api.Contact {\n    create POST \"/contacts\" returns api.One {\n      body { properties: record.props }\n      id at id\n      lookup GET \"/contacts/{email}?idProperty=email\" returns api.One, id at id\n    }\n  }"
    )
);
snap!(
    e0240_provider_fetch_not_a_get,
    "E0240",
    &provider_case("  base \"https://api.example.com\"\n  auth none\n  resource contacts: api.Contact {\n    fetch POST \"/contacts/{id}\"\n  }"),
    says "a fetch is a GET"
);
snap!(
    e0240_provider_fetch_without_the_id,
    "E0240",
    &provider_case("  base \"https://api.example.com\"\n  auth none\n  resource contacts: api.Contact {\n    fetch GET \"/contacts\" { query { limit: \"1\" } }\n  }"),
    says "no `{id}` in the path or query"
);
snap!(
    e0240_provider_fetch_names_a_record_field,
    "E0240",
    &provider_case("  base \"https://api.example.com\"\n  auth none\n  resource contacts: api.Contact {\n    fetch GET \"/contacts/{email}\"\n  }"),
    says "a fetch names only `{id}`"
);
snap!(
    e0240_provider_two_fetches,
    "E0240",
    &provider_case("  base \"https://api.example.com\"\n  auth none\n  resource contacts: api.Contact {\n    fetch GET \"/contacts/{id}\"\n    fetch GET \"/people/{id}\"\n  }"),
    says "has two fetches"
);

snap!(
    e0240_provider_webhook_unknown_preset,
    "E0240",
    &webhook_case("  webhook \"hubspot\" returns api.Notice { event eventId fetch objectId }"),
    says "no webhook preset"
);
snap!(
    e0240_provider_webhook_without_event,
    "E0240",
    &webhook_case("  webhook \"hubspot-v3\" returns api.Notice { each fetch objectId }"),
    says "no `event PATH`"
);
snap!(
    e0240_provider_webhook_without_record,
    "E0240",
    &webhook_case("  webhook \"hubspot-v3\" returns api.Notice { each event eventId }"),
    says "no `record` or `fetch`"
);
snap!(
    e0240_provider_webhook_record_and_fetch,
    "E0240",
    &webhook_case("  webhook \"stripe\" returns api.Notice { event eventId fetch objectId record at contact }"),
    says "says once where the record is"
);
snap!(
    e0240_provider_webhook_event_not_a_value,
    "E0240",
    &webhook_case("  webhook \"hubspot-v3\" returns api.Notice { event contact fetch objectId }"),
    says "must lead to a string or an integer"
);
snap!(
    e0240_provider_webhook_record_from_an_unsigned_body,
    "E0240",
    &webhook_case("  webhook \"tabby\" returns api.Notice { event eventId record at contact }"),
    says "does not sign the body"
);
snap!(
    e0243_provider_webhook_record_no_resource_serves,
    "E0243",
    &webhook_case("  webhook \"stripe\" returns api.Notice { event eventId record }"),
    says "a resource of this provider serves"
);
snap!(
    e0245_provider_webhook_version_not_a_time_or_number,
    "E0245",
    &webhook_case("  webhook \"hubspot-v3\" returns api.Notice { event eventId fetch objectId version subscriptionType }"),
    says "must be an integer or a date-time"
);

/// A `webhook` clause whose paths all fit the notice's type is accepted:
/// a fetch by id, a carried record of a type a resource serves, a delete
/// by suffix, a version, a batch.
#[test]
fn a_webhook_clause_is_accepted() {
    for clause in [
        "  webhook \"hubspot-v3\" returns api.Notice {\n    each\n    event eventId\n    fetch objectId\n    version occurredAt\n    delete when subscriptionType ends \".deletion\"\n  }",
        "  webhook \"stripe\" returns api.Notice { event eventId, subscriptionType record at contact delete when subscriptionType is \"gone\" }",
    ] {
        let rendered = render(&webhook_case(clause));
        assert!(!rendered.contains("error"), "{clause}:\n{rendered}");
    }
}

/// A provider with a notice type and a `webhook` clause.
fn webhook_case(clause: &str) -> String {
    format!(
        "{API}\nschema api_hooks {{ record Notice {{ eventId: int, objectId: string, occurredAt: int, subscriptionType: string, contact?: api.Contact? }} }}\nprovider crm {{\n  base \"https://api.example.com\"\n  auth none\n  resource contacts: api.Contact {{\n    fetch GET \"/contacts/{{id}}\"\n  }}\n{}\n}}\n",
        clause.replace("api.Notice", "api_hooks.Notice")
    )
}

/// A fetch by the notice's id in the path or the query is accepted, and
/// reaches the checked provider with its request.
#[test]
fn a_fetch_by_id_is_accepted() {
    for fetch in [
        "fetch GET \"/contacts/{id}\" { query { properties: \"email\" } headers { \"X-Trace\": \"{id}\" } }",
        "fetch GET \"/contacts\" { query { id: \"{id}\" } }",
    ] {
        let text = provider_case(&format!(
            "  base \"https://api.example.com\"\n  auth none\n  resource contacts: api.Contact {{\n    {fetch}\n  }}"
        ));
        let rendered = render(&text);
        assert!(!rendered.contains("error"), "{fetch}:\n{rendered}");
    }
}

snap!(
    e0248_provider_status_in_two_classes,
    "E0248",
    &provider_case(
        "  base \"https://api.example.com\"\n  auth none\n  status {\n    retry 429, 503\n    refuse 400, 503\n    stop 700\n  }"
    )
);
snap!(
    e0249_provider_backoff_reversed_and_zero_budget,
    "E0249",
    &provider_case(
        "  base \"https://api.example.com\"\n  auth none\n  limits {\n    budget 0 per 10s\n    retry max 5, backoff 30s..500ms\n  }"
    )
);
snap!(
    e0249_provider_durations_too_long_for_a_clock,
    "E0249",
    &provider_case(
        "  base \"https://api.example.com\"\n  auth none\n  limits {\n    budget 1 per 18446744073709551615s\n    timeout connect 5s, request 9000h\n    breaker after 1 failures, open 1s..18446744073709551615s\n  }"
    ),
    says "longer than 366 days"
);
snap!(
    e0240_provider_path_that_is_not_a_path_on_the_base,
    "E0240",
    &provider_case(
        "  base \"https://api.example.com\"\n  auth none\n  resource contacts: api.Contact {\n    read GET \"contacts\" returns api.Page { records results }\n    update PATCH \"/contacts/{id}#x\"\n    delete DELETE \"/contacts/{id} x\"\n  }"
    ),
    says "must begin with `/`"
);
snap!(
    e0240_provider_header_name_and_value_that_http_refuses,
    "E0240",
    &provider_case(
        "  base \"https://api.example.com\"\n  auth api_key header \"X Key\" secret(\"CRM_KEY\")\n  resource contacts: api.Contact {\n    read GET \"/contacts\" returns api.Page {\n      records results\n      headers { \"X Bad Name\": \"1\", \"X-Team\": \"a\\r\\nb\" }\n    }\n  }"
    ),
    says "not a header name"
);
snap!(
    e0240_provider_query_parameter_and_header_given_twice,
    "E0240",
    &provider_case(
        "  base \"https://api.example.com\"\n  auth none\n  resource contacts: api.Contact {\n    read GET \"/contacts\" returns api.Page {\n      records results\n      query { since: cursor, since: \"5\" }\n      headers { \"X-Team\": \"a\", \"x-team\": \"b\" }\n    }\n  }"
    ),
    says "the query parameter `since` is given twice"
);
snap!(
    e0240_provider_query_parameter_in_the_path_and_in_query,
    "E0240",
    &provider_case(
        "  base \"https://api.example.com\"\n  auth none\n  resource contacts: api.Contact {\n    read GET \"/contacts?since=1&limit=10\" returns api.Page {\n      records results\n      query { since: cursor }\n      cursor updatedAt as iso8601\n    }\n  }"
    ),
    says "given twice: in the path and in `query`"
);
snap!(
    e0250_provider_response_path_without_returns,
    "E0250",
    &provider_case(
        "  base \"https://api.example.com\"\n  auth none\n  resource contacts: api.Contact {\n    create POST \"/contacts\" {\n      id at id\n      idempotency header \"Idempotency-Key\"\n    }\n  }"
    )
);
snap!(
    e0252_provider_oauth_without_refresh_token,
    "E0252",
    &provider_case(
        "  base \"https://api.example.com\"\n  auth oauth2 refresh_token {\n    token_url \"/oauth/v1/token\"\n    client_id env(\"CRM_CLIENT_ID\")\n    client_secret secret(\"CRM_CLIENT_SECRET\")\n  }"
    )
);
snap!(
    e0218_provider_cursor_pattern,
    "E0218",
    &provider_case(
        "  base \"https://api.example.com\"\n  auth none\n  resource contacts: api.Contact {\n    read GET \"/contacts?since={cursor}\" returns api.Page {\n      records results\n      cursor updatedAt as \"yyyy-MM-dd'T'HH:mm:ss.SSSSSSSSSSZQ\"\n    }\n  }"
    )
);
snap!(
    e0103_provider_unknown_cursor_field,
    "E0103",
    &provider_case("  base \"https://api.example.com\"\n  auth none\n  resource contacts: api.Contact {\n    read GET \"/contacts?since={cursor}\" returns api.Page {\n      records results\n      cursor updatedat as iso8601\n    }\n  }"),
    says "did you mean `updatedAt`?"
);

/// A mapping that writes `api.Contact`, after a provider serving it.
fn provider_and_mapping(resource: &str) -> String {
    format!(
        "{}schema c {{ record L {{ ref: string, mail?: string }} }}\nmapping m: c.L -> api.Contact {{\n  key ref -> id\n  mail -> email\n  unmapped updatedAt, seq, props, archived\n}}\n",
        provider_case(&format!(
            "  base \"https://api.example.com\"\n  auth none\n  resource contacts: api.Contact {{\n{resource}\n  }}"
        ))
    )
}

snap!(
    e0253_provider_cannot_update_what_the_mapping_sends,
    "E0253",
    &provider_and_mapping("    create POST \"/contacts\" returns api.One {\n      id at id\n      idempotency header \"Idempotency-Key\"\n    }"),
    says "declares no `update`"
);
snap!(
    e0246_provider_update_addressed_by_a_field_the_mapping_does_not_carry,
    "E0246",
    &provider_and_mapping("    create POST \"/contacts\" returns api.One {\n      id at id\n      idempotency header \"Idempotency-Key\"\n    }\n    update PATCH \"/contacts/{email}\""),
    says "`id` (key)"
);

snap!(
    e0251_provider_records_born_without_the_key_cannot_be_linked,
    "E0251",
    &format!(
        "{}schema c {{ record L {{ ref?: string, mail?: string }} }}\nmapping m: api.Contact -> c.L {{\n  key email -> ref\n  unmapped mail\n}}\n",
        provider_case("  base \"https://api.example.com\"\n  auth none\n  resource contacts: api.Contact {\n    read GET \"/contacts\" returns api.Page { records results }\n  }")
    ),
    says "never writes this side"
);

snap!(
    e0251_provider_records_born_where_the_other_key_is_not_its_id,
    "E0251",
    &format!(
        "{}schema c {{ record L {{ ref?: string, lid: string }} }}\nmapping m: c.L -> api.Contact {{\n  key ref -> email\n  ids lid <-> id\n  lid -> id\n  unmapped updatedAt, seq, props, archived\n}}\n",
        provider_case("  base \"https://api.example.com\"\n  auth none\n  resource contacts: api.Contact {\n    read GET \"/contacts\" returns api.Page { records results }\n    create POST \"/contacts\" returns api.One {\n      id at id\n      idempotency header \"Idempotency-Key\"\n    }\n    update PATCH \"/contacts/{id}\"\n  }")
    ),
    says "not its own id"
);

#[test]
fn a_complete_provider_checks_clean_and_yields_its_spec() {
    let src = provider_case(
        "  base env(\"CRM_BASE\") ?? \"https://api.example.com\"\n  auth api_key header \"X-Api-Key\" secret(\"CRM_KEY\")\n  limits { budget 10 per 1s\n timeout connect 2s, request 20s }\n  status { refuse 400, 422, message at [].message }\n  resource contacts: api.Contact {\n    read GET \"/contacts\" returns api.Page {\n      query { since: cursor, size: \"50\" }\n      records results\n      id at id\n      cursor seq as millis\n      page next_url next, stop when done\n      budget 2 per 1s\n    }\n    create POST \"/contacts\" returns api.One { id at id\n idempotency header \"Idempotency-Key\" }\n    update PATCH \"/contacts/{id}\" { body record omit id }\n    delete DELETE \"/contacts/{id}\" { ok 404 }\n  }",
    );
    let c = compile_source("case.tether", &src, None);
    assert!(
        !c.has_errors(),
        "{}",
        render_plain(&c.sources, &c.diagnostics)
    );
    let [p] = c.providers.as_slice() else {
        panic!("one provider: {:?}", c.providers)
    };
    assert_eq!(p.name, "crm");
    let r = p.resource("contacts").expect("resource");
    assert_eq!(r.record_type, "api.Contact");
    let read = r.read.as_ref().expect("read");
    assert_eq!(read.records, ["results"]);
    assert_eq!(read.budgets.len(), 1, "the read's own budget");
    assert_eq!(p.message_at, [vec!["0".to_string(), "message".to_string()]]);
    assert_eq!(p.limits.budgets.len(), 1);
    assert_eq!(p.limits.request_timeout, std::time::Duration::from_secs(20));
    assert!(r.writes.create.is_some() && r.writes.update.is_some());
    assert_eq!(
        r.writes.delete.as_ref().map(|d| d.request.ok_also.clone()),
        Some(vec![404])
    );
    // No secret value anywhere: only the variable's name.
    let json = serde_json::to_string(p).expect("serialisable");
    assert!(json.contains("CRM_KEY"), "{json}");
}

/// Every compile-time code (E0xxx, W0xxx) has a snapshot above; runtime
/// codes (E1xxx) are covered by the CLI and stdlib tests.
#[test]
fn every_compile_time_code_has_a_snapshot() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let names: Vec<String> = std::fs::read_dir(&dir)
        .expect("tests/snapshots exists")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let missing: Vec<&str> = Code::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|c| !c.starts_with("E1"))
        .filter(|c| !Code::RETIRED.iter().any(|r| r.as_str() == *c))
        .filter(|c| {
            let prefix = format!("diagnostics__{}_", c.to_ascii_lowercase());
            !names.iter().any(|n| n.starts_with(&prefix))
        })
        .collect();
    assert!(missing.is_empty(), "codes without a snapshot: {missing:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parser_and_checker_never_panic_on_arbitrary_text(s in "\\PC{0,200}") {
        let _ = compile_source("fuzz.tether", &s, None);
    }

    #[test]
    fn parser_and_checker_never_panic_on_mutated_mappings(cut in 0usize..400, insert in "[{}()\\[\\]\"<>|:.,a-z -]{0,6}") {
        let base = format!("{SCHEMAS}mapping m: a.In -> b.Out {{\n  email -> Email : trim | lower\n  name -> Name : if is_blank {{ \"x\" }} else {{ trim }}\n  status -> Stage : st\n}}\ntable st {{ \"new\", \"open\" -> \"OPEN\"  else -> \"DONE\" }}\ntest m \"t\" {{ given a {{ email: \"x\" }} expect b {{ Email: \"x\" }} }}");
        let mut at = cut.min(base.len());
        while !base.is_char_boundary(at) { at -= 1; }
        let mutated = format!("{}{}{}", &base[..at], insert, &base[at..]);
        let _ = compile_source("fuzz.tether", &mutated, None);
    }

    #[test]
    fn parser_and_checker_never_panic_on_mutated_providers(cut in 0usize..1400, insert in "[{}()\\[\\]\"<>|:.,a-z0-9 -]{0,6}") {
        let base = std::fs::read_to_string("mappings/crm/salesforce.tprovider").unwrap_or_default()
            + &provider_case("  base env(\"B\") ?? \"https://x.example\"\n  auth api_key query \"k\" secret(\"K\")\n  limits { budget 1 per 1s }\n  resource c: api.Contact {\n    read GET \"/c\" returns api.Page { query { a: page } records results cursor seq as millis page offset, limit 5 budget 2 per 1s }\n    create POST \"/c\" returns api.One { body { p: record.props, e: record.email } id at id lookup GET \"/c/{email}\" returns api.One, id at id }\n    delete DELETE \"/c/{id}\" { ok 404 }\n    fetch GET \"/c/{id}\" { query { p: \"x\" } }\n  }\n  webhook \"hubspot-v3\" returns api.One { each event id fetch id version id delete when id ends \"x\" }");
        let mut at = cut.min(base.len());
        while !base.is_char_boundary(at) { at -= 1; }
        let mutated = format!("{}{}{}", &base[..at], insert, &base[at..]);
        let _ = compile_source("fuzz.tether", &mutated, Some(std::path::Path::new("mappings/crm")));
    }
}

/// A schema block checked against the real XSD (`--schema camt=…`) whose
/// namespace is another, or none: the shipped mapping would reject every
/// real document (E0229). Fixtures by relative path, so the snapshot
/// names them the same on every machine.
fn render_against_camt_xsd(block: &str) -> String {
    let overrides = [tether::compile::SchemaOverride {
        name: "camt".into(),
        path: "tests/data/iso20022/xsd/camt.053.001.02.xsd".into(),
    }];
    let path = format!("tests/data/iso20022/drift/{block}");
    let c = tether::compile::compile_file(std::path::Path::new(&path), &overrides)
        .expect("the fixture reads");
    render_plain(&c.sources, &c.diagnostics)
}

#[test]
fn e0229_block_namespace_is_not_the_xsds() {
    let rendered = render_against_camt_xsd("camt_08_block.tether");
    assert!(
        rendered.contains("[E0229]") && rendered.contains("camt.053.001.08"),
        "{rendered}"
    );
    insta::assert_snapshot!(rendered);
}

#[test]
fn e0229_block_without_namespace_against_an_xsd_with_one() {
    let rendered = render_against_camt_xsd("camt_no_xmlns_block.tether");
    assert!(
        rendered.contains("[E0229]") && rendered.contains("declares no XML namespace"),
        "{rendered}"
    );
    insta::assert_snapshot!(rendered);
}

snap!(
    e0002_empty_xml_namespace,
    "E0002",
    "schema x xmlns \"\" { record R { a: string } }",
    says "non-empty URI"
);
