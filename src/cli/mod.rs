//! The command line. Exit codes (docs/cli.md): 0 success; 1 the mapping has
//! errors (or a test failed); 2 usage or I/O error; 3 some records were
//! rejected.

mod log;
mod provider_side;
mod status;
mod sync;
mod webhook_side;

use crate::compile::{Compiled, SchemaOverride, collect_files, compile_file};
use crate::diag::{self, Code, Diagnostic};
use crate::exec::{Bases, InputFormat, OutputFormat, Runner, Soap};
use crate::plan::PlanFile;
use crate::syntax::Direction;
use clap::{Parser, Subcommand, ValueEnum};
use codespan_reporting::term::termcolor::{ColorChoice, StandardStream};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub const EXIT_OK: u8 = 0;
pub const EXIT_MAPPING_ERRORS: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_REJECTS: u8 = 3;

#[derive(Parser)]
#[command(
    name = "tether",
    version,
    about = "Declarative data mappings between APIs: check, run, test and sync them."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check mapping files against their schemas (files or directories).
    Check {
        /// `.tether` files, or directories searched recursively.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// `human` (rustc-style) or `json` (one object per diagnostic per line).
        #[arg(long, value_enum, default_value_t = DiagFormat::Human)]
        format: DiagFormat,
        /// Check against another file for one schema: `NAME=PATH` (a
        /// provider's newest spec), without editing the mapping. Repeatable.
        #[arg(long = "schema", value_name = "NAME=PATH", value_parser = parse_override)]
        schemas: Vec<SchemaOverride>,
    },
    /// Run a mapping over records.
    Run(RunArgs),
    /// Compile mappings into one plan file for `run` and `sync`.
    Build {
        /// `.tether` files, or directories searched recursively.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The plan file to write, or `-` for standard output.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Keep two providers' records in sync through a mapping.
    Sync(Box<sync::SyncArgs>),
    /// Records parked for a person by a `review` conflict rule or delete
    /// policy.
    Review {
        #[command(subcommand)]
        command: sync::ReviewCommand,
    },
    /// Dead letters: records that failed mapping, merge or writing.
    Dlq {
        #[command(subcommand)]
        command: sync::DlqCommand,
    },
    /// What a state store says of its syncs: backlog, open work, the last
    /// passes, breakers, webhooks. Exit 0 healthy, 3 open work, 4 a sync
    /// not keeping up.
    Status(status::StatusArgs),
    /// Maintenance of a state store.
    Store {
        #[command(subcommand)]
        command: sync::StoreCommand,
    },
    /// Run the `test` blocks of mapping files.
    Test {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Explore a provider's schema as tether imports it.
    Schema {
        #[command(subcommand)]
        command: SchemaCommand,
    },
    /// Explain an error code.
    Explain {
        /// The code, such as E0103.
        code: Option<String>,
        /// Print docs/errors.md (all codes).
        #[arg(long)]
        all_markdown: bool,
    },
    /// Print the standard library reference (docs/stdlib.md).
    Stdlib {
        #[arg(long)]
        markdown: bool,
    },
}

#[derive(Subcommand)]
enum SchemaCommand {
    /// List the types of a schema file (JSON Schema, OpenAPI, XSD, WSDL,
    /// .tschema), or print one of them with its fields, types,
    /// optionality and enum values.
    Show {
        file: PathBuf,
        /// The type to print; all types are listed without it.
        #[arg(value_name = "TYPE")]
        type_name: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum DiagFormat {
    Human,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum InFormat {
    Json,
    Ndjson,
    Xml,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum OutFormat {
    Ndjson,
    Json,
    Xml,
}

#[derive(Clone, Copy, ValueEnum)]
enum SoapVersion {
    #[value(name = "1.1")]
    V11,
    #[value(name = "1.2")]
    V12,
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { EXIT_OK });
        }
    };
    ExitCode::from(match cli.command {
        Command::Check {
            paths,
            format,
            schemas,
        } => check(&paths, format, &schemas),
        Command::Run(args) => run(args),
        Command::Build { paths, output } => sync::build(&paths, &output),
        Command::Sync(args) => sync::sync(&args),
        Command::Review { command } => sync::review(&command),
        Command::Dlq { command } => sync::dlq(&command),
        Command::Status(a) => status::status(&a),
        Command::Store { command } => sync::store(&command),
        Command::Test { paths } => test(&paths),
        Command::Schema {
            command: SchemaCommand::Show { file, type_name },
        } => schema_show(&file, type_name.as_deref()),
        Command::Explain { code, all_markdown } => explain(code.as_deref(), all_markdown),
        Command::Stdlib { .. } => {
            let _ = io::stdout().write_all(crate::stdlib::markdown().as_bytes());
            EXIT_OK
        }
    })
}

fn stderr() -> StandardStream {
    let choice = if io::stderr().is_terminal() {
        ColorChoice::Auto
    } else {
        ColorChoice::Never
    };
    StandardStream::stderr(choice)
}

/// Which diagnostics a command prints.
#[derive(Clone, Copy)]
enum Shown<'a> {
    /// Every one: `check`, `build`, `test` answer for the whole file.
    All,
    /// `run` and `sync` run one mapping: errors anywhere (the file must
    /// check clean), warnings only of that mapping, and none when `quiet`.
    OfMapping { name: &'a str, quiet: bool },
}

impl Shown<'_> {
    /// The diagnostics of `c` to print.
    fn select(self, c: &Compiled) -> Vec<Diagnostic> {
        let Shown::OfMapping { name, quiet } = self else {
            return c.diagnostics.clone();
        };
        // A warning is the mapping's when it points inside the mapping's
        // text; without a program (errors) only errors are shown.
        let inside = c
            .program
            .as_ref()
            .and_then(|p| p.mapping(name))
            .filter(|_| !quiet)
            .map(|m| (m.file, m.span));
        c.diagnostics
            .iter()
            .filter(|d| {
                d.is_error()
                    || inside.is_some_and(|(file, span)| {
                        d.primary.file == file
                            && span.start <= d.primary.span.start
                            && d.primary.span.end <= span.end
                    })
            })
            .cloned()
            .collect()
    }
}

/// Compiles one file and prints its diagnostics (those `shown` selects);
/// `None` on an I/O error.
fn compile_reporting(
    path: &Path,
    format: DiagFormat,
    overrides: &[SchemaOverride],
    shown: Shown<'_>,
) -> Option<Compiled> {
    match compile_file(path, overrides) {
        Ok(c) => {
            let diagnostics = shown.select(&c);
            match format {
                DiagFormat::Human => diag::render_to(&mut stderr(), &c.sources, &diagnostics),
                DiagFormat::Json => {
                    let stdout = io::stdout();
                    let mut lock = stdout.lock();
                    for d in &diagnostics {
                        let _ = writeln!(lock, "{}", diag::to_json_line(&c.sources, d));
                    }
                }
            }
            Some(c)
        }
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", path.display());
            None
        }
    }
}

/// The plans of a plan file, or of a mapping source compiled now (the
/// diagnostics `shown` selects printed). `Err`: the exit code.
fn load_plans(path: &Path, shown: Shown<'_>) -> Result<PlanFile, u8> {
    provider_side::load(path, shown).map(|loaded| loaded.plans)
}

fn files_of(paths: &[PathBuf]) -> Result<Vec<PathBuf>, u8> {
    let mut files = Vec::new();
    for p in paths {
        match collect_files(p) {
            Ok(f) => files.extend(f),
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", p.display());
                return Err(EXIT_USAGE);
            }
        }
    }
    if files.is_empty() {
        eprintln!("error: no .tether or .tprovider files found");
        return Err(EXIT_USAGE);
    }
    Ok(files)
}

fn parse_override(s: &str) -> Result<SchemaOverride, String> {
    let (name, path) = s
        .split_once('=')
        .filter(|(n, p)| !n.is_empty() && !p.is_empty())
        .ok_or_else(|| format!("expected NAME=PATH, found {s:?}"))?;
    Ok(SchemaOverride {
        name: name.to_string(),
        path: PathBuf::from(path),
    })
}

fn check(paths: &[PathBuf], format: DiagFormat, overrides: &[SchemaOverride]) -> u8 {
    let files = match files_of(paths) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let (mut errors, mut warnings, mut io_failed) = (0usize, 0usize, false);
    for f in &files {
        match compile_reporting(f, format, overrides, Shown::All) {
            Some(c) => {
                errors += c.diagnostics.iter().filter(|d| d.is_error()).count();
                warnings +=
                    c.diagnostics.len() - c.diagnostics.iter().filter(|d| d.is_error()).count();
            }
            None => io_failed = true,
        }
    }
    if format == DiagFormat::Human {
        eprintln!(
            "checked {} file{}: {errors} error{}, {warnings} warning{}",
            files.len(),
            plural(files.len()),
            plural(errors),
            plural(warnings)
        );
    }
    if io_failed {
        EXIT_USAGE
    } else if errors > 0 {
        EXIT_MAPPING_ERRORS
    } else {
        EXIT_OK
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[derive(clap::Args)]
struct RunArgs {
    /// The mapping file.
    file: PathBuf,
    /// The mapping to run.
    #[arg(long)]
    mapping: String,
    /// Run from the right side to the left (`<-` rules).
    #[arg(long)]
    reverse: bool,
    /// Input file, or `-` for standard input.
    #[arg(long, default_value = "-")]
    input: String,
    /// Output file, or `-` for standard output.
    #[arg(long, default_value = "-")]
    output: String,
    /// Where rejected records go (NDJSON), with their errors; `-` for
    /// standard error.
    #[arg(long)]
    rejects: Option<String>,
    /// `json`, `ndjson` or `xml`; by default from the input file's
    /// extension (`.json` is a JSON document, `.xml` an XML document,
    /// anything else NDJSON).
    #[arg(long, value_enum)]
    input_format: Option<InFormat>,
    #[arg(long, value_enum, default_value_t = OutFormat::Ndjson)]
    output_format: OutFormat,
    /// Existing records of the side being written (NDJSON, a JSON array or
    /// one object): each output record is written into the one with its
    /// key, keeping every field the mapping does not write.
    #[arg(long, value_name = "PATH")]
    base: Option<PathBuf>,
    /// With `--output-format xml`: wrap the records in a SOAP envelope.
    #[arg(long, value_enum, value_name = "VERSION")]
    soap: Option<SoapVersion>,
    /// No warnings (errors are still printed).
    #[arg(short, long)]
    quiet: bool,
    /// Threads mapping NDJSON input (output order is kept), 1 to 256; by
    /// default the available cores. At most two per core and one per 1 MiB
    /// chunk of input are started.
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=crate::exec::MAX_THREADS as i64))]
    threads: Option<u16>,
    /// The longest NDJSON record (line) read, in bytes; a longer one is
    /// rejected (E1014) without being held in memory, and the run goes on.
    #[arg(long, value_name = "BYTES", default_value_t = crate::exec::lines::DEFAULT_MAX_RECORD_BYTES as u64,
          value_parser = clap::value_parser!(u64).range(1..))]
    max_record_bytes: u64,
}

fn run(a: RunArgs) -> u8 {
    if a.soap.is_some() && a.output_format != OutFormat::Xml {
        eprintln!("error: --soap needs --output-format xml");
        return EXIT_USAGE;
    }
    let shown = Shown::OfMapping {
        name: &a.mapping,
        quiet: a.quiet,
    };
    let plans = match load_plans(&a.file, shown) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let dir = if a.reverse {
        Direction::Reverse
    } else {
        Direction::Forward
    };
    let plan = match plans.mapping(&a.mapping).and_then(|m| m.plan(dir)) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let base = match &a.base {
        None => None,
        Some(_) if a.output_format == OutFormat::Xml => {
            eprintln!("error: --base works with JSON output (ndjson or json)");
            return EXIT_USAGE;
        }
        Some(p) => match std::fs::read_to_string(p)
            .map_err(|e| e.to_string())
            .and_then(|t| Bases::parse(&t, plan))
        {
            Ok(b) => Some(b),
            Err(e) => {
                eprintln!("error: --base {}: {e}", p.display());
                return EXIT_USAGE;
            }
        },
    };
    let input_format = match a.input_format {
        Some(InFormat::Json) => InputFormat::Json,
        Some(InFormat::Ndjson) => InputFormat::Ndjson,
        Some(InFormat::Xml) => InputFormat::Xml,
        None if a.input.ends_with(".json") => InputFormat::Json,
        None if a.input.ends_with(".xml") => InputFormat::Xml,
        None => InputFormat::Ndjson,
    };
    let mut input: Box<dyn io::BufRead> = if a.input == "-" {
        Box::new(BufReader::new(io::stdin()))
    } else {
        match File::open(&a.input) {
            Ok(f) => Box::new(BufReader::with_capacity(1 << 16, f)),
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", a.input);
                return EXIT_USAGE;
            }
        }
    };
    let mut out: Box<dyn Write> = if a.output == "-" {
        Box::new(BufWriter::with_capacity(1 << 16, io::stdout()))
    } else {
        // A link planted at the output path is refused, never written
        // through (src/safe_fs.rs).
        match crate::safe_fs::create_output(Path::new(&a.output)) {
            Ok(f) => Box::new(BufWriter::with_capacity(1 << 16, f)),
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", a.output);
                return EXIT_USAGE;
            }
        }
    };
    // `-`: standard error, since standard output carries the records.
    let mut rejects_out: Option<Box<dyn Write>> = match a.rejects.as_deref() {
        None => None,
        Some("-") => Some(Box::new(io::stderr())),
        Some(p) => match crate::safe_fs::create_output(Path::new(p)) {
            Ok(f) => Some(Box::new(BufWriter::new(f))),
            Err(e) => {
                eprintln!("error: cannot write {p}: {e}");
                return EXIT_USAGE;
            }
        },
    };
    let format = match a.output_format {
        OutFormat::Ndjson => OutputFormat::Ndjson,
        OutFormat::Json => OutputFormat::Json,
        OutFormat::Xml => OutputFormat::Xml {
            soap: a.soap.map(|v| match v {
                SoapVersion::V11 => Soap::V11,
                SoapVersion::V12 => Soap::V12,
            }),
        },
    };
    let mut runner = Runner::new(
        plan,
        &mut out,
        rejects_out.as_mut().map(|w| w as &mut dyn Write),
        format,
    );
    if let Some(b) = &base {
        runner = runner.with_base(b);
    }
    let threads = match a.threads {
        Some(n) => usize::from(n),
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    runner = runner
        .with_threads(threads)
        .with_max_record_bytes(usize::try_from(a.max_record_bytes).unwrap_or(usize::MAX));
    match runner.run(&mut input, input_format) {
        Ok(summary) => {
            eprintln!("tether: {summary}");
            if summary.rejected > 0 {
                if a.rejects.is_none() {
                    eprintln!(
                        "tether: {} record(s) rejected; pass --rejects FILE to keep them with their errors",
                        summary.rejected
                    );
                }
                EXIT_REJECTS
            } else {
                EXIT_OK
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_USAGE
        }
    }
}

fn test(paths: &[PathBuf]) -> u8 {
    // A closed pipe (`| head`) ends the output, not the process.
    let mut out = io::stdout().lock();
    let files = match files_of(paths) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let (mut passed, mut failed, mut broken) = (0usize, 0usize, 0usize);
    for f in &files {
        let Some(c) = compile_reporting(f, DiagFormat::Human, &[], Shown::All) else {
            return EXIT_USAGE;
        };
        let Some(program) = &c.program else {
            broken += 1;
            continue;
        };
        for r in crate::testing::run_tests(&c.sources, program) {
            match &r.failure {
                None => {
                    passed += 1;
                    let _ = writeln!(out, "ok   {} :: {}", r.mapping, r.name);
                }
                Some(why) => {
                    failed += 1;
                    let _ = writeln!(out, "FAIL {} :: {} ({})", r.mapping, r.name, r.location);
                    for line in why.lines() {
                        let _ = writeln!(out, "     {line}");
                    }
                }
            }
        }
    }
    // When nothing ran because nothing compiled, the errors are the whole
    // answer: "0 passed, 0 failed" would read as a pass at a glance.
    if broken == 0 || passed + failed > 0 {
        let _ = writeln!(out, "{passed} passed, {failed} failed");
    }
    if broken > 0 {
        eprintln!("{broken} file{} did not compile", plural(broken));
    }
    if failed > 0 || broken > 0 {
        EXIT_MAPPING_ERRORS
    } else {
        EXIT_OK
    }
}

fn schema_show(file: &Path, type_name: Option<&str>) -> u8 {
    // A closed pipe (`| head`) ends the output, not the process.
    let mut out = io::stdout().lock();
    let full = match std::fs::canonicalize(file) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", file.display());
            return EXIT_USAGE;
        }
    };
    // The schema is imported the way a mapping imports it, under a name
    // taken from the file (`camt.053.001.02.xsd` → `camt`).
    let stem = full
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.split('.').next())
        .unwrap_or("schema");
    let mut ns: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if !ns.starts_with(|c: char| c.is_ascii_alphabetic()) {
        ns.insert(0, 's');
    }
    let text = format!("import schema {ns} from {:?}\n", full.display().to_string());
    let c = crate::compile::compile_source_with("<schema show>", &text, None, &[]);
    diag::render_to(&mut stderr(), &c.sources, &c.diagnostics);
    let Some(program) = &c.program else {
        return EXIT_MAPPING_ERRORS;
    };
    let reg = &program.registry;
    match type_name {
        None => {
            let _ = write!(out, "{}", crate::schema::show::list(reg, &ns));
            EXIT_OK
        }
        Some(t) => match crate::schema::show::show(reg, &ns, t) {
            Some(text) => {
                let _ = write!(out, "{text}");
                EXIT_OK
            }
            None => {
                let names = reg
                    .namespaces
                    .get(&ns)
                    .map(|n| n.order.clone())
                    .unwrap_or_default();
                let hint = diag::did_you_mean(t, names.iter().map(String::as_str))
                    .map(|b| format!("; did you mean `{b}`?"))
                    .unwrap_or_default();
                eprintln!("error: {} has no type `{t}`{hint}", file.display());
                EXIT_USAGE
            }
        },
    }
}

fn explain(code: Option<&str>, all_markdown: bool) -> u8 {
    // A closed pipe (`| head`) ends the output, not the process.
    let mut out = io::stdout().lock();
    if all_markdown {
        let _ = write!(out, "{}", diag::errors_markdown());
        return EXIT_OK;
    }
    let Some(text) = code else {
        eprintln!("error: name a code, such as `tether explain E0103`");
        return EXIT_USAGE;
    };
    match Code::parse(text) {
        Some(c) => {
            let _ = writeln!(out, "{c}: {}\n\n{}", c.title(), c.explanation());
            EXIT_OK
        }
        None => {
            let all: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
            let hint = diag::did_you_mean(text, all.iter().copied())
                .map(|b| format!("; did you mean {b}?"))
                .unwrap_or_default();
            eprintln!("error: no code {text}{hint}");
            EXIT_USAGE
        }
    }
}
