//! `sightline serve [--listen ADDR] [--config FILE] [--demo] [--tls-cert F --tls-key F]
//! [--insecure-plain-http-on-network]`

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use sightline_interchange::{import, ImportOptions, Input, DEFAULT_MAX_OBJECT_BYTES};
use sightline_server::{ApiRootSection, CollectionSection, Server, ServerConfig, ServerError};
use sightline_store::{CollectionInfo, CollectionStore, Store};

use crate::{Failure, Outcome};

/// The demo's user, API root and collection.
const DEMO_USER: &str = "demo";
const DEMO_ROOT: &str = "api1";
const DEMO_COLLECTION: &str = "demo";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on [default: 127.0.0.1:8000, or the config's `listen`]. Port 0 picks
    /// a free port; the chosen one is printed as `listening on URL`.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// TOML config: API roots, collection permissions, limits, TLS (see sightline.example.toml).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Load the Bureau 121 pack into collection `demo`, served under /api1/, with a user `demo`
    /// whose new random password is printed.
    #[arg(long)]
    demo: bool,
    /// With --demo: also import these files into the demo collection, e.g. MITRE ATT&CK
    /// (`--demo-import enterprise-attack-18.1.json.gz`). Repeatable.
    #[arg(long = "demo-import", value_name = "FILE", requires = "demo")]
    demo_import: Vec<String>,
    /// PEM certificate chain: serve HTTPS (with --tls-key).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Allow plain HTTP on a non-loopback address. Passwords and tokens then cross the network
    /// in clear text: only behind a TLS-terminating proxy.
    #[arg(long)]
    insecure_plain_http_on_network: bool,
}

pub fn run(data: &Path, args: Args) -> Result<Outcome, Failure> {
    let mut config = match &args.config {
        Some(p) => ServerConfig::load(p).map_err(server_failure)?,
        None => ServerConfig::default(),
    };
    // Flags override the file.
    if let Some(l) = args.listen {
        config.listen = l;
    }
    if let (Some(cert), Some(key)) = (args.tls_cert, args.tls_key) {
        config.tls = Some(sightline_server::TlsConfig { cert, key });
    }
    config.insecure_plain_http_on_network |= args.insecure_plain_http_on_network;
    let data = config
        .data_dir
        .get_or_insert_with(|| data.to_owned())
        .clone();
    // Refuse a bad config before touching the store.
    config.validate().map_err(server_failure)?;
    let store = super::open_store_with(config.store.as_deref(), &data)?;
    let store_name = super::store_name(&super::store_spec(config.store.as_deref(), &data)?);
    let demo_password = if args.demo {
        Some(demo(store.as_ref(), &mut config, &args.demo_import)?)
    } else {
        None
    };
    let collection_urls = collection_paths(store.as_ref(), &config)?;
    // Feeds with an `interval` (stored by `feed add`, or the config's
    // [[feeds]]) sync on a thread of their own; a sync cut short by the
    // exit loses only its uncommitted page.
    let feeds_stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    sightline_feeds::schedule::spawn(
        store.clone(),
        std::sync::Arc::new(super::validator()),
        config.feeds.clone(),
        feeds_stop.clone(),
    )
    .map_err(|e| Failure::Other(e.into()))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("sightline-serve")
        .build()
        .map_err(|e| Failure::Other(e.into()))?;
    rt.block_on(async move {
        let server = Server::bind_with(config, store, super::validator())
            .await
            .map_err(server_failure)?;
        let base = format!("{}://{}", server.scheme(), server.local_addr());
        let mut out = std::io::stdout().lock();
        let io = |e: std::io::Error| Failure::Other(e.into());
        // Tests and scripts read the port from this line: keep its shape.
        writeln!(out, "listening on {base}").map_err(io)?;
        writeln!(out, "discovery: {base}/taxii2/").map_err(io)?;
        writeln!(out, "web UI: {base}/ui/").map_err(io)?;
        // The store: its directory, or its URL without the password.
        writeln!(out, "data: {store_name}").map_err(io)?;
        if let Some(pw) = &demo_password {
            writeln!(out, "demo API root: {base}/{DEMO_ROOT}/ (collection {DEMO_COLLECTION})")
                .map_err(io)?;
            writeln!(out, "demo credentials: user {DEMO_USER}, password {pw}").map_err(io)?;
            writeln!(
                out,
                "try: curl -u {DEMO_USER}:{pw} -H 'Accept: application/taxii+json;version=2.1' {base}/taxii2/"
            )
            .map_err(io)?;
        }
        // By UUID: TAXII clients (taxii2-client) check that the collection's
        // `id` is the last segment of its URL, so an alias URL is refused.
        for (name, path) in &collection_urls {
            writeln!(out, "collection {name}: {base}{path}").map_err(io)?;
        }
        out.flush().map_err(io)?;
        drop(out);
        server
            .run(sightline_server::shutdown_signal())
            .await
            .map_err(server_failure)
    })?;
    feeds_stop.store(true, std::sync::atomic::Ordering::Relaxed);
    eprintln!("sightline: stopped");
    Ok(Outcome::Ok)
}

/// Each served collection's name as configured and its URL path by UUID
/// (`/ROOT/collections/ID/`), in config order. A name the store does not
/// know is left out: the server refuses to start with it anyway.
fn collection_paths(
    store: &dyn CollectionStore,
    config: &ServerConfig,
) -> Result<Vec<(String, String)>, Failure> {
    let mut paths = Vec::new();
    for root in &config.api_roots {
        for name in &root.collections {
            if let Some(info) = store.collection(name)? {
                paths.push((
                    name.clone(),
                    format!("/{}/collections/{}/", root.path, info.id),
                ));
            }
        }
    }
    Ok(paths)
}

fn server_failure(e: ServerError) -> Failure {
    match e {
        ServerError::Config(_) | ServerError::InsecureListen(_) | ServerError::Tls(_) => {
            Failure::Input(e.to_string())
        }
        ServerError::Store(s) => Failure::Store(s.to_string()),
        other => Failure::Other(other.into()),
    }
}

/// Loads the pack into `demo` (idempotent), (re)creates user `demo` with a
/// fresh random password, and adds the API root and permissions to `config`.
/// Returns the password.
fn demo(store: &dyn Store, config: &mut ServerConfig, extra: &[String]) -> Result<String, Failure> {
    if store.collection(DEMO_COLLECTION)?.is_none() {
        store.create_collection(&CollectionInfo {
            id: uuid::Uuid::new_v4().to_string(),
            title: "Bureau 121 demo".into(),
            description: Some("The built-in Bureau 121 knowledge pack".into()),
            alias: Some(DEMO_COLLECTION.into()),
            media_types: vec!["application/stix+json;version=2.1".into()],
        })?;
    }
    let mut inputs = vec![Input {
        name: "packs/bureau-121.json (built in)".into(),
        bytes: super::import::BUREAU_121_PACK.as_bytes().to_vec(),
    }];
    for f in extra {
        inputs.push(sightline_interchange::read_input(f)?);
    }
    let opts = ImportOptions {
        collection: Some(DEMO_COLLECTION.into()),
        strict: false,
        max_object_bytes: DEFAULT_MAX_OBJECT_BYTES,
        merge_by: None,
    };
    let report = import(store, &super::validator(), &inputs, &opts, &|_| {})
        .map_err(|e| Failure::Store(format!("importing the demo pack: {e}")))?;
    eprintln!(
        "sightline: demo pack: {} new, {} already stored, {} rejected",
        report.new_count(),
        report.duplicate_count(),
        report.rejected_count()
    );
    let password = sightline_server::auth::random_password();
    // A fresh password each run: the previous one was printed, not kept.
    store.remove_user(DEMO_USER)?;
    sightline_server::add_user(store, DEMO_USER, &password, vec!["demo".into()], false)?;
    if !config.api_roots.iter().any(|r| r.path == DEMO_ROOT) {
        config.api_roots.push(ApiRootSection {
            path: DEMO_ROOT.into(),
            title: "Sightline demo".into(),
            description: Some("The Bureau 121 knowledge pack".into()),
            max_content_length: 10 << 20,
            collections: vec![DEMO_COLLECTION.into()],
        });
    }
    config
        .default_api_root
        .get_or_insert_with(|| DEMO_ROOT.into());
    config
        .collections
        .entry(DEMO_COLLECTION.into())
        .or_insert_with(|| CollectionSection {
            can_read: vec![DEMO_USER.into()],
            can_write: vec![DEMO_USER.into()],
            // The demo's one user may try every endpoint, DELETE too.
            can_delete: vec![DEMO_USER.into()],
            anonymous_read: false,
        });
    Ok(password)
}
