//! RFC-derived test vectors (YAML, in this crate's folder) and their loader.
//!
//! Each vector names the RFC and section it comes from, the parser ("layer") it exercises, the
//! bytes (`hex`, or `text` for XML and CID lists), the expected decoded fields, and a verdict:
//! `valid`, `invalid` (with the expected error or finding ID) or `acceptable` (with a reason).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Strict parsing succeeds and emit reproduces the bytes.
    Valid,
    /// Strict parsing fails with `error`; lax parsing fails with it or reports it as a finding.
    Invalid,
    /// Lax parsing succeeds (reporting `error` as a finding when given); allowed for `reason`.
    Acceptable,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vector {
    pub id: String,
    pub rfc: String,
    pub section: String,
    pub layer: String,
    pub description: String,
    #[serde(default)]
    pub params: BTreeMap<String, serde_yaml::Value>,
    pub hex: Option<String>,
    pub text: Option<String>,
    pub verdict: Verdict,
    pub error: Option<String>,
    pub reason: Option<String>,
    /// Expected fields of the decoded tree: dotted paths (`extensions.0.hel`) to values.
    #[serde(default)]
    pub expected: BTreeMap<String, serde_yaml::Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum VectorError {
    #[error("{path}: {detail}")]
    Invalid { path: String, detail: String },
}

impl Vector {
    /// The vector's input bytes (`hex` or `text`), empty for computed vectors.
    pub fn bytes(&self) -> Vec<u8> {
        match (&self.hex, &self.text) {
            (Some(h), _) => {
                hex::decode(h.split_whitespace().collect::<String>()).expect("validated at load")
            }
            (None, Some(t)) => t.as_bytes().to_vec(),
            (None, None) => Vec::new(),
        }
    }

    pub fn param_u64(&self, name: &str) -> Option<u64> {
        self.params.get(name).and_then(serde_yaml::Value::as_u64)
    }

    pub fn param_str(&self, name: &str) -> Option<&str> {
        self.params.get(name).and_then(serde_yaml::Value::as_str)
    }

    pub fn param_bool(&self, name: &str) -> bool {
        self.params
            .get(name)
            .and_then(serde_yaml::Value::as_bool)
            .unwrap_or(false)
    }

    fn validate(&self) -> Result<(), String> {
        if self.id.is_empty() || self.rfc.is_empty() || self.section.is_empty() {
            return Err(format!(
                "vector {:?}: id, rfc and section are required",
                self.id
            ));
        }
        if self.hex.is_some() && self.text.is_some() {
            return Err(format!("{}: give hex or text, not both", self.id));
        }
        if let Some(h) = &self.hex {
            hex::decode(h.split_whitespace().collect::<String>())
                .map_err(|e| format!("{}: bad hex: {e}", self.id))?;
        }
        match self.verdict {
            Verdict::Invalid if self.error.is_none() => {
                Err(format!("{}: an invalid vector names its error", self.id))
            }
            Verdict::Acceptable if self.reason.is_none() => Err(format!(
                "{}: an acceptable vector gives its reason",
                self.id
            )),
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VectorFile {
    pub vectors: Vec<Vector>,
}

/// The folder holding the YAML files and `captures/`.
pub fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn captures_dir() -> PathBuf {
    vectors_dir().join("captures")
}

pub fn load_file(path: &Path) -> Result<VectorFile, VectorError> {
    let err = |detail: String| VectorError::Invalid {
        path: path.display().to_string(),
        detail,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let file: VectorFile = serde_yaml::from_str(&text).map_err(|e| err(e.to_string()))?;
    for v in &file.vectors {
        v.validate().map_err(err)?;
    }
    Ok(file)
}

/// Every `*.yaml` file of the vectors folder, sorted by name, with IDs checked to be unique.
pub fn load_all() -> Result<Vec<(PathBuf, VectorFile)>, VectorError> {
    let dir = vectors_dir();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| VectorError::Invalid {
            path: dir.display().to_string(),
            detail: e.to_string(),
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    paths.sort();
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for p in paths {
        let f = load_file(&p)?;
        for v in &f.vectors {
            if !seen.insert(v.id.clone()) {
                return Err(VectorError::Invalid {
                    path: p.display().to_string(),
                    detail: format!("duplicate vector id {}", v.id),
                });
            }
        }
        out.push((p, f));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_vectors_load_and_count_at_least_120() {
        let files = load_all().expect("vectors load");
        let n: usize = files.iter().map(|(_, f)| f.vectors.len()).sum();
        assert!(n >= 120, "only {n} vectors");
        for (_, f) in &files {
            for v in &f.vectors {
                assert!(
                    v.rfc.starts_with("RFC ")
                        || v.rfc.starts_with("ATSC A/331")
                        || v.rfc.starts_with("LINKTYPE")
                        || v.rfc.starts_with("IEEE"),
                    "{}: rfc {:?}",
                    v.id,
                    v.rfc
                );
            }
        }
    }

    #[test]
    fn invalid_vector_without_error_is_rejected() {
        let yaml = "vectors:\n- {id: x, rfc: RFC 1, section: '1', layer: lct, description: d, hex: '00', verdict: invalid}\n";
        let f: VectorFile = serde_yaml::from_str(yaml).unwrap();
        assert!(f.vectors[0].validate().is_err());
    }
}
pub mod scenario;
