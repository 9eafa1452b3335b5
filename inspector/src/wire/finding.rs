//! Non-fatal anomalies ("findings"), like Wireshark's Expert Info or Suricata's events:
//! a stable ID, a severity and the RFC rule, recorded while parsing goes on (lax mode).
//! Strict mode turns every finding of severity `Warning` or `Error` into a [`WireError`].

use serde::Serialize;

use super::error::WireError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A fact worth knowing that breaks no rule (e.g. an IPv4 fragment, an RFC 3926 FDT).
    Info,
    /// A rule is broken but the input still decodes to one meaning (a SHOULD not met, a
    /// reserved field not zero, a legacy form, a value receivers are told to ignore).
    Warning,
    /// A rule is broken so that the input cannot be decoded, or decodes to something other
    /// than what the sender must have meant.
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub id: &'static str,
    pub severity: Severity,
    pub field: &'static str,
    pub offset: usize,
    pub rule: &'static str,
    pub detail: String,
}

impl Finding {
    pub fn new(
        id: &'static str,
        severity: Severity,
        field: &'static str,
        offset: usize,
        rule: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Finding {
            id,
            severity,
            field,
            offset,
            rule,
            detail: detail.into(),
        }
    }

    pub fn to_error(&self) -> WireError {
        WireError::new(
            self.id,
            self.field,
            self.offset,
            self.rule,
            self.detail.clone(),
        )
    }
}

/// A lax decoding result: the value plus every finding met on the way.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decoded<T> {
    pub value: T,
    pub findings: Vec<Finding>,
}

impl<T> Decoded<T> {
    pub fn new(value: T, findings: Vec<Finding>) -> Self {
        Decoded { value, findings }
    }

    /// Strict mode: the first finding of severity `Warning` or higher becomes the error.
    pub fn strict(self) -> Result<T, WireError> {
        match self
            .findings
            .iter()
            .find(|f| f.severity >= Severity::Warning)
        {
            Some(f) => Err(f.to_error()),
            None => Ok(self.value),
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Decoded<U> {
        Decoded {
            value: f(self.value),
            findings: self.findings,
        }
    }

    pub fn has(&self, id: &str) -> bool {
        self.findings.iter().any(|f| f.id == id)
    }
}

/// Collects findings with a base offset, so inner parsers report positions in the outer input.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    pub list: Vec<Finding>,
}

impl Findings {
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        id: &'static str,
        severity: Severity,
        field: &'static str,
        offset: usize,
        rule: &'static str,
        detail: impl Into<String>,
    ) {
        self.list
            .push(Finding::new(id, severity, field, offset, rule, detail));
    }

    #[inline]
    pub fn extend_at(&mut self, base: usize, more: Vec<Finding>) {
        // Nearly always empty: skip the iterator's set-up and the drop of its buffer.
        if more.is_empty() {
            return;
        }
        self.list.extend(more.into_iter().map(|mut f| {
            f.offset += base;
            f
        }));
    }
}
