//! A reader of Redis replies (RESP2, and RESP3's null, map and double) for the consumer's hot
//! path: the strings of a reply stay in the buffer that was read from the socket, as ranges,
//! so that a batch of stream entries is parsed without a copy or an allocation per field.
//! redis-rs's general parser took about 5.6 µs an entry, more than everything else a consumer
//! does with it (see benches/README.md).
//!
//! It is sans-I/O: [`parse`] looks at bytes and says how much a complete reply took, or that
//! more are needed; the blocking and the async connections in [`crate::fast`] feed it.

use std::ops::Range;

/// One value of a reply; strings are ranges of the buffer it was parsed from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Frame {
    /// `+OK`.
    Simple(Range<usize>),
    /// `-ERR …`: the server refused the command.
    Error(Range<usize>),
    /// `:42`.
    Integer(i64),
    /// `$3\r\nabc`.
    Bulk(Range<usize>),
    /// `$-1`, `*-1` or RESP3's `_`.
    Null,
    /// `*2 …`, or RESP3's map `%1 …` (keys and values in turn).
    Array(Vec<Frame>),
}

/// The reply's bytes do not follow RESP: the connection cannot be trusted any more.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed Redis reply at byte {at}: {what}")]
pub(crate) struct ProtocolError {
    at: usize,
    what: &'static str,
}

/// Deeper nesting than any reply a consumer reads; a bound so that hostile input cannot exhaust
/// the stack.
const MAX_DEPTH: usize = 16;

/// The reply at the start of `buf`, and how many bytes it took; `None` while it is incomplete.
///
/// A reply of a few hundred kilobytes arrives in many reads: whether it is complete is first
/// found by [`complete_len`], which only walks the lengths, so that the frames are built once.
pub(crate) fn parse(buf: &[u8]) -> Result<Option<(Frame, usize)>, ProtocolError> {
    let Some(len) = complete_len(buf)? else { return Ok(None) };
    let mut at = 0;
    match frame(&buf[..len], &mut at, 0)? {
        Some(frame) => Ok(Some((frame, at))),
        None => Err(ProtocolError { at, what: "the reply ended early" }),
    }
}

/// How many bytes the complete reply at the start of `buf` takes, without building it; `None`
/// while it is incomplete.
fn complete_len(buf: &[u8]) -> Result<Option<usize>, ProtocolError> {
    let mut at = 0;
    // How many values each open array still holds.
    let mut open: Vec<usize> = Vec::new();
    loop {
        let Some(&kind) = buf.get(at) else { return Ok(None) };
        let start = at;
        at += 1;
        let Some(head) = line(buf, &mut at) else { return Ok(None) };
        match kind {
            b'+' | b'-' | b':' | b',' | b'_' => {}
            b'$' => {
                let len = number(buf, head, start)?;
                if len >= 0 {
                    let len = usize::try_from(len).map_err(|_| ProtocolError { at: start, what: "bad length" })?;
                    at = at.checked_add(len + 2).ok_or(ProtocolError { at: start, what: "bad length" })?;
                    if at > buf.len() {
                        return Ok(None);
                    }
                }
            }
            b'*' | b'%' => {
                let count = number(buf, head, start)?;
                if count > 0 {
                    if open.len() >= MAX_DEPTH {
                        return Err(ProtocolError { at: start, what: "nested too deeply" });
                    }
                    let count = usize::try_from(count).map_err(|_| ProtocolError { at: start, what: "bad count" })?;
                    open.push(if kind == b'%' { count.saturating_mul(2) } else { count });
                    continue;
                }
            }
            _ => return Err(ProtocolError { at: start, what: "unknown reply type" }),
        }
        // A value ended: it completes the arrays it closes.
        loop {
            match open.last_mut() {
                None => return Ok(Some(at)),
                Some(left) => {
                    *left -= 1;
                    if *left > 0 {
                        break;
                    }
                    open.pop();
                }
            }
        }
    }
}

/// The line at `*at` (without its CRLF), moving past it; `None` if the CRLF is not there yet.
fn line(buf: &[u8], at: &mut usize) -> Option<Range<usize>> {
    let start = *at;
    let end = start + memchr_crlf(&buf[start..])?;
    *at = end + 2;
    Some(start..end)
}

fn memchr_crlf(bytes: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(offset) = bytes[from..].iter().position(|&b| b == b'\r') {
        let cr = from + offset;
        match bytes.get(cr + 1) {
            Some(b'\n') => return Some(cr),
            Some(_) => from = cr + 1,
            None => return None,
        }
    }
    None
}

fn number(buf: &[u8], range: Range<usize>, at: usize) -> Result<i64, ProtocolError> {
    let digits = &buf[range];
    let (negative, digits) = match digits.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, digits),
    };
    if digits.is_empty() || digits.len() > 18 {
        return Err(ProtocolError { at, what: "expected a number" });
    }
    let mut value: i64 = 0;
    for &digit in digits {
        if !digit.is_ascii_digit() {
            return Err(ProtocolError { at, what: "expected a number" });
        }
        value = value * 10 + i64::from(digit - b'0');
    }
    Ok(if negative { -value } else { value })
}

fn frame(buf: &[u8], at: &mut usize, depth: usize) -> Result<Option<Frame>, ProtocolError> {
    if depth > MAX_DEPTH {
        return Err(ProtocolError { at: *at, what: "nested too deeply" });
    }
    let Some(&kind) = buf.get(*at) else { return Ok(None) };
    let start = *at;
    *at += 1;
    let Some(head) = line(buf, at) else { return Ok(None) };
    Ok(Some(match kind {
        b'+' => Frame::Simple(head),
        b'-' => Frame::Error(head),
        b':' => Frame::Integer(number(buf, head, start)?),
        b',' => Frame::Simple(head),
        b'_' => Frame::Null,
        b'$' => {
            let len = number(buf, head, start)?;
            if len < 0 {
                return Ok(Some(Frame::Null));
            }
            let len = usize::try_from(len).map_err(|_| ProtocolError { at: start, what: "bad length" })?;
            let body = *at;
            let Some(end) = body.checked_add(len) else {
                return Err(ProtocolError { at: start, what: "bad length" });
            };
            if buf.len() < end + 2 {
                return Ok(None);
            }
            if &buf[end..end + 2] != b"\r\n" {
                return Err(ProtocolError { at: end, what: "a bulk string does not end with CRLF" });
            }
            *at = end + 2;
            Frame::Bulk(body..end)
        }
        b'*' | b'%' => {
            let count = number(buf, head, start)?;
            if count < 0 {
                return Ok(Some(Frame::Null));
            }
            let count = usize::try_from(count).map_err(|_| ProtocolError { at: start, what: "bad count" })?;
            let count = if kind == b'%' { count.saturating_mul(2) } else { count };
            // Every item takes at least three bytes: a count larger than that is a lie, and
            // reserving for it would let a few bytes allocate a great deal.
            let mut items = Vec::with_capacity(count.min((buf.len() - *at) / 3 + 1));
            for _ in 0..count {
                match frame(buf, at, depth + 1)? {
                    Some(item) => items.push(item),
                    None => return Ok(None),
                }
            }
            Frame::Array(items)
        }
        _ => return Err(ProtocolError { at: start, what: "unknown reply type" }),
    }))
}

impl Frame {
    /// The bytes of a string frame.
    pub(crate) fn bytes<'b>(&self, buf: &'b [u8]) -> Option<&'b [u8]> {
        match self {
            Frame::Simple(range) | Frame::Bulk(range) => buf.get(range.clone()),
            _ => None,
        }
    }

    /// The first server error anywhere in the frame, as its text.
    pub(crate) fn first_error<'b>(&self, buf: &'b [u8]) -> Option<&'b [u8]> {
        match self {
            Frame::Error(range) => buf.get(range.clone()),
            Frame::Array(items) => items.iter().find_map(|item| item.first_error(buf)),
            _ => None,
        }
    }
}

/// One stream entry of a reply: its id and its fields, borrowed from the buffer (or from an
/// owned [`StreamEntry`](crate::StreamEntry)).
pub(crate) struct EntryRef<'b> {
    pub(crate) id: &'b str,
    pub(crate) fields: Vec<(&'b [u8], &'b [u8])>,
}

impl<'b> EntryRef<'b> {
    pub(crate) fn of(entry: &'b crate::StreamEntry) -> Self {
        EntryRef { id: &entry.id, fields: entry.fields.iter().map(|(k, v)| (k.as_slice(), v.as_slice())).collect() }
    }
}

/// The entries of an `XREADGROUP` reply (`[[stream, [[id, [field, value, …]], …]], …]`, or a
/// map of streams in RESP3). A deleted entry has no fields; an odd last field is left out.
pub(crate) fn read_entries<'b>(reply: &Frame, buf: &'b [u8]) -> Vec<EntryRef<'b>> {
    let Frame::Array(streams) = reply else { return Vec::new() };
    let mut entries = Vec::new();
    // As pairs `[name, entries]`, whether nested (RESP2) or flat (a RESP3 map).
    let pairs: Vec<&Frame> = match streams.first() {
        Some(Frame::Array(_)) => streams
            .iter()
            .filter_map(|stream| match stream {
                Frame::Array(parts) if parts.len() == 2 => Some(&parts[1]),
                _ => None,
            })
            .collect(),
        _ => streams.iter().skip(1).step_by(2).collect(),
    };
    for list in pairs {
        let Frame::Array(items) = list else { continue };
        entries.reserve(items.len());
        for item in items {
            let Frame::Array(parts) = item else { continue };
            let Some(id) = parts.first().and_then(|id| id.bytes(buf)).and_then(|id| std::str::from_utf8(id).ok())
            else {
                continue;
            };
            let fields = match parts.get(1) {
                Some(Frame::Array(values)) => {
                    values.chunks_exact(2).filter_map(|pair| Some((pair[0].bytes(buf)?, pair[1].bytes(buf)?))).collect()
                }
                _ => Vec::new(),
            };
            entries.push(EntryRef { id, fields });
        }
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(bytes: &[u8]) -> Frame {
        let (frame, used) = parse(bytes).unwrap().expect("complete");
        assert_eq!(used, bytes.len());
        frame
    }

    #[test]
    fn replies_parse_and_incomplete_ones_wait_for_more() {
        let reply = b"*2\r\n$3\r\nabc\r\n:-12\r\n";
        assert!(matches!(parsed(reply), Frame::Array(items) if items.len() == 2 && items[1] == Frame::Integer(-12)));
        for cut in 0..reply.len() {
            assert_eq!(parse(&reply[..cut]), Ok(None), "cut at {cut}");
        }
        assert_eq!(parsed(b"$-1\r\n"), Frame::Null);
        assert_eq!(parsed(b"*-1\r\n"), Frame::Null);
        assert_eq!(parsed(b"+OK\r\n"), Frame::Simple(1..3));
        assert!(matches!(parsed(b"-BUSYGROUP exists\r\n"), Frame::Error(_)));
        // A bulk string may hold CR and LF.
        assert_eq!(parsed(b"$4\r\na\r\nb\r\n"), Frame::Bulk(4..8));
    }

    #[test]
    fn hostile_bytes_are_errors_not_panics_or_huge_allocations() {
        for bad in [&b"?x\r\n"[..], b":12a\r\n", b"$3\r\nabcd\r\n", b"*999999999999999999999\r\n", b":\r\n"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        // A count that lies is merely incomplete, and allocates no more than the input allows.
        assert_eq!(parse(b"*100000000\r\n:1\r\n"), Ok(None));
        let deep = "*1\r\n".repeat(100);
        assert!(parse(deep.as_bytes()).is_err());
    }

    #[test]
    fn stream_entries_are_read_in_place() {
        let reply = b"*1\r\n*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*4\r\n$4\r\ntype\r\n$1\r\nt\r\n$2\r\nid\r\n$1\r\ni\r\n*2\r\n$3\r\n2-0\r\n*-1\r\n";
        let frame = parsed(reply);
        let entries = read_entries(&frame, reply);
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].id, "1-0");
        assert_eq!(entries[0].fields, [(&b"type"[..], &b"t"[..]), (b"id", b"i")]);
        assert_eq!(entries[1].id, "2-0");
        assert!(entries[1].fields.is_empty(), "a deleted entry has no fields");
    }
}
