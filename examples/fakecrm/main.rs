//! Fake HubSpot-like and Salesforce-like CRM APIs on one loopback port
//! (`hubspot.rs`, `salesforce.rs`, `serve.rs`), for the README's REST tour and
//! the REST sync benchmark (issue 19, step 7; docs/design/10-rest-providers.md,
//! "The fake providers"):
//!
//!     cargo run --example fakecrm -- [--port 8642] [--contacts N] [--born N] [--throttle N] [--quiet]
//!
//! It listens on 127.0.0.1 only, holds its contacts in memory (HubSpot: the
//! four of the tour, plus N generated ones; Salesforce: none at first, or
//! `--born N` made there by hand, without a HubSpot id),
//! prints its address on the first line, then one line per request, and
//! serves until killed. Any HubSpot bearer token and any Salesforce refresh
//! token are accepted: the tour's are throwaway ones. `--throttle` is
//! HubSpot's (429 with `Retry-After: 1` on every Nth request).

mod hubspot;
mod salesforce;
mod serve;

use clap::Parser;
use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Parser)]
#[command(about = "A fake HubSpot-like CRM API on loopback (tether's REST tour)")]
struct Args {
    /// The port on 127.0.0.1 (0: any free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Generated contacts besides the tour's four (the benchmark's backlog).
    #[arg(long, default_value_t = 0)]
    contacts: u64,
    /// Contacts made in Salesforce by hand, without a HubSpot id (the
    /// tour's one: tether creates it in HubSpot and writes the id back).
    #[arg(long, default_value_t = 0)]
    born: u64,
    /// Answer every Nth HubSpot request 429 with `Retry-After: 1` (0: never).
    #[arg(long, default_value_t = 0)]
    throttle: u64,
    /// No line per request.
    #[arg(long)]
    quiet: bool,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let mut store = serve::Crm::default();
    hubspot::seed_tour(&mut store.hubspot);
    hubspot::seed_generated(&mut store.hubspot, args.contacts);
    salesforce::seed_born(&mut store.salesforce, args.born);
    store.throttle_every = args.throttle;
    let count = store.hubspot.contacts().count();
    let running = match serve::start(
        Arc::new(Mutex::new(store)),
        &format!("127.0.0.1:{}", args.port),
        !args.quiet,
    ) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("fakecrm: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    println!(
        "fakecrm: HubSpot-like and Salesforce-like APIs on {} ({count} HubSpot contacts)",
        running.url
    );
    // Whoever started it in the background reads the address now.
    let _ = std::io::stdout().flush();
    running.wait();
    std::process::ExitCode::SUCCESS
}
