//! Shared by the benches and the tests that compile mappings from text
//! (included with `#[path]`): a generated mapping for scale
//! (`tests/scale.rs` compiles and runs it, `benches/compile.rs` times it),
//! and compiling a source into the plan of one of its mappings.

use tether::compile::compile_source;
use tether::plan::{self, Plan};
use tether::syntax::Direction;

/// Compiles `src` and plans `mapping` left to right. Err: the error
/// diagnostics as `E0216: message`, or why there is no plan.
pub fn plan_source(src: &str, mapping: &str) -> Result<Plan, Vec<String>> {
    let c = compile_source("source.tether", src, None);
    let errors: Vec<String> = c
        .diagnostics
        .iter()
        .filter(|d| d.code.as_str().starts_with('E'))
        .map(|d| format!("{}: {}", d.code.as_str(), d.message))
        .collect();
    match &c.program {
        Some(program) if errors.is_empty() => plan::lower(program, mapping, Direction::Forward)
            .map_err(|_| vec![format!("no mapping `{mapping}` to plan")]),
        _ => Err(errors),
    }
}

/// Schemas `a.In` (`f0`…) and `b.Out` (`g0`…), a rule per field, every
/// tenth nested one level down and every seventh through a table.
pub fn generated(n: usize) -> String {
    let mut s = String::from("schema a {\n  record In {\n");
    for i in 0..n {
        s.push_str(&format!("    f{i}?: string?\n"));
    }
    s.push_str("    nested?: Inner\n  }\n  record Inner {\n");
    for i in (0..n).step_by(10) {
        s.push_str(&format!("    n{i}?: string?\n"));
    }
    s.push_str("  }\n}\nschema b {\n  record Out {\n");
    for i in 0..n {
        s.push_str(&format!("    g{i}?: string?\n"));
    }
    s.push_str("  }\n}\ntable codes {\n  \"x\" -> \"X\"\n  else -> \"other\"\n}\n");
    s.push_str("mapping big: a.In -> b.Out {\n");
    for i in 0..n {
        let source = if i % 10 == 0 {
            format!("nested.n{i}")
        } else {
            format!("f{i}")
        };
        let pipeline = if i % 7 == 0 { "codes" } else { "trim | upper" };
        s.push_str(&format!("  {source} -> g{i} : {pipeline}\n"));
    }
    s.push_str("}\n");
    s
}
