//! Streaming pcap/pcapng reading. A file is memory-mapped and its records are handed out as
//! slices of the mapping (no copy, no per-packet allocation), so reading is memory-bound and the
//! resident set stays flat whatever the capture length. Standard input cannot be mapped and is
//! read into memory first.

#[cfg(feature = "mmap")]
use std::io::Read;
#[cfg(feature = "mmap")]
use std::path::Path;
use std::time::Duration;

use pcap_file::pcap::PcapParser;
use pcap_file::pcapng::{Block, PcapNgParser};
use pcap_file::PcapError;

use crate::wire::link::LinkType;

/// The bytes of a capture.
#[cfg(feature = "mmap")]
pub enum Source {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {0}: {1}")]
    Io(String, std::io::Error),
    #[error("not a pcap or pcapng file: {0}")]
    Format(String),
    #[error("the capture is truncated or corrupt after frame {frame}: {detail}")]
    Corrupt { frame: u64, detail: String },
}

#[cfg(feature = "mmap")]
impl Source {
    /// Opens a file, or standard input for `-`.
    pub fn open(path: &Path) -> Result<Source, ReadError> {
        if path.as_os_str() == "-" {
            let mut buf = Vec::new();
            std::io::stdin()
                .lock()
                .read_to_end(&mut buf)
                .map_err(|e| ReadError::Io("standard input".into(), e))?;
            return Ok(Source::Owned(buf));
        }
        let file =
            std::fs::File::open(path).map_err(|e| ReadError::Io(path.display().to_string(), e))?;
        // SAFETY: the mapping is read-only; a capture changed on disk while we read it gives
        // wrong bytes, which the parsers handle like any other malformed input.
        let map = unsafe { memmap2::Mmap::map(&file) }
            .map_err(|e| ReadError::Io(path.display().to_string(), e))?;
        Ok(Source::Mapped(map))
    }

    pub fn bytes(&self) -> &[u8] {
        match self {
            Source::Mapped(m) => m,
            Source::Owned(v) => v,
        }
    }
}

/// How far ahead of the parser the read-ahead thread maps the capture's pages.
#[cfg(feature = "mmap")]
const READ_AHEAD: usize = 16 << 20;
/// The step in which pages are mapped ahead.
#[cfg(feature = "mmap")]
const READ_AHEAD_STEP: usize = 2 << 20;
#[cfg(feature = "mmap")]
const PAGE: usize = 4096;

/// Where the parser is, shared with the read-ahead thread.
#[cfg(feature = "mmap")]
#[derive(Debug, Default)]
pub struct ReadPosition {
    consumed: std::sync::atomic::AtomicUsize,
    done: std::sync::atomic::AtomicBool,
}

#[cfg(feature = "mmap")]
impl ReadPosition {
    /// The parser has finished with every byte before `offset`.
    pub fn set(&self, offset: usize) {
        self.consumed
            .store(offset, std::sync::atomic::Ordering::Release);
    }

    /// The parser stopped: the read-ahead thread ends.
    pub fn finish(&self) {
        self.done.store(true, std::sync::atomic::Ordering::Release);
    }

    /// A guard that calls [`ReadPosition::finish`] when dropped, also when unwinding.
    pub fn finish_on_drop(&self) -> impl Drop + '_ {
        struct Finish<'a>(&'a ReadPosition);
        impl Drop for Finish<'_> {
            fn drop(&mut self) {
                self.0.finish();
            }
        }
        Finish(self)
    }
}

#[cfg(feature = "mmap")]
impl Source {
    /// The read-ahead loop, run on a second thread while the parser walks the mapping: maps the
    /// pages up to `READ_AHEAD` bytes ahead of the parser (so the parser does not take the page
    /// faults: mapping a page costs about as much as parsing the packets in it). Returns when
    /// `position.finish()` is called. A no-op for standard input.
    pub fn read_ahead(&self, position: &ReadPosition) {
        use std::sync::atomic::Ordering;
        let Source::Mapped(m) = self else { return };
        let len = m.len();
        let mut mapped = 0usize;
        // Bounded: each pass maps one step or waits 100 µs for the parser, and the parser ends
        // in bounded time.
        while !position.done.load(Ordering::Acquire) {
            let consumed = position.consumed.load(Ordering::Acquire).min(len);
            if mapped < len && mapped < consumed + READ_AHEAD {
                let end = (mapped + READ_AHEAD_STEP).min(len);
                populate(m, mapped, end - mapped);
                mapped = end;
                continue;
            }
            std::thread::sleep(std::time::Duration::from_micros(100));
        }
    }

    /// Tells the kernel the bytes before `offset` will not be read again, so their pages leave
    /// the process's resident set (they stay in the page cache). Called by the thread that
    /// finishes with the packets, so that the resident set stays flat whatever the scheduling;
    /// a no-op for standard input.
    pub fn release_before(&self, offset: usize) {
        if let Source::Mapped(m) = self {
            let end = offset.min(m.len()) / PAGE * PAGE;
            if end > 0 {
                // SAFETY: the range lies inside the mapping, and no slice of it before
                // `offset` is used again (packets are processed in order and not kept).
                let _ =
                    unsafe { m.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, 0, end) };
            }
        }
    }
}

/// Maps the pages of `m[offset..offset + len]` by reading a byte of each: each fault maps a
/// run of pages around it (the kernel's fault-around), which measured cheaper than
/// MADV_POPULATE_READ (which takes a reference on every page) and works on every kernel.
#[cfg(feature = "mmap")]
fn populate(m: &memmap2::Mmap, offset: usize, len: usize) {
    let mut sum = 0u8;
    let range = m.get(offset..offset + len).unwrap_or(&[]);
    for page in range.chunks(PAGE) {
        // SAFETY: reading the first byte of a non-empty slice of the mapping.
        sum = sum.wrapping_add(unsafe { std::ptr::read_volatile(page.as_ptr()) });
    }
    std::hint::black_box(sum);
}

/// Asks the CPU to fetch the first two cache lines of the next record (its header and the
/// packet's Ethernet/IP/UDP/LCT headers) while the current packet is processed: records are
/// about a page apart, further than the hardware prefetcher looks, and a miss to memory per
/// record would otherwise cost as much as decoding it.
#[inline]
fn prefetch_next_record(rest: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        for offset in [0, 64] {
            if let Some(b) = rest.get(offset) {
                // SAFETY: prefetching is a hint; the address is inside the slice.
                #[allow(unused_unsafe)]
                unsafe {
                    _mm_prefetch::<_MM_HINT_T0>((b as *const u8).cast())
                };
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = rest;
}

/// One captured packet, borrowed from the source.
#[derive(Debug, Clone, Copy)]
pub struct RawPacket<'a> {
    /// 1-based position in the capture.
    pub frame: u64,
    pub link_type: LinkType,
    pub timestamp: Duration,
    pub data: &'a [u8],
    /// Length on the wire; more than `data.len()` when the capture's snap length cut it.
    pub orig_len: u32,
}

enum Format {
    /// The parser and the file's link type (read once, not per packet).
    Pcap(PcapParser, LinkType),
    PcapNg(Box<PcapNgParser>, Vec<(LinkType, u64)>),
}

/// Iterates over the packets of a capture; a corrupt record ends the iteration with an error.
pub struct Packets<'a> {
    format: Format,
    rest: &'a [u8],
    frame: u64,
    done: bool,
}

const PCAPNG_MAGIC: [u8; 4] = [0x0A, 0x0D, 0x0D, 0x0A];

fn describe(e: PcapError) -> String {
    match e {
        PcapError::IncompleteBuffer => "the last record is incomplete".into(),
        other => other.to_string(),
    }
}

impl<'a> Packets<'a> {
    pub fn new(bytes: &'a [u8]) -> Result<Self, ReadError> {
        if bytes.starts_with(&PCAPNG_MAGIC) {
            let (rest, parser) =
                PcapNgParser::new(bytes).map_err(|e| ReadError::Format(describe(e)))?;
            Ok(Packets {
                format: Format::PcapNg(Box::new(parser), Vec::new()),
                rest,
                frame: 0,
                done: false,
            })
        } else {
            let (rest, parser) =
                PcapParser::new(bytes).map_err(|e| ReadError::Format(describe(e)))?;
            let link_type = LinkType::from(u32::from(parser.header().datalink));
            Ok(Packets {
                format: Format::Pcap(parser, link_type),
                rest,
                frame: 0,
                done: false,
            })
        }
    }

    /// Bytes consumed so far, from the start of the capture.
    pub fn consumed(&self, total: usize) -> usize {
        total - self.rest.len()
    }

    /// The link type of a classic pcap file (pcapng gives one per interface).
    pub fn pcap_link_type(&self) -> Option<LinkType> {
        match &self.format {
            Format::Pcap(_, link_type) => Some(*link_type),
            Format::PcapNg(..) => None,
        }
    }
}

impl<'a> Iterator for Packets<'a> {
    type Item = Result<RawPacket<'a>, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            if self.rest.is_empty() {
                self.done = true;
                return None;
            }
            let frame = self.frame + 1;
            let corrupt = |e: PcapError, done: &mut bool| {
                *done = true;
                Some(Err(ReadError::Corrupt {
                    frame: frame - 1,
                    detail: describe(e),
                }))
            };
            match &mut self.format {
                Format::Pcap(parser, link_type) => {
                    let link_type = *link_type;
                    match parser.next_packet(self.rest) {
                        Ok((rest, p)) => {
                            self.rest = rest;
                            prefetch_next_record(rest);
                            self.frame = frame;
                            let std::borrow::Cow::Borrowed(data) = p.data else {
                                return corrupt(PcapError::IncompleteBuffer, &mut self.done);
                            };
                            return Some(Ok(RawPacket {
                                frame,
                                link_type,
                                timestamp: p.timestamp,
                                data,
                                orig_len: p.orig_len,
                            }));
                        }
                        Err(e) => return corrupt(e, &mut self.done),
                    }
                }
                Format::PcapNg(parser, interfaces) => match parser.next_block(self.rest) {
                    Ok((rest, block)) => {
                        self.rest = rest;
                        prefetch_next_record(rest);
                        match block {
                            Block::InterfaceDescription(idb) => {
                                // if_tsresol: default 10^-6 s; the parser converts timestamps itself.
                                interfaces.push((LinkType::from(u32::from(idb.linktype)), 0));
                            }
                            Block::EnhancedPacket(epb) => {
                                let Some(&(link_type, _)) =
                                    interfaces.get(epb.interface_id as usize)
                                else {
                                    self.done = true;
                                    return Some(Err(ReadError::Corrupt {
                                        frame: frame - 1,
                                        detail: format!(
                                            "packet on undeclared interface {}",
                                            epb.interface_id
                                        ),
                                    }));
                                };
                                self.frame = frame;
                                let std::borrow::Cow::Borrowed(data) = epb.data else {
                                    return corrupt(PcapError::IncompleteBuffer, &mut self.done);
                                };
                                return Some(Ok(RawPacket {
                                    frame,
                                    link_type,
                                    timestamp: epb.timestamp,
                                    data,
                                    orig_len: epb.original_len,
                                }));
                            }
                            Block::SimplePacket(spb) => {
                                let Some(&(link_type, _)) = interfaces.first() else {
                                    self.done = true;
                                    return Some(Err(ReadError::Corrupt {
                                        frame: frame - 1,
                                        detail: "packet before any interface".into(),
                                    }));
                                };
                                self.frame = frame;
                                let std::borrow::Cow::Borrowed(data) = spb.data else {
                                    return corrupt(PcapError::IncompleteBuffer, &mut self.done);
                                };
                                return Some(Ok(RawPacket {
                                    frame,
                                    link_type,
                                    timestamp: Duration::ZERO,
                                    data,
                                    orig_len: spb.original_len,
                                }));
                            }
                            _ => continue,
                        }
                    }
                    Err(e) => return corrupt(e, &mut self.done),
                },
            }
        }
    }
}
