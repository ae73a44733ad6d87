//! `sightline feed` against the real binary (issue 15 §1): a TAXII 2.1 pull
//! from `sightline serve` itself (incremental, resumed after the hub is
//! killed mid-sync), bad answers from a local fake server, CSV lists.

use crate::common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::{basic, client, ok, Serve, TAXII};
use sightline_testkit::config::OneCollection;

const PW: &str = "correct horse";

fn sl(data: &Path, args: &[&str]) -> Output {
    let env = [("HUB_PW", std::ffi::OsStr::new(PW))];
    common::sightline_with_env(&env, &common::data(data), args, None)
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_str(&ok(out)).expect("JSON output")
}

fn indicator(n: usize) -> serde_json::Value {
    serde_json::json!({
        "type": "indicator", "spec_version": "2.1",
        "id": format!("indicator--{n:08x}-1111-4111-8111-111111111111"),
        "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
        "pattern": format!("[ipv4-addr:value = '10.1.{}.{}']", n / 250, n % 250),
        "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z"
    })
}

/// A hub: collection c1 writable and readable by bob, served under /api1/.
/// Returns the temp dir, the hub's data dir, its config and c1's id.
fn hub() -> (
    tempfile::TempDir,
    std::path::PathBuf,
    std::path::PathBuf,
    String,
) {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("hub");
    let id = ok(&sl(&data, &["collection", "add", "c1"]))
        .trim()
        .to_owned();
    ok(&common::sightline(
        &common::data(&data),
        &["user", "add", "bob", "--password-stdin"],
        Some(&format!("{PW}\n")),
    ));
    let config = dir.path().join("hub.toml");
    std::fs::write(
        &config,
        OneCollection {
            rights: "can_read = [\"bob\"]\ncan_write = [\"bob\"]",
            ..Default::default()
        }
        .toml(),
    )
    .expect("config");
    (dir, data, config, id)
}

fn post(s: &Serve, coll: &str, objs: &[serde_json::Value]) {
    for chunk in objs.chunks(100) {
        let r = client()
            .post(s.url(&format!("/api1/collections/{coll}/objects/")))
            .header("Authorization", basic("bob", PW))
            .header("Content-Type", TAXII)
            .body(serde_json::json!({ "objects": chunk }).to_string())
            .send()
            .expect("POST");
        assert_eq!(r.status().as_u16(), 202, "{:?}", r.text());
    }
}

fn add_taxii_feed(edge: &Path, s: &Serve, coll: &str, limit: &str, replace: bool) {
    let url = s.url(&format!("/api1/collections/{coll}/"));
    let mut args = vec![
        "feed",
        "add",
        "hub",
        "--kind",
        "taxii",
        "--url",
        &url,
        "--user",
        "bob",
        "--password-env",
        "HUB_PW",
        "--limit",
        limit,
    ];
    if replace {
        args.push("--replace");
    }
    ok(&sl(edge, &args));
}

fn status(edge: &Path) -> serde_json::Value {
    let v = json(&sl(edge, &["feed", "status", "--json"]));
    v[0].clone()
}

/// TAXII 2.1 §5.4 pulled from `sightline serve`: the first sync takes
/// everything (byte for byte), the next only what was added since (by
/// `added_after` = the hub's X-TAXII-Date-Added-Last); a hub killed
/// mid-sync leaves the committed pages and a resumable cursor, and the
/// sync after its restart finishes without storing anything twice.
#[test]
fn taxii_pull_from_serve_incremental_and_resumed_after_a_kill() {
    let (dir, hub_data, config, coll) = hub();
    let cfg = config.to_str().expect("utf-8");
    let s = Serve::start(&common::data(&hub_data), &["--config", cfg], Stdio::null());
    let first: Vec<_> = (0..30).map(indicator).collect();
    post(&s, &coll, &first);

    let edge = dir.path().join("edge");
    add_taxii_feed(&edge, &s, &coll, "7", false);
    let r = json(&sl(&edge, &["feed", "sync", "hub", "--json"]));
    assert_eq!(
        (r["new"].as_u64(), r["pages"].as_u64()),
        (Some(30), Some(5)),
        "{r}"
    );
    assert_eq!(r["error"], serde_json::Value::Null);
    // The object as the hub received it.
    let got = ok(&sl(
        &edge,
        &[
            "get",
            "indicator--00000003-1111-4111-8111-111111111111",
            "--versions",
        ],
    ));
    assert_eq!(got.trim_end(), indicator(3).to_string());
    // Provenance beside it: the feed's collection and status.
    let st = status(&edge);
    assert_eq!(st["collection"], "feed-hub");
    assert_eq!(st["outcome"], "ok");
    assert!(st["cursor"].is_string());
    let list = json(&sl(&edge, &["collection", "list", "--json"]));
    assert!(list
        .as_array()
        .expect("array")
        .iter()
        .any(|c| c["title"] == "Feed hub"));

    post(&s, &coll, &(30..35).map(indicator).collect::<Vec<_>>());
    let r = json(&sl(&edge, &["feed", "sync", "hub", "--json"]));
    assert_eq!(
        (r["new"].as_u64(), r["duplicate"].as_u64()),
        (Some(5), Some(0)),
        "only the new: {r}"
    );

    // Many small pages, then the hub dies mid-sync.
    post(&s, &coll, &(35..1035).map(indicator).collect::<Vec<_>>());
    add_taxii_feed(&edge, &s, &coll, "2", true);
    let sync = std::process::Command::new(common::BIN)
        .env("HUB_PW", PW)
        .args(common::data(&edge))
        .args(["feed", "sync", "hub"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sync");
    let deadline = Instant::now() + Duration::from_secs(60);
    while status(&edge)["run"]["pages"].as_u64().unwrap_or(0) < 3 {
        assert!(Instant::now() < deadline, "the sync made no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    s.kill9();
    let out = sync.wait_with_output().expect("sync exits");
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let st = status(&edge);
    assert_eq!(st["outcome"], "error", "{st}");
    let committed = st["run"]["new"].as_u64().unwrap_or(0);
    assert!(committed > 0 && committed < 1000, "{st}");
    assert_eq!(
        st["pending_next"], true,
        "the run can resume where it stopped: {st}"
    );

    // The hub comes back (on another port: the feed is moved there); its
    // `next` tokens stay valid (the key is in its data dir).
    let s = Serve::start(&common::data(&hub_data), &["--config", cfg], Stdio::null());
    add_taxii_feed(&edge, &s, &coll, "50", true);
    let r = json(&sl(&edge, &["feed", "sync", "hub", "--json"]));
    assert_eq!(r["error"], serde_json::Value::Null, "{r}");
    assert_eq!(r["new"].as_u64(), Some(1000 - committed), "{r}");
    assert!(
        r["duplicate"].as_u64().unwrap_or(99) <= 2,
        "at most one page re-read: {r}"
    );
    let stats = ok(&sl(&edge, &["stats"]));
    assert!(
        stats.contains("1036") || stats.contains("1,036"),
        "1035 indicators and the identity:\n{stats}"
    );
}

/// A local fake TAXII server answering every request with `reply`.
fn fake(reply: &'static [u8], delay: Duration) -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", l.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(mut c) = c else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                let _ = c.read(&mut buf);
                std::thread::sleep(delay);
                let _ = c.write_all(reply);
            });
        }
    });
    base
}

/// Bad answers (a 5xx, garbage, a wrong media type, a truncated body, a
/// timeout) fail the sync (exit 2), are recorded in `feed status`, and lose
/// nothing committed before.
#[test]
fn bad_answers_are_recorded_in_status() {
    let dir = tempfile::tempdir().expect("dir");
    let edge = dir.path().join("edge");
    let list = dir.path().join("l.txt");
    std::fs::write(&list, "1.2.3.4\n").expect("list");
    // One feed with something committed, into the same collection.
    ok(&sl(
        &edge,
        &[
            "feed",
            "add",
            "l",
            "--kind",
            "csv",
            "--url",
            list.to_str().expect("utf-8"),
            "--collection",
            "shared",
        ],
    ));
    ok(&sl(&edge, &["feed", "sync", "l"]));
    let cases: [(&str, &'static [u8], u64, &str); 5] = [
        ("500", b"HTTP/1.1 500 Oops\r\nContent-Length: 4\r\nConnection: close\r\n\r\nboom", 0, "HTTP 500"),
        ("garbage", b"HTTP/1.1 200 OK\r\nContent-Type: application/taxii+json;version=2.1\r\nContent-Length: 9\r\nConnection: close\r\n\r\n{\"more\":[", 0, "not a TAXII envelope"),
        ("media type", b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", 0, "media type"),
        ("truncated", b"HTTP/1.1 200 OK\r\nContent-Type: application/taxii+json;version=2.1\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{\"objects\":[", 0, "body"),
        ("timeout", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", 3, "timed out"),
    ];
    for (i, (name, reply, delay, want)) in cases.into_iter().enumerate() {
        let base = fake(reply, Duration::from_secs(delay));
        let feed = format!("bad{i}");
        ok(&sl(
            &edge,
            &[
                "feed",
                "add",
                &feed,
                "--kind",
                "taxii",
                "--url",
                &format!("{base}/r/collections/x/"),
                "--timeout",
                "1",
                "--collection",
                "shared",
            ],
        ));
        let out = sl(&edge, &["feed", "sync", &feed]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let st = json(&sl(&edge, &["feed", "status", &feed, "--json"]));
        let err = st[0]["last_error"].as_str().unwrap_or("");
        assert!(err.contains(want), "{name}: {err}");
        assert_eq!(st[0]["outcome"], "error", "{name}");
        assert_eq!(st[0]["consecutive_failures"], 1, "{name}");
    }
    // The table names every feed and its error.
    let table = ok(&sl(&edge, &["feed", "status"]));
    assert!(
        table.contains("HTTP 500") && table.lines().count() == 7,
        "{table}"
    );
    let got = sl(&edge, &["get", &indicator_id_of(&edge)]);
    ok(&got);
}

/// The id of the one indicator the list feed `l` stored.
fn indicator_id_of(edge: &Path) -> String {
    let out = ok(&sl(
        edge,
        &["export", "--collection", "shared", "--type", "indicator"],
    ));
    let v: serde_json::Value = serde_json::from_str(&out).expect("bundle");
    v["objects"][0]["id"]
        .as_str()
        .expect("an indicator")
        .to_owned()
}

/// CSV list (abuse.ch style): comments and the header skipped, values
/// refanged, each line an indicator created by the feed's identity; a
/// re-sync stores nothing new.
#[test]
fn csv_list_refanged_and_deduplicated() {
    let dir = tempfile::tempdir().expect("dir");
    let edge = dir.path().join("edge");
    let file = dir.path().join("urlhaus.csv");
    std::fs::write(
        &file,
        "################\n# URLhaus\n################\n\
         id,dateadded,url,url_status,threat\n\
         1,2024-03-01 10:00:00,hxxp://bad[.]example/a.exe,online,malware_download\n\
         2,2024-03-02 10:00:00,hxxps://worse(.)example[:]8443/x,online,malware_download\n\
         3,2024-03-02 11:00:00,nonsense,online,x\n",
    )
    .expect("csv");
    let f = file.to_str().expect("utf-8");
    ok(&sl(
        &edge,
        &[
            "feed",
            "add",
            "urlhaus",
            "--kind",
            "csv",
            "--url",
            f,
            "--value-column",
            "3",
            "--first-seen-column",
            "2",
            "--description-column",
            "5",
            "--header",
            "--confidence",
            "80",
        ],
    ));
    let out = sl(&edge, &["feed", "sync", "urlhaus", "--json"]);
    assert_eq!(out.status.code(), Some(1), "a refused line is a finding");
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        (r["new"].as_u64(), r["rejected"].as_u64()),
        (Some(2), Some(1)),
        "{r}"
    );
    let bundle = ok(&sl(
        &edge,
        &[
            "export",
            "--collection",
            "feed-urlhaus",
            "--type",
            "indicator",
        ],
    ));
    let v: serde_json::Value = serde_json::from_str(&bundle).expect("bundle");
    let mut patterns: Vec<&str> = v["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|o| o["pattern"].as_str().unwrap_or(""))
        .collect();
    patterns.sort_unstable();
    assert_eq!(
        patterns,
        [
            "[url:value = 'http://bad.example/a.exe']",
            "[url:value = 'https://worse.example:8443/x']"
        ]
    );
    let ident = json(&sl(&edge, &["feed", "status", "urlhaus", "--json"]))[0]["identity"].clone();
    for o in v["objects"].as_array().expect("objects") {
        assert_eq!(o["created_by_ref"], ident);
        assert_eq!(o["x_sightline_feed"], "urlhaus");
        assert_eq!(o["confidence"], 80);
    }
    let st = json(&sl(&edge, &["feed", "status", "urlhaus", "--json"]));
    assert_eq!(st[0]["rejections"][0]["at"], "line 7", "{st}");
    let out = sl(&edge, &["feed", "sync", "urlhaus", "--json"]);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        (r["new"].as_u64(), r["duplicate"].as_u64()),
        (Some(0), Some(2)),
        "{r}"
    );
    let listed = ok(&sl(&edge, &["feed", "list"]));
    assert!(
        listed.contains("urlhaus") && listed.contains("feed-urlhaus"),
        "{listed}"
    );
}

/// `[[feeds]]` in the server config: `feed sync --config` finds them.
#[test]
fn feeds_from_the_config_file() {
    let dir = tempfile::tempdir().expect("dir");
    let edge = dir.path().join("edge");
    std::fs::write(dir.path().join("list.txt"), "evil[.]example\n").expect("list");
    let config = dir.path().join("s.toml");
    std::fs::write(
        &config,
        "[[feeds]]\nname = \"cfg\"\nkind = \"csv\"\nurl = \"list.txt\"\ninterval = \"1h\"\n[feeds.csv]\nfixed_type = \"domain\"\n",
    )
    .expect("config");
    let c = config.to_str().expect("utf-8");
    let r = json(&sl(
        &edge,
        &["feed", "sync", "cfg", "--config", c, "--json"],
    ));
    assert_eq!(r["new"].as_u64(), Some(1), "{r}");
    let l = json(&sl(&edge, &["feed", "list", "--json", "--config", c]));
    assert_eq!(l[0]["source"], "config");
    assert_eq!(l[0]["interval"], "1h");
}

/// TLS with the hub's own CA (`--ca`) and a Bearer token read from the
/// environment variable `--token-env` names; without the CA, the
/// certificate is refused and the error is in the status.
#[test]
fn taxii_pull_over_tls_with_a_custom_ca_and_a_bearer_token() {
    let (dir, hub_data, config, coll) = hub();
    let token = ok(&sl(&hub_data, &["token", "create", "bob"]))
        .trim()
        .to_owned();
    let cert = sightline_testkit::http::TestCert::write(dir.path());
    let args = [
        "--config",
        config.to_str().expect("utf-8"),
        "--tls-cert",
        cert.cert.to_str().expect("utf-8"),
        "--tls-key",
        cert.key.to_str().expect("utf-8"),
    ];
    let s = Serve::start(&common::data(&hub_data), &args, Stdio::null());
    let port = s.base.rsplit(':').next().expect("port").to_owned();
    let r = cert
        .client()
        .post(format!(
            "https://localhost:{port}/api1/collections/{coll}/objects/"
        ))
        .header("Authorization", basic("bob", PW))
        .header("Content-Type", TAXII)
        .body(serde_json::json!({ "objects": [indicator(1), indicator(2)] }).to_string())
        .send()
        .expect("POST");
    assert_eq!(r.status().as_u16(), 202);
    let edge = dir.path().join("edge");
    let url = format!("https://localhost:{port}/api1/collections/{coll}/");
    let env = [("HUB_TOKEN", std::ffi::OsStr::new(&token))];
    let run = |args: &[&str]| common::sightline_with_env(&env, &common::data(&edge), args, None);
    ok(&run(&[
        "feed",
        "add",
        "tls",
        "--kind",
        "taxii",
        "--url",
        &url,
        "--token-env",
        "HUB_TOKEN",
    ]));
    let out = run(&["feed", "sync", "tls"]);
    assert_eq!(out.status.code(), Some(2), "an unknown CA is refused");
    let st = json(&run(&["feed", "status", "tls", "--json"]));
    assert!(
        st[0]["last_error"]
            .as_str()
            .unwrap_or("")
            .contains("certificate"),
        "{st}"
    );
    let ca = cert.cert.to_str().expect("utf-8");
    ok(&run(&[
        "feed",
        "add",
        "tls",
        "--kind",
        "taxii",
        "--url",
        &url,
        "--token-env",
        "HUB_TOKEN",
        "--ca",
        ca,
        "--replace",
    ]));
    let r = json(&run(&["feed", "sync", "tls", "--json"]));
    assert_eq!(
        (r["new"].as_u64(), r["error"].clone()),
        (Some(2), serde_json::Value::Null),
        "{r}"
    );
    // The token is never stored: the definition names the variable only.
    let l = ok(&run(&["feed", "list", "--json"]));
    assert!(!l.contains(&token) && l.contains("HUB_TOKEN"), "{l}");
}

/// `serve` syncs feeds that have an interval: here the config's `[[feeds]]`
/// list, due at once since it never ran.
#[test]
fn serve_syncs_feeds_on_their_interval() {
    let (dir, hub_data, config, _) = hub();
    std::fs::write(dir.path().join("list.txt"), "hxxp://sched[.]example/x\n").expect("list");
    let mut text = std::fs::read_to_string(&config).expect("config");
    text.insert_str(
        0,
        "[[feeds]]\nname = \"sched\"\nkind = \"csv\"\nurl = \"list.txt\"\ninterval = \"1h\"\n",
    );
    // [[feeds]] must come before the tables OneCollection writes: a TOML
    // array of tables at the top, the rest after.
    std::fs::write(&config, text).expect("config");
    let cfg = config.to_str().expect("utf-8");
    let _s = Serve::start(&common::data(&hub_data), &["--config", cfg], Stdio::null());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let st = json(&sl(
            &hub_data,
            &["feed", "status", "sched", "--json", "--config", cfg],
        ));
        if st[0]["outcome"] == "ok" {
            assert_eq!(st[0]["run"]["new"], 1, "{st}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "serve never synced the feed: {st}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A MISP feed from a directory (digest §4.2): the published event is a
/// report with its to_ids attributes as indicators; a second sync with the
/// same manifest stores nothing.
#[test]
fn misp_feed_from_a_directory() {
    let dir = tempfile::tempdir().expect("dir");
    let feed = dir.path().join("misp");
    std::fs::create_dir_all(&feed).expect("dir");
    let ev = "5720accd-dd28-45f8-80e5-4605950d210f";
    std::fs::write(
        feed.join("manifest.json"),
        format!(
            r#"{{"{ev}": {{"info": "Locky", "timestamp": "1461764231", "date": "2016-04-27"}}}}"#
        ),
    )
    .expect("manifest");
    std::fs::write(
        feed.join(format!("{ev}.json")),
        format!(
            r#"{{"Event": {{"uuid": "{ev}", "info": "Malspam 2016-04-27 - Locky", "timestamp": "1461764231",
            "published": true, "publish_timestamp": "1461764300", "Tag": [{{"name": "tlp:white"}}],
            "Attribute": [{{"uuid": "572071e4-0000-4000-8000-000000000001", "type": "url", "category": "Network activity",
              "value": "http://locky.example/gate.php", "to_ids": true, "timestamp": "1461764231"}},
              {{"uuid": "572071e4-0000-4000-8000-000000000002", "type": "md5", "category": "Payload delivery",
              "value": "d41d8cd98f00b204e9800998ecf8427e", "to_ids": true, "timestamp": "1461764231"}}]}}}}"#
        ),
    )
    .expect("event");
    let edge = dir.path().join("edge");
    let f = feed.to_str().expect("utf-8");
    ok(&sl(
        &edge,
        &["feed", "add", "circl", "--kind", "misp", "--url", f],
    ));
    let r = json(&sl(&edge, &["feed", "sync", "circl", "--json"]));
    assert_eq!(
        (r["new"].as_u64(), r["rejected"].as_u64()),
        (Some(3), Some(0)),
        "{r}"
    );
    let got = ok(&sl(&edge, &["get", &format!("report--{ev}"), "--json"]));
    assert!(got.contains("Malspam 2016-04-27 - Locky"), "{got}");
    let bundle = ok(&sl(
        &edge,
        &[
            "export",
            "--collection",
            "feed-circl",
            "--type",
            "indicator",
        ],
    ));
    assert!(
        bundle.contains(r"[url:value = 'http://locky.example/gate.php']"),
        "{bundle}"
    );
    assert!(
        bundle.contains("[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"),
        "{bundle}"
    );
    let r = json(&sl(&edge, &["feed", "sync", "circl", "--json"]));
    assert_eq!(
        (r["new"].as_u64(), r["duplicate"].as_u64()),
        (Some(0), Some(0)),
        "{r}"
    );
}

/// Syncs a TAXII feed in a new SQLite store, lets the hub gain 5 objects,
/// copies the store to `to` (`sightline copy`) and syncs the feed there:
/// the copy carries the feed's definition and cursor (the store's feed
/// records) with the objects, so the copy goes on from that cursor
/// (`added_after` = the hub's X-TAXII-Date-Added-Last, TAXII 2.1 §3.4.1)
/// and takes only the 5, instead of pulling everything again.
fn copy_then_sync(to: impl Fn(&Path) -> String) {
    let (dir, hub_data, config, coll) = hub();
    let cfg = config.to_str().expect("utf-8");
    let s = Serve::start(&common::data(&hub_data), &["--config", cfg], Stdio::null());
    post(&s, &coll, &(0..20).map(indicator).collect::<Vec<_>>());
    let a = dir.path().join("a");
    add_taxii_feed(&a, &s, &coll, "7", false);
    let r = json(&sl(&a, &["feed", "sync", "hub", "--json"]));
    assert_eq!(r["new"].as_u64(), Some(20), "{r}");
    post(&s, &coll, &(20..25).map(indicator).collect::<Vec<_>>());

    let from = format!("sqlite:{}", a.display());
    let to = to(dir.path());
    let out = ok(&common::sightline(
        &[],
        &["copy", "--from", &from, "--to", &to],
        None,
    ));
    assert!(
        out.contains("2 feed records"),
        "definitions and state: {out}"
    );
    let env = [("HUB_PW", std::ffi::OsStr::new(PW))];
    let b = ["--store", to.as_str()];
    let list = ok(&common::sightline_with_env(
        &env,
        &b,
        &["feed", "list"],
        None,
    ));
    assert!(list.contains("hub"), "{list}");
    let before: serde_json::Value = serde_json::from_str(&ok(&common::sightline_with_env(
        &env,
        &b,
        &["feed", "status", "--json"],
        None,
    )))
    .expect("JSON");
    assert_eq!(before[0]["cursor"], status(&a)["cursor"], "{before}");
    let r: serde_json::Value = serde_json::from_str(&ok(&common::sightline_with_env(
        &env,
        &b,
        &["feed", "sync", "hub", "--json"],
        None,
    )))
    .expect("JSON");
    assert_eq!(r["error"], serde_json::Value::Null, "{r}");
    assert_eq!(
        (
            r["new"].as_u64(),
            r["duplicate"].as_u64(),
            r["pages"].as_u64()
        ),
        (Some(5), Some(0), Some(1)),
        "only what the hub gained since the sync in the source store: {r}"
    );
}

#[test]
fn a_copied_store_goes_on_with_its_feeds() {
    copy_then_sync(|dir| format!("sqlite:{}", dir.join("b").display()));
}

#[test]
fn a_store_copied_to_postgres_goes_on_with_its_feeds() {
    let db = sightline_testkit::pg::TestDb::new("feedcopy");
    let url = db.url().to_owned();
    copy_then_sync(move |_| url.clone());
}
