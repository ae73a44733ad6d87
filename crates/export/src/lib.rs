//! `sightline-export`: detections out (issue 15 §2). From the active
//! indicators, the files sensors load: Zeek Intel, Suricata rules, Suricata
//! datasets, Sigma rules, CSV.
//!
//! Each STIX pattern is split ([`terms`]) into alternatives, each a
//! conjunction of exact comparisons on one observation; a format writes one
//! line or rule per alternative it can carry exactly. Everything else (a
//! temporal operator, an `AND` the sensor cannot join, `NOT`, `LIKE`, ...) is
//! an entry of the [`Report`] with its reason, written as comment lines at
//! the top of the output; the CLI prints it on stderr too. Nothing is
//! dropped silently or widened. Which indicators go out is an
//! [`ActiveFilter`]; values on an enabled warninglist are left out and
//! reported. Output is deterministic: indicators in id order, sets sorted.
//! No terminal output and no file writes here: the caller gets bytes.

pub mod csv;
pub mod error;
pub mod filter;
pub mod indicator;
pub mod lifecycle;
pub mod sigma;
pub mod suricata;
pub mod terms;
pub mod zeek;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use sightline_warninglist::{ValueKind, WarningLists};

pub use error::ExportError;
pub use filter::{ActiveFilter, All, Inactive, Lifecycle};
pub use indicator::{from_objects, from_store, from_store_visible, Indicated, Indicator, Loaded};
pub use lifecycle::{Scored, Scoring};
pub use terms::{Alternative, Prop, Term, TermValue};

/// The sensor formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    ZeekIntel,
    Suricata,
    SuricataDatasets,
    Sigma,
    Csv,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::ZeekIntel,
        Format::Suricata,
        Format::SuricataDatasets,
        Format::Sigma,
        Format::Csv,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::ZeekIntel => "zeek-intel",
            Format::Suricata => "suricata",
            Format::SuricataDatasets => "suricata-datasets",
            Format::Sigma => "sigma",
            Format::Csv => "csv",
        }
    }

    pub fn parse(s: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == s)
    }

    /// Whether the output is several files (a directory).
    pub fn is_directory(self) -> bool {
        matches!(self, Format::SuricataDatasets | Format::Sigma)
    }
}

/// How to export.
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    /// The server's base URL: Zeek's `meta.url` and Sigma's `references`
    /// link `{base}/ui/objects/{id}`.
    pub base_url: Option<&'a str>,
    /// The Suricata SID range, inclusive.
    pub sid_start: u32,
    pub sid_end: u32,
    /// Values on these lists are left out (and reported).
    pub warninglists: Option<&'a WarningLists>,
    /// Threads to format on: 0 (the default) is one per core, each with at
    /// least 5,000 indicators; the output does not depend on it.
    pub threads: usize,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            base_url: None,
            sid_start: suricata::DEFAULT_SID_START,
            sid_end: suricata::DEFAULT_SID_END,
            warninglists: None,
            threads: 0,
        }
    }
}

/// A part of an indicator that did not go out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unexported {
    pub indicator: String,
    /// The pattern part (the whole pattern for a pattern that does not parse
    /// or is in another language).
    pub part: String,
    pub reason: String,
}

impl std::fmt::Display for Unexported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.indicator, self.part, self.reason)
    }
}

/// What an export did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Indicators read.
    pub indicators: usize,
    /// Active indicators with at least one line or rule.
    pub exported: usize,
    /// Lines, rows or rules written (set entries count one each).
    pub items: usize,
    /// Indicators left out as not active, by reason.
    pub inactive: BTreeMap<String, usize>,
    /// Parts no line or rule of the format carries (not expressible).
    pub unexpressed: Vec<Unexported>,
    /// Parts left out because a value is on an enabled warninglist.
    pub suppressed: Vec<Unexported>,
}

impl Report {
    /// The report as comment lines (`prefix` + text), for the output's head.
    pub fn comment_lines(&self, format: Format, prefix: &str) -> String {
        // Sized once: 55,000 report lines would otherwise regrow it ~20 times.
        let lines = self.unexpressed.len() + self.suppressed.len() + self.inactive.len();
        let mut s = String::with_capacity(256 + lines * 160);
        let _ = writeln!(
            s,
            "{prefix}Sightline {} export: {} items from {} of {} indicators",
            format.name(),
            self.items,
            self.exported,
            self.indicators
        );
        for (why, n) in &self.inactive {
            let _ = writeln!(s, "{prefix}not active ({why}): {n} indicators");
        }
        for u in &self.unexpressed {
            let _ = writeln!(s, "{prefix}not expressible: {}", one_line(&u.to_string()));
        }
        for u in &self.suppressed {
            let _ = writeln!(s, "{prefix}suppressed: {}", one_line(&u.to_string()));
        }
        s
    }
}

/// The files of an export: one unnamed file for single-file formats, named
/// files for a directory format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub files: Vec<(String, Vec<u8>)>,
    pub report: Report,
}

/// `{base}/ui/objects/{id}`.
pub fn ui_link(base: &str, id: &str) -> String {
    format!("{}/ui/objects/{id}", base.trim_end_matches('/'))
}

/// Text on one line: control characters become spaces.
pub fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn value_kind(p: &Prop) -> Option<ValueKind> {
    Some(match p {
        Prop::Addr | Prop::SrcAddr | Prop::DstAddr => ValueKind::Ip,
        Prop::Domain => ValueKind::Domain,
        Prop::Url => ValueKind::Url,
        Prop::Email => ValueKind::Email,
        Prop::FileHash(_) | Prop::CertHash(_) => ValueKind::Hash,
        Prop::DstPort | Prop::SrcPort | Prop::Protocol => return None,
        _ => ValueKind::Other,
    })
}

/// One indicator's alternatives after the warninglists, or `None` when the
/// pattern gives nothing (reported).
fn alternatives(ind: &Indicator, opts: &Options<'_>, report: &mut Report) -> Vec<Alternative> {
    let pattern = match sightline_pattern::parse(&ind.pattern) {
        Ok(p) => p,
        Err(d) => {
            let first = d.first().map(ToString::to_string).unwrap_or_default();
            report.unexpressed.push(Unexported {
                indicator: ind.id.clone(),
                part: ind.pattern.clone(),
                reason: format!("the pattern does not parse: {first}"),
            });
            return Vec::new();
        }
    };
    let split = terms::split(&pattern);
    for u in split.unexpressed {
        report.unexpressed.push(Unexported {
            indicator: ind.id.clone(),
            part: u.text,
            reason: u.reason,
        });
    }
    let mut out = Vec::with_capacity(split.alternatives.len());
    'alt: for a in split.alternatives {
        for t in &a.terms {
            if matches!(&t.value, TermValue::Str(s) if s.is_empty()) {
                report.unexpressed.push(Unexported {
                    indicator: ind.id.clone(),
                    part: a.text.clone(),
                    reason: "an empty value".into(),
                });
                continue 'alt;
            }
            if let (Some(lists), Some(kind)) = (opts.warninglists, value_kind(&t.prop)) {
                if let Some(list) = lists.first(Some(kind), &t.text()) {
                    report.suppressed.push(Unexported {
                        indicator: ind.id.clone(),
                        part: a.text.clone(),
                        reason: format!("{} is on the warninglist {list:?}", t.text()),
                    });
                    continue 'alt;
                }
            }
        }
        out.push(a);
    }
    out
}

/// What one slice of the indicators gave (formatted on its own thread).
#[derive(Default)]
struct Part {
    report: Report,
    body: String,
    rules: Vec<suricata::Rule>,
    sets: suricata::Sets,
    sigma_files: Vec<(String, String)>,
}

/// At least this many indicators per thread: below it a thread costs more
/// than it saves.
const MIN_PER_THREAD: usize = 5000;

/// Exports `indicators` (ordered by id, as [`from_store`] gives them) that
/// `filter` admits.
///
/// The indicators are cut into contiguous slices formatted on as many
/// threads as there are cores (a slice each) and joined in order, so the
/// output is the same as one thread's: bodies concatenated, Suricata rules
/// sorted by key before their SIDs are drawn, sets merged, report entries
/// in indicator order.
pub fn export(
    format: Format,
    indicators: &[Indicator],
    filter: &dyn ActiveFilter,
    opts: &Options<'_>,
) -> Result<Output, ExportError> {
    let threads = match opts.threads {
        0 => std::thread::available_parallelism()
            .map_or(1, std::num::NonZeroUsize::get)
            .min(indicators.len() / MIN_PER_THREAD),
        n => n.min(indicators.len()),
    }
    .max(1);
    let chunk = indicators.len().div_ceil(threads).max(1);
    let mut parts: Vec<Part> = if threads == 1 {
        vec![part(format, indicators, indicators.len(), filter, opts)]
    } else {
        std::thread::scope(|s| {
            let mut slices = indicators.chunks(chunk);
            let first = slices.next().unwrap_or_default();
            let handles: Vec<_> = slices
                .map(|c| s.spawn(move || part(format, c, c.len(), filter, opts)))
                .collect();
            // The first body is sized for all, so the others join it in place.
            let mut parts = vec![part(format, first, indicators.len(), filter, opts)];
            for h in handles {
                // A panic in a formatter is a bug: re-raise it here.
                parts.push(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
            }
            parts
        })
    };
    let mut report = Report {
        indicators: indicators.len(),
        ..Report::default()
    };
    let mut rules = Vec::new();
    let mut sets = suricata::Sets::default();
    let mut sigma_files = Vec::new();
    for p in &mut parts {
        let r = std::mem::take(&mut p.report);
        report.exported += r.exported;
        report.items += r.items;
        for (why, n) in r.inactive {
            *report.inactive.entry(why).or_default() += n;
        }
        report.unexpressed.extend(r.unexpressed);
        report.suppressed.extend(r.suppressed);
        if rules.is_empty() {
            rules = std::mem::take(&mut p.rules);
        } else {
            rules.append(&mut p.rules);
        }
        sets.append(&mut p.sets);
        sigma_files.append(&mut p.sigma_files);
    }
    let bodies: Vec<String> = parts.into_iter().map(|p| p.body).collect();
    let files = match format {
        Format::ZeekIntel => {
            let mut head = report.comment_lines(format, "# ");
            head.push_str(zeek::FIELDS);
            head.push('\n');
            head.push_str(zeek::TYPES);
            head.push('\n');
            vec![(String::new(), joined(&head, bodies))]
        }
        Format::Csv => {
            let mut head = report.comment_lines(format, "# ");
            head.push_str(csv::HEADER);
            vec![(String::new(), joined(&head, bodies))]
        }
        Format::Suricata => {
            let mut s = report.comment_lines(format, "# ");
            suricata::write_rules(rules, opts.sid_start, opts.sid_end, &mut s)?;
            vec![(String::new(), s.into_bytes())]
        }
        Format::SuricataDatasets => {
            let set_files = suricata::bulk(&sets, &mut rules);
            let mut s = report.comment_lines(format, "# ");
            suricata::write_rules(rules, opts.sid_start, opts.sid_end, &mut s)?;
            let mut files = vec![("sightline.rules".to_owned(), s.into_bytes())];
            files.extend(set_files);
            files
        }
        Format::Sigma => {
            let mut files: Vec<(String, Vec<u8>)> = Vec::with_capacity(sigma_files.len() + 1);
            files.push((
                "sightline-report.txt".to_owned(),
                report.comment_lines(format, "").into_bytes(),
            ));
            files.extend(sigma_files.into_iter().map(|(n, y)| (n, y.into_bytes())));
            files
        }
    };
    Ok(Output { files, report })
}

/// Formats one slice of the indicators (`room`: how many indicators the
/// text body is sized for).
fn part(
    format: Format,
    indicators: &[Indicator],
    room: usize,
    filter: &dyn ActiveFilter,
    opts: &Options<'_>,
) -> Part {
    let mut report = Report::default();
    // Sized up front: growing a 30 MB buffer by doubling copies it and
    // touches fresh pages at every step (most of the time at 100,000).
    let mut body = String::with_capacity(match format {
        Format::ZeekIntel | Format::Csv => room * 160,
        _ => 0,
    });
    let mut rules = Vec::with_capacity(match format {
        Format::Suricata => indicators.len() * 2,
        Format::SuricataDatasets => indicators.len(),
        _ => 0,
    });
    let mut sets = suricata::Sets::default();
    let mut sigma_files: Vec<(String, String)> = Vec::new();
    for ind in indicators {
        if let Some(why) = filter.inactive(ind) {
            *report.inactive.entry(why.to_string()).or_default() += 1;
            continue;
        }
        if ind.pattern_type != "stix" {
            if format == Format::Sigma && ind.pattern_type == "sigma" {
                sigma_files.push(sigma::own_text(ind));
                report.exported += 1;
                report.items += 1;
            } else {
                report.unexpressed.push(Unexported {
                    indicator: ind.id.clone(),
                    part: format!("pattern_type {}", ind.pattern_type),
                    reason: format!(
                        "a {} pattern has no {} form",
                        ind.pattern_type,
                        format.name()
                    ),
                });
            }
            continue;
        }
        let before = report.unexpressed.len();
        let alts = alternatives(ind, opts, &mut report);
        let mut wrote = 0usize;
        let fail = |a: &Alternative, reason: String, report: &mut Report| {
            report.unexpressed.push(Unexported {
                indicator: ind.id.clone(),
                part: a.text.clone(),
                reason,
            });
        };
        match format {
            Format::ZeekIntel => {
                for a in &alts {
                    match zeek::intel(&a.terms) {
                        Ok((v, ty)) => {
                            zeek::line(&mut body, &v, ty, ind, opts.base_url);
                            wrote += 1;
                        }
                        Err(e) => fail(a, e, &mut report),
                    }
                }
            }
            Format::Csv => {
                let indicates = csv::indicates(ind);
                for a in &alts {
                    match csv::row(&mut body, &a.terms, ind, &indicates) {
                        Ok(()) => wrote += 1,
                        Err(e) => fail(a, e, &mut report),
                    }
                }
            }
            Format::Suricata | Format::SuricataDatasets => {
                for a in &alts {
                    let with_sets = (format == Format::SuricataDatasets).then_some(&mut sets);
                    match suricata::alternative(ind, &a.text, &a.terms, with_sets, &mut rules) {
                        Ok(n) => wrote += n,
                        Err(e) => fail(a, e, &mut report),
                    }
                }
            }
            Format::Sigma => {
                let mut r = sigma::Rules::default();
                for a in &alts {
                    match sigma::alternative(&a.terms) {
                        Ok((source, sels)) => r.by_source.entry(source).or_default().extend(sels),
                        Err(e) => fail(a, e, &mut report),
                    }
                }
                if !r.by_source.is_empty() {
                    // The rule's own head says what of its indicator is missing.
                    let notes: Vec<String> = report.unexpressed[before..]
                        .iter()
                        .map(|u| format!("not expressible: {}: {}", u.part, u.reason))
                        .collect();
                    let files = sigma::write(ind, &r, &notes, opts.base_url);
                    wrote += files.len();
                    sigma_files.extend(files);
                }
            }
        }
        if wrote > 0 {
            report.exported += 1;
            report.items += wrote;
        }
    }
    Part {
        report,
        body,
        rules,
        sets,
        sigma_files,
    }
}

/// `head` then the bodies: in the first body's buffer when it has room
/// (it was sized for the whole slice), else in one new allocation of the
/// exact size (fresh memory is a large part of an export's time).
fn joined(head: &str, bodies: Vec<String>) -> Vec<u8> {
    let total = head.len() + bodies.iter().map(String::len).sum::<usize>();
    let mut bodies = bodies.into_iter();
    let mut v = match bodies.next() {
        Some(mut first) if first.capacity() >= total => {
            first.insert_str(0, head);
            first.into_bytes()
        }
        first => {
            let mut v = Vec::with_capacity(total);
            v.extend_from_slice(head.as_bytes());
            if let Some(f) = first {
                v.extend_from_slice(f.as_bytes());
            }
            v
        }
    };
    for b in bodies {
        v.extend_from_slice(b.as_bytes());
    }
    v
}

/// The Sigma rules of an export as one multi-document YAML stream (for
/// standard output): the report as comments, then each rule after `---`.
pub fn sigma_stream(out: &Output) -> Vec<u8> {
    let size: usize = out.files.iter().map(|(_, b)| b.len() + 4).sum();
    let mut s = Vec::with_capacity(size + 4096);
    // Writing into a Vec cannot fail.
    let _ = write_sigma_stream(out, &mut s);
    s
}

/// [`sigma_stream`] written to `w` as it goes (no copy of the whole stream).
pub fn write_sigma_stream(out: &Output, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    w.write_all(out.report.comment_lines(Format::Sigma, "# ").as_bytes())?;
    for (name, bytes) in &out.files {
        if name.ends_with(".yml") {
            w.write_all(b"---\n")?;
            w.write_all(bytes)?;
        }
    }
    Ok(())
}
