//! The runtime log of `tether sync` (issue 22, step 2): `tracing` events
//! on standard error, as text lines (`tether: warning: ...`, the form the
//! CLI has always printed) or one JSON object per line
//! (`--log-format json`), for a log shipper.
//!
//! What goes in a line: lines about a record carry `mapping`, `side`,
//! `key` and `idempotency_key` as fields; never a secret (provider text
//! reaches the log only through errors already redacted by the HTTP
//! layer, and credentials are never a field) and never a record's content
//! unless `--log-records`. The pass summary and `--explain` stay the
//! reports they are (stdout or their own lines), not log events.

use clap::ValueEnum;
use std::fmt;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// `tether: warning: ...` lines, fields as `name=value` after the text.
    #[default]
    Text,
    /// One JSON object a line: `timestamp`, `level`, `message` and the
    /// fields.
    Json,
}

/// Installs the process's log; `quiet` (`--quiet`) keeps errors only. A
/// second call (a test running `sync` in process twice) keeps the first.
pub fn init(format: LogFormat, quiet: bool) {
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_max_level(if quiet { Level::ERROR } else { Level::INFO });
    let _ = match format {
        LogFormat::Text => {
            tracing::subscriber::set_global_default(builder.event_format(Plain).finish())
        }
        LogFormat::Json => tracing::subscriber::set_global_default(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(false)
                .with_target(false)
                .finish(),
        ),
    };
}

/// The text form: the CLI's own line shape.
struct Plain;

impl<S, N> FormatEvent<S, N> for Plain
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let level = match *event.metadata().level() {
            Level::ERROR => "error: ",
            Level::WARN => "warning: ",
            _ => "",
        };
        write!(writer, "tether: {level}")?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}
