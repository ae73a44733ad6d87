//! `sightline healthcheck [--url URL]`: GET /healthz over plain HTTP; exit 0
//! on 200, 1 otherwise. For container health checks and tests, so it needs
//! no HTTP client library: one request over a TCP stream.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::{Failure, Outcome};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The health endpoint (plain http:// only; check a TLS server on its loopback listener or
    /// with curl).
    #[arg(long, default_value = "http://127.0.0.1:8000/healthz")]
    url: String,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 5)]
    timeout: u64,
}

pub fn run(args: Args) -> Result<Outcome, Failure> {
    let rest = args
        .url
        .strip_prefix("http://")
        .ok_or_else(|| Failure::Input(format!("{}: only http:// URLs are supported", args.url)))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/healthz"),
    };
    let timeout = Duration::from_secs(args.timeout.max(1));
    match get_status(authority, path, timeout) {
        Ok(200) => {
            println!("ok");
            Ok(Outcome::Ok)
        }
        Ok(code) => {
            eprintln!("sightline: {}: HTTP {code}", args.url);
            Ok(Outcome::Findings)
        }
        Err(e) => {
            eprintln!("sightline: {}: {e}", args.url);
            Ok(Outcome::Findings)
        }
    }
}

fn get_status(authority: &str, path: &str, timeout: Duration) -> std::io::Result<u16> {
    let addr = authority
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other("no address"))?;
    let mut s = TcpStream::connect_timeout(&addr, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nUser-Agent: sightline-healthcheck\r\n\r\n"
    )?;
    let mut head = Vec::new();
    s.take(4096).read_to_end(&mut head)?;
    let line = String::from_utf8_lossy(&head);
    // "HTTP/1.1 200 OK"
    line.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("not an HTTP response"))
}
