//! Snapshots of rendered diagnostics, and the parser/checker never panic.

use proptest::prelude::*;
use tether::compile::compile_source;
use tether::diag::render_plain;

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

macro_rules! snap {
    ($name:ident, $body:expr) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(render($body));
        }
    };
}

snap!(
    e0001_missing_arrow,
    "mapping m: a.In -> b.Out {\n  email Email\n}"
);
snap!(
    e0103_unknown_field,
    "mapping m: a.In -> b.Out {\n  emial -> Email\n  name -> Name : default(\"x\")\n}"
);
snap!(
    e0105_unknown_transform,
    "mapping m: a.In -> b.Out {\n  email -> Email : lowercase\n  name -> Name : default(\"x\")\n}"
);
snap!(
    e0201_type_mismatch,
    "mapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name : default(\"x\")\n  amount -> Amount : trim\n}"
);
snap!(
    e0204_may_be_missing,
    "mapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name\n}"
);
snap!(
    e0205_required_unmapped,
    "mapping m: a.In -> b.Out {\n  email -> Email\n}"
);
snap!(
    e0206_written_twice,
    "mapping m: a.In -> b.Out {\n  email -> Email\n  name -> Email : default(\"x\")\n  name -> Name : default(\"x\")\n}"
);
snap!(
    e0207_table_not_exhaustive,
    "table st { \"new\" -> \"OPEN\"  \"open\" -> \"OPEN\" }\nmapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name : default(\"x\")\n  status -> Stage : st\n}"
);
snap!(
    e0208_table_outside_enum,
    "table st { \"new\" -> \"OPEN\"  \"open\" -> \"OPEN\"  else -> \"CLOSED\" }\nmapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name : default(\"x\")\n  status -> Stage : st\n}"
);
snap!(
    e0209_backward_rule_in_one_way_mapping,
    "mapping m: a.In -> b.Out {\n  email -> Email\n  name -> Name : default(\"x\")\n  email <- Label\n}"
);
snap!(
    e0202_wrong_arguments,
    "mapping m: a.In -> b.Out {\n  email -> Email : pad_left(\"x\")\n  name -> Name : default(\"x\")\n}"
);
snap!(
    all_errors_of_a_file_in_one_run,
    "table broken { \"a\" \"b\" }\nmapping m: a.In -> b.Out {\n  emial -> Email\n  name -> Name : defualt(\"x\")\n}"
);

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
