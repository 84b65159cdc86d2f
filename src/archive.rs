//! Streaming readers for the two containers datasets come in: gzip (RFC 1952) and tar
//! (POSIX ustar, with the GNU long-name and pax extensions). Both are fed chunk by chunk —
//! from a file, a network stream or a dropped browser File — and pass their contents on as
//! they go, so a 178 MB archive is never held in memory: the gzip reader holds its 32 KiB
//! window and one 64 KiB output block, the tar reader one 512-byte header.
//!
//! Every malformed input (bad magic, CRC or length mismatch, a bad header checksum, a
//! truncated stream or member) is an [`Error::Data`], never a panic.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use miniz_oxide::inflate::stream::{inflate, InflateState, MinReset};
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

use crate::Error;

/// Output block of the gzip reader: the unit in which decompressed bytes are passed on.
const OUT_BLOCK: usize = 64 << 10;
/// A gzip header longer than this (a huge FEXTRA, FNAME or FCOMMENT field) is refused.
const MAX_GZIP_HEADER: usize = 64 << 10;
/// GNU long names and pax extended headers larger than this are refused.
const MAX_TAR_EXTENSION: u64 = 1 << 20;

fn gzip_error(m: &str) -> Error {
    Error::Data(format!("corrupt gzip file: {m}"))
}

/// True when `bytes` starts like a gzip member.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum GzState {
    /// Collecting a member header.
    Header,
    /// Inflating the deflate stream.
    Body,
    /// Collecting the 8-byte trailer (CRC-32, length mod 2³²).
    Trailer,
    /// After a complete member: another member may follow (RFC 1952 allows several).
    Between,
    /// Zero padding after the last member (some tools write it; gzip(1) ignores it).
    Zeros,
}

/// A streaming gzip decoder: `push` compressed chunks, get decompressed blocks through a
/// callback; `finish` checks that the stream ended where it should.
pub struct Gunzip {
    state: GzState,
    header: Vec<u8>,
    inflate: Box<InflateState>,
    out: Vec<u8>,
    crc: crc32fast::Hasher,
    /// Decompressed length of the current member, mod 2³² (what ISIZE records).
    len: u32,
    trailer: [u8; 8],
    trailer_have: usize,
    members: u32,
    total_out: u64,
}

impl Default for Gunzip {
    fn default() -> Self {
        Self::new()
    }
}

impl Gunzip {
    /// A decoder at the start of a gzip file.
    pub fn new() -> Gunzip {
        Gunzip {
            state: GzState::Header,
            header: Vec::new(),
            inflate: InflateState::new_boxed(DataFormat::Raw),
            out: vec![0; OUT_BLOCK],
            crc: crc32fast::Hasher::new(),
            len: 0,
            trailer: [0; 8],
            trailer_have: 0,
            members: 0,
            total_out: 0,
        }
    }

    /// Bytes this decoder holds (its window and state, and the output block).
    pub fn bytes_held(&self) -> usize {
        core::mem::size_of::<InflateState>() + self.out.capacity() + self.header.capacity()
    }

    /// Decompressed bytes passed on so far.
    pub fn total_out(&self) -> u64 {
        self.total_out
    }

    /// Decompress `input`, passing every decompressed block to `emit` in order. An error from
    /// `emit` stops decoding and is returned as is.
    pub fn push(&mut self, mut input: &[u8], emit: &mut dyn FnMut(&[u8]) -> Result<(), Error>) -> Result<(), Error> {
        while !input.is_empty() {
            match self.state {
                GzState::Header => {
                    let before = self.header.len();
                    let take = input.len().min(MAX_GZIP_HEADER - before);
                    self.header.extend_from_slice(&input[..take]);
                    match gzip_header_len(&self.header)? {
                        Some(len) => {
                            // `len > before`: the shorter buffer was incomplete.
                            input = &input[len - before..];
                            self.header = Vec::new();
                            self.state = GzState::Body;
                        }
                        None if self.header.len() >= MAX_GZIP_HEADER => {
                            return Err(gzip_error("the header is impossibly long"));
                        }
                        None => input = &input[take..],
                    }
                }
                GzState::Body => input = self.inflate_some(input, emit)?,
                GzState::Trailer => {
                    let take = input.len().min(8 - self.trailer_have);
                    self.trailer[self.trailer_have..self.trailer_have + take].copy_from_slice(&input[..take]);
                    self.trailer_have += take;
                    input = &input[take..];
                    if self.trailer_have == 8 {
                        self.check_trailer()?;
                    }
                }
                GzState::Between => {
                    if input[0] == 0x1f {
                        self.inflate.reset_as(MinReset);
                        self.crc = crc32fast::Hasher::new();
                        self.len = 0;
                        self.state = GzState::Header;
                    } else if input[0] == 0 {
                        self.state = GzState::Zeros;
                    } else {
                        return Err(gzip_error("unexpected data after the end of the compressed stream"));
                    }
                }
                GzState::Zeros => {
                    if input.iter().any(|&b| b != 0) {
                        return Err(gzip_error("unexpected data after the end of the compressed stream"));
                    }
                    input = &[];
                }
            }
        }
        Ok(())
    }

    /// Inflate from `input` until it is used up or the deflate stream ends; returns the rest.
    fn inflate_some<'a>(&mut self, mut input: &'a [u8], emit: &mut dyn FnMut(&[u8]) -> Result<(), Error>) -> Result<&'a [u8], Error> {
        loop {
            let r = inflate(&mut self.inflate, input, &mut self.out, MZFlush::None);
            input = &input[r.bytes_consumed..];
            if r.bytes_written > 0 {
                let block = &self.out[..r.bytes_written];
                self.crc.update(block);
                self.len = self.len.wrapping_add(r.bytes_written as u32);
                self.total_out += r.bytes_written as u64;
                emit(block)?;
            }
            match r.status {
                Ok(MZStatus::StreamEnd) => {
                    self.state = GzState::Trailer;
                    self.trailer_have = 0;
                    return Ok(input);
                }
                // Output block full: drain the window before reading more.
                Ok(_) if r.bytes_written == self.out.len() => {}
                Ok(_) if input.is_empty() => return Ok(input),
                Ok(_) if r.bytes_consumed == 0 && r.bytes_written == 0 => {
                    return Err(gzip_error("the compressed data makes no progress"));
                }
                Ok(_) => {}
                // "Needs more input" once the input is used up.
                Err(MZError::Buf) if input.is_empty() => return Ok(input),
                Err(_) => return Err(gzip_error("the compressed data is damaged")),
            }
        }
    }

    fn check_trailer(&mut self) -> Result<(), Error> {
        let t = &self.trailer;
        let crc = u32::from_le_bytes([t[0], t[1], t[2], t[3]]);
        let size = u32::from_le_bytes([t[4], t[5], t[6], t[7]]);
        let actual = core::mem::take(&mut self.crc).finalize();
        if size != self.len {
            return Err(gzip_error("length check failed"));
        }
        if crc != actual {
            return Err(gzip_error("CRC check failed"));
        }
        self.members += 1;
        self.state = GzState::Between;
        Ok(())
    }

    /// The input has ended: an error unless it ended after a complete member.
    pub fn finish(&self) -> Result<(), Error> {
        match self.state {
            GzState::Between | GzState::Zeros => Ok(()),
            GzState::Header if self.header.is_empty() && self.members == 0 => Err(gzip_error("the file is empty")),
            GzState::Header => Err(gzip_error("truncated inside a header")),
            GzState::Body => Err(gzip_error("truncated: the compressed data ends early")),
            GzState::Trailer => Err(gzip_error("truncated inside the trailer")),
        }
    }
}

/// Length of the gzip member header at the start of `h`, `None` while incomplete.
fn gzip_header_len(h: &[u8]) -> Result<Option<usize>, Error> {
    const FHCRC: u8 = 0x02;
    const FEXTRA: u8 = 0x04;
    const FNAME: u8 = 0x08;
    const FCOMMENT: u8 = 0x10;
    if h.first().is_some_and(|&b| b != 0x1f) || h.get(1).is_some_and(|&b| b != 0x8b) {
        return Err(gzip_error("not a gzip file (bad magic number)"));
    }
    if h.get(2).is_some_and(|&b| b != 8) {
        return Err(gzip_error("unknown compression method"));
    }
    let Some(&flags) = h.get(3) else { return Ok(None) };
    if flags & 0xe0 != 0 {
        return Err(gzip_error("reserved header flags are set"));
    }
    let mut pos = 10usize;
    if flags & FEXTRA != 0 {
        let Some(x) = h.get(pos..pos + 2) else { return Ok(None) };
        pos += 2 + usize::from(u16::from_le_bytes([x[0], x[1]]));
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            // A zero-terminated string.
            let Some(end) = h.get(pos..).and_then(|s| s.iter().position(|&b| b == 0)) else { return Ok(None) };
            pos += end + 1;
        }
    }
    if flags & FHCRC != 0 {
        let Some(x) = h.get(pos..pos + 2) else { return Ok(None) };
        if crc32fast::hash(&h[..pos]) as u16 != u16::from_le_bytes([x[0], x[1]]) {
            return Err(gzip_error("header CRC check failed"));
        }
        pos += 2;
    }
    Ok(if pos <= h.len() { Some(pos) } else { None })
}

/// What a [`Untar`] hands each regular file of the archive to.
pub trait TarVisitor {
    /// A regular file called `path` (as stored, e.g. `cifar-10-batches-bin/data_batch_1.bin`)
    /// of `size` bytes begins. Return true to receive its contents through `data` and `end`.
    fn begin(&mut self, path: &str, size: u64) -> Result<bool, Error>;
    /// The next part of the file's contents.
    fn data(&mut self, bytes: &[u8]) -> Result<(), Error>;
    /// The file's contents are complete.
    fn end(&mut self) -> Result<(), Error>;
}

/// Where a member's contents go.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Contents {
    Visitor,
    Skip,
    /// GNU `L`: the name of the next member.
    LongName,
    /// pax `x`: `path` and `size` of the next member.
    Pax,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum TarState {
    Header,
    /// `remaining` bytes of contents, then `pad` bytes to the next 512-byte block.
    Member { remaining: u64, pad: u64, to: Contents },
    /// After the end-of-archive block; whatever follows is ignored.
    End,
}

/// A streaming tar reader: `push` chunks of the archive; regular files go to a [`TarVisitor`].
pub struct Untar {
    state: TarState,
    header: [u8; 512],
    have: usize,
    /// Bytes of the archive consumed, for messages.
    offset: u64,
    /// The current member's path and size, for messages.
    path: String,
    size: u64,
    extension: Vec<u8>,
    next_path: Option<String>,
    next_size: Option<u64>,
    members: u64,
}

impl Default for Untar {
    fn default() -> Self {
        Self::new()
    }
}

fn tar_error(m: &str) -> Error {
    Error::Data(format!("corrupt tar archive: {m}"))
}

impl Untar {
    /// A reader at the start of an archive.
    pub fn new() -> Untar {
        Untar {
            state: TarState::Header,
            header: [0; 512],
            have: 0,
            offset: 0,
            path: String::new(),
            size: 0,
            extension: Vec::new(),
            next_path: None,
            next_size: None,
            members: 0,
        }
    }

    /// Headers read so far (every kind of member, directories included).
    pub fn members(&self) -> u64 {
        self.members
    }

    /// Read `input`, the next part of the archive.
    pub fn push(&mut self, mut input: &[u8], visitor: &mut dyn TarVisitor) -> Result<(), Error> {
        while !input.is_empty() {
            match self.state {
                TarState::End => return Ok(()),
                TarState::Header => {
                    let take = input.len().min(512 - self.have);
                    self.header[self.have..self.have + take].copy_from_slice(&input[..take]);
                    self.have += take;
                    self.offset += take as u64;
                    input = &input[take..];
                    if self.have == 512 {
                        self.have = 0;
                        self.begin_member(visitor)?;
                    }
                }
                TarState::Member { remaining, pad, to } => {
                    if remaining > 0 {
                        let take = input.len().min(usize::try_from(remaining).unwrap_or(usize::MAX));
                        let (part, rest) = input.split_at(take);
                        match to {
                            Contents::Visitor => visitor.data(part)?,
                            Contents::LongName | Contents::Pax => self.extension.extend_from_slice(part),
                            Contents::Skip => {}
                        }
                        input = rest;
                        self.offset += take as u64;
                        let remaining = remaining - take as u64;
                        self.state = TarState::Member { remaining, pad, to };
                        if remaining == 0 {
                            self.end_member(to, visitor)?;
                        }
                    } else {
                        let take = input.len().min(usize::try_from(pad).unwrap_or(usize::MAX));
                        input = &input[take..];
                        self.offset += take as u64;
                        let pad = pad - take as u64;
                        self.state = if pad == 0 { TarState::Header } else { TarState::Member { remaining: 0, pad, to } };
                    }
                }
            }
        }
        Ok(())
    }

    fn begin_member(&mut self, visitor: &mut dyn TarVisitor) -> Result<(), Error> {
        let h = self.header;
        let at = self.offset - 512;
        if h.iter().all(|&b| b == 0) {
            self.state = TarState::End;
            return Ok(());
        }
        if !header_checksum_ok(&h) {
            return Err(tar_error(&format!("header checksum mismatch at byte {at}")));
        }
        self.members += 1;
        let mut path = String::from_utf8_lossy(cstr(&h[0..100])).into_owned();
        // POSIX ustar splits long paths into a prefix and a name (GNU tar's "ustar  " does not).
        if &h[257..263] == b"ustar\0" && h[345] != 0 {
            path = format!("{}/{}", String::from_utf8_lossy(cstr(&h[345..500])), path);
        }
        let mut size = parse_number(&h[124..136]).ok_or_else(|| tar_error(&format!("bad size field in the header at byte {at}")))?;
        let kind = h[156];
        let to = match kind {
            b'L' | b'x' => {
                if size > MAX_TAR_EXTENSION {
                    return Err(tar_error(&format!("a {size}-byte extended header at byte {at}")));
                }
                self.extension.clear();
                if kind == b'L' { Contents::LongName } else { Contents::Pax }
            }
            // Global pax headers and GNU long link names: nothing this reader needs.
            b'g' | b'K' => Contents::Skip,
            _ => {
                if let Some(p) = self.next_path.take() {
                    path = p;
                }
                if let Some(s) = self.next_size.take() {
                    size = s;
                }
                // Regular files: '0', NUL (old tars), '7' (contiguous). Directories, links and
                // the rest carry no file contents of their own.
                if matches!(kind, b'0' | 0 | b'7') && visitor.begin(&path, size)? {
                    Contents::Visitor
                } else {
                    Contents::Skip
                }
            }
        };
        self.path = path;
        self.size = size;
        let pad = (512 - size % 512) % 512;
        self.state = TarState::Member { remaining: size, pad, to };
        if size == 0 {
            self.end_member(to, visitor)?;
        }
        Ok(())
    }

    fn end_member(&mut self, to: Contents, visitor: &mut dyn TarVisitor) -> Result<(), Error> {
        match to {
            Contents::Visitor => visitor.end(),
            Contents::Skip => Ok(()),
            Contents::LongName => {
                self.next_path = Some(String::from_utf8_lossy(cstr(&self.extension)).into_owned());
                Ok(())
            }
            Contents::Pax => self.parse_pax(),
        }
    }

    /// pax records: "<length> <key>=<value>\n"; only `path` and `size` matter here.
    fn parse_pax(&mut self) -> Result<(), Error> {
        let bad = || tar_error("malformed pax extended header");
        let mut rest: &[u8] = &self.extension;
        while !rest.is_empty() {
            let space = rest.iter().position(|&b| b == b' ').ok_or_else(bad)?;
            let len: usize = core::str::from_utf8(&rest[..space]).ok().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
            if len <= space + 1 || len > rest.len() || rest[len - 1] != b'\n' {
                return Err(bad());
            }
            let record = &rest[space + 1..len - 1];
            let eq = record.iter().position(|&b| b == b'=').ok_or_else(bad)?;
            let (key, value) = (&record[..eq], &record[eq + 1..]);
            match key {
                b"path" => self.next_path = Some(String::from_utf8_lossy(value).into_owned()),
                b"size" => {
                    self.next_size = Some(core::str::from_utf8(value).ok().and_then(|s| s.parse().ok()).ok_or_else(bad)?);
                }
                _ => {}
            }
            rest = &rest[len..];
        }
        Ok(())
    }

    /// The input has ended: an error if it ended inside a header or a member's contents. An
    /// archive that stops after a complete member without the end-of-archive blocks is accepted.
    pub fn finish(&self) -> Result<(), Error> {
        match self.state {
            TarState::Header if self.have > 0 => Err(tar_error("truncated inside a header")),
            TarState::Member { remaining, .. } if remaining > 0 => Err(tar_error(&format!(
                "truncated: the archive ends inside {} ({} of {} bytes)",
                self.path,
                self.size - remaining,
                self.size
            ))),
            _ => Ok(()),
        }
    }
}

/// True when `block` is a tar header with a valid checksum (and not an all-zero block).
pub fn is_tar_header(block: &[u8]) -> bool {
    block.len() >= 512 && block[..512].iter().any(|&b| b != 0) && header_checksum_ok(&block[..512])
}

/// The checksum is the sum of the header's bytes with its own field read as spaces; some old
/// tars summed signed bytes, so both are accepted (as GNU tar does).
fn header_checksum_ok(h: &[u8]) -> bool {
    let Some(stored) = parse_number(&h[148..156]) else { return false };
    let (mut unsigned, mut signed) = (0u64, 0i64);
    for (i, &b) in h[..512].iter().enumerate() {
        let b = if (148..156).contains(&i) { b' ' } else { b };
        unsigned += u64::from(b);
        signed += i64::from(b as i8);
    }
    stored == unsigned || i64::try_from(stored).is_ok_and(|s| s == signed)
}

/// A numeric header field: octal ASCII (leading spaces, ended by NUL or space), or GNU's
/// base-256 for values too large for octal (top bit of the first byte set).
fn parse_number(field: &[u8]) -> Option<u64> {
    if field[0] & 0x80 != 0 {
        if field[0] & 0x40 != 0 {
            return None; // negative
        }
        let mut v = u64::from(field[0] & 0x3f);
        for &b in &field[1..] {
            v = v.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(v);
    }
    let digits = field.iter().skip_while(|&&b| b == b' ');
    let mut v = 0u64;
    for &b in digits {
        match b {
            b'0'..=b'7' => v = v.checked_mul(8)?.checked_add(u64::from(b - b'0'))?,
            0 | b' ' => break,
            _ => return None,
        }
    }
    Some(v)
}

/// The bytes of a NUL-terminated (or full-width) string field.
fn cstr(field: &[u8]) -> &[u8] {
    &field[..field.iter().position(|&b| b == 0).unwrap_or(field.len())]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_number(b"00000001750\0"), Some(0o1750));
        assert_eq!(parse_number(b"     1750 \0\0"), Some(0o1750));
        assert_eq!(parse_number(b"\0\0\0\0\0\0\0\0\0\0\0\0"), Some(0));
        assert_eq!(parse_number(b"0000000175x\0"), None);
        let mut big = [0u8; 12];
        big[0] = 0x80;
        big[11] = 5;
        big[10] = 1;
        assert_eq!(parse_number(&big), Some(261));
        big[0] = 0xff;
        assert_eq!(parse_number(&big), None);
    }

    #[test]
    fn gzip_header_lengths() {
        assert_eq!(gzip_header_len(&[0x1f, 0x8b, 8]).unwrap(), None);
        assert_eq!(gzip_header_len(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]).unwrap(), Some(10));
        // FNAME "ab\0"
        let h = [0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 3, b'a', b'b'];
        assert_eq!(gzip_header_len(&h).unwrap(), None);
        let h = [0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 3, b'a', b'b', 0, 0xaa];
        assert_eq!(gzip_header_len(&h).unwrap(), Some(13));
        assert!(gzip_header_len(&[0x1f, 0x8c]).is_err());
        assert!(gzip_header_len(&[0x1f, 0x8b, 7]).is_err());
        assert!(gzip_header_len(&[0x1f, 0x8b, 8, 0x20]).is_err());
    }
}
