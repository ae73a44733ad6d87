//! Parse-alone throughput of the telemetry adapters (issue 4 §4: matching may
//! add at most 2× the cost of parsing the same input): Zeek conn and dns JSON
//! lines, and Suricata EVE flow lines, each turned into observations.
//!
//! `cargo bench -p sightline-interchange --bench telemetry`

// The binary's allocator, so the figure is what `sightline match` pays.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sightline_interchange::telemetry::{Adapter, EventReader, Format};

/// `n` Zeek lines alternating conn and dns, with varying addresses so no
/// allocation pattern repeats trivially.
fn zeek_lines(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n * 350);
    for i in 0..n {
        let (a, b, c) = (i % 250 + 1, (i / 250) % 250 + 1, (i * 7) % 250 + 1);
        let ts = 1_705_312_800.0 + i as f64 * 0.001;
        let line = if i % 2 == 0 {
            format!(
                r#"{{"_path":"conn","ts":{ts:.6},"uid":"C{i:017}","id.orig_h":"10.{b}.{a}.{c}","id.orig_p":{},"id.resp_h":"198.51.{c}.{a}","id.resp_p":443,"proto":"tcp","service":"ssl","duration":0.{a:06},"orig_bytes":{},"resp_bytes":{},"conn_state":"SF","local_orig":true,"local_resp":false,"missed_bytes":0,"history":"ShADadFf","orig_pkts":{a},"orig_ip_bytes":1500,"resp_pkts":{b},"resp_ip_bytes":4600}}"#,
                1024 + i % 60000,
                i * 3,
                i * 5
            )
        } else {
            format!(
                r#"{{"_path":"dns","ts":{ts:.6},"uid":"C{i:017}","id.orig_h":"10.{b}.{a}.{c}","id.orig_p":{},"id.resp_h":"10.0.0.53","id.resp_p":53,"proto":"udp","trans_id":{a},"rtt":0.012,"query":"host{i}.example{c}.com","qclass":1,"qclass_name":"C_INTERNET","qtype":1,"qtype_name":"A","rcode":0,"rcode_name":"NOERROR","AA":false,"TC":false,"RD":true,"RA":true,"Z":0,"answers":["198.51.{a}.{b}"],"TTLs":[300.0],"rejected":false}}"#,
                1024 + i % 60000
            )
        };
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out
}

fn eve_lines(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n * 500);
    for i in 0..n {
        let (a, b) = (i % 250 + 1, (i / 250) % 250 + 1);
        out.extend_from_slice(format!(
            r#"{{"timestamp":"2024-01-15T10:01:00.000123+0000","flow_id":{i},"in_iface":"eth0","event_type":"flow","src_ip":"10.0.{b}.{a}","src_port":{},"dest_ip":"198.51.100.{a}","dest_port":443,"proto":"TCP","app_proto":"tls","flow":{{"pkts_toserver":12,"pkts_toclient":10,"bytes_toserver":1500,"bytes_toclient":4600,"start":"2024-01-15T10:00:00.123456+0000","end":"2024-01-15T10:00:02.469134+0000","age":2,"state":"closed","reason":"timeout","alerted":false}}}}"#,
            1024 + i % 60000
        ).as_bytes());
        out.push(b'\n');
    }
    out
}

fn bench(c: &mut Criterion) {
    const N: usize = 20_000;
    let mut g = c.benchmark_group("telemetry parse");
    g.throughput(Throughput::Elements(N as u64));
    for (name, format, input) in [
        ("zeek conn+dns", Format::Zeek, zeek_lines(N)),
        ("suricata flow", Format::Suricata, eve_lines(N)),
    ] {
        g.bench_function(name, |b| {
            let adapter = Adapter::new(format.clone());
            let mut out = Vec::with_capacity(1);
            b.iter(|| {
                let mut r = EventReader::new(input.as_slice(), adapter.clone());
                let mut objects = 0usize;
                while let Ok(Some(_)) = r.next_into(&mut out) {
                    objects += out.iter().map(|o| o.objects.len()).sum::<usize>();
                    out.clear();
                }
                assert_eq!(r.summary().parsed, N as u64);
                objects
            })
        });
    }
    // The peer: only parsing each line into a `serde_json::Value`, which a
    // naive adapter does before building anything.
    let zeek = zeek_lines(N);
    g.bench_function("zeek conn+dns: serde_json::Value only", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for line in zeek.split(|&c| c == b'\n').filter(|l| !l.is_empty()) {
                let v: serde_json::Value = serde_json::from_slice(line).unwrap_or_default();
                n += v.as_object().map_or(0, |m| m.len());
            }
            n
        })
    });
    // The floor: simd-json (SIMD structural index, then a tape with borrowed
    // strings; buffers reused) reading the five fields a conn/dns event needs,
    // building nothing: about what any whole-line JSON parser costs here.
    // (The adapters use serde_json: simd-json accepts some malformed numbers,
    // `1rcode`, `0.0<NUL>2`, which the telemetry fuzz target's differential
    // check against serde_json found.)
    g.bench_function("zeek conn+dns: simd-json tape only (floor)", |b| {
        use simd_json::prelude::*;
        let mut buf = Vec::with_capacity(4096);
        let mut buffers = simd_json::Buffers::default();
        b.iter(|| {
            let mut n = 0usize;
            for line in zeek.split(|&c| c == b'\n').filter(|l| !l.is_empty()) {
                buf.clear();
                buf.extend_from_slice(line);
                let Ok(d) =
                    simd_json::Deserializer::from_slice_with_buffers(&mut buf, &mut buffers)
                else {
                    continue;
                };
                let tape = d.into_tape();
                let v = tape.as_value();
                for k in ["id.orig_h", "id.resp_h", "query"] {
                    n += v.get(k).map_or(0, |x| x.as_str().map_or(0, str::len));
                }
                n += v.get("id.resp_p").and_then(|x| x.as_u64()).unwrap_or(0) as usize;
                n += v
                    .get("answers")
                    .and_then(|x| x.as_array().map(|a| a.len()))
                    .unwrap_or(0);
            }
            n
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
