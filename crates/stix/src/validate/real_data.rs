//! Every file of the real-data corpus (SIGHTLINE_TEST_DATA, default
//! `../../../shared/data/real` from the crate dir, i.e. the shared/ folder beside the checkout) validates without errors, except the
//! eight Attack Flow files that the OASIS validator rejects, which we reject too
//! for the reasons SOURCES.md gives.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{is_valid, Validator};
use crate::diag::Severity;

const INVALID: &[(&str, &[&str])] = &[
    // defanged url value ('[.]')
    (
        "attack-flow/CISA_AA22-138B_VMWare_Workspace_Alt.json",
        &["E130"],
    ),
    // url values without a scheme, defanged, trailing space
    ("attack-flow/CISA_Iranian_APT.json", &["E130"]),
    // url value with a trailing NBSP and no scheme
    ("attack-flow/Hancitor_DLL.json", &["E130"]),
    // 'hxxps://ptpb[.]pw', empty start_refs and capabilities
    (
        "attack-flow/Mac_Malware_Steals_Crypto.json",
        &["E130", "E106"],
    ),
    // empty start_refs
    ("attack-flow/NotPetya.json", &["E106"]),
    // threat-actor aliases []
    ("attack-flow/SWIFT_Heist.json", &["E106"]),
    // hashes given as a string (and size as a string)
    ("attack-flow/Shamoon.json", &["E105"]),
    // empty start_refs; external_references description null
    ("attack-flow/Uber_Breach.json", &["E106", "E117"]),
];

fn data_dir() -> PathBuf {
    std::env::var_os("SIGHTLINE_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/real"))
}

pub(crate) fn load(path: &Path) -> Option<Value> {
    let mut bytes = Vec::new();
    let f = std::fs::File::open(path).ok()?;
    if path.extension().is_some_and(|e| e == "gz") {
        flate2::read::GzDecoder::new(f)
            .read_to_end(&mut bytes)
            .ok()?;
    } else {
        std::io::BufReader::new(f).read_to_end(&mut bytes).ok()?;
    }
    serde_json::from_slice(&bytes).ok()
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else if p.to_string_lossy().ends_with(".json")
            || p.to_string_lossy().ends_with(".json.gz")
        {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn real_data_validates_like_the_oasis_validator() {
    let dir = data_dir();
    if !dir.is_dir() {
        println!("real-data test NOT RUN: {} is not a directory (set SIGHTLINE_TEST_DATA to the real-data folder)", dir.display());
        return;
    }
    let v = Validator::new();
    let mut failures = Vec::new();
    let mut checked = 0;
    for path in files(&dir) {
        let rel = path
            .strip_prefix(&dir)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        let Some(doc) = load(&path) else {
            failures.push(format!("{rel}: cannot read or parse"));
            continue;
        };
        let objects: Vec<Value> = match doc.get("objects") {
            Some(Value::Array(a)) => a.clone(),
            _ => vec![doc],
        };
        let results = v.validate_bundle_objects(&objects);
        checked += objects.len();
        let codes: Vec<String> = results
            .iter()
            .zip(&objects)
            .flat_map(|(ds, o)| {
                ds.iter()
                    .filter(|d| d.severity == Severity::Error)
                    .map(move |d| format!("{} {} {d}", o["id"].as_str().unwrap_or("?"), d.code))
            })
            .collect();
        let valid = results.iter().all(|d| is_valid(d));
        match INVALID.iter().find(|(f, _)| *f == rel) {
            Some((_, expected)) => {
                if valid {
                    failures.push(format!("{rel}: expected invalid, validated"));
                }
                for code in *expected {
                    if !codes.iter().any(|c| c.contains(&format!(" {code} "))) {
                        failures.push(format!("{rel}: expected an {code} error; got {codes:#?}"));
                    }
                }
            }
            None if !valid => failures.push(format!(
                "{rel}: unexpected errors: {:#?}",
                &codes[..codes.len().min(20)]
            )),
            None => {}
        }
    }
    println!(
        "real-data test: {checked} objects checked under {}",
        dir.display()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
