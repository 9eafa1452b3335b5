//! The long-session soak and its benchmark (see docs/long-sessions.md).
//!
//! ```text
//! cargo run --release -p rmt-conformance --example soak                 # 30 days, 3 flavours
//! cargo run --release -p rmt-conformance --example soak -- --wraps 3    # the CI short form
//! cargo run --release -p rmt-conformance --example soak -- --bench      # 1 M and 10 M objects
//! cargo run --release -p rmt-conformance --example soak -- \
//!     --flavour fcast-nocid --objects 1000000 --parts inspector           # one measurement
//! ```
//!
//! Each run prints what it checked (objects, wraps, deliveries, findings, sender cases), the
//! throughput of the inspector and the receiver (objects/s, packets/s of their own time) and the
//! process's peak RSS. Exit code 1 when a run found a problem. `--bench` runs each measurement
//! in a child process of its own, so that each peak RSS is that part's alone.

use std::process::{Command, ExitCode};
use std::time::Duration;

use rmt_conformance::soak::{peak_rss_kib, run, Flavour, Parts, SoakConfig};

struct Args {
    flavours: Vec<Flavour>,
    wraps: Option<u64>,
    objects: Option<u64>,
    parts: Parts,
    bench: bool,
    loss: Option<f64>,
    toi_stride: u128,
    fdt_validity: Option<Duration>,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        flavours: Flavour::ALL.to_vec(),
        wraps: None,
        objects: None,
        parts: Parts::ALL,
        bench: false,
        loss: None,
        toi_stride: 1,
        fdt_validity: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--flavour" => {
                let v = value()?;
                a.flavours = vec![Flavour::parse(&v).ok_or(format!(
                    "unknown flavour {v:?} (fcast-cid, fcast-nocid, flute)"
                ))?];
            }
            "--wraps" => a.wraps = Some(value()?.parse().map_err(|e| format!("--wraps: {e}"))?),
            "--objects" => {
                a.objects = Some(value()?.parse().map_err(|e| format!("--objects: {e}"))?)
            }
            "--loss" => a.loss = Some(value()?.parse().map_err(|e| format!("--loss: {e}"))?),
            "--parts" => {
                let v = value()?;
                a.parts = Parts {
                    receiver: v.contains("receiver"),
                    inspector: v.contains("inspector"),
                };
            }
            "--bench" => a.bench = true,
            "--fdt-validity" => {
                let secs: u64 = value()?
                    .parse()
                    .map_err(|e| format!("--fdt-validity: {e}"))?;
                a.fdt_validity = Some(Duration::from_secs(secs));
            }
            "--toi-stride" => {
                a.toi_stride = value()?.parse().map_err(|e| format!("--toi-stride: {e}"))?
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(a)
}

/// 30 days at the default period: at least 100 wraps of 16-bit TOIs in each flavour.
const THIRTY_DAYS: Duration = Duration::from_secs(30 * 86_400);

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("soak: {e}");
            return ExitCode::from(2);
        }
    };
    if args.bench {
        return bench();
    }
    let mut ok = true;
    for flavour in &args.flavours {
        let mut c = SoakConfig::new(*flavour, args.wraps.unwrap_or(1));
        match (args.objects, args.wraps) {
            (Some(n), _) => c.objects = n,
            (None, Some(_)) => {}
            (None, None) => c.objects = (THIRTY_DAYS.as_millis() / c.period.as_millis()) as u64,
        }
        if let Some(l) = args.loss {
            c.loss = l;
        }
        c.parts = args.parts;
        c.toi_stride = args.toi_stride;
        if let Some(v) = args.fdt_validity {
            c.fdt_validity = v;
        }
        eprintln!(
            "soak {}: {} objects over {:.1} days of virtual time, loss {}",
            flavour.name(),
            c.objects,
            c.duration().as_secs_f64() / 86_400.0,
            c.loss
        );
        let r = run(&c, |done, r| {
            eprint!(
                "\r  {done} objects, {} TOI wraps, {} delivered, peak RSS {} MiB   ",
                r.toi_wraps,
                r.delivered,
                peak_rss_kib().unwrap_or(0) / 1024
            );
        });
        eprintln!();
        let secs = |d: Duration| d.as_secs_f64().max(1e-9);
        let received = r.packets_sent - r.packets_lost;
        println!(
            "{}: {} objects, {} packets ({} lost), {:.1} virtual days, {} TOI wraps, {} FDT Instance ID wraps",
            flavour.name(),
            r.objects_sent,
            r.packets_sent,
            r.packets_lost,
            r.virtual_duration.as_secs_f64() / 86_400.0,
            r.toi_wraps,
            r.fdt_id_wraps
        );
        if c.parts.receiver {
            println!(
                "  receiver: {} delivered, {} missing, {} twice, {} spliced; at most {} objects in flight; {:.0} objects/s, {:.0} packets/s",
                r.delivered,
                r.missing,
                r.duplicates,
                r.spliced,
                r.receiver_max_in_flight,
                r.objects_sent as f64 / secs(r.receiver_time),
                received as f64 / secs(r.receiver_time)
            );
        }
        if c.parts.inspector {
            println!(
                "  inspector: {} objects, {} rebuilt, {} findings of Warning or Error, {} sender cases not passed; at most {} objects in flight, {} remembered; {:.0} objects/s, {:.0} packets/s",
                r.inspector_objects,
                r.inspector_recoverable,
                r.false_findings().len(),
                r.case_failures.len(),
                r.inspector_max_in_flight,
                r.inspector_max_remembered,
                r.objects_sent as f64 / secs(r.inspector_time),
                received as f64 / secs(r.inspector_time)
            );
        }
        println!(
            "  wall {:.1} s, peak RSS {} KiB",
            r.wall_time.as_secs_f64(),
            peak_rss_kib().unwrap_or(0)
        );
        for p in r.problems(c.parts) {
            println!("  PROBLEM: {p}");
            ok = false;
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Objects/s and peak RSS of the inspector and of the receiver at 1 M and 10 M objects (FCAST
/// without CIDs: 16-bit TOIs wrap 15 and 152 times), each in a process of its own.
fn bench() -> ExitCode {
    let exe = std::env::current_exe().expect("this program");
    println!("| part | objects | objects/s | packets/s | peak RSS (KiB) |");
    println!("|---|---|---|---|---|");
    let mut ok = true;
    for part in ["inspector", "receiver"] {
        for n in [1_000_000u64, 10_000_000] {
            let out = Command::new(&exe)
                .args([
                    "--flavour",
                    "fcast-nocid",
                    "--objects",
                    &n.to_string(),
                    "--parts",
                    part,
                ])
                .output()
                .expect("run the soak");
            let text = String::from_utf8_lossy(&out.stdout);
            ok &= out.status.success();
            let line = text
                .lines()
                .find(|l| l.trim_start().starts_with(&format!("{part}:")))
                .unwrap_or("");
            let field = |suffix: &str| {
                line.split(", ")
                    .find_map(|f| f.strip_suffix(suffix))
                    .and_then(|v| v.rsplit(' ').next())
                    .unwrap_or("?")
                    .to_string()
            };
            let rss = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("wall "))
                .and_then(|l| l.split("peak RSS ").nth(1))
                .and_then(|v| v.split(' ').next())
                .unwrap_or("?");
            println!(
                "| {part} | {n} | {} | {} | {rss} |",
                field(" objects/s"),
                field(" packets/s")
            );
            if !out.status.success() {
                eprint!("{text}");
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
