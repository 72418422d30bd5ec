//! The event loops: each thread serves many connections through epoll readiness (mio), as
//! Redis's event loop does, so a request costs no thread switch.
//!
//! One turn of a loop: read what arrived on every ready connection and frame it into
//! requests; run the leading data commands of *all* those connections as one store
//! transaction (one append, and under `always` one fsync for everyone — Redis's fsync per
//! event-loop turn); run each connection's remaining requests in order; write the replies.
//! A reply therefore leaves only after the write it answers is durable under `always`.

use std::collections::HashMap;
use std::io::{self, ErrorKind, Read, Write};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token, Waker};

use super::clients::ClientEntry;
use super::error::CmdError;
use super::input::Input;
use super::keyspace::KeySpace;
use super::pubsub::{Notifier, OUTBOX_LIMIT};
use super::reply::Reply;
use super::session::Session;
use super::shared::{Counters, Shared};
use crate::engine::lock;

const WAKER: Token = Token(0);
/// Most bytes read from one connection per turn, so that one busy client cannot starve
/// the others (the rest is read on the next turn).
const READ_BUDGET: usize = 256 << 10;
/// Output waiting beyond this pauses reading from the connection until it drains.
const OUTPUT_HIGH_WATER: usize = 1 << 20;
/// How often idle connections are looked for.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// A new connection handed to a loop by the acceptor.
pub(crate) type NewConnection = (std::net::TcpStream, Arc<ClientEntry>);

/// The acceptor's handle on one loop.
pub(crate) struct LoopHandle {
    pub(crate) sender: Sender<NewConnection>,
    pub(crate) notifier: Arc<Notifier>,
    pub(crate) thread: JoinHandle<()>,
}

impl LoopHandle {
    /// Hands a connection to the loop; false if the loop is gone.
    pub(crate) fn hand_over(&self, connection: NewConnection) -> bool {
        self.sender.send(connection).is_ok() && self.notifier.waker.wake().is_ok()
    }

    /// Wakes the loop (to see a shutdown request).
    pub(crate) fn wake(&self) {
        let _ = self.notifier.waker.wake();
    }
}

/// Stack of an event-loop thread: scripts recurse 1000 levels deep (cjson's nesting
/// limit, a reply's), with room for a debug build's frames. Only the pages used are
/// committed.
const LOOP_STACK: usize = 64 << 20;

/// Starts loop number `index`.
pub(crate) fn spawn(shared: Arc<Shared>, index: usize) -> io::Result<LoopHandle> {
    let poll = Poll::new()?;
    let waker = Waker::new(poll.registry(), WAKER)?;
    let notifier = Arc::new(Notifier {
        waker,
        ready: std::sync::Mutex::new(Vec::new()),
    });
    let (sender, receiver) = std::sync::mpsc::channel();
    let loop_notifier = Arc::clone(&notifier);
    let thread = std::thread::Builder::new()
        .name(format!("keg-loop-{index}"))
        .stack_size(LOOP_STACK)
        .spawn(move || EventLoop::new(shared, poll, receiver, loop_notifier, index).run())?;
    Ok(LoopHandle {
        sender,
        notifier,
        thread,
    })
}

/// One connection served by a loop.
struct Conn {
    stream: TcpStream,
    client: Arc<ClientEntry>,
    session: Session,
    input: Input,
    out: Reply,
    /// Bytes to send; the first `sent` of them are gone.
    output: Vec<u8>,
    sent: usize,
    last_active: Instant,
    /// The peer will send nothing more (or the socket failed).
    finished_input: bool,
    /// An event said the peer closed its side or the socket failed: reads go on to the end
    /// of the stream, even after a read that did not fill the buffer (see `read`).
    read_to_end: bool,
    /// Writing failed: the connection is dead.
    broken: bool,
    /// The session's outbox is bound to this loop.
    outbox_bound: bool,
}

impl Conn {
    fn unsent(&self) -> usize {
        self.output.len() - self.sent
    }

    /// Reads up to the budget; returns whether more may be waiting.
    fn read(&mut self, shared: &Shared) -> bool {
        let mut total = 0;
        while total < READ_BUDGET {
            let space = self.input.space();
            let asked = space.len();
            match self.stream.read(space) {
                Ok(0) => {
                    self.finished_input = true;
                    return false;
                }
                Ok(n) => {
                    self.input.filled(n);
                    total += n;
                    self.last_active = Instant::now();
                    Counters::add(&shared.counters.net_input_bytes, n as u64);
                    // Frame as we go, so the buffer holds at most one partial request.
                    let consumed = self.session.take_requests(self.input.pending());
                    self.input.consume(consumed);
                    // A read that did not fill the buffer emptied the socket: bytes that
                    // arrive later raise a new (edge-triggered) event, so asking again
                    // would only return WouldBlock, one system call per request. The end
                    // of the stream raises no new event once its event was taken: after
                    // one that reported it, reads go on until they reach it.
                    if n < asked && !self.read_to_end {
                        return false;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    self.finished_input = true;
                    return false;
                }
            }
        }
        true
    }

    /// Runs the requests waiting (after any that ran in a shared transaction), framing
    /// more from the input as authentication allows.
    fn run(&mut self) {
        loop {
            let had = self.session.has_requests();
            if had {
                self.session.run_inbox(&mut self.out);
            }
            if self.session.closing {
                return;
            }
            let consumed = self.session.take_requests(self.input.pending());
            self.input.consume(consumed);
            if !self.session.has_requests() || (consumed == 0 && !had) {
                return;
            }
        }
    }

    /// Moves replies (and, for a subscriber, queued messages) to the output.
    fn collect_output(&mut self, notifier: &Arc<Notifier>, token: usize) {
        if let Some(sub) = &self.session.subscriber {
            if !self.outbox_bound {
                sub.outbox.bind(notifier, token);
                self.outbox_bound = true;
            }
            // Replies go through the outbox too, keeping their order with messages.
            if !self.out.is_empty() && !sub.outbox.send(self.out.take()) {
                self.broken = true;
            }
            sub.outbox.drain_into(&mut self.output);
        } else if self.unsent() == 0 {
            // Nothing is waiting: the replies become the output as they are (a range
            // reply is kilobytes; copying it cost as much as building it).
            self.out.move_into(&mut self.output);
            self.sent = 0;
        } else if !self.out.is_empty() {
            self.output.extend_from_slice(self.out.bytes());
            self.out.clear();
        }
    }

    /// Writes as much output as the socket takes.
    fn flush(&mut self, shared: &Shared) {
        while self.sent < self.output.len() {
            let pending = self.output.get(self.sent..).unwrap_or_default();
            match self.stream.write(pending) {
                Ok(0) => {
                    self.broken = true;
                    return;
                }
                Ok(n) => {
                    self.sent += n;
                    Counters::add(&shared.counters.net_output_bytes, n as u64);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    self.broken = true;
                    return;
                }
            }
        }
        if self.sent == self.output.len() {
            self.output.clear();
            self.sent = 0;
            if self.output.capacity() > 4 << 20 {
                self.output = Vec::new();
            }
        }
    }

    /// Whether the connection is done: broken, killed, or finished with nothing left to
    /// send or run.
    fn is_done(&self) -> bool {
        self.broken
            || self.client.is_killed()
            || self.unsent() > OUTBOX_LIMIT
            || ((self.session.closing || self.finished_input)
                && self.unsent() == 0
                && !self.session.has_requests())
    }
}

struct EventLoop {
    shared: Arc<Shared>,
    poll: Poll,
    receiver: Receiver<NewConnection>,
    notifier: Arc<Notifier>,
    conns: HashMap<usize, Conn>,
    next_token: usize,
    /// Connections to look at next turn without an event (read budget used up, or
    /// output drained below the high-water mark).
    again: Vec<usize>,
    last_idle_check: Instant,
    /// This loop's number (among the server's event loops).
    index: usize,
    /// Whether `shared.waiters` knows this loop has a waiting pop.
    parked: bool,
}

impl EventLoop {
    fn new(
        shared: Arc<Shared>,
        poll: Poll,
        receiver: Receiver<NewConnection>,
        notifier: Arc<Notifier>,
        index: usize,
    ) -> EventLoop {
        EventLoop {
            index,
            parked: false,
            shared,
            poll,
            receiver,
            notifier,
            conns: HashMap::new(),
            next_token: 1,
            again: Vec::new(),
            last_idle_check: Instant::now(),
        }
    }

    fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        loop {
            let blocked = self.conns.values().any(|c| c.session.blocked.is_some());
            if blocked != self.parked {
                self.shared
                    .waiters
                    .set_parked(self.index, &self.notifier, blocked);
                self.parked = blocked;
            }
            let timeout = if !self.again.is_empty() {
                Some(Duration::ZERO)
            } else if blocked {
                // Blocked pops are attempted again every turn; a write on another event
                // loop wakes this one. The retry interval is the backstop (a waiter ahead
                // that went away); the nearest deadline ends its wait on time.
                Some(self.blocked_wait())
            } else {
                Some(IDLE_CHECK)
            };
            if let Err(e) = self.poll.poll(&mut events, timeout)
                && e.kind() != ErrorKind::Interrupted
            {
                break;
            }
            let mut ready: Vec<usize> = std::mem::take(&mut self.again);
            let mut writable: Vec<usize> = Vec::new();
            for event in &events {
                if event.token() == WAKER {
                    self.accept_new();
                    ready.extend(lock(&self.notifier.ready).drain(..));
                } else {
                    if event.is_readable() || event.is_read_closed() || event.is_error() {
                        ready.push(event.token().0);
                    }
                    if (event.is_read_closed() || event.is_error())
                        && let Some(conn) = self.conns.get_mut(&event.token().0)
                    {
                        conn.read_to_end = true;
                    }
                    if event.is_writable() {
                        writable.push(event.token().0);
                    }
                }
            }
            ready.sort_unstable();
            ready.dedup();
            let stopping = self.shared.stop.is_requested();
            let seq_before = self.shared.store.last_written_seq();
            self.turn(&ready, &writable);
            if self.shared.store.last_written_seq() != seq_before {
                self.shared.waiters.wake_others(self.index);
            }
            if stopping {
                self.drain();
                return;
            }
            if self.last_idle_check.elapsed() >= IDLE_CHECK {
                self.close_idle();
                self.last_idle_check = Instant::now();
            }
        }
        self.drain();
    }

    /// How long to wait for events while pops are blocked: the retry interval, or less
    /// if a blocked pop's timeout comes sooner.
    fn blocked_wait(&self) -> Duration {
        let now = Instant::now();
        self.conns
            .values()
            .filter_map(|c| c.session.blocked_deadline())
            .map(|deadline| deadline.saturating_duration_since(now))
            .fold(self.shared.blocked_retry, Duration::min)
    }

    /// Registers connections handed over by the acceptor.
    fn accept_new(&mut self) {
        loop {
            let (stream, client) = match self.receiver.try_recv() {
                Ok(c) => c,
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return,
            };
            let id = client.id;
            if stream.set_nonblocking(true).is_err() {
                self.shared.clients.remove(id);
                continue;
            }
            let _ = stream.set_nodelay(true);
            let mut stream = TcpStream::from_std(stream);
            let token = self.next_token;
            self.next_token += 1;
            if self
                .poll
                .registry()
                .register(
                    &mut stream,
                    Token(token),
                    Interest::READABLE | Interest::WRITABLE,
                )
                .is_err()
            {
                self.shared.clients.remove(id);
                continue;
            }
            let session = Session::new(Arc::clone(&self.shared), Arc::clone(&client));
            let out = Reply::counting(session.protocol, Arc::clone(&self.shared.error_stats));
            self.conns.insert(
                token,
                Conn {
                    stream,
                    client,
                    session,
                    input: Input::new(),
                    out,
                    output: Vec::new(),
                    sent: 0,
                    last_active: Instant::now(),
                    finished_input: false,
                    read_to_end: false,
                    broken: false,
                    outbox_bound: false,
                },
            );
            // Bytes may have arrived before registration: look at it this turn.
            self.again.push(token);
        }
    }

    /// One turn over the connections with events.
    fn turn(&mut self, ready: &[usize], writable: &[usize]) {
        // Read and frame.
        let mut active: Vec<usize> = Vec::with_capacity(ready.len());
        for &token in ready {
            let Some(conn) = self.conns.get_mut(&token) else {
                continue;
            };
            if conn.unsent() < OUTPUT_HIGH_WATER && !conn.finished_input && conn.read(&self.shared)
            {
                self.again.push(token);
            }
            active.push(token);
        }
        self.run_shared_transaction(&active);
        for &token in &active {
            if let Some(conn) = self.conns.get_mut(&token) {
                conn.run();
            }
        }
        let woken = self.retry_blocked();

        active.extend_from_slice(&woken);
        self.make_solo_writes_durable(&active);
        // Write: connections that ran something, and those the socket can take more from.
        let mut to_flush: Vec<usize> = active;
        to_flush.extend_from_slice(writable);
        to_flush.sort_unstable();
        to_flush.dedup();
        for token in to_flush {
            let Some(conn) = self.conns.get_mut(&token) else {
                continue;
            };
            let was_paused = conn.unsent() >= OUTPUT_HIGH_WATER;
            // Keyspace events and invalidations go out once their writes are committed
            // and durable. As in Redis, a connection's keyspace events reach it before the
            // replies of the commands that caused them, the invalidations of keys it
            // tracks after them (they arrive with its next turn's output).
            let events = conn.out.take_events();
            self.shared.publish_keyspace_events(&events);
            conn.collect_output(&self.notifier, token);
            self.shared
                .invalidate_tracked(&events, conn.session.client.id);
            conn.flush(&self.shared);
            if was_paused && conn.unsent() < OUTPUT_HIGH_WATER {
                self.again.push(token);
            }
            if conn.is_done() {
                self.close(token);
            }
        }
    }

    /// Attempts every waiting blocking pop again, oldest first; a pop that is over lets its
    /// connection run the requests it received meanwhile. Returns those connections.
    fn retry_blocked(&mut self) -> Vec<usize> {
        let mut waiting: Vec<(std::time::Instant, usize)> = self
            .conns
            .iter()
            .filter_map(|(&t, c)| c.session.blocked.as_ref().map(|b| (b.since, t)))
            .collect();
        if waiting.is_empty() {
            return Vec::new();
        }
        waiting.sort_unstable();
        let now = std::time::Instant::now();
        let mut woken = Vec::new();
        for (_, token) in waiting {
            if let Some(conn) = self.conns.get_mut(&token)
                && conn.session.retry_blocked(&mut conn.out, now)
            {
                conn.run();
                woken.push(token);
            }
        }
        woken
    }

    /// Waits once for the durability of every solo write this turn committed, before their
    /// replies are sent. If the wait fails (the store is poisoned), those replies are not
    /// sent: the connections that wrote are closed instead, so no client is told a write
    /// succeeded that may not survive.
    fn make_solo_writes_durable(&mut self, active: &[usize]) {
        let newest = active
            .iter()
            .filter_map(|t| self.conns.get(t).and_then(|c| c.session.undurable_seq))
            .max();
        let Some(seq) = newest else {
            return;
        };
        let durable = self.shared.store.wait_durable(seq).is_ok();
        for token in active {
            if let Some(conn) = self.conns.get_mut(token)
                && conn.session.undurable_seq.take().is_some()
                && !durable
            {
                conn.out.clear();
                conn.out.take_events();
                conn.broken = true;
            }
        }
    }

    /// Runs the leading data commands of every ready connection as one store transaction,
    /// when more than one connection has some and any of them writes (one connection
    /// alone coalesces its own pipeline in `Session`).
    fn run_shared_transaction(&mut self, active: &[usize]) {
        let mut batch: Vec<(usize, usize)> = Vec::new();
        let mut writes = false;
        for token in active {
            if let Some(conn) = self.conns.get(token) {
                let (count, w) = conn.session.leading_data();
                if count > 0 {
                    batch.push((*token, count));
                    writes |= w;
                }
            }
        }
        if batch.len() < 2 || !writes {
            return;
        }
        let mut marks: Vec<(usize, usize, usize, usize)> = Vec::with_capacity(batch.len());
        let conns = &mut self.conns;
        let committed = self.shared.store.transaction(|tx| {
            for &(token, count) in &batch {
                if let Some(conn) = conns.get_mut(&token) {
                    marks.push((token, conn.out.len(), conn.out.events_len(), count));
                    conn.session
                        .run_leading(tx as &dyn KeySpace, count, &mut conn.out);
                }
            }
            Ok(())
        });
        if let Err(e) = committed {
            // Every command's reply becomes the commit's error. (An error reply a command
            // wrote before the failed commit stays counted in INFO errorstats, with the
            // commit's: the store is poisoned by then, and the count is off by those.)
            let e = CmdError::from(e);
            for (token, mark, events, count) in marks {
                if let Some(conn) = conns.get_mut(&token) {
                    conn.out.truncate(mark);
                    conn.out.truncate_events(events);
                    for _ in 0..count {
                        conn.out.command_error(&e);
                    }
                }
            }
        }
    }

    fn close(&mut self, token: usize) {
        if let Some(mut conn) = self.conns.remove(&token) {
            let _ = self.poll.registry().deregister(&mut conn.stream);
            if let Some(sub) = &conn.session.subscriber {
                sub.outbox.close();
            }
            conn.session.end();
        }
    }

    /// Closes connections idle longer than the timeout (subscribers are exempt, as in
    /// Redis).
    fn close_idle(&mut self) {
        let timeout = self.shared.settings().idle_timeout;
        if timeout.is_zero() {
            return;
        }
        let idle: Vec<usize> = self
            .conns
            .iter()
            .filter(|(_, c)| {
                !c.session.is_subscribed()
                    && c.session.blocked.is_none()
                    && c.last_active.elapsed() >= timeout
            })
            .map(|(t, _)| *t)
            .collect();
        for token in idle {
            self.close(token);
        }
    }

    /// The shutdown: requests already received have run (the last turn); send what is
    /// owed, within the drain timeout, then close everything.
    fn drain(&mut self) {
        if self.parked {
            self.shared
                .waiters
                .set_parked(self.index, &self.notifier, false);
            self.parked = false;
        }
        let deadline = Instant::now() + self.shared.drain_timeout;
        let mut events = Events::with_capacity(1024);
        loop {
            let tokens: Vec<usize> = self.conns.keys().copied().collect();
            for token in tokens {
                if let Some(conn) = self.conns.get_mut(&token) {
                    conn.collect_output(&self.notifier, token);
                    conn.flush(&self.shared);
                    if conn.unsent() == 0 || conn.broken {
                        self.close(token);
                    }
                }
            }
            let now = Instant::now();
            if self.conns.is_empty() || now >= deadline {
                break;
            }
            let wait = (deadline - now).min(Duration::from_millis(50));
            let _ = self.poll.poll(&mut events, Some(wait));
        }
        let tokens: Vec<usize> = self.conns.keys().copied().collect();
        for token in tokens {
            self.close(token);
        }
        // Connections handed over after the last turn were never served.
        while let Ok((_, client)) = self.receiver.try_recv() {
            self.shared.clients.remove(client.id);
        }
    }
}

/// How many event loops to run by default: one per two cores, at least one, at most four.
/// The other cores are left to the network stack, the store's merge and fsync threads and,
/// on a shared machine, the clients (on two cores, one loop serves redis-benchmark more
/// than two do: see the README's server section).
pub(crate) fn default_loops() -> usize {
    loops_for_cores(std::thread::available_parallelism().map_or(1, |n| n.get()))
}

fn loops_for_cores(cores: usize) -> usize {
    (cores / 2).clamp(1, 4)
}

#[cfg(test)]
mod default_loops_tests {
    use super::loops_for_cores;

    #[test]
    fn one_loop_per_two_cores_at_least_one_at_most_four() {
        let loops: Vec<usize> = [1, 2, 3, 4, 6, 8, 9, 64].map(loops_for_cores).to_vec();
        assert_eq!(loops, [1, 1, 1, 2, 3, 4, 4, 4]);
    }
}
