//! Per-collection rights from the config's `[collections.NAME]` sections.
//!
//! Deny by default: a collection without a section is readable, writable and
//! deletable by admins only. The three rights are independent: `can_write`
//! does not imply `can_read` (a submission inbox, where partners write and
//! only analysts read, TAXII 2.1 §5.2), and deleting needs `can_delete`
//! (default: admins only). Entries are resolved to collection ids once at
//! start-up, so a check is a map lookup and a scan of a short list.

use std::collections::HashMap;

use sightline_taxii::{AccessPolicy, Principal};

use crate::config::CollectionSection;

/// One entry of a `can_read` / `can_write` / `can_delete` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Grant {
    User(String),
    Group(String),
    /// `*`: any signed-in user.
    Anyone,
}

impl Grant {
    pub(crate) fn parse(s: &str) -> Result<Grant, String> {
        if s == "*" {
            return Ok(Grant::Anyone);
        }
        if let Some(g) = s.strip_prefix("group:") {
            sightline_store::accounts::validate_group_name(g).map_err(|e| e.to_string())?;
            return Ok(Grant::Group(g.to_owned()));
        }
        sightline_store::accounts::validate_user_name(s).map_err(|e| e.to_string())?;
        Ok(Grant::User(s.to_owned()))
    }

    fn admits(&self, p: &Principal) -> bool {
        match self {
            Grant::Anyone => true,
            Grant::User(u) => *u == p.name,
            Grant::Group(g) => p.groups.iter().any(|x| x == g),
        }
    }
}

#[derive(Debug, Default)]
struct Rule {
    read: Vec<Grant>,
    write: Vec<Grant>,
    delete: Vec<Grant>,
    anonymous_read: bool,
}

/// The [`AccessPolicy`] built from config. Admins may do everything.
#[derive(Debug, Default)]
pub struct ConfigPolicy {
    /// Keyed by collection id (never alias).
    rules: HashMap<String, Rule>,
}

impl ConfigPolicy {
    /// `sections` keyed by collection id (aliases already resolved).
    pub(crate) fn new<'a>(
        sections: impl IntoIterator<Item = (String, &'a CollectionSection)>,
    ) -> Result<ConfigPolicy, String> {
        let mut rules = HashMap::new();
        for (id, s) in sections {
            let parse = |list: &[String]| -> Result<Vec<Grant>, String> {
                list.iter().map(|e| Grant::parse(e)).collect()
            };
            rules.insert(
                id,
                Rule {
                    read: parse(&s.can_read)?,
                    write: parse(&s.can_write)?,
                    delete: parse(&s.can_delete)?,
                    anonymous_read: s.anonymous_read,
                },
            );
        }
        Ok(ConfigPolicy { rules })
    }
}

impl AccessPolicy for ConfigPolicy {
    fn can_read(&self, who: Option<&Principal>, collection_id: &str) -> bool {
        let rule = self.rules.get(collection_id);
        match who {
            Some(p) if p.admin => true,
            // Not the writers: they read back their own status resources
            // (owner-checked), never others' objects.
            Some(p) => rule.is_some_and(|r| r.anonymous_read || r.read.iter().any(|g| g.admits(p))),
            None => rule.is_some_and(|r| r.anonymous_read),
        }
    }

    fn can_write(&self, who: Option<&Principal>, collection_id: &str) -> bool {
        self.listed(who, collection_id, |r| &r.write)
    }

    fn can_delete(&self, who: Option<&Principal>, collection_id: &str) -> bool {
        self.listed(who, collection_id, |r| &r.delete)
    }
}

impl ConfigPolicy {
    /// An admin, or a signed-in caller that `list` of the collection admits;
    /// never anonymous.
    fn listed(
        &self,
        who: Option<&Principal>,
        collection_id: &str,
        list: impl Fn(&Rule) -> &Vec<Grant>,
    ) -> bool {
        match who {
            Some(p) if p.admin => true,
            Some(p) => self
                .rules
                .get(collection_id)
                .is_some_and(|r| list(r).iter().any(|g| g.admits(p))),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(name: &str, groups: &[&str], admin: bool) -> Principal {
        Principal {
            name: name.into(),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            admin,
        }
    }

    #[test]
    fn grants() {
        let open = CollectionSection {
            can_read: vec!["alice".into(), "group:analysts".into()],
            can_write: vec!["group:feeders".into()],
            can_delete: vec!["alice".into()],
            anonymous_read: false,
        };
        let public = CollectionSection {
            can_read: vec![],
            can_write: vec!["*".into()],
            can_delete: vec![],
            anonymous_read: true,
        };
        let pol = ConfigPolicy::new([("c1".to_owned(), &open), ("c2".to_owned(), &public)])
            .expect("policy");
        let alice = p("alice", &[], false);
        let ann = p("ann", &["analysts"], false);
        let fred = p("fred", &["feeders"], false);
        let root = p("root", &[], true);
        let nobody = p("nobody", &["other"], false);
        assert!(pol.can_read(Some(&alice), "c1"));
        assert!(!pol.can_write(Some(&alice), "c1"));
        assert!(pol.can_read(Some(&ann), "c1"));
        assert!(!pol.can_read(Some(&fred), "c1"), "writers do not read back");
        assert!(pol.can_write(Some(&fred), "c1"));
        assert!(!pol.can_read(Some(&nobody), "c1"));
        assert!(!pol.can_read(None, "c1"));
        assert!(pol.can_read(None, "c2"));
        assert!(!pol.can_write(None, "c2"), "anonymous never writes");
        assert!(pol.can_write(Some(&nobody), "c2"));
        assert!(pol.can_read(Some(&root), "c3") && pol.can_write(Some(&root), "c3"));
        assert!(!pol.can_read(Some(&alice), "c3"), "no section: admins only");
    }

    /// Issue 12 §2: a submission inbox. Partners write and neither read nor
    /// delete; analysts read; only listed principals and admins delete.
    #[test]
    fn submission_inbox_and_delete_right() {
        let inbox = CollectionSection {
            can_read: vec!["group:analysts".into()],
            can_write: vec!["group:partners".into(), "group:analysts".into()],
            can_delete: vec!["lead".into()],
            anonymous_read: false,
        };
        let pol = ConfigPolicy::new([("inbox".to_owned(), &inbox)]).expect("policy");
        let partner = p("acme", &["partners"], false);
        let analyst = p("ann", &["analysts"], false);
        let lead = p("lead", &["analysts"], false);
        let root = p("root", &[], true);
        assert!(pol.can_write(Some(&partner), "inbox"));
        assert!(!pol.can_read(Some(&partner), "inbox"), "write-only");
        assert!(!pol.can_delete(Some(&partner), "inbox"));
        assert!(pol.can_read(Some(&analyst), "inbox") && pol.can_write(Some(&analyst), "inbox"));
        assert!(
            !pol.can_delete(Some(&analyst), "inbox"),
            "reading and writing is not deleting"
        );
        assert!(pol.can_delete(Some(&lead), "inbox"));
        assert!(pol.can_delete(Some(&root), "inbox"), "admins delete");
        assert!(pol.can_delete(Some(&root), "elsewhere"));
        assert!(!pol.can_delete(None, "inbox"));
        assert!(
            !pol.can_delete(Some(&lead), "elsewhere"),
            "no section: admins only"
        );
    }
}
