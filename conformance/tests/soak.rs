//! The long-session soak in its short form (issue 15): each flavour wraps its 16-bit TOIs at
//! least 3 times through 1% seeded loss, and the reference receiver, the inspector and the
//! sender cases must find nothing wrong, lose, splice or duplicate nothing, and keep memory flat.
//! The 30-day form: `cargo run --release -p rmt-conformance --example soak` (docs/long-sessions.md).

use std::time::Duration;

use rmt_conformance::soak::{run, Flavour, Parts, SoakConfig, SoakReport};

/// Resident memory now (VmRSS), in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn soak(c: SoakConfig) -> SoakReport {
    let name = c.flavour.name();
    let mut rss_at_40 = 0;
    let r = run(&c, |done, _| {
        if done * 10 >= c.objects * 4 && rss_at_40 == 0 {
            rss_at_40 = rss_kib();
        }
    });
    let rss_end = rss_kib();
    eprintln!(
        "{name}: {} objects, {} packets, {} TOI wraps, {} FDT ID wraps, {:.1} virtual days, RSS {rss_at_40} -> {rss_end} KiB, {:.1} s",
        r.objects_sent,
        r.packets_sent,
        r.toi_wraps,
        r.fdt_id_wraps,
        r.virtual_duration.as_secs_f64() / 86_400.0,
        r.wall_time.as_secs_f64()
    );
    assert!(
        r.problems(Parts::ALL).is_empty(),
        "{name}: {:#?}",
        r.problems(Parts::ALL)
    );
    assert!(r.toi_wraps >= 3, "{name}: {} wraps", r.toi_wraps);
    assert!(r.packets_lost > 0, "{name}: the loss is real");
    assert_eq!(r.delivered, r.objects_sent, "{name}");
    // Flat: what is held does not grow with the session.
    assert!(
        r.receiver_max_in_flight <= 4,
        "{name}: {}",
        r.receiver_max_in_flight
    );
    assert!(
        r.inspector_max_in_flight <= 4,
        "{name}: {}",
        r.inspector_max_in_flight
    );
    assert!(
        r.inspector_max_remembered <= 32_768 + 64,
        "{name}: {} completed objects remembered",
        r.inspector_max_remembered
    );
    assert!(
        rss_end <= rss_at_40 + 32 * 1024,
        "{name}: resident memory grew from {rss_at_40} to {rss_end} KiB over the last 60% of the session"
    );
    r
}

#[test]
fn fcast_with_and_without_cids_and_flute_run_three_wraps_clean_and_flat() {
    // FCAST: every TOI used, 3 wraps (196,618 objects without CIDs, half as many with).
    soak(SoakConfig::new(Flavour::FcastNoCid, 3));
    soak(SoakConfig::new(Flavour::FcastCid, 3));
    // FLUTE: one TOI in 16 (3 wraps in 12,298 objects), FDT Instances valid 10 minutes (a TOI
    // comes back after 25 minutes), FDT Instance IDs starting 2,000 before their 2^20 wrap.
    let mut flute = SoakConfig::new(Flavour::Flute, 3);
    flute.toi_stride = 16;
    flute.objects = 3 * (1 << 12) + 10;
    flute.fdt_validity = Duration::from_secs(600);
    let r = soak(flute);
    assert!(
        r.fdt_id_wraps >= 1,
        "FDT Instance IDs wrapped: {}",
        r.fdt_id_wraps
    );
}
