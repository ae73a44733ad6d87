//! The warninglists a run consults: the built-in lists (with RFC 1918 space
//! as a list of its own, so private addresses can be matched while the other
//! reserved ranges stay suppressed) and the MISP lists imported into the data
//! directory, each of which can be turned off, or all but some.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sightline_warninglist::{WarningList, WarningLists};

use crate::DetectError;

/// A directory's files with their length and modification time, sorted.
pub type Signature = Vec<(PathBuf, u64, Option<SystemTime>)>;

/// The signature of the imported lists' directory: cheap (one directory
/// read) and changed whenever a list is added, removed or rewritten, so a
/// following run and the sensor feeds' cache know when to reload.
pub fn signature(dir: &Path) -> Signature {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Signature = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            Some((e.path(), m.len(), m.modified().ok()))
        })
        .collect();
    out.sort();
    out
}

/// The built-in list of private address space, split off the reserved ranges.
pub const RFC1918: &str = "sightline: private IP ranges (RFC 1918)";
const RESERVED: &str = "sightline: reserved IP ranges";
const PRIVATE: [&str; 3] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];

/// Short names of the built-in lists, for the command line.
const ALIASES: [(&str, &str); 5] = [
    ("resolvers", "sightline: public DNS resolvers"),
    ("rfc1918", RFC1918),
    ("reserved", RESERVED),
    ("documentation", "sightline: documentation IP ranges"),
    ("example-domains", "sightline: example domains"),
];

/// Which lists to consult. Names are matched without regard to case; a
/// built-in list also answers to its name without `sightline: ` and to its
/// short name (`resolvers`, `rfc1918`, `reserved`, `documentation`,
/// `example-domains`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListChoice {
    /// None at all.
    pub none: bool,
    /// Only these (all when empty).
    pub only: Vec<String>,
    /// Not these.
    pub disable: Vec<String>,
}

/// The built-in lists, RFC 1918 space as its own list just before the
/// reserved ranges (so a private address is reported as private).
pub fn builtin() -> Vec<WarningList> {
    let mut out = Vec::new();
    for mut l in sightline_warninglist::builtin_lists() {
        if l.name == RESERVED {
            l.list.retain(|e| !PRIVATE.contains(&e.as_str()));
            out.push(WarningList {
                name: RFC1918.to_owned(),
                version: None,
                description: "Private address space (RFC 1918)".to_owned(),
                kind: l.kind,
                list: PRIVATE.iter().map(|s| (*s).to_owned()).collect(),
                matching_attributes: l.matching_attributes.clone(),
                category: l.category.clone(),
            });
        }
        out.push(l);
    }
    out
}

/// The lists imported into `dir` (`sightline warninglist import`), by file name.
pub fn imported(dir: &Path) -> Result<Vec<WarningList>, DetectError> {
    let bad = |p: &Path, e: &dyn std::fmt::Display| DetectError::Warninglist {
        path: p.display().to_string(),
        message: e.to_string(),
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(bad(dir, &e)),
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).map_err(|e| bad(p, &e))?;
            WarningList::from_json(&text).map_err(|e| bad(p, &e))
        })
        .collect()
}

fn names(name: &str, list: &str) -> bool {
    let n = name.to_lowercase();
    let l = list.to_lowercase();
    n == l
        || l.strip_prefix("sightline: ").is_some_and(|s| s == n)
        || ALIASES
            .iter()
            .any(|(alias, full)| *alias == n && full.eq_ignore_ascii_case(list))
}

/// The lists `choice` selects among the built-in ones and those in `dir`,
/// compiled. A name that is no list is an error naming the lists there are.
pub fn load(dir: &Path, choice: &ListChoice) -> Result<WarningLists, DetectError> {
    if choice.none {
        return Ok(WarningLists::new(Vec::new()));
    }
    let mut all = builtin();
    all.extend(imported(dir)?);
    for n in choice.only.iter().chain(&choice.disable) {
        if !all.iter().any(|l| names(n, &l.name)) {
            let known: Vec<&str> = ALIASES
                .iter()
                .map(|(a, _)| *a)
                .chain(all.iter().skip(ALIASES.len()).map(|l| l.name.as_str()))
                .collect();
            return Err(DetectError::Usage(format!(
                "no warninglist {n:?} (there are: {})",
                known.join(", ")
            )));
        }
    }
    all.retain(|l| {
        (choice.only.is_empty() || choice.only.iter().any(|n| names(n, &l.name)))
            && !choice.disable.iter().any(|n| names(n, &l.name))
    });
    Ok(WarningLists::new(all))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1918_is_a_list_of_its_own() {
        let dir = Path::new("/nonexistent");
        let all = load(dir, &ListChoice::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(all.first(None, "192.168.1.1"), Some(RFC1918));
        assert_eq!(all.first(None, "127.0.0.1"), Some(RESERVED));
        let off = ListChoice {
            disable: vec!["RFC1918".into()],
            ..ListChoice::default()
        };
        let some = load(dir, &off).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(some.first(None, "192.168.1.1"), None);
        assert_eq!(some.first(None, "10.1.2.3"), None);
        assert_eq!(some.first(None, "127.0.0.1"), Some(RESERVED));
        assert!(some.first(None, "8.8.8.8").is_some());
        let only = ListChoice {
            only: vec!["public DNS resolvers".into()],
            ..ListChoice::default()
        };
        let one = load(dir, &only).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(one.lists().len(), 1);
        let unknown = ListChoice {
            disable: vec!["nope".into()],
            ..ListChoice::default()
        };
        assert!(matches!(load(dir, &unknown), Err(DetectError::Usage(m)) if m.contains("rfc1918")));
    }
}
