//! Writing delivered objects to a folder, with a manifest (`manifest.jsonl`, one JSON object
//! per delivered object: TSI, TOI, name, path, size, sha256), as soon as each one is complete,
//! so that nothing received is lost if the run stops later.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::receiver::Delivered;

pub const MANIFEST: &str = "manifest.jsonl";

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ManifestEntry {
    pub tsi: u64,
    pub toi: String,
    pub name: String,
    /// Relative to the output folder.
    pub path: String,
    pub size: u64,
    pub sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ciid: Option<u64>,
}

/// A Content-Location as a relative path inside the output folder: the URI scheme and host
/// are dropped, and no component may climb out (`..`) or be absolute.
pub fn safe_relative_path(name: &str, toi: u128) -> PathBuf {
    let mut rest = name;
    if let Some((scheme, after)) = name.split_once("://") {
        if !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
        {
            // file:///a/b -> /a/b ; http://host/a/b -> /a/b
            rest = after.find('/').map_or("", |i| &after[i..]);
        }
    }
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let mut out = PathBuf::new();
    for c in Path::new(rest).components() {
        if let Component::Normal(part) = c {
            out.push(part);
        }
    }
    if out.as_os_str().is_empty() {
        out.push(format!("toi-{toi}"));
    }
    out
}

#[derive(Debug)]
pub struct OutputDir {
    root: PathBuf,
    manifest: File,
    pub entries: Vec<ManifestEntry>,
}

impl OutputDir {
    pub fn create(root: &Path) -> io::Result<Self> {
        fs::create_dir_all(root)?;
        let manifest = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(root.join(MANIFEST))?;
        Ok(OutputDir {
            root: root.to_path_buf(),
            manifest,
            entries: Vec::new(),
        })
    }

    pub fn write(&mut self, d: &Delivered) -> io::Result<&ManifestEntry> {
        let rel = safe_relative_path(&d.name, d.toi);
        let path = self.root.join(&rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&path, &d.data)?;
        let entry = ManifestEntry {
            tsi: d.tsi,
            toi: d.toi.to_string(),
            name: d.name.clone(),
            path: rel.to_string_lossy().into_owned(),
            size: d.data.len() as u64,
            sha256: hex_digest(&d.data),
            content_type: d.content_type.clone(),
            ciid: d.ciid,
        };
        let line = serde_json::to_string(&entry).map_err(io::Error::other)?;
        writeln!(self.manifest, "{line}")?;
        self.manifest.flush()?;
        self.entries.push(entry);
        Ok(self.entries.last().expect("pushed"))
    }
}

pub fn hex_digest(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Reads a manifest back (tests and the conformance suite).
pub fn read_manifest(root: &Path) -> io::Result<Vec<ManifestEntry>> {
    fs::read_to_string(root.join(MANIFEST))?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(io::Error::other))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_locations_stay_inside_the_folder() {
        for (name, want) in [
            ("file:///obj1-10240.bin", "obj1-10240.bin"),
            ("http://example.com/a/b.mp4?x=1", "a/b.mp4"),
            ("objs/obj1.bin", "objs/obj1.bin"),
            ("../../etc/passwd", "etc/passwd"),
            ("/abs/x", "abs/x"),
            ("", "toi-7"),
            ("..", "toi-7"),
        ] {
            assert_eq!(safe_relative_path(name, 7), PathBuf::from(want), "{name}");
        }
    }
}
