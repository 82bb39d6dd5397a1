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
    w0004_unsupported_schema_construct,
    "W0004",
    "import schema shop from \"tests/fixtures/dangling_ref.json\"\nmapping m: shop.order -> b.Out {\n  id -> Email\n  id -> Name\n}"
);

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
}
