//! The HTML pages people open to see a run: `rmt-conform run|sender --html FILE` (a report per
//! run, in the manner of h2spec's and Autobahn|Testsuite's) and the interop matrix's
//! `index.html`. Each page is one self-contained file (no script, no external style, font or
//! image) and well-formed XML as well as HTML, so that tests read it back with an XML parser.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::catalogue::Case;
use crate::outcome::Outcome;
use crate::runner::CaseResult;

/// Colours per outcome (the class of a row or cell is the outcome's name).
const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #bbb;padding:.3em .6em;vertical-align:top;text-align:left}
.matrix td{text-align:center;min-width:9em}
.pass{background:#c8f0c8}.fail,.crash,.xpass{background:#f4b4b4}.warn{background:#fae7a5}
.none,.could-not-test,.skipped,.unsupported,.not-applicable{background:#e4e4e4}.xfail{background:#dde8f8}
.cases td{font-size:90%}
.summary span{display:inline-block;padding:.2em .6em;margin:0 .3em .3em 0;border:1px solid #bbb}
a{color:#124}";

/// The page up to and including `<body>`.
pub(crate) fn head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><title>{}</title>\n<style>\n{STYLE}\n</style></head><body>\n",
        esc(title)
    )
}

/// Escapes text for HTML and XML (attribute values included).
pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The RFC sentence behind a case: its requirement, with the RFC, section and level.
pub(crate) fn rule(cases: &BTreeMap<&str, &Case>, id: &str) -> String {
    cases.get(id).map_or(String::new(), |c| {
        format!(
            "RFC {} §{} ({}): {}",
            c.rfc,
            c.section,
            level(c.level),
            c.requirement
        )
    })
}

/// MUST, SHOULD or MAY, as the RFCs write them.
pub(crate) fn level(l: rmt_vectors::scenario::Level) -> String {
    format!("{l:?}").to_uppercase()
}

/// The colour class of a set of results: fail (a failure, crash or xpass), warn, pass (some
/// case passed; the counts say what else happened), or none (nothing judged).
pub(crate) fn verdict(results: &[CaseResult]) -> &'static str {
    let has = |o: Outcome| results.iter().any(|r| r.outcome == o);
    if has(Outcome::Fail) || has(Outcome::Crash) || has(Outcome::Xpass) {
        "fail"
    } else if has(Outcome::Warn) {
        "warn"
    } else if has(Outcome::Pass) || has(Outcome::Xfail) {
        "pass"
    } else {
        "none"
    }
}

/// One row per case: ID, level, outcome, detail, the RFC sentence and links to its evidence
/// (`evidence` gives (label, href) pairs, only for files that exist).
pub(crate) fn case_rows(
    h: &mut String,
    results: &[CaseResult],
    cases: &BTreeMap<&str, &Case>,
    evidence: &dyn Fn(&CaseResult) -> Vec<(String, String)>,
) {
    h.push_str("<table class=\"cases\"><tr><th>case</th><th>level</th><th>outcome</th><th>detail</th><th>requirement</th><th>evidence</th></tr>\n");
    for r in results {
        let links = evidence(r)
            .iter()
            .map(|(label, href)| format!("<a href=\"{}\">{}</a>", esc(href), esc(label)))
            .collect::<Vec<_>>()
            .join(" · ");
        let _ = writeln!(
            h,
            "<tr class=\"{}\" id=\"{}\"><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            r.outcome.as_str(),
            esc(&r.id),
            esc(&r.id),
            level(r.level),
            r.outcome.as_str(),
            esc(&r.detail),
            esc(&rule(cases, &r.id)),
            links
        );
    }
    h.push_str("</table>\n");
}

/// Where a report links for the evidence of its cases.
pub enum Evidence<'a> {
    None,
    /// `rmt-conform run --artifacts DIR`: `DIR/<case>/log.txt` and `capture.pcap`.
    PerCase(&'a Path),
    /// `rmt-conform sender`: the capture every case was judged from.
    Capture(&'a Path),
}

/// What a run's HTML report shows.
pub struct Report<'a> {
    /// What was tested: the profile's name, or the sender's capture or command.
    pub sut: &'a str,
    pub seed: Option<u64>,
    /// How the run was made (`transport`, `flavor`, ...).
    pub context: &'a [(&'a str, String)],
    pub results: &'a [CaseResult],
    pub cases: &'a [Case],
    pub evidence: Evidence<'a>,
    /// The other reports of the same run (JSON, JUnit), linked from the summary.
    pub siblings: Vec<(&'a str, &'a Path)>,
}

/// `href` to `target` from a page in `page_dir`: relative when the target is under it (the
/// page and its artifacts move together), else an absolute `file://` URL.
pub fn href(page_dir: &Path, target: &Path) -> String {
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let (dir, target) = (abs(page_dir), abs(target));
    match target.strip_prefix(&dir) {
        Ok(rel) => rel.to_string_lossy().replace('\\', "/"),
        Err(_) => format!("file://{}", target.to_string_lossy()),
    }
}

/// The report of one `rmt-conform run` or `sender`, to be written in `page_dir`.
pub fn report(r: &Report, page_dir: &Path) -> String {
    let cases: BTreeMap<&str, &Case> = r.cases.iter().map(|c| (c.id.as_str(), c)).collect();
    let mut h = head(&format!("rmt-conform: {}", r.sut));
    let _ = writeln!(h, "<h1>rmt-conform: {}</h1>", esc(r.sut));
    let n = r.results.len();
    let mut facts = vec![format!("{n} case{}", if n == 1 { "" } else { "s" })];
    if let Some(seed) = r.seed {
        facts.push(format!("seed {seed}"));
    }
    facts.extend(r.context.iter().map(|(k, v)| format!("{k} {v}")));
    let _ = writeln!(h, "<p>{}.</p>", esc(&facts.join(", ")));
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for c in r.results {
        *counts.entry(c.outcome.as_str()).or_default() += 1;
    }
    let _ = write!(
        h,
        "<p class=\"summary\" id=\"verdict\"><span class=\"{}\"><b>{}</b></span>",
        verdict(r.results),
        match verdict(r.results) {
            "fail" => "FAILED",
            "warn" => "PASSED with warnings",
            "pass" => "PASSED",
            _ => "NOTHING JUDGED",
        }
    );
    for (outcome, n) in &counts {
        let _ = write!(h, "<span class=\"{outcome}\">{n} {outcome}</span>");
    }
    h.push_str("</p>\n");
    if !r.siblings.is_empty() {
        let links: Vec<String> = r
            .siblings
            .iter()
            .map(|(label, p)| format!("<a href=\"{}\">{}</a>", esc(&href(page_dir, p)), esc(label)))
            .collect();
        let _ = writeln!(h, "<p>Also: {}.</p>", links.join(", "));
    }
    let evidence = |c: &CaseResult| -> Vec<(String, String)> {
        match r.evidence {
            Evidence::None => Vec::new(),
            Evidence::Capture(p) => vec![("capture".into(), href(page_dir, p))],
            // Only what the case wrote: an unsupported, gated or skipped case has no log.
            Evidence::PerCase(dir) => ["log.txt", "capture.pcap"]
                .iter()
                .map(|f| dir.join(c.id.replace('/', "_")).join(f))
                .filter(|p| p.exists())
                .map(|p| {
                    let name = p
                        .file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned();
                    (name, href(page_dir, &p))
                })
                .collect(),
        }
    };
    case_rows(&mut h, r.results, &cases, &evidence);
    h.push_str("</body></html>\n");
    h
}
