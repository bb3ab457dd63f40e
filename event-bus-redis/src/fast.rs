//! The consumer's fast path: a plain TCP connection of its own for the commands it sends for
//! every batch (`XREADGROUP`, `XACK`), whose replies [`crate::resp`] reads in place. Everything
//! else (setting the group up, taking pending messages back, dead letters) goes through
//! redis-rs. A URL this connection does not speak (TLS, a Unix socket) keeps every command on
//! redis-rs.

use std::collections::VecDeque;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use redis::{ConnectionAddr, ConnectionInfo, ErrorKind, RedisError, RedisResult};

use crate::resp::{Reader, Token, first_error};

/// A reply the connection still owes, for a command sent without waiting (while consuming
/// indefinitely: reads sent ahead, and the acknowledgements that go with them), in the order
/// they will arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owed {
    /// An `XACK`'s count.
    Acknowledgement,
    /// A read's batch.
    Read,
}

/// The replies a connection still owes, in the order they will arrive, and what keeps the
/// reads sent ahead topped up: the blocking and the async consumer keep the same books.
#[derive(Debug, Default)]
pub(crate) struct Owing(VecDeque<Owed>);

impl Owing {
    #[cfg(feature = "tokio")]
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }

    /// The next reply owed.
    pub(crate) fn next(&mut self) -> Option<Owed> {
        self.0.pop_front()
    }

    /// How many reads to send now to keep [`Protocol::READS_AHEAD`](crate::protocol::Protocol::READS_AHEAD) in flight.
    fn reads_wanted(&self) -> usize {
        let reads = self.0.iter().filter(|owed| **owed == Owed::Read).count();
        crate::protocol::Protocol::READS_AHEAD.saturating_sub(reads)
    }

    /// What tops the reads ahead up now, recorded as owed: the acknowledgement waiting (taken
    /// from `waiting`), then the reads wanted. `None`, with nothing taken, while enough reads are
    /// out.
    pub(crate) fn top_up(
        &mut self,
        read: impl FnOnce() -> redis::Cmd,
        waiting: &mut Option<redis::Cmd>,
    ) -> Option<TopUp> {
        let reads = self.reads_wanted();
        if reads == 0 {
            return None;
        }
        let acknowledge = waiting.take();
        if acknowledge.is_some() {
            self.0.push_back(Owed::Acknowledgement);
        }
        self.0.extend(std::iter::repeat_n(Owed::Read, reads));
        Some(TopUp { acknowledge, read: read(), reads })
    }

    /// An acknowledgement sent on its own, behind what is owed.
    pub(crate) fn acknowledgement(&mut self) {
        self.0.push_back(Owed::Acknowledgement);
    }
}

/// The commands of a top-up of the reads ahead (see [`Owing::top_up`]).
pub(crate) struct TopUp {
    acknowledge: Option<redis::Cmd>,
    read: redis::Cmd,
    reads: usize,
}

impl TopUp {
    /// In the order they go out.
    pub(crate) fn commands(&self) -> Vec<&redis::Cmd> {
        self.acknowledge.iter().chain(std::iter::repeat_n(&self.read, self.reads)).collect()
    }
}

/// What a reply came with: its bytes, and its tokens, whose ranges point into them.
pub(crate) struct Reply {
    pub(crate) bytes: Vec<u8>,
    pub(crate) tokens: Vec<Token>,
}

impl Reply {
    /// The reply, or the server's error (the first anywhere in it) as a `RedisError`.
    fn checked(self) -> RedisResult<Reply> {
        match first_error(&self.tokens, &self.bytes) {
            Some(text) => {
                let text = String::from_utf8_lossy(text).into_owned();
                Err(RedisError::from((ErrorKind::Extension, "the server refused the command", text)))
            }
            None => Ok(self),
        }
    }
}

/// Where a fast connection goes, read off redis-rs's view of the URL: `None` for what it does not
/// speak.
#[derive(Clone)]
pub(crate) struct Target {
    host: String,
    port: u16,
    username: Option<String>,
    password: Option<String>,
    db: i64,
}

impl Target {
    pub(crate) fn of(info: &ConnectionInfo) -> Option<Target> {
        let ConnectionAddr::Tcp(host, port) = info.addr() else { return None };
        let redis = info.redis_settings();
        Some(Target {
            host: host.clone(),
            port: *port,
            username: redis.username().map(str::to_owned),
            password: redis.password().map(str::to_owned),
            db: redis.db(),
        })
    }

    /// `AUTH` and `SELECT`, as redis-rs sends them when it connects.
    fn handshake(&self) -> Vec<redis::Cmd> {
        let mut commands = Vec::new();
        if let Some(password) = &self.password {
            let mut auth = redis::cmd("AUTH");
            if let Some(username) = &self.username {
                auth.arg(username);
            }
            auth.arg(password);
            commands.push(auth);
        }
        if self.db != 0 {
            let mut select = redis::cmd("SELECT");
            select.arg(self.db);
            commands.push(select);
        }
        commands
    }
}

/// Reads on through the bytes gathered so far, moving a complete reply out; `None` while
/// incomplete. The buffer left for the next reply has room for one as large as this one: a
/// batch's reply is a few hundred kilobytes, and growing a buffer to that size for every
/// batch copied it several times over and faulted in fresh pages each time.
fn take_reply(reader: &mut Reader, buffer: &mut Vec<u8>, largest: &mut usize) -> RedisResult<Option<Reply>> {
    match reader.advance(buffer) {
        Ok(Some((tokens, used))) => {
            // The largest reply so far: acknowledgements' replies of a few bytes come between
            // the batches'.
            *largest = (*largest).max(used);
            let mut rest = Vec::with_capacity((*largest + *largest / 8).max(READ_CHUNK));
            rest.extend_from_slice(&buffer[used..]);
            buffer.truncate(used);
            let bytes = std::mem::replace(buffer, rest);
            Ok(Some(Reply { bytes, tokens }))
        }
        Ok(None) => Ok(None),
        Err(error) => Err(RedisError::from((ErrorKind::Parse, "malformed reply", error.to_string()))),
    }
}

/// How much a read asks for at a time: a batch of 500 entries is about 250 KB.
const READ_CHUNK: usize = 64 * 1024;

/// A blocking fast connection.
pub(crate) struct FastConnection {
    stream: TcpStream,
    buffer: Vec<u8>,
    reader: Reader,
    /// The largest reply read so far, in bytes.
    largest: usize,
}

impl FastConnection {
    pub(crate) fn connect(target: &Target, connect_timeout: Duration, read_timeout: Duration) -> RedisResult<Self> {
        use std::net::ToSocketAddrs as _;
        let address = (target.host.as_str(), target.port)
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| RedisError::from((ErrorKind::InvalidClientConfig, "the Redis host has no address")))?;
        let stream = TcpStream::connect_timeout(&address, connect_timeout)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(read_timeout))?;
        stream.set_write_timeout(Some(connect_timeout))?;
        let mut connection =
            FastConnection { stream, buffer: Vec::with_capacity(READ_CHUNK), reader: Reader::default(), largest: 0 };
        for command in target.handshake() {
            connection.request(&command)?;
        }
        Ok(connection)
    }

    /// Sends a command and reads its reply.
    pub(crate) fn request(&mut self, command: &redis::Cmd) -> RedisResult<Reply> {
        self.stream.write_all(&command.get_packed_command())?;
        self.reply()
    }

    /// Sends two commands in one write and reads both replies: an acknowledgement and the next
    /// read, for one round trip a batch.
    pub(crate) fn request_two(&mut self, first: &redis::Cmd, second: &redis::Cmd) -> RedisResult<(Reply, Reply)> {
        let mut packed = first.get_packed_command();
        packed.extend_from_slice(&second.get_packed_command());
        self.stream.write_all(&packed)?;
        let first = self.reply();
        // The second reply is read even when the first is an error, so that the connection
        // stays in step.
        let second = self.reply()?;
        Ok((first?, second))
    }

    /// Sends commands in one write without waiting: their replies are read later, in order,
    /// with [`receive`](Self::receive).
    pub(crate) fn send(&mut self, commands: &[&redis::Cmd]) -> RedisResult<()> {
        let mut packed = Vec::new();
        for command in commands {
            command.write_packed_command(&mut packed);
        }
        self.stream.write_all(&packed)?;
        Ok(())
    }

    /// Reads the next reply of what was [`send`](Self::send)-ed.
    pub(crate) fn receive(&mut self) -> RedisResult<Reply> {
        self.reply()
    }

    fn reply(&mut self) -> RedisResult<Reply> {
        loop {
            if let Some(reply) = take_reply(&mut self.reader, &mut self.buffer, &mut self.largest)? {
                return reply.checked();
            }
            let filled = self.buffer.len();
            self.buffer.resize(filled + READ_CHUNK, 0);
            match self.stream.read(&mut self.buffer[filled..]) {
                Ok(0) => {
                    self.buffer.truncate(filled);
                    return Err(RedisError::from(std::io::Error::from(std::io::ErrorKind::UnexpectedEof)));
                }
                Ok(read) => self.buffer.truncate(filled + read),
                Err(error) => {
                    self.buffer.truncate(filled);
                    return Err(error.into());
                }
            }
        }
    }
}

/// An async fast connection, on tokio.
#[cfg(feature = "tokio")]
pub(crate) struct AsyncFastConnection {
    stream: tokio::net::TcpStream,
    buffer: Vec<u8>,
    reader: Reader,
    /// The largest reply read so far, in bytes.
    largest: usize,
    read_timeout: Duration,
    /// Replies sent for and not read yet. A future dropped half way (a consumer's `run`
    /// cancelled by its caller) leaves this above what its owner expects, and the connection
    /// is then out of step.
    unread: usize,
}

#[cfg(feature = "tokio")]
impl AsyncFastConnection {
    pub(crate) async fn connect(
        target: &Target,
        connect_timeout: Duration,
        read_timeout: Duration,
    ) -> RedisResult<Self> {
        let connecting = tokio::net::TcpStream::connect((target.host.as_str(), target.port));
        let stream = tokio::time::timeout(connect_timeout, connecting)
            .await
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
        stream.set_nodelay(true)?;
        let mut connection = AsyncFastConnection {
            stream,
            buffer: Vec::with_capacity(READ_CHUNK),
            reader: Reader::default(),
            largest: 0,
            read_timeout,
            unread: 0,
        };
        for command in target.handshake() {
            connection.request(&command).await?;
        }
        Ok(connection)
    }

    /// Sends a command and reads its reply, within the read timeout.
    pub(crate) async fn request(&mut self, command: &redis::Cmd) -> RedisResult<Reply> {
        self.send(&[command]).await?;
        self.reply().await
    }

    /// How many replies are still to be read: 0 unless commands were [`send`](Self::send)-ed
    /// and not [`receive`](Self::receive)-d, or a future using the connection was dropped.
    pub(crate) fn unread(&self) -> usize {
        self.unread
    }

    /// Sends two commands in one write and reads both replies, as the blocking
    /// [`FastConnection::request_two`].
    pub(crate) async fn request_two(&mut self, first: &redis::Cmd, second: &redis::Cmd) -> RedisResult<(Reply, Reply)> {
        self.send(&[first, second]).await?;
        let first = self.reply().await;
        let second = self.reply().await?;
        Ok((first?, second))
    }

    /// Sends commands in one write without waiting; their replies are read later, in order,
    /// with [`receive`](Self::receive).
    pub(crate) async fn send(&mut self, commands: &[&redis::Cmd]) -> RedisResult<()> {
        use tokio::io::AsyncWriteExt as _;
        let mut packed = Vec::new();
        for command in commands {
            command.write_packed_command(&mut packed);
        }
        // Counted before the write: a write dropped half way leaves the connection out of step.
        self.unread += commands.len();
        self.stream.write_all(&packed).await?;
        Ok(())
    }

    /// Reads the next reply of what was [`send`](Self::send)-ed, within the read timeout.
    pub(crate) async fn receive(&mut self) -> RedisResult<Reply> {
        self.reply().await
    }

    async fn reply(&mut self) -> RedisResult<Reply> {
        use tokio::io::AsyncReadExt as _;
        let deadline = tokio::time::Instant::now() + self.read_timeout;
        loop {
            if let Some(reply) = take_reply(&mut self.reader, &mut self.buffer, &mut self.largest)? {
                self.unread = self.unread.saturating_sub(1);
                return reply.checked();
            }
            // Into the buffer's spare room, which grows only by what arrived: a read given up
            // half way (a dropped future) leaves the buffer as it was.
            self.buffer.reserve(READ_CHUNK);
            let read = tokio::time::timeout_at(deadline, self.stream.read_buf(&mut self.buffer)).await;
            match read {
                Ok(Ok(0)) => {
                    return Err(RedisError::from(std::io::Error::from(std::io::ErrorKind::UnexpectedEof)));
                }
                Ok(Ok(_)) => {}
                Ok(Err(error)) => return Err(error.into()),
                Err(_) => return Err(std::io::Error::from(std::io::ErrorKind::TimedOut).into()),
            }
        }
    }
}

#[cfg(all(test, feature = "tokio"))]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_reply_given_up_on_leaves_the_connection_marked_out_of_step() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 256];
            // Answers the first command only after the client stopped waiting for it.
            let _ = socket.read(&mut buf).await.unwrap();
            tokio::time::sleep(Duration::from_millis(200)).await;
            socket.write_all(b":1\r\n").await.unwrap();
            let _ = socket.read(&mut buf).await.unwrap();
            socket.write_all(b"+OK\r\n").await.unwrap();
        });
        let target = Target { host: "127.0.0.1".into(), port, username: None, password: None, db: 0 };
        let mut connection =
            AsyncFastConnection::connect(&target, Duration::from_secs(1), Duration::from_secs(5)).await.unwrap();
        assert_eq!(connection.unread(), 0);
        let given_up = tokio::time::timeout(Duration::from_millis(50), connection.request(&redis::cmd("PING"))).await;
        assert!(given_up.is_err());
        assert_eq!(connection.unread(), 1, "the reply still to come is counted");
        // Read in step, the late reply is the first one, and the count comes back to 0.
        let late = connection.receive().await.unwrap();
        assert_eq!(late.bytes, b":1\r\n");
        connection.request(&redis::cmd("PING")).await.unwrap();
        assert_eq!(connection.unread(), 0);
        server.await.unwrap();
    }
}
