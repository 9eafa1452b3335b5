//! Writing rebuilt objects to a folder, with a manifest (`manifest.json`): sender, TSI, TOI,
//! Content-Location, size, sha256, FEC scheme, complete or partial, and the integrity check the
//! FDT (Content-MD5) or FCAST metadata (Fcast-Obj-Digest-SHA256) allows.
//!
//! Names come from Content-Location with everything that could leave the folder removed (no
//! absolute paths, no `..`, no separators kept); the TOI names objects without one.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use base64::Engine;
use md5::Md5;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::assembler::ObjectReport;
use crate::wire::fcast::CompoundObject;
use crate::wire::route::DeliveryMode;
use crate::wire::route_sls::multipart_parts;

#[derive(Debug, Clone, Serialize)]
pub struct ManifestEntry {
    pub file: String,
    pub sender: String,
    pub tsi: u64,
    pub toi: String,
    /// Objects the TOI named before this one in the session (0: the first; TOIs wrap and are
    /// reused in long sessions).
    pub incarnation: u32,
    pub content_location: Option<String>,
    pub size: u64,
    pub sha256: String,
    pub fec_encoding_id: Option<u8>,
    /// `complete` or `partial`.
    pub state: &'static str,
    pub missing_bytes: u64,
    /// `ok`, `mismatch`, or `none` when nothing to check against.
    pub integrity: &'static str,
    /// `flute` (FDT entry), `fcast` (compound object unwrapped), `alc`, `route` (a ROUTE
    /// object, named by its EFDT or entity headers) or `route-package-part` (one part of a
    /// ROUTE package, also written whole).
    pub kind: &'static str,
}

/// Keeps `[A-Za-z0-9._-]` of each path segment of a Content-Location and joins them with `_`.
pub fn sanitise(location: &str) -> Option<String> {
    let without_scheme = location
        .split_once("://")
        .map_or(location, |(_, rest)| rest);
    let segments: Vec<String> = without_scheme
        .split(['/', '\\'])
        .map(|seg| {
            seg.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                        c
                    } else {
                        '_'
                    }
                })
                .collect::<String>()
        })
        .filter(|seg| !seg.is_empty() && seg.chars().any(|c| c != '.'))
        .collect();
    let name = segments.join("_");
    (!name.is_empty()).then(|| name.chars().take(200).collect())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What to write for one object: (bytes, Content-Location, integrity, kind).
fn unwrap(
    report: &ObjectReport,
    data: &[u8],
) -> (Vec<u8>, Option<String>, &'static str, &'static str) {
    if let Some(file) = &report.fdt_file {
        let integrity = match &file.content_md5 {
            Some(expected) => {
                if Md5::digest(data).as_slice() == expected.as_slice() {
                    "ok"
                } else {
                    "mismatch"
                }
            }
            None => "none",
        };
        return (
            data.to_vec(),
            Some(file.content_location.clone()),
            integrity,
            "flute",
        );
    }
    // Not in an FDT: an FCAST compound object if it decodes as one with a valid checksum.
    if let Ok(d) = CompoundObject::parse(data) {
        let obj = d.value;
        let checksum_ok = obj.computed_checksum == obj.header.checksum && obj.header.version == 0;
        if checksum_ok && !obj.header.is_cid {
            let location = obj.header.get("Content-Location").map(str::to_string);
            let body = match obj.header.get("Content-Encoding") {
                Some(enc) if enc.trim().eq_ignore_ascii_case("gzip") => {
                    let mut out = Vec::new();
                    match flate2::read::GzDecoder::new(&obj.data[..])
                        .take(1 << 34)
                        .read_to_end(&mut out)
                    {
                        Ok(_) => out,
                        Err(_) => return (obj.data.clone(), location, "mismatch", "fcast"),
                    }
                }
                _ => obj.data.clone(),
            };
            // Fcast-Obj-Digest-SHA256 is over the object before content encoding (RFC 6968 §3.3).
            let integrity = match obj.header.get("Fcast-Obj-Digest-SHA256").and_then(|v| {
                base64::engine::general_purpose::STANDARD
                    .decode(v.trim())
                    .ok()
            }) {
                Some(expected) if Sha256::digest(&body).as_slice() == expected.as_slice() => "ok",
                Some(_) => "mismatch",
                None => "none",
            };
            return (body, location, integrity, "fcast");
        }
    }
    (data.to_vec(), None, "none", "alc")
}

/// Writes rebuilt objects into a folder as they leave the assembler, and `manifest.json` at
/// the end. FDT Instances are not written; partial objects only with `partial` (and an
/// assembler that keeps them, [`super::assembler::AssemblerConfig::partial`]).
#[derive(Debug)]
pub struct Exporter {
    dir: PathBuf,
    partial: bool,
    used: BTreeSet<String>,
    manifest: Vec<ManifestEntry>,
}

impl Exporter {
    pub fn new(dir: &Path, partial: bool) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(Exporter {
            dir: dir.to_path_buf(),
            partial,
            used: BTreeSet::new(),
            manifest: Vec::new(),
        })
    }

    pub fn written(&self) -> usize {
        self.manifest.len()
    }

    /// Writes one object, if it is to be written.
    pub fn write(&mut self, r: &ObjectReport) -> std::io::Result<()> {
        if r.key.fdt_instance.is_some() {
            return Ok(());
        }
        let (bytes, missing, state) = match (&r.data, &r.partial) {
            (Some(d), _) => (d, 0, "complete"),
            (None, Some((d, missing))) if self.partial => (d, *missing, "partial"),
            _ => return Ok(()),
        };
        let (body, location, integrity, kind) = if state == "complete" {
            unwrap(r, bytes)
        } else {
            (
                bytes.clone(),
                r.fdt_file.as_ref().map(|f| f.content_location.clone()),
                "none",
                "alc",
            )
        };
        let base =
            location
                .as_deref()
                .and_then(sanitise)
                .unwrap_or_else(|| match r.key.incarnation {
                    0 => format!("tsi{}-toi{}", r.key.tsi, r.key.toi),
                    n => format!("tsi{}-toi{}-i{n}", r.key.tsi, r.key.toi),
                });
        let name = if state == "partial" {
            format!("{base}.partial")
        } else {
            base
        };
        let kind = match (kind, r.route_mode) {
            ("flute" | "alc", Some(_)) => "route",
            (k, _) => k,
        };
        self.put(r, name, &body, location, state, missing, integrity, kind)?;
        // A ROUTE package (A/331 §A.3.3.4; the SLS bundle of §7.1): each part is written too,
        // under its own Content-Location (the MPD, the S-TSID, ...).
        if let (Some(DeliveryMode::Package), "complete") = (r.route_mode, state) {
            for part in multipart_parts(&body).unwrap_or_default() {
                let Some(name) = part.content_location.as_deref().and_then(sanitise) else {
                    continue;
                };
                let location = part.content_location.clone();
                self.put(
                    r,
                    name,
                    &part.body,
                    location,
                    state,
                    0,
                    "none",
                    "route-package-part",
                )?;
            }
        }
        Ok(())
    }

    /// Writes one file under `name` (made unique) and its manifest entry.
    #[allow(clippy::too_many_arguments)]
    fn put(
        &mut self,
        r: &ObjectReport,
        mut name: String,
        body: &[u8],
        location: Option<String>,
        state: &'static str,
        missing: u64,
        integrity: &'static str,
        kind: &'static str,
    ) -> std::io::Result<()> {
        let stem = name.clone();
        let mut n = 1;
        while !self.used.insert(name.clone()) {
            n += 1;
            name = format!("{stem}.{n}");
        }
        std::fs::write(self.dir.join(&name), body)?;
        self.manifest.push(ManifestEntry {
            file: name,
            sender: r.key.sender.to_string(),
            tsi: r.key.tsi,
            toi: r.key.toi.to_string(),
            incarnation: r.key.incarnation,
            content_location: location,
            size: body.len() as u64,
            sha256: hex(&Sha256::digest(body)),
            fec_encoding_id: r.encoding_id,
            state,
            missing_bytes: missing,
            integrity,
            kind,
        });
        Ok(())
    }

    /// Writes `manifest.json`.
    pub fn finish(&mut self) -> std::io::Result<()> {
        let json = serde_json::to_string_pretty(&self.manifest).map_err(std::io::Error::other)?;
        std::fs::write(self.dir.join("manifest.json"), json + "\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_leave_the_folder() {
        assert_eq!(
            sanitise("file:///obj1-10240.bin").as_deref(),
            Some("obj1-10240.bin")
        );
        assert_eq!(
            sanitise("http://www.example.com/tracks/track1.mp3").as_deref(),
            Some("www.example.com_tracks_track1.mp3")
        );
        assert_eq!(sanitise("../../etc/passwd").as_deref(), Some("etc_passwd"));
        assert_eq!(sanitise("/abs/path").as_deref(), Some("abs_path"));
        assert_eq!(sanitise("..\\\\win\\\\x").as_deref(), Some("win_x"));
        assert_eq!(sanitise("a b?c").as_deref(), Some("a_b_c"));
        assert_eq!(sanitise("../.."), None);
        assert_eq!(sanitise(""), None);
    }
}
