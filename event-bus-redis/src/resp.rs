//! A reader of Redis replies (RESP2, and RESP3's null, map and double) for the consumer's hot
//! path: the strings of a reply stay in the buffer that was read from the socket, as ranges,
//! so that a batch of stream entries is parsed without a copy or an allocation per field.
//! redis-rs's general parser took about 5.6 µs an entry, more than everything else a consumer
//! does with it (see benches/README.md).
//!
//! It is sans-I/O: a [`Reader`] is fed the bytes of a reply as they arrive and says when the
//! reply is complete; the blocking and the async connections in [`crate::fast`] feed it. A reply
//! is read once, however many reads of the socket it takes: a batch of 500 entries is about
//! 250 KB, and starting again from its first byte after every read of 64 KB cost more than
//! the rest of reading it (a third of a consumer's time, measured with `perf`).
//!
//! A reply is kept flat, as its [`Token`]s in the order they were read (an array followed by its
//! items), one allocation a reply rather than one an array.

use std::ops::Range;

/// One value of a reply; strings are ranges of the buffer it was read from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Token {
    /// `+OK`, or RESP3's double `,1.5`.
    Simple(Range<usize>),
    /// `-ERR …`: the server refused the command.
    Error(Range<usize>),
    /// `:42`.
    Integer(i64),
    /// `$3\r\nabc`.
    Bulk(Range<usize>),
    /// `$-1`, `*-1` or RESP3's `_`.
    Null,
    /// `*2 …`, or RESP3's map `%1 …` (keys and values in turn): the next this many values, each
    /// with its own items, are its items.
    Array(usize),
}

/// The reply's bytes do not follow RESP: the connection cannot be trusted any more.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed Redis reply at byte {at}: {what}")]
pub(crate) struct ProtocolError {
    at: usize,
    what: &'static str,
}

/// Deeper nesting than any reply a consumer reads; a bound so that hostile input cannot exhaust
/// the stack of a reader of the tokens.
const MAX_DEPTH: usize = 16;

/// A reply being read: how far its bytes have been read into tokens, and which arrays are still
/// open. Only whole values are taken in, so a value cut by the end of the bytes so far is read
/// again, from its start, when more arrive.
#[derive(Debug, Default)]
pub(crate) struct Reader {
    at: usize,
    /// How many values each open array still holds.
    open: Vec<usize>,
    tokens: Vec<Token>,
    /// The most tokens a reply had so far.
    most_tokens: usize,
}

impl Reader {
    /// Reads on through `buf`, the bytes of this reply so far from its first (they only ever
    /// grow between calls); returns the reply's tokens and how many bytes it took once it is
    /// complete, `None` while more are needed. The reader is then ready for the next reply.
    pub(crate) fn advance(&mut self, buf: &[u8]) -> Result<Option<(Vec<Token>, usize)>, ProtocolError> {
        loop {
            let start = self.at;
            let Some(&kind) = buf.get(start) else { return Ok(None) };
            let mut at = start + 1;
            let Some(head) = line(buf, &mut at) else { return Ok(None) };
            let token = match kind {
                b'+' | b',' => Token::Simple(head),
                b'-' => Token::Error(head),
                b':' => Token::Integer(number(buf, head, start)?),
                b'_' => Token::Null,
                b'$' => {
                    let len = number(buf, head, start)?;
                    if len < 0 {
                        Token::Null
                    } else {
                        let len = usize::try_from(len).map_err(|_| ProtocolError { at: start, what: "bad length" })?;
                        let body = at;
                        let end = body.checked_add(len).ok_or(ProtocolError { at: start, what: "bad length" })?;
                        let Some(crlf) = buf.get(end..end + 2) else { return Ok(None) };
                        if crlf != b"\r\n" {
                            return Err(ProtocolError { at: end, what: "a bulk string does not end with CRLF" });
                        }
                        at = end + 2;
                        Token::Bulk(body..end)
                    }
                }
                b'*' | b'%' => {
                    let count = number(buf, head, start)?;
                    if count < 0 {
                        Token::Null
                    } else {
                        let count =
                            usize::try_from(count).map_err(|_| ProtocolError { at: start, what: "bad count" })?;
                        let count = if kind == b'%' { count.saturating_mul(2) } else { count };
                        if count > 0 {
                            if self.open.len() >= MAX_DEPTH {
                                return Err(ProtocolError { at: start, what: "nested too deeply" });
                            }
                            self.open.push(count);
                            self.tokens.push(Token::Array(count));
                            self.at = at;
                            continue;
                        }
                        Token::Array(0)
                    }
                }
                _ => return Err(ProtocolError { at: start, what: "unknown reply type" }),
            };
            self.tokens.push(token);
            self.at = at;
            // A value ended: it completes the arrays it closes.
            loop {
                match self.open.last_mut() {
                    None => {
                        let used = std::mem::take(&mut self.at);
                        // The next reply gets room for as many tokens as the largest so far.
                        self.most_tokens = self.most_tokens.max(self.tokens.len());
                        let next = Vec::with_capacity(self.most_tokens);
                        return Ok(Some((std::mem::replace(&mut self.tokens, next), used)));
                    }
                    Some(left) => {
                        *left -= 1;
                        if *left > 0 {
                            break;
                        }
                        self.open.pop();
                    }
                }
            }
        }
    }
}

/// The line at `*at` (without its CRLF), moving past it; `None` if the CRLF is not there yet.
fn line(buf: &[u8], at: &mut usize) -> Option<Range<usize>> {
    let start = *at;
    let end = start + memchr_crlf(buf.get(start..)?)?;
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

/// Where the value at `index` ends: the index of the token after it and all its items.
fn end_of(tokens: &[Token], mut index: usize) -> usize {
    let mut left = 1usize;
    while left > 0 && index < tokens.len() {
        if let Token::Array(count) = tokens[index] {
            left += count;
        }
        left -= 1;
        index += 1;
    }
    index
}

/// The bytes of the string at `index`.
fn bytes_at<'b>(tokens: &[Token], index: usize, buf: &'b [u8]) -> Option<&'b [u8]> {
    match tokens.get(index)? {
        Token::Simple(range) | Token::Bulk(range) => buf.get(range.clone()),
        _ => None,
    }
}

/// The first server error anywhere in the reply, as its text.
pub(crate) fn first_error<'b>(tokens: &[Token], buf: &'b [u8]) -> Option<&'b [u8]> {
    tokens.iter().find_map(|token| match token {
        Token::Error(range) => buf.get(range.clone()),
        _ => None,
    })
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
pub(crate) fn read_entries<'b>(tokens: &[Token], buf: &'b [u8]) -> Vec<EntryRef<'b>> {
    let Some(&Token::Array(streams)) = tokens.first() else { return Vec::new() };
    let mut entries = Vec::new();
    let mut at = 1;
    // As pairs `[name, entries]`, whether nested (RESP2) or flat (a RESP3 map).
    if let Some(Token::Array(_)) = tokens.get(at) {
        for _ in 0..streams {
            let next = end_of(tokens, at);
            if tokens.get(at) == Some(&Token::Array(2)) {
                read_list(tokens, end_of(tokens, at + 1), buf, &mut entries);
            }
            at = next;
        }
    } else {
        for _ in 0..streams / 2 {
            let list = end_of(tokens, at);
            read_list(tokens, list, buf, &mut entries);
            at = end_of(tokens, list);
        }
    }
    entries
}

/// The entries of the list at `index`, `[[id, [field, value, …]], …]`.
fn read_list<'b>(tokens: &[Token], index: usize, buf: &'b [u8], entries: &mut Vec<EntryRef<'b>>) {
    let Some(&Token::Array(count)) = tokens.get(index) else { return };
    entries.reserve(count);
    let mut item = index + 1;
    for _ in 0..count {
        let next = end_of(tokens, item);
        if let Some(&Token::Array(parts)) = tokens.get(item)
            && parts >= 1
            && let Some(id) = bytes_at(tokens, item + 1, buf).and_then(|id| std::str::from_utf8(id).ok())
        {
            let values = end_of(tokens, item + 1);
            let fields = match tokens.get(values) {
                Some(&Token::Array(len)) if parts >= 2 => {
                    let mut fields = Vec::with_capacity(len / 2);
                    let mut value = values + 1;
                    for _ in 0..len / 2 {
                        let second = end_of(tokens, value);
                        if let (Some(name), Some(text)) = (bytes_at(tokens, value, buf), bytes_at(tokens, second, buf))
                        {
                            fields.push((name, text));
                        }
                        value = end_of(tokens, second);
                    }
                    fields
                }
                _ => Vec::new(),
            };
            entries.push(EntryRef { id, fields });
        }
        item = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> Result<Option<(Vec<Token>, usize)>, ProtocolError> {
        Reader::default().advance(bytes)
    }

    fn parsed(bytes: &[u8]) -> Vec<Token> {
        let (tokens, used) = parse(bytes).unwrap().expect("complete");
        assert_eq!(used, bytes.len());
        tokens
    }

    #[test]
    fn replies_parse_and_incomplete_ones_wait_for_more() {
        let reply = b"*2\r\n$3\r\nabc\r\n:-12\r\n";
        assert_eq!(parsed(reply), [Token::Array(2), Token::Bulk(8..11), Token::Integer(-12)]);
        for cut in 0..reply.len() {
            assert_eq!(parse(&reply[..cut]), Ok(None), "cut at {cut}");
        }
        assert_eq!(parsed(b"$-1\r\n"), [Token::Null]);
        assert_eq!(parsed(b"*-1\r\n"), [Token::Null]);
        assert_eq!(parsed(b"*0\r\n"), [Token::Array(0)]);
        assert_eq!(parsed(b"+OK\r\n"), [Token::Simple(1..3)]);
        assert!(matches!(parsed(b"-BUSYGROUP exists\r\n")[..], [Token::Error(_)]));
        // A bulk string may hold CR and LF.
        assert_eq!(parsed(b"$4\r\na\r\nb\r\n"), [Token::Bulk(4..8)]);
    }

    #[test]
    fn a_reply_fed_a_byte_at_a_time_reads_as_the_whole_and_leaves_the_next_alone() {
        let first = b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$4\r\ntype\r\n$1\r\nt\r\n";
        let mut both = first.to_vec();
        both.extend_from_slice(b":3\r\n");
        let whole = parsed(first);
        let mut reader = Reader::default();
        for cut in 0..first.len() {
            assert_eq!(reader.advance(&both[..cut]), Ok(None), "cut at {cut}");
        }
        assert_eq!(reader.advance(&both), Ok(Some((whole, first.len()))));
        // The reader starts afresh on what follows.
        assert_eq!(reader.advance(&both[first.len()..]), Ok(Some((vec![Token::Integer(3)], 4))));
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
        let tokens = parsed(reply);
        let entries = read_entries(&tokens, reply);
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].id, "1-0");
        assert_eq!(entries[0].fields, [(&b"type"[..], &b"t"[..]), (b"id", b"i")]);
        assert_eq!(entries[1].id, "2-0");
        assert!(entries[1].fields.is_empty(), "a deleted entry has no fields");
    }

    #[test]
    fn stream_entries_of_a_resp3_map_and_of_several_streams_are_all_read() {
        let entry = |id: &str| format!("*2\r\n$3\r\n{id}\r\n*2\r\n$1\r\nk\r\n$1\r\nv\r\n");
        let map = format!("%2\r\n$1\r\na\r\n*1\r\n{}$1\r\nb\r\n*2\r\n{}{}", entry("1-0"), entry("2-0"), entry("3-0"));
        let tokens = parsed(map.as_bytes());
        let ids: Vec<&str> = read_entries(&tokens, map.as_bytes()).iter().map(|entry| entry.id).collect();
        assert_eq!(ids, ["1-0", "2-0", "3-0"]);
        let nested = format!("*2\r\n*2\r\n$1\r\na\r\n*1\r\n{}*2\r\n$1\r\nb\r\n*1\r\n{}", entry("1-0"), entry("2-0"));
        let tokens = parsed(nested.as_bytes());
        let entries = read_entries(&tokens, nested.as_bytes());
        assert_eq!(entries.iter().map(|entry| entry.id).collect::<Vec<_>>(), ["1-0", "2-0"]);
        assert_eq!(entries[1].fields, [(&b"k"[..], &b"v"[..])]);
    }

    #[test]
    fn the_first_error_anywhere_in_a_reply_is_found() {
        let reply = b"*2\r\n:1\r\n-NOGROUP no such group\r\n";
        assert_eq!(first_error(&parsed(reply), reply), Some(&b"NOGROUP no such group"[..]));
        assert_eq!(first_error(&parsed(b":1\r\n"), b":1\r\n"), None);
    }
}
