//! XSD packages (issue 16 item 5): schemas spread over folders that include
//! and import each other by relative paths, as UBL, PEPPOL and government
//! packages are published. Each reference is resolved against the file that
//! contains it, each file is read once, and a problem with a reference is
//! reported in the file that makes it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tether::compile::{Compiled, compile_source};
use tether::diag::{Code, render_plain};
use tether::schema::Registry;
use tether::schema::xsd::{self, Loaded};

mod common;

const UBL: &str = "tests/data/xsd/ubl-like/maindoc/UBL-Invoice-2.1.xsd";
const MISSING: &str = "tests/data/xsd/missing/maindoc/Order.xsd";
const CYCLE: &str = "tests/data/xsd/cycle/a.xsd";

fn compile(schema: &str) -> Compiled {
    compile_source(
        "case.tether",
        &format!("import schema s from {schema:?}\n"),
        None,
    )
}

fn registry(c: &Compiled) -> &Registry {
    match &c.program {
        Some(p) => &p.registry,
        None => panic!(
            "did not compile:\n{}",
            render_plain(&c.sources, &c.diagnostics)
        ),
    }
}

/// The type of `field` of record `s.record`, as `schema show` writes it,
/// and whether the field is optional.
fn field(reg: &Registry, record: &str, field: &str) -> (String, bool) {
    let Some(tether::schema::TypeId::Record(id)) = reg.lookup("s", record) else {
        panic!("no record s.{record}");
    };
    let Some((_, f)) = reg.record(id).field(field) else {
        panic!(
            "s.{record} has no field {field}: {:?}",
            reg.record(id).field_names().collect::<Vec<_>>()
        );
    };
    (reg.display(&f.ty), f.optional)
}

fn warnings(c: &Compiled) -> Vec<String> {
    c.diagnostics
        .iter()
        .filter(|d| d.code == Code::W0004)
        .map(|d| d.message.clone())
        .collect()
}

#[test]
fn nested_relative_imports_resolve_from_the_importing_file() {
    // maindoc/ imports ../common/cac, which imports cbc (next to it), which
    // imports udt, which imports the core component types: every level
    // relative to its own folder.
    let c = compile(UBL);
    assert_eq!(warnings(&c), Vec::<String>::new());
    let reg = registry(&c);
    assert_eq!(
        field(reg, "InvoiceType", "InvoiceLine").0,
        "[s.InvoiceLineType]"
    );
    assert_eq!(
        field(reg, "InvoiceLineType", "LineExtensionAmount").0,
        "s.LineExtensionAmountType"
    );
    // Two levels of imports below common/: the amount is a decimal with its
    // currency, not `any`.
    assert_eq!(field(reg, "LineExtensionAmountType", "value").0, "decimal");
    assert_eq!(field(reg, "IssueDateType", "value").0, "date");
    assert_eq!(field(reg, "InvoicedQuantityType", "unitCode").0, "string");
}

#[test]
fn restriction_that_makes_an_attribute_required_tightens_it() {
    let c = compile(UBL);
    let reg = registry(&c);
    // ccts AmountType (imported second, so `AmountType_2`): optional.
    assert_eq!(
        field(reg, "AmountType_2", "currencyID"),
        ("string".into(), true)
    );
    // udt AmountType restricts it with use="required", and every amount
    // extending it carries that.
    assert_eq!(
        field(reg, "AmountType", "currencyID"),
        ("string".into(), false)
    );
    assert_eq!(
        field(reg, "PayableAmountType", "currencyID"),
        ("string".into(), false)
    );
    // Attributes the restriction does not restate are inherited as they are.
    assert!(field(reg, "AmountType", "currencyCodeListVersionID").1);
}

#[test]
fn restriction_that_narrows_facets_or_prohibits_keeps_the_rest() {
    let c = compile(UBL);
    let reg = registry(&c);
    // `length` narrows the text (not checked): the text stays a string.
    assert_eq!(field(reg, "CodeType", "value"), ("string".into(), false));
    assert!(field(reg, "CodeType", "listID").1);
    // `use="prohibited"` removes the inherited attribute.
    let Some(tether::schema::TypeId::Record(id)) = reg.lookup("s", "CodeType") else {
        panic!("no CodeType");
    };
    assert!(reg.record(id).field("listAgencyName").is_none());
    assert!(field(reg, "CodeType_2", "listAgencyName").1);
}

#[test]
fn enumeration_facets_in_a_simple_content_restriction_make_an_enum() {
    let schema = r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:complexType name="Code">
    <xs:simpleContent>
      <xs:extension base="xs:string"><xs:attribute name="listID" type="xs:string"/></xs:extension>
    </xs:simpleContent>
  </xs:complexType>
  <xs:complexType name="Currency">
    <xs:simpleContent>
      <xs:restriction base="Code">
        <xs:enumeration value="EUR"/><xs:enumeration value="AED"/>
      </xs:restriction>
    </xs:simpleContent>
  </xs:complexType>
</xs:schema>"#;
    let c = compile(&common::temp("xsd", "enum-facets.xsd", schema));
    let reg = registry(&c);
    let (ty, _) = field(reg, "Currency", "value");
    assert_eq!(ty, "s.Currency.value");
    let Some(tether::schema::TypeId::Enum(e)) = reg.lookup("s", "Currency.value") else {
        panic!("no enum");
    };
    assert_eq!(reg.enum_def(e).values, ["EUR", "AED"]);
    assert_eq!(field(reg, "Currency", "listID"), ("string".into(), true));
}

#[test]
fn chameleon_include_takes_the_includers_namespace() {
    // codes/InvoiceTypeCodes.xsd has no targetNamespace; its unqualified
    // `base="InvoiceTypeCodeContent"` means the includer's (cbc) type.
    let c = compile(UBL);
    let reg = registry(&c);
    assert_eq!(
        field(reg, "InvoiceTypeCodeType", "value").0,
        "s.InvoiceTypeCodeContent"
    );
    let Some(tether::schema::TypeId::Enum(e)) = reg.lookup("s", "InvoiceTypeCodeContent") else {
        panic!("no enum");
    };
    assert_eq!(reg.enum_def(e).values, ["380", "381", "384"]);
    assert_eq!(
        field(reg, "InvoiceType", "InvoiceTypeCode").0,
        "s.InvoiceTypeCodeType"
    );
}

/// Imports `root` with a loader that counts the reads of each file.
fn import_counting(root: &str) -> (xsd::Imported, HashMap<PathBuf, usize>) {
    let text = std::fs::read_to_string(root).unwrap_or_default();
    let mut reads: HashMap<PathBuf, usize> = HashMap::new();
    let mut next_file = 1;
    let mut load = |p: &Path| {
        *reads.entry(p.to_path_buf()).or_default() += 1;
        let text = std::fs::read_to_string(p).map_err(|e| e.to_string())?;
        next_file += 1;
        Ok(Loaded {
            file: next_file,
            text,
        })
    };
    let imported = match xsd::import(0, &text, Path::new(root), &mut load) {
        Ok(im) => im,
        Err(d) => panic!("{}", d.message),
    };
    (imported, reads)
}

#[test]
fn each_file_is_read_once() {
    // cbc is imported by the document schema and by cac (a diamond), and
    // reached as `../common/X.xsd` and as `X.xsd`.
    let (imported, reads) = import_counting(UBL);
    assert!(imported.warnings.is_empty());
    let mut files: Vec<(String, usize)> = reads
        .into_iter()
        .map(|(p, n)| (p.display().to_string(), n))
        .collect();
    files.sort();
    let common = "tests/data/xsd/ubl-like/common";
    assert_eq!(
        files,
        [
            (format!("{common}/CCTS_CCT_SchemaModule-2.1.xsd"), 1),
            (format!("{common}/UBL-CommonAggregateComponents-2.1.xsd"), 1),
            (format!("{common}/UBL-CommonBasicComponents-2.1.xsd"), 1),
            (format!("{common}/UBL-UnqualifiedDataTypes-2.1.xsd"), 1),
            (format!("{common}/codes/InvoiceTypeCodes.xsd"), 1),
        ]
    );
}

#[test]
fn an_include_cycle_ends_and_keeps_both_files_types() {
    // b.xsd includes a.xsd back as `../cycle/./a.xsd`.
    let (imported, reads) = import_counting(CYCLE);
    assert!(imported.warnings.is_empty());
    assert_eq!(
        reads.into_iter().collect::<Vec<_>>(),
        [(PathBuf::from("tests/data/xsd/cycle/b.xsd"), 1)]
    );
    let c = compile(CYCLE);
    let reg = registry(&c);
    assert_eq!(field(reg, "Node", "edge").0, "[s.Edge]");
    assert_eq!(field(reg, "Edge", "to").0, "s.Node");
    assert_eq!(field(reg, "Edge", "weight").0, "decimal");
}

#[test]
fn missing_nested_import_is_reported_in_the_importing_file() {
    let c = compile(MISSING);
    let rendered = render_plain(&c.sources, &c.diagnostics);
    // Both warnings are about common/Party.xsd, where the import and the
    // use of its type are written: not about the root file.
    let party = c
        .diagnostics
        .iter()
        .filter(|d| c.sources.name(d.primary.file) == "tests/data/xsd/missing/common/Party.xsd")
        .count();
    assert_eq!(party, 2, "{rendered}");
    assert!(rendered.contains("[W0004]"), "{rendered}");
    // The types that could be read are imported; the missing one is `any`.
    let reg = registry(&c);
    assert_eq!(field(reg, "PartyType", "PostalAddress").0, "any");
    // One warning for the undefined type, which counts its other uses.
    assert_eq!(
        field(reg, "PartyType", "DeliveryAddress"),
        ("any".into(), true)
    );
    assert!(
        rendered.contains("used 1 more time in this package"),
        "{rendered}"
    );
    assert_eq!(field(reg, "OrderType", "Buyer").0, "s.PartyType");
    insta::assert_snapshot!(rendered);
}

#[test]
fn include_with_another_namespace_is_reported_and_keeps_its_names() {
    common::temp(
        "xsd",
        "include-ns-other.xsd",
        r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:b">
  <xs:complexType name="X"><xs:sequence><xs:element name="n" type="xs:int"/></xs:sequence></xs:complexType>
</xs:schema>"#,
    );
    let root = common::temp(
        "xsd",
        "include-ns-root.xsd",
        r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:a" xmlns:b="urn:b">
  <xs:include schemaLocation="include-ns-other.xsd"/>
  <xs:complexType name="R"><xs:sequence><xs:element name="x" type="b:X"/></xs:sequence></xs:complexType>
</xs:schema>"#,
    );
    let c = compile(&root);
    let w = warnings(&c);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("`urn:b` but is included into `urn:a`"),
        "{w:?}"
    );
    let reg = registry(&c);
    assert_eq!(field(reg, "R", "x").0, "s.X");
}

#[test]
fn remote_schema_location_is_not_fetched_and_says_so() {
    let root = common::temp(
        "xsd",
        "remote.xsd",
        r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:import namespace="http://www.w3.org/XML/1998/namespace" schemaLocation="http://www.w3.org/2001/xml.xsd"/>
  <xs:complexType name="R"><xs:sequence><xs:element name="x" type="xs:int"/></xs:sequence></xs:complexType>
</xs:schema>"#,
    );
    let c = compile(&root);
    let w = warnings(&c);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("not from the network"), "{w:?}");
    assert_eq!(field(registry(&c), "R", "x").0, "int");
}

#[test]
fn redefine_replaces_definitions_and_derives_from_the_original() {
    let c = compile("tests/data/xsd/redefine/redefine.xsd");
    assert_eq!(warnings(&c), Vec::<String>::new());
    let reg = registry(&c);
    // `Party` extends the original `Party`, not itself.
    assert_eq!(field(reg, "Party", "name"), ("string".into(), false));
    assert_eq!(field(reg, "Party", "vatId"), ("string".into(), true));
    // Types of the redefined file use the new definitions.
    assert_eq!(field(reg, "Account", "holder").0, "s.Party");
    let Some(tether::schema::TypeId::Enum(e)) = reg.lookup("s", "Status") else {
        panic!("no enum Status");
    };
    assert_eq!(reg.enum_def(e).values, ["active", "closed"]);
}

#[test]
fn override_replaces_a_definition_outright() {
    let c = compile("tests/data/xsd/redefine/override.xsd");
    assert_eq!(warnings(&c), Vec::<String>::new());
    let reg = registry(&c);
    let Some(tether::schema::TypeId::Record(id)) = reg.lookup("s", "Party") else {
        panic!("no Party");
    };
    assert_eq!(reg.record(id).field_names().collect::<Vec<_>>(), ["id"]);
    assert_eq!(field(reg, "Account", "holder").0, "s.Party");
}

#[test]
fn a_type_defined_in_two_files_keeps_the_first_with_a_warning() {
    common::temp(
        "xsd",
        "dup-other.xsd",
        r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:complexType name="T"><xs:sequence><xs:element name="b" type="xs:int"/></xs:sequence></xs:complexType>
</xs:schema>"#,
    );
    let root = common::temp(
        "xsd",
        "dup-root.xsd",
        r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:complexType name="T"><xs:sequence><xs:element name="a" type="xs:int"/></xs:sequence></xs:complexType>
  <xs:include schemaLocation="dup-other.xsd"/>
</xs:schema>"#,
    );
    let c = compile(&root);
    let w = warnings(&c);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("`T` is defined twice"), "{w:?}");
    let reg = registry(&c);
    let Some(tether::schema::TypeId::Record(id)) = reg.lookup("s", "T") else {
        panic!("no T");
    };
    assert_eq!(reg.record(id).field_names().collect::<Vec<_>>(), ["a"]);
}

#[test]
fn real_ubl_2_1_unqualified_data_types_tighten_the_core_component_types() {
    // OASIS UBL 2.1's udt module over UN/CEFACT's core component types,
    // unmodified: "Per UBL 2.0 the following supplementary components are
    // restricted to be required rather than optional" (its header).
    let c = compile("tests/data/xsd/ubl-2.1/common/UBL-UnqualifiedDataTypes-2.1.xsd");
    assert_eq!(warnings(&c), Vec::<String>::new());
    let reg = registry(&c);
    for (udt, cct, attribute) in [
        ("AmountType", "AmountType_2", "currencyID"),
        ("MeasureType", "MeasureType_2", "unitCode"),
        ("BinaryObjectType", "BinaryObjectType_2", "mimeCode"),
        // Graphic is a Binary Object restricted the same way.
        ("GraphicType", "BinaryObjectType_2", "mimeCode"),
    ] {
        assert_eq!(
            field(reg, udt, attribute),
            ("string".into(), false),
            "{udt}"
        );
        assert_eq!(field(reg, cct, attribute), ("string".into(), true), "{cct}");
    }
    assert_eq!(field(reg, "AmountType", "value").0, "decimal");
    // "All other unqualified data types inherit the core component types
    // complete with their supplementary components."
    assert_eq!(
        field(reg, "CodeType", "listAgencyName"),
        ("string".into(), true)
    );
    assert_eq!(
        field(reg, "QuantityType", "unitCode"),
        ("string".into(), true)
    );
}

#[test]
fn attribute_references_to_nothing_warn_except_xml_lang() {
    let root = common::temp(
        "xsd",
        "attribute-refs.xsd",
        r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:import namespace="http://www.w3.org/XML/1998/namespace"/>
  <xs:complexType name="T">
    <xs:attribute ref="xml:lang"/>
    <xs:attribute ref="foo"/>
    <xs:attributeGroup ref="g"/>
  </xs:complexType>
</xs:schema>"#,
    );
    let c = compile(&root);
    let w = warnings(&c);
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[0].contains("attribute `foo`"), "{w:?}");
    assert!(w[1].contains("attribute group `g`"), "{w:?}");
    let reg = registry(&c);
    assert_eq!(field(reg, "T", "lang"), ("string".into(), true));
}

#[test]
fn a_chameleon_included_into_two_namespaces_is_in_both() {
    common::temp(
        "xsd",
        "cham-shared.xsd",
        r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:complexType name="Note"><xs:sequence><xs:element name="text" type="Text"/></xs:sequence></xs:complexType>
  <xs:simpleType name="Text"><xs:restriction base="xs:string"/></xs:simpleType>
</xs:schema>"#,
    );
    common::temp(
        "xsd",
        "cham-b.xsd",
        r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:b">
  <xs:include schemaLocation="cham-shared.xsd"/>
</xs:schema>"#,
    );
    let root = common::temp(
        "xsd",
        "cham-a.xsd",
        r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:a" xmlns="urn:a" xmlns:b="urn:b">
  <xs:include schemaLocation="cham-shared.xsd"/>
  <xs:import namespace="urn:b" schemaLocation="cham-b.xsd"/>
  <xs:complexType name="R">
    <xs:sequence><xs:element name="mine" type="Note"/><xs:element name="theirs" type="b:Note"/></xs:sequence>
  </xs:complexType>
</xs:schema>"#,
    );
    let c = compile(&root);
    assert_eq!(warnings(&c), Vec::<String>::new());
    let reg = registry(&c);
    assert_eq!(field(reg, "R", "mine").0, "s.Note");
    assert_eq!(field(reg, "R", "theirs").0, "s.Note_2");
    // Each copy's unqualified `type="Text"` found its own namespace's Text.
    assert_eq!(field(reg, "Note", "text").0, "string");
    assert_eq!(field(reg, "Note_2", "text").0, "string");
}
