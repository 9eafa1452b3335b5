//! Progress bars on standard error for long work (a large capture, the conformance suite, the
//! matrix, the lab), drawn by indicatif only when standard error is a terminal: a log file, a
//! pipe or CI gets none of their escape codes, only the lines the tools print anyway.

use std::io::IsTerminal;

pub use indicatif::ProgressBar;
use indicatif::{ProgressDrawTarget, ProgressStyle};

/// What a bar counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Bytes,
    /// Cases, cells: `pos/len`.
    Items,
    Seconds,
}

/// Whether bars are drawn: standard error is a terminal.
pub fn shown() -> bool {
    std::io::stderr().is_terminal()
}

/// A bar of `total` `unit`s labelled `prefix`, drawn at most 10 times a second, or a hidden
/// one (which costs nothing and prints nothing) when standard error is not a terminal.
pub fn bar(total: u64, prefix: &str, unit: Unit) -> ProgressBar {
    if !shown() {
        return ProgressBar::hidden();
    }
    let counts = match unit {
        Unit::Bytes => "{bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)",
        Unit::Items => "{pos}/{len} ({elapsed})",
        Unit::Seconds => "{pos}/{len} s",
    };
    let template = format!("{{prefix}} [{{bar:30}}] {counts} {{wide_msg}}");
    let style = ProgressStyle::with_template(&template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let b = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(10))
        .with_style(style)
        .with_prefix(prefix.to_string());
    b.tick();
    b
}

/// A line for standard error: above the bar when one is drawn (so the bar stays last), else
/// printed as it is.
pub fn println(bar: &ProgressBar, line: impl AsRef<str>) {
    if bar.is_hidden() {
        eprintln!("{}", line.as_ref());
    } else {
        bar.println(line.as_ref());
    }
}
