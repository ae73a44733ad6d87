//! `sightline sightings`: the sightings `match --record` wrote, latest
//! version each, as a table or JSON lines.

use std::path::Path;

use serde_json::json;
use sightline_detect::listing::{self, ListFilter};
use sightline_matcher::time::parse_micros;

use crate::output::with_stdout;
use crate::{Failure, Outcome};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only sightings of this indicator.
    #[arg(long, value_name = "ID")]
    indicator: Option<String>,
    /// Only sightings last seen at or after this time (RFC 3339, e.g.
    /// 2024-01-15T00:00:00Z).
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Only sightings in this collection (id or alias).
    #[arg(long)]
    collection: Option<String>,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(data: &Path, args: Args) -> Result<Outcome, Failure> {
    let since = match &args.since {
        Some(t) => {
            Some(parse_micros(t).map_err(|e| Failure::Input(format!("--since {t:?}: {e}")))?)
        }
        None => None,
    };
    let store = super::open_existing_store(data)?;
    let rows = listing::list(
        store.as_ref(),
        &ListFilter {
            indicator: args.indicator,
            since,
            collection: args.collection,
        },
    )?;
    with_stdout(|w| {
        if args.json {
            for r in &rows {
                let sensors: Vec<_> = r
                    .sensors
                    .iter()
                    .map(|(id, name)| json!({"id": id, "name": name}))
                    .collect();
                let v = json!({
                    "id": r.id, "indicator": r.indicator, "indicator_name": r.indicator_name,
                    "count": r.count, "first_seen": r.first_seen, "last_seen": r.last_seen,
                    "sensors": sensors, "modified": r.modified,
                });
                writeln!(w, "{v}")?;
            }
            return Ok(());
        }
        let cell = |s: &Option<String>| s.as_deref().unwrap_or("-").to_owned();
        let table: Vec<[String; 6]> = rows
            .iter()
            .map(|r| {
                let sensor = r
                    .sensors
                    .iter()
                    .map(|(id, name)| name.clone().unwrap_or_else(|| id.clone()))
                    .collect::<Vec<_>>()
                    .join(", ");
                [
                    cell(&r.last_seen),
                    cell(&r.first_seen),
                    r.count.map_or("-".into(), |c| c.to_string()),
                    r.indicator_name
                        .clone()
                        .unwrap_or_else(|| r.indicator.clone()),
                    if sensor.is_empty() {
                        "-".into()
                    } else {
                        sensor
                    },
                    r.id.clone(),
                ]
            })
            .collect();
        let head = [
            "LAST SEEN",
            "FIRST SEEN",
            "COUNT",
            "INDICATOR",
            "SENSOR",
            "SIGHTING",
        ];
        let mut width = head.map(str::len);
        for row in &table {
            for (i, c) in row.iter().enumerate() {
                width[i] = width[i].max(c.chars().count());
            }
        }
        let line = |w: &mut dyn std::io::Write, cells: &[&str]| -> std::io::Result<()> {
            let mut out = String::new();
            for (i, c) in cells.iter().enumerate() {
                if i + 1 == cells.len() {
                    out.push_str(c);
                } else if i == 2 {
                    // Counts right-aligned.
                    out.push_str(&format!("{c:>w$}  ", w = width[i]));
                } else {
                    out.push_str(&format!("{c:<w$}  ", w = width[i]));
                }
            }
            writeln!(w, "{}", out.trim_end())
        };
        line(w, &head)?;
        for row in &table {
            let cells: Vec<&str> = row.iter().map(String::as_str).collect();
            line(w, &cells)?;
        }
        Ok(())
    })
    .map_err(|e| Failure::Other(e.into()))?;
    Ok(Outcome::Ok)
}
