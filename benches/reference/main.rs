//! The hand-written baseline of the contact benchmark, as a program:
//! `contact_reference [--identity] FILE` reads NDJSON contacts and writes the
//! transformed records to stdout, one a line (see `contact.rs`).
//! `--identity` parses and serialises each line without transforming it: the
//! cost of building a DOM at all.
//!
//! Its own crate, not a target of tether's, so that it gets serde_json's
//! default features as a program written alone would, not the ones tether
//! turns on (`benches/run` builds it both ways: `--features tether-json`).

mod contact;

use std::io::{BufRead, BufReader, BufWriter, Write};

fn main() {
    if let Err(e) = run() {
        eprintln!("contact_reference: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let identity = args.iter().any(|a| a == "--identity");
    let path = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .ok_or("usage: contact_reference [--identity] FILE")?;
    let input = BufReader::with_capacity(1 << 16, std::fs::File::open(path)?);
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let (mut ok, mut failed) = (0u64, 0u64);
    for line in input.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(&line)?;
        let written = if identity {
            serde_json::to_writer(&mut out, &value)
        } else {
            match contact::transform(&value) {
                Ok(contact) => serde_json::to_writer(&mut out, &contact),
                Err(e) => {
                    eprintln!("{e}");
                    failed += 1;
                    continue;
                }
            }
        };
        written?;
        out.write_all(b"\n")?;
        ok += 1;
    }
    out.flush()?;
    eprintln!("contact_reference: wrote {ok}, failed {failed}");
    Ok(())
}
