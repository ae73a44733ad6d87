//! Pattern diagnostics are `sightline_stix::Diagnostic`s located in the
//! pattern text (`Location::Text`): one type for the validator and the
//! pattern checker. Codes are listed in `docs/pattern-diagnostics.md`.

/// Shows a piece of pattern text in a message: quoted, shortened when long.
pub(crate) fn show(text: &str) -> String {
    const MAX: usize = 40;
    let mut out = String::from("'");
    for (i, c) in text.chars().enumerate() {
        if i == MAX {
            out.push('…');
            break;
        }
        out.extend(c.escape_debug());
    }
    out.push('\'');
    out
}
