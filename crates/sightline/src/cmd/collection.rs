//! `sightline collection add|list|remove`

use std::path::Path;

use sightline_store::CollectionInfo;

use crate::output::with_stdout;
use crate::table::Table;
use crate::{Failure, Outcome};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a collection (its id is a new UUIDv4).
    Add {
        /// Short unique name, usable wherever the id is.
        alias: String,
        /// Human-readable title (TAXII 2.1 §5.2); default: the alias.
        #[arg(long)]
        title: Option<String>,
        /// A longer description shown to TAXII clients.
        #[arg(long)]
        description: Option<String>,
    },
    /// List collections (an aligned table, or JSON with --json).
    List {
        /// One JSON array of collections.
        #[arg(long)]
        json: bool,
    },
    /// Remove a collection (its objects stay in the store).
    Remove {
        /// The collection's id (UUID) or alias.
        id_or_alias: String,
    },
}

pub fn run(data: &Path, cmd: Command) -> Result<Outcome, Failure> {
    // Only `add` may create the store; listing or removing in a directory
    // that holds none is a mistyped --data.
    let store = match cmd {
        Command::Add { .. } => super::open_store(data)?,
        _ => super::open_existing_store(data)?,
    };
    let io = |e: std::io::Error| Failure::Other(e.into());
    match cmd {
        Command::Add {
            alias,
            title,
            description,
        } => {
            let id = uuid::Uuid::new_v4().to_string();
            let info = CollectionInfo {
                id: id.clone(),
                title: title.unwrap_or_else(|| alias.clone()),
                description,
                alias: Some(alias),
                media_types: vec!["application/stix+json;version=2.1".to_owned()],
            };
            // A name already taken is a refusal (exit 1), not a store failure.
            match store.create_collection(&info) {
                Ok(()) => {}
                Err(sightline_store::StoreError::CollectionExists { id: name }) => {
                    eprintln!(
                        "sightline: collection {name:?} already exists (`sightline collection list` shows it); nothing changed"
                    );
                    return Ok(Outcome::Findings);
                }
                Err(e) => return Err(e.into()),
            }
            with_stdout(|w| writeln!(w, "{id}")).map_err(io)?;
        }
        Command::List { json } => {
            let cs = store.collections()?;
            with_stdout(|w| {
                if json {
                    let list: Vec<_> = cs
                        .iter()
                        .map(|c| {
                            serde_json::json!({"id": c.id, "alias": c.alias, "title": c.title,
                                "description": c.description, "media_types": c.media_types})
                        })
                        .collect();
                    serde_json::to_writer(&mut *w, &list)?;
                    return w.write_all(b"\n");
                }
                if cs.is_empty() {
                    return Ok(());
                }
                let mut t = Table::new(&["ID", "ALIAS", "TITLE"]);
                for c in &cs {
                    t.row(vec![
                        c.id.clone(),
                        c.alias.clone().unwrap_or_else(|| "-".into()),
                        c.title.clone(),
                    ]);
                }
                t.write(w)
            })
            .map_err(io)?;
        }
        Command::Remove { id_or_alias } => {
            if !store.remove_collection(&id_or_alias)? {
                eprintln!("sightline: no collection {id_or_alias:?}");
                return Ok(Outcome::Findings);
            }
        }
    }
    Ok(Outcome::Ok)
}
