//! Reports: a console table, JSON (versioned schema) and JUnit XML (the HTML page is in
//! [`crate::html`]).

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};

use crate::html::{esc, level};
use crate::runner::CaseResult;

/// Version of the JSON report's schema.
pub const JSON_SCHEMA: &str = "rmt-conform-report/1";

pub fn table(results: &[CaseResult]) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(160)
        .set_header(vec!["case", "level", "outcome", "detail"]);
    for r in results {
        t.add_row(vec![
            r.id.clone(),
            level(r.level),
            r.outcome.as_str().to_string(),
            r.detail.clone(),
        ]);
    }
    t.to_string()
}

pub fn summary(results: &[CaseResult]) -> String {
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for r in results {
        *counts.entry(r.outcome.as_str()).or_default() += 1;
    }
    counts
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `context`: how the run was made (`transport`, `flavor`, ...), as top-level string fields.
pub fn json(sut: &str, seed: u64, context: &[(&str, String)], results: &[CaseResult]) -> String {
    let mut doc = serde_json::json!({
        "schema": JSON_SCHEMA,
        "sut": sut,
        "seed": seed,
    });
    for (k, v) in context {
        doc[*k] = serde_json::Value::String(v.clone());
    }
    doc["cases"] = serde_json::to_value(results).expect("serialisable");
    serde_json::to_string_pretty(&doc).expect("serialisable")
}

pub fn junit(sut: &str, results: &[CaseResult]) -> String {
    use crate::outcome::Outcome::*;
    let failures = results
        .iter()
        .filter(|r| matches!(r.outcome, Fail | Xpass | Crash))
        .count();
    let skipped = results
        .iter()
        .filter(|r| {
            matches!(
                r.outcome,
                Unsupported | Skipped | CouldNotTest | NotApplicable
            )
        })
        .count();
    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"rmt-conform {}\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\">\n",
        esc(sut),
        results.len()
    );
    for r in results {
        s.push_str(&format!(
            "  <testcase classname=\"rfc{}\" name=\"{}\" time=\"{:.3}\">",
            r.rfc,
            esc(&r.id),
            r.duration_ms as f64 / 1000.0
        ));
        match r.outcome {
            Fail | Xpass | Crash => s.push_str(&format!(
                "<failure message=\"{}: {}\"/>",
                r.outcome.as_str(),
                esc(&r.detail)
            )),
            Unsupported | Skipped | CouldNotTest | NotApplicable => s.push_str(&format!(
                "<skipped message=\"{}: {}\"/>",
                r.outcome.as_str(),
                esc(&r.detail)
            )),
            _ => {}
        }
        s.push_str("</testcase>\n");
    }
    s.push_str("</testsuite>\n");
    s
}
