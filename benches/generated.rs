//! A generated mapping for scale: shared by `tests/scale.rs` (it compiles
//! and runs) and `benches/compile.rs` (how long that takes).

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
