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

impl Severity {
    /// As Wireshark's expert severities and `-G findings` print it.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One entry of the findings registry ([`crate::registry`]): what a finding ID means, how
/// severe it is and which rule it enforces. Every finding and every [`WireError`] is raised by
/// naming its entry, so an ID, its severity and its rule are written once.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct FindingKind {
    /// Stable identifier, e.g. `lct.version.unsupported`; layer first, as Wireshark's fields.
    pub id: &'static str,
    pub severity: Severity,
    /// The RFC and section, e.g. `RFC 5651 §5.1`; for facts no RFC states, the source
    /// (`pcap`, `rmtkit limit`).
    pub rule: &'static str,
    /// One line for the glossary (`rmt-inspect -G findings`).
    pub summary: &'static str,
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
    /// Raises the registry entry `kind` at `field`, `offset` bytes into the parsed input.
    pub fn of(
        kind: &'static FindingKind,
        field: &'static str,
        offset: usize,
        detail: impl Into<String>,
    ) -> Self {
        super::census::record(kind.id);
        Finding {
            id: kind.id,
            severity: kind.severity,
            field,
            offset,
            rule: kind.rule,
            detail: detail.into(),
        }
    }

    /// Cites a more precise rule than the registry's, for an entry that several FEC schemes
    /// or headers share (e.g. `fec.oti.reserved_nonzero` under RFC 5445 and RFC 6330).
    pub fn citing(mut self, rule: &'static str) -> Self {
        // A packet comment ends the rule at its first ": " (`capture::writer::finding_comment`).
        debug_assert!(!rule.contains(':'), "{rule}: a rule has no colon");
        self.rule = rule;
        self
    }

    pub fn to_error(&self) -> WireError {
        self.clone().into_error()
    }

    pub fn into_error(self) -> WireError {
        WireError {
            id: self.id,
            field: self.field,
            offset: self.offset,
            rule: self.rule,
            detail: self.detail,
        }
    }
}

/// The one conversion of a fatal error into a finding: what lax mode records when a header
/// cannot be read (always of severity `Error`, since the bytes have no meaning).
impl From<WireError> for Finding {
    fn from(e: WireError) -> Self {
        Finding {
            id: e.id,
            severity: Severity::Error,
            field: e.field,
            offset: e.offset,
            rule: e.rule,
            detail: e.detail,
        }
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
    pub fn raise(
        &mut self,
        kind: &'static FindingKind,
        field: &'static str,
        offset: usize,
        detail: impl Into<String>,
    ) {
        self.list.push(Finding::of(kind, field, offset, detail));
    }

    pub fn push(&mut self, finding: Finding) {
        self.list.push(finding);
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
