//! `sightline warninglist import|list|check`: MISP warninglists of benign
//! values that suppress matches.
//!
//! Imported lists live in `<data>/warninglists/`, one JSON file per list
//! (the MISP `list.json` members: name, description, type, list,
//! matching_attributes, version, category), named after the list. Importing
//! a list with the same name again replaces it. [`load`] gives the built-in
//! lists plus every imported one, compiled.

use std::path::{Path, PathBuf};

use sightline_warninglist::{WarningList, WarningLists};

use crate::output::with_stdout;
use crate::{Failure, Outcome};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Import MISP warninglists: list.json files, or directories searched for
    /// them (e.g. a checkout's `lists/`), into <data>/warninglists/.
    Import {
        /// Files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Show the built-in and imported lists: name, type, entries.
    List {
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print the lists each value is on; exit 1 when a value is on none.
    Check {
        /// Values to look up: domains, IP addresses, URLs, hashes, …
        #[arg(required = true)]
        values: Vec<String>,
    },
}

pub fn run(data: &Path, cmd: Command) -> Result<Outcome, Failure> {
    match cmd {
        Command::Import { paths } => import(data, &paths),
        Command::List { json } => list(data, json),
        Command::Check { values } => check(data, &values),
    }
}

/// Where imported lists are kept.
pub fn dir(data: &Path) -> PathBuf {
    data.join("warninglists")
}

/// The built-in lists followed by the imported ones, compiled: the same
/// lists, under the same names, as `sightline match` consults
/// (`sightline_detect::lists`; RFC 1918 space is a list of its own).
pub fn load(data: &Path) -> Result<WarningLists, Failure> {
    let mut lists = sightline_detect::lists::builtin();
    lists.extend(
        sightline_detect::lists::imported(&dir(data)).map_err(|e| Failure::Input(e.to_string()))?,
    );
    Ok(WarningLists::new(lists))
}

/// Every `list.json` under `root` (MISP's layout); if there is none, every
/// `*.json` directly in it.
fn find_lists(root: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut stack = vec![root.to_path_buf()];
    let mut found = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == "list.json") {
                found.push(p);
            }
        }
    }
    if found.is_empty() {
        for e in std::fs::read_dir(root)? {
            let p = e?.path();
            if p.is_file() && p.extension().is_some_and(|x| x == "json") {
                found.push(p);
            }
        }
    }
    found.sort();
    out.extend(found);
    Ok(())
}

/// A file name for a list: its name in lower case, runs of other characters
/// as `-`.
fn slug(name: &str) -> String {
    let mut s = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') {
            s.push('-');
        }
    }
    let s = s.trim_matches('-');
    let s = if s.len() > 100 { &s[..100] } else { s };
    if s.is_empty() {
        "list".into()
    } else {
        s.into()
    }
}

fn import(data: &Path, paths: &[PathBuf]) -> Result<Outcome, Failure> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            find_lists(p, &mut files)
                .map_err(|e| Failure::Input(format!("{}: {e}", p.display())))?;
        } else if p.exists() {
            files.push(p.clone());
        } else {
            return Err(Failure::Input(format!(
                "{}: no such file or directory",
                p.display()
            )));
        }
    }
    if files.is_empty() {
        return Err(Failure::Input("no warninglist files found".into()));
    }
    let mut lists = Vec::new();
    let mut rejected = 0;
    for f in &files {
        let parsed = std::fs::read_to_string(f)
            .map_err(|e| e.to_string())
            .and_then(|t| WarningList::from_json(&t).map_err(|e| e.to_string()));
        match parsed {
            Ok(l) => lists.push(l),
            Err(e) => {
                rejected += 1;
                eprintln!("rejected {}: {e}", f.display());
            }
        }
    }
    let d = dir(data);
    std::fs::create_dir_all(&d).map_err(|e| Failure::Store(format!("{}: {e}", d.display())))?;
    // Compile first, to report entries the index cannot use.
    let compiled = WarningLists::new(lists.clone());
    let mut entries = 0;
    for (l, info) in lists.iter().zip(compiled.lists()) {
        let name = slug(&l.name);
        let path = d.join(format!("{name}.json"));
        let tmp = d.join(format!(".{name}.json.tmp"));
        let text = serde_json::to_vec(l).map_err(|e| Failure::Other(e.into()))?;
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| Failure::Store(format!("{}: {e}", path.display())))?;
        entries += info.entries;
        if info.skipped > 0 {
            let (entry, why) = info.skipped_examples.first().cloned().unwrap_or_default();
            eprintln!(
                "{}: {} of its entries cannot be used (e.g. `{entry}`: {why})",
                info.name, info.skipped
            );
        }
    }
    let rejected_note = if rejected > 0 {
        format!("; {rejected} files rejected")
    } else {
        String::new()
    };
    with_stdout(|out| {
        writeln!(
            out,
            "imported {} warninglists ({entries} entries) into {}{rejected_note}",
            lists.len(),
            d.display(),
        )
    })
    .map_err(|e| Failure::Other(e.into()))?;
    Ok(if rejected > 0 {
        Outcome::Findings
    } else {
        Outcome::Ok
    })
}

fn list(data: &Path, json: bool) -> Result<Outcome, Failure> {
    let n_builtin = sightline_detect::lists::builtin().len();
    let w = load(data)?;
    with_stdout(|out| {
        for (i, l) in w.lists().iter().enumerate() {
            let source = if i < n_builtin {
                "built-in"
            } else {
                "imported"
            };
            if json {
                let line = serde_json::json!({
                    "name": l.name,
                    "type": l.kind.as_str(),
                    "entries": l.entries,
                    "skipped": l.skipped,
                    "source": source,
                });
                writeln!(out, "{line}")?;
            } else {
                writeln!(
                    out,
                    "{:<9} {:<9} {:>8}  {}",
                    source,
                    l.kind.as_str(),
                    l.entries,
                    l.name
                )?;
            }
        }
        Ok(())
    })
    .map_err(|e| Failure::Other(e.into()))?;
    Ok(Outcome::Ok)
}

fn check(data: &Path, values: &[String]) -> Result<Outcome, Failure> {
    let w = load(data)?;
    let mut all_found = true;
    with_stdout(|out| {
        for v in values {
            let hits = w.lookup(None, v);
            if hits.is_empty() {
                all_found = false;
                writeln!(out, "{v}: not on any list")?;
            }
            for i in hits {
                writeln!(out, "{v}: {}", w.lists()[i].name)?;
            }
        }
        Ok(())
    })
    .map_err(|e| Failure::Other(e.into()))?;
    Ok(if all_found {
        Outcome::Ok
    } else {
        Outcome::Findings
    })
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn slugs_are_file_names() {
        assert_eq!(
            slug("List of known IPv4 public DNS resolvers"),
            "list-of-known-ipv4-public-dns-resolvers"
        );
        assert_eq!(slug("../../etc"), "etc");
        assert_eq!(slug("§§"), "list");
    }
}

/// Which warninglists a command consults (`match`, `export`): the flags and
/// the [`ListChoice`] they make.
#[derive(Debug, Clone, clap::Args)]
pub struct ListArgs {
    /// Do not consult warninglists (built-in or imported).
    #[arg(long)]
    pub no_warninglists: bool,
    /// Consult only this warninglist (repeatable): a name from `warninglist
    /// list`, or for a built-in one resolvers, rfc1918, reserved,
    /// documentation, example-domains.
    #[arg(long, value_name = "NAME")]
    pub warninglist: Vec<String>,
    /// Do not consult this warninglist (repeatable); `--no-warninglist
    /// rfc1918` matches private addresses and still suppresses the other
    /// reserved ranges.
    #[arg(long, value_name = "NAME")]
    pub no_warninglist: Vec<String>,
}

impl ListArgs {
    pub fn choice(&self) -> sightline_detect::lists::ListChoice {
        sightline_detect::lists::ListChoice {
            none: self.no_warninglists,
            only: self.warninglist.clone(),
            disable: self.no_warninglist.clone(),
        }
    }
}
