//! Diagnostics on standard error: `tracing` events as text (the default) or
//! as one JSON object per line (`--log-format json`, for log shippers).
//! What is shown: `SIGHTLINE_LOG` (an `EnvFilter`), by default errors and the
//! server's request lines (`sightline::request`, one per request).

use std::fmt;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines (colours only at a terminal).
    Text,
    /// One JSON object per line: timestamp, level, target, message, fields.
    Json,
}

/// Installs the global subscriber.
pub fn init(format: LogFormat) {
    let filter = match std::env::var("SIGHTLINE_LOG") {
        Ok(v) => EnvFilter::new(v),
        Err(_) => EnvFilter::new(format!(
            "error,{}=info",
            sightline_server::access_log::TARGET
        )),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never into log files.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.event_format(JsonLines).init(),
    }
}

/// One JSON object per event: `timestamp` (UTC, µs), `level`, `target`,
/// the event's fields (`message` among them) at the top level, and `span`,
/// the names of the spans it happened in, outermost first.
struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
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
        let mut map = Map::new();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
        map.insert(
            "timestamp".into(),
            sightline_stix::format_micros(now).into(),
        );
        let meta = event.metadata();
        map.insert("level".into(), meta.level().as_str().into());
        map.insert("target".into(), meta.target().into());
        event.record(&mut Fields(&mut map));
        if let Some(scope) = ctx.event_scope() {
            let names: Vec<&str> = scope.from_root().map(|s| s.name()).collect();
            if !names.is_empty() {
                map.insert("span".into(), names.join(":").into());
            }
        }
        writeln!(writer, "{}", Value::Object(map))
    }
}

/// Collects an event's fields as JSON values.
struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // `%x` fields arrive here too, printed with Display.
        self.0
            .insert(field.name().into(), format!("{value:?}").into());
    }
}
