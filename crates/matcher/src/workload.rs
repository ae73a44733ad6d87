//! A deterministic synthetic workload for benchmarks (issue 4 §4): indicators
//! of the kinds feeds carry, and conn/dns-shaped observations. Not used by the
//! matcher itself; public so the benchmark, the example and the binary's
//! benchmarks build the same input.

use serde_json::json;

use crate::compiled::IndicatorSpec;
use crate::observation::Observation;

/// A small xorshift generator: deterministic across runs and platforms.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

fn ipv4(r: &mut Rng) -> String {
    let x = r.next_u64();
    format!(
        "{}.{}.{}.{}",
        11 + (x & 0x7f),
        (x >> 8) & 0xff,
        (x >> 16) & 0xff,
        (x >> 24) & 0xff
    )
}

/// The IPv4 value of indicator `i` (a pure function, so events can name it).
fn ipv4_of(i: u64) -> String {
    ipv4(&mut Rng::new(i.wrapping_mul(0x9e37_79b9_7f4a_7c15)))
}

fn ipv6(r: &mut Rng) -> String {
    let x = r.next_u64();
    format!(
        "2001:db8:{:x}:{:x}::{:x}",
        x & 0xffff,
        (x >> 16) & 0xffff,
        (x >> 32) & 0xffff
    )
}

fn domain(i: u64) -> String {
    format!("h{i:x}.bad-{}.example", i % 977)
}

fn hex(r: &mut Rng, bytes: usize) -> String {
    let mut s = String::with_capacity(bytes * 2);
    while s.len() < bytes * 2 {
        s.push_str(&format!("{:016x}", r.next_u64()));
    }
    s.truncate(bytes * 2);
    s
}

/// `n` indicators: IPv4 (30%), IPv6 (5%), CIDR (5%), domains (25%), URLs
/// (10%, a tenth of them LIKE), file hashes (20%), email addresses (4%),
/// then `multi` patterns over several observations (FOLLOWEDBY/AND/REPEATS
/// with WITHIN). Every fifth value also appears in [`events`] traffic.
pub fn indicators(n: usize, multi: usize) -> Vec<IndicatorSpec> {
    let mut r = Rng::new(0x5eed);
    let mut out = Vec::with_capacity(n + multi);
    let single = n.saturating_sub(multi);
    for i in 0..single as u64 {
        let bucket = i % 100;
        let pattern = match bucket {
            0..=29 => format!("[ipv4-addr:value = '{}']", ipv4_of(i)),
            30..=34 => format!("[ipv6-addr:value = '{}']", ipv6(&mut r)),
            35..=39 => {
                let x = r.next_u64();
                let len = 16 + (x % 15);
                format!(
                    "[ipv4-addr:value ISSUBSET '{}.{}.0.0/{len}']",
                    11 + ((x >> 8) & 0x7f),
                    (x >> 16) & 0xff
                )
            }
            40..=64 => format!("[domain-name:value = '{}']", domain(i)),
            65..=73 => format!("[url:value = 'http://{}/p/{}']", domain(i), r.below(1000)),
            74 => format!("[url:value LIKE 'http://{}/%']", domain(i)),
            75..=84 => format!("[file:hashes.'SHA-256' = '{}']", hex(&mut r, 32)),
            85..=95 => format!("[file:hashes.MD5 = '{}']", hex(&mut r, 16)),
            _ => format!("[email-addr:value = 'u{i}@{}']", domain(i)),
        };
        out.push(IndicatorSpec {
            id: format!("indicator--00000000-0000-4000-8000-{i:012x}"),
            name: format!("synthetic {i}"),
            pattern,
            valid_from: None,
            valid_until: None,
            revoked: false,
            lapses: Vec::new(),
        });
    }
    for j in 0..multi as u64 {
        let i = single as u64 + j;
        let pattern = match j % 3 {
            0 => format!(
                "([ipv4-addr:value = '{}'] FOLLOWEDBY [domain-name:value = '{}']) WITHIN 300 SECONDS",
                ipv4(&mut r),
                domain(i)
            ),
            1 => format!(
                "([network-traffic:dst_ref.value = '{}' AND network-traffic:dst_port = 443] REPEATS 5 TIMES) WITHIN 60 SECONDS",
                ipv4(&mut r)
            ),
            _ => format!(
                "([domain-name:value = '{}'] AND [ipv4-addr:value ISSUBSET '{}.0.0.0/8']) WITHIN 120 SECONDS",
                domain(i),
                11 + r.below(100)
            ),
        };
        out.push(IndicatorSpec {
            id: format!("indicator--00000000-0000-4000-9000-{i:012x}"),
            name: format!("synthetic multi {j}"),
            pattern,
            valid_from: None,
            valid_until: None,
            revoked: false,
            lapses: Vec::new(),
        });
    }
    out
}

/// `n` observations shaped like Zeek conn (two addresses and a flow) and dns
/// (a query name and its answer), alternating, one second apart. About one
/// in `hit_every` carries a value some IPv4 or domain indicator of
/// [`indicators`]`(indicator_count, _)` names.
pub fn events(n: usize, hit_every: u64, indicator_count: usize) -> Vec<Observation> {
    let blocks = (indicator_count as u64 / 100).max(1);
    events_with(n, hit_every, |r, conn| {
        if conn {
            100 * r.below(blocks) + r.below(30)
        } else {
            100 * r.below(blocks) + 40 + r.below(25)
        }
    })
}

/// Like [`events`], with hits naming only the indicators (by index in
/// [`indicators`]) listed: IPv4 ones (index % 100 < 30) in conn events,
/// domain ones (40..=64) in dns events.
pub fn events_naming(n: usize, hit_every: u64, among: &[u64]) -> Vec<Observation> {
    let ips: Vec<u64> = among.iter().copied().filter(|i| i % 100 < 30).collect();
    let doms: Vec<u64> = among
        .iter()
        .copied()
        .filter(|i| (40..65).contains(&(i % 100)))
        .collect();
    events_with(n, hit_every, |r, conn| {
        let pool = if conn { &ips } else { &doms };
        pool.get(r.below(pool.len() as u64) as usize)
            .copied()
            .unwrap_or(u64::MAX)
    })
}

fn events_with(
    n: usize,
    hit_every: u64,
    mut pick: impl FnMut(&mut Rng, bool) -> u64,
) -> Vec<Observation> {
    let mut r = Rng::new(0xe7e7);
    let t0: i64 = 1_700_000_000_000_000;
    (0..n as u64)
        .map(|k| {
            let t = t0 + i64::try_from(k).unwrap_or(0) * 1_000_000;
            let hit = hit_every > 0 && k % hit_every == 0;
            let objects = if k % 2 == 0 {
                // The first indicators are IPv4 values drawn from the same sequence.
                let dst = if hit { ipv4_of(pick(&mut r, true)) } else { format!("10.{}.{}.{}", r.below(256), r.below(256), r.below(256)) };
                let dst_port = [53, 80, 443, 8080][(r.below(4)) as usize];
                vec![
                    ("0".to_owned(), json!({"type": "ipv4-addr", "value": format!("192.168.{}.{}", r.below(256), r.below(256))})),
                    ("1".to_owned(), json!({"type": "ipv4-addr", "value": dst})),
                    ("2".to_owned(), json!({"type": "network-traffic", "src_ref": "0", "dst_ref": "1",
                        "src_port": 40000 + r.below(20000), "dst_port": dst_port,
                        "protocols": ["ipv4", "tcp"]})),
                ]
            } else {
                let name = if hit { domain(pick(&mut r, false)) } else { format!("www{}.benign.example", r.below(100_000)) };
                vec![
                    ("0".to_owned(), json!({"type": "domain-name", "value": name, "resolves_to_refs": ["1"]})),
                    ("1".to_owned(), json!({"type": "ipv4-addr", "value": format!("10.{}.{}.{}", r.below(256), r.below(256), r.below(256))})),
                ]
            };
            Observation::from_json(t, t, objects)
        })
        .collect()
}

/// `n` multi-observation indicators for the temporal engine's figures
/// (issue 13): half `[beacon] REPEATS r TIMES WITHIN w SECONDS` (r up to
/// 1,000, w up to an hour), half `([stage] FOLLOWEDBY [address]) WITHIN w
/// SECONDS` (w up to 10 minutes), over the names [`beacon_events`] uses.
pub fn temporal_indicators(n: usize) -> Vec<IndicatorSpec> {
    let half = n / 2;
    (0..n)
        .map(|j| {
            let pattern = if j < half {
                let r = [10, 50, 100, 500, 1000][j % 5];
                let w = [300, 900, 1800, 3600][(j / 5) % 4];
                format!("[domain-name:value = 'beacon-{j}.example'] REPEATS {r} TIMES WITHIN {w} SECONDS")
            } else {
                let s = j - half;
                let w = [60, 300, 600][s % 3];
                format!(
                    "([domain-name:value = 'stage-{s}.example'] FOLLOWEDBY [ipv4-addr:value = '{}']) WITHIN {w} SECONDS",
                    stage_ip(s)
                )
            };
            IndicatorSpec {
                id: format!("indicator--00000000-0000-4000-a000-{j:012x}"),
                name: format!("temporal {j}"),
                pattern,
                valid_from: None,
                valid_until: None,
                revoked: false,
                lapses: Vec::new(),
            }
        })
        .collect()
}

/// The address a FOLLOWEDBY indicator of [`temporal_indicators`] waits for.
fn stage_ip(s: usize) -> String {
    format!("198.18.{}.{}", s / 250, 1 + s % 250)
}

/// Like [`events`], `spacing` µs apart, with periodic beacons: every fourth
/// event is a lookup of one of 20 beacon names (`beacon-0..19`, the REPEATS
/// indicators with r ∈ {10, …, 1000}), and every 40 events one staging
/// lookup (`stage-k`) is followed 5 events later by a connection to its
/// address (the FOLLOWEDBY indicators).
pub fn beacon_events(
    n: usize,
    hit_every: u64,
    indicator_count: usize,
    spacing: i64,
    temporal: usize,
) -> Vec<Observation> {
    let t0: i64 = 1_700_000_000_000_000;
    let stages = (temporal / 2).max(1);
    events(n, hit_every, indicator_count)
        .into_iter()
        .enumerate()
        .map(|(k, mut o)| {
            let t = t0 + i64::try_from(k).unwrap_or(0) * spacing;
            let round = k / 40;
            let dns = |name: String| {
                vec![(
                    "0".to_owned(),
                    json!({"type": "domain-name", "value": name}),
                )]
            };
            if temporal > 0 && k % 4 == 1 {
                o = Observation::from_json(t, t, dns(format!("beacon-{}.example", (k / 4) % 20)));
            } else if temporal > 0 && k % 40 == 3 {
                o = Observation::from_json(t, t, dns(format!("stage-{}.example", round % stages)));
            } else if temporal > 0 && k % 40 == 8 {
                o = Observation::from_json(
                    t,
                    t,
                    vec![
                        (
                            "0".to_owned(),
                            json!({"type": "ipv4-addr", "value": "192.168.7.7"}),
                        ),
                        (
                            "1".to_owned(),
                            json!({"type": "ipv4-addr", "value": stage_ip(round % stages)}),
                        ),
                        (
                            "2".to_owned(),
                            json!({"type": "network-traffic", "src_ref": "0", "dst_ref": "1",
                            "dst_port": 443, "protocols": ["ipv4", "tcp"]}),
                        ),
                    ],
                );
            } else {
                o.first_observed = t;
                o.last_observed = t;
            }
            o
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compiled::{IndicatorSet, Matcher};

    #[test]
    fn workload_compiles_and_hits() {
        let (set, rejected) = IndicatorSet::compile(indicators(2_000, 30));
        assert!(rejected.is_empty(), "{:?}", rejected.first());
        assert_eq!(set.len(), 2_000);
        let mut m = Matcher::new();
        let hits: usize = events(400, 10, 2_000)
            .iter()
            .map(|e| m.scan(&set, e).len())
            .sum();
        assert!(
            hits >= 40,
            "every tenth event names an indicator: {hits} matches"
        );
    }
}
