//! The server config most server and binary tests start from: one API root,
//! `api1`, holding one collection, `c1`, with the rights, limits and settings
//! each test names.

/// A Sightline server config (TOML) serving API root `api1` ("Test root")
/// with collection `c1`; each field is TOML lines put in its place.
#[derive(Debug, Clone, Copy, Default)]
pub struct OneCollection<'a> {
    /// Settings outside any table (`listen`, `metrics_public`, ...).
    pub top: &'a str,
    /// Lines of `[limits]`.
    pub limits: &'a str,
    /// More lines of the `[[api_roots]]` entry (`max_content_length`, ...).
    pub root: &'a str,
    /// Lines of `[collections.c1]`: its rights.
    pub rights: &'a str,
}

impl OneCollection<'_> {
    /// The config file's text.
    pub fn toml(&self) -> String {
        let OneCollection {
            top,
            limits,
            root,
            rights,
        } = self;
        format!(
            "{top}\n\
             [limits]\n{limits}\n\
             [[api_roots]]\npath = \"api1\"\ntitle = \"Test root\"\ncollections = [\"c1\"]\n{root}\n\
             [collections.c1]\n{rights}\n"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_part_lands_in_its_table() {
        let t = OneCollection {
            top: "metrics_public = true",
            limits: "shutdown_grace_secs = 2",
            root: "max_content_length = 65536",
            rights: "can_read = [\"bob\"]",
        }
        .toml();
        let want = "metrics_public = true\n\
                    [limits]\nshutdown_grace_secs = 2\n\
                    [[api_roots]]\npath = \"api1\"\ntitle = \"Test root\"\ncollections = [\"c1\"]\n\
                    max_content_length = 65536\n\
                    [collections.c1]\ncan_read = [\"bob\"]\n";
        assert_eq!(t, want);
    }
}
