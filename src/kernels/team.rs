//! A small team of persistent worker threads for splitting one product across cores.
//!
//! Why not rayon: a training step makes ~25 products of 0.05–0.3 ms each. Handing each to a
//! pool whose threads have gone to sleep, and waiting for it from outside the pool, costs tens
//! of microseconds per product in wake-ups — measured, it ate most of the second core's gain.
//! Here the calling thread works on the job itself, and the workers spin briefly after each job
//! (so the next product of the same step finds them awake) before parking; an idle team uses
//! no CPU.
//!
//! A job is a number of chunks that every thread, the caller included, takes one at a time
//! from a shared ticket. So a worker the OS has not scheduled yet (a busy machine, a browser
//! tab in the background) never holds the caller up: the caller takes its chunks too, and waits
//! only for chunks another thread has actually started.
//!
//! In the browser (wasm32 with shared memory, feature `threads`) `std::thread` cannot start
//! threads: the workers are Web Workers running the same module on the same memory, started by
//! the page (`www/threads.js`), each of which calls [`join_global`] and stays in it. They sleep
//! with `memory.atomic.wait32` instead of parking, and spin by count (no clock in std there).

use std::cell::UnsafeCell;
#[cfg(target_arch = "wasm32")]
use std::sync::atomic::AtomicU32;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
#[cfg(not(target_arch = "wasm32"))]
use std::thread::{self, Thread};
#[cfg(not(target_arch = "wasm32"))]
use std::time::{Duration, Instant};

#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
compile_error!("the thread team on wasm32 needs shared memory: build with -C target-feature=+atomics (make wasm-threads)");

/// How long an idle worker keeps spinning for the next job before it parks.
#[cfg(not(target_arch = "wasm32"))]
const SPIN: Duration = Duration::from_micros(200);
/// The same in polls of the ticket (wasm has no clock in std): about 0.2–0.5 ms.
#[cfg(target_arch = "wasm32")]
const SPIN_POLLS: u32 = 1 << 18;

/// Chunks per job at most (the ticket keeps counts in 16 bits).
pub const MAX_CHUNKS: usize = 0xffff;

type Job = dyn Fn(usize) + Sync;

/// The ticket: the job's epoch (high 32 bits), its chunk count and the next chunk to take.
fn ticket(epoch: u32, chunks: usize, next: usize) -> u64 {
    (u64::from(epoch) << 32) | ((chunks as u64) << 16) | next as u64
}

fn epoch_of(t: u64) -> u32 {
    (t >> 32) as u32
}

struct Shared {
    /// See [`ticket`]. Published by the caller (Release) after it has written `job` and reset
    /// `done`; a thread owns a chunk once its compare-exchange on the ticket succeeds.
    ticket: AtomicU64,
    /// Chunks of the current job finished (Release after each, read by the caller with Acquire).
    done: AtomicUsize,
    /// A worker's chunk panicked.
    panicked: AtomicBool,
    /// The current job: valid while a chunk of it is unfinished, which is exactly when a thread
    /// can own one of its chunks (the caller waits for all of them before it returns).
    job: UnsafeCell<Option<*const Job>>,
    /// wasm: Web Workers that have joined the team (each calls `join`).
    #[cfg(target_arch = "wasm32")]
    joined: AtomicUsize,
    /// wasm: the word workers sleep on (`memory.atomic.wait32`); bumped with every job.
    #[cfg(target_arch = "wasm32")]
    bell: AtomicU32,
    /// wasm: workers asleep on `bell` (so the caller notifies only when one is).
    #[cfg(target_arch = "wasm32")]
    sleeping: AtomicUsize,
    /// wasm: chunks the workers (not the caller) have run (the tests check products are split).
    #[cfg(target_arch = "wasm32")]
    worker_chunks: AtomicU64,
}

// SAFETY: `job` is written only by the single caller holding `Team::busy`, before the Release
// store of the ticket, and read by a thread only after it has won a chunk of that ticket
// (AcqRel); the pointee is `Sync` and outlives the job (the caller waits for every chunk).
unsafe impl Sync for Shared {}
unsafe impl Send for Shared {}

/// The caller plus its workers.
pub struct Team {
    shared: Arc<Shared>,
    #[cfg(not(target_arch = "wasm32"))]
    workers: Vec<Thread>,
    /// One job at a time; a second concurrent caller runs its chunks inline instead.
    busy: Mutex<()>,
}

impl Team {
    fn shared() -> Arc<Shared> {
        Arc::new(Shared {
            ticket: AtomicU64::new(0),
            done: AtomicUsize::new(0),
            panicked: AtomicBool::new(false),
            job: UnsafeCell::new(None),
            #[cfg(target_arch = "wasm32")]
            joined: AtomicUsize::new(0),
            #[cfg(target_arch = "wasm32")]
            bell: AtomicU32::new(0),
            #[cfg(target_arch = "wasm32")]
            sleeping: AtomicUsize::new(0),
            #[cfg(target_arch = "wasm32")]
            worker_chunks: AtomicU64::new(0),
        })
    }

    /// A team of the caller alone, which Web Workers join later (`join`).
    #[cfg(target_arch = "wasm32")]
    pub fn new_joinable() -> Team {
        Team { shared: Self::shared(), busy: Mutex::new(()) }
    }

    /// Make the calling thread (a Web Worker on the team's memory) a member of the team and
    /// take chunks of every job from now on. Never returns.
    #[cfg(target_arch = "wasm32")]
    pub fn join(&self) -> ! {
        let s = &*self.shared;
        let seen = epoch_of(s.ticket.load(Ordering::SeqCst));
        s.joined.fetch_add(1, Ordering::SeqCst);
        worker(s, seen)
    }

    /// A team of `threads` threads in all (the caller counts as one).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new(threads: usize) -> Team {
        let shared = Self::shared();
        let workers = (1..threads.max(1))
            .map(|index| {
                let shared = Arc::clone(&shared);
                thread::Builder::new()
                    .name(format!("burstccn-worker-{index}"))
                    .spawn(move || worker(&shared, 0))
                    .expect("cannot start a worker thread")
                    .thread()
                    .clone()
            })
            .collect();
        Team { shared, workers, busy: Mutex::new(()) }
    }

    /// Chunks of products the pool workers (not the caller) have run so far.
    #[cfg(target_arch = "wasm32")]
    pub fn worker_chunks(&self) -> u64 {
        self.shared.worker_chunks.load(Ordering::Relaxed)
    }

    /// Threads in the team, the caller included.
    pub fn threads(&self) -> usize {
        #[cfg(not(target_arch = "wasm32"))]
        return self.workers.len() + 1;
        #[cfg(target_arch = "wasm32")]
        return self.shared.joined.load(Ordering::SeqCst) + 1;
    }

    /// Run `job(c)` for every chunk `c` in `0..chunks` (at most [`MAX_CHUNKS`]) on the team's
    /// threads, this one included, and return when all are done. Which thread runs which chunk
    /// is not fixed. A panic in any chunk is re-raised here.
    pub fn run(&self, chunks: usize, job: &(dyn Fn(usize) + Sync + '_)) {
        assert!(chunks <= MAX_CHUNKS, "{chunks} chunks: at most {MAX_CHUNKS}");
        let guard = match self.busy.try_lock() {
            Ok(g) if chunks > 1 && self.threads() > 1 => g,
            // One chunk, one thread, or the team is busy (another thread is using it): inline.
            _ => {
                (0..chunks).for_each(job);
                return;
            }
        };
        let s = &*self.shared;
        // SAFETY: see `Shared`; the lifetime is erased because we wait for every chunk below.
        unsafe {
            *s.job.get() = Some(core::mem::transmute::<&(dyn Fn(usize) + Sync + '_), &'static Job>(job) as *const Job);
        }
        s.done.store(0, Ordering::Relaxed);
        let epoch = epoch_of(s.ticket.load(Ordering::Relaxed)).wrapping_add(1);
        #[cfg(not(target_arch = "wasm32"))]
        {
            s.ticket.store(ticket(epoch, chunks, 0), Ordering::Release);
            for w in self.workers.iter().take(chunks - 1) {
                w.unpark();
            }
        }
        #[cfg(target_arch = "wasm32")]
        {
            // SeqCst, paired with the worker's `sleeping` increment before it waits: either we
            // see it asleep and notify, or its wait finds the bell already changed.
            s.ticket.store(ticket(epoch, chunks, 0), Ordering::SeqCst);
            s.bell.fetch_add(1, Ordering::SeqCst);
            if s.sleeping.load(Ordering::SeqCst) > 0 {
                // SAFETY: `bell` is a live, aligned i32-sized atomic in shared memory.
                unsafe { core::arch::wasm32::memory_atomic_notify(s.bell.as_ptr().cast::<i32>(), u32::MAX) };
            }
        }
        let mut mine = Ok(());
        while let Some(c) = take(s, epoch) {
            if let Err(p) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(c))) {
                mine = Err(p);
            }
            s.done.fetch_add(1, Ordering::Release);
        }
        // Only chunks another thread has taken are left: wait for them.
        let mut spins = 0u32;
        while s.done.load(Ordering::Acquire) != chunks {
            spins += 1;
            if spins < 1 << 16 {
                core::hint::spin_loop();
            } else {
                #[cfg(not(target_arch = "wasm32"))]
                thread::yield_now();
            }
        }
        unsafe {
            *s.job.get() = None;
        }
        let worker_panicked = s.panicked.swap(false, Ordering::Relaxed);
        drop(guard);
        if let Err(p) = mine {
            std::panic::resume_unwind(p);
        }
        assert!(!worker_panicked, "a worker thread panicked while running a kernel");
    }
}

/// Take the next chunk of job `epoch`, if that job still has one.
fn take(s: &Shared, epoch: u32) -> Option<usize> {
    let mut t = s.ticket.load(Ordering::Acquire);
    loop {
        let (chunks, next) = (((t >> 16) & 0xffff) as usize, (t & 0xffff) as usize);
        if epoch_of(t) != epoch || next >= chunks {
            return None;
        }
        match s.ticket.compare_exchange_weak(t, t + 1, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return Some(next),
            Err(now) => t = now,
        }
    }
}

fn worker(s: &Shared, mut seen: u32) -> ! {
    loop {
        seen = wait_for_job(s, seen);
        while let Some(c) = take(s, seen) {
            // SAFETY: we own chunk `c` of this job, so the caller is still waiting for it and
            // `job` (published before the ticket) is valid.
            let job = unsafe { (*s.job.get()).expect("a job is published with its ticket") };
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe { (*job)(c) })).is_err() {
                s.panicked.store(true, Ordering::Relaxed);
            }
            #[cfg(target_arch = "wasm32")]
            s.worker_chunks.fetch_add(1, Ordering::Relaxed);
            s.done.fetch_add(1, Ordering::Release);
        }
    }
}

/// Wait for a new job: spin for a while, then park. The caller unparks after publishing the
/// ticket, and an unpark that lands before `park` makes it return at once, so no wake-up is
/// missed; spurious wake-ups just loop.
#[cfg(not(target_arch = "wasm32"))]
fn wait_for_job(s: &Shared, seen: u32) -> u32 {
    let started = Instant::now();
    loop {
        let e = epoch_of(s.ticket.load(Ordering::Acquire));
        if e != seen {
            return e;
        }
        if started.elapsed() < SPIN {
            core::hint::spin_loop();
        } else {
            thread::park();
        }
    }
}

/// The same on wasm: spin for a while, then sleep on the bell. The bell is read before the
/// ticket, so a job published after that read changes the bell and the wait returns at once.
#[cfg(target_arch = "wasm32")]
fn wait_for_job(s: &Shared, seen: u32) -> u32 {
    let mut polls = 0u32;
    loop {
        let bell = s.bell.load(Ordering::SeqCst);
        let e = epoch_of(s.ticket.load(Ordering::SeqCst));
        if e != seen {
            return e;
        }
        if polls < SPIN_POLLS {
            polls += 1;
            core::hint::spin_loop();
        } else {
            s.sleeping.fetch_add(1, Ordering::SeqCst);
            // SAFETY: `bell` is a live, aligned atomic in shared memory; a Web Worker may block.
            unsafe { core::arch::wasm32::memory_atomic_wait32(s.bell.as_ptr().cast::<i32>(), bell as i32, -1) };
            s.sleeping.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

static GLOBAL: OnceLock<Team> = OnceLock::new();
#[cfg(not(target_arch = "wasm32"))]
static SIZE: AtomicUsize = AtomicUsize::new(0);

/// Choose the global team's size (before first use); 0 means all cores. Returns false if the
/// team already exists with another size.
#[cfg(not(target_arch = "wasm32"))]
pub fn set_threads(threads: usize) -> bool {
    SIZE.store(threads, Ordering::Relaxed);
    GLOBAL.get().is_none_or(|t| threads == 0 || t.threads() == threads)
}

/// The global team: `set_threads`, else `$BURSTCCN_THREADS`, else every core.
#[cfg(not(target_arch = "wasm32"))]
pub fn global() -> &'static Team {
    GLOBAL.get_or_init(|| {
        let chosen = SIZE.load(Ordering::Relaxed);
        let from_env = std::env::var("BURSTCCN_THREADS").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
        let cores = thread::available_parallelism().map_or(1, |n| n.get());
        let n = if chosen > 0 { chosen } else if from_env > 0 { from_env } else { cores };
        Team::new(n)
    })
}

/// The global team in the browser: the caller and every Web Worker that has joined it.
#[cfg(target_arch = "wasm32")]
pub fn global() -> &'static Team {
    GLOBAL.get_or_init(Team::new_joinable)
}

/// Join the global team from a Web Worker (see `Team::join`). Never returns.
#[cfg(target_arch = "wasm32")]
pub fn join_global() -> ! {
    global().join()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_chunk_runs_once_and_results_are_seen() {
        let team = Team::new(3);
        for round in 0..300 {
            let chunks = 1 + round % 10;
            let hits: Vec<AtomicUsize> = (0..10).map(|_| AtomicUsize::new(0)).collect();
            team.run(chunks, &|c| {
                hits[c].fetch_add(1, Ordering::Relaxed);
            });
            for (c, h) in hits.iter().enumerate() {
                assert_eq!(h.load(Ordering::Relaxed), usize::from(c < chunks), "round {round} chunk {c}");
            }
        }
    }

    #[test]
    fn a_slow_chunk_does_not_hold_up_the_others() {
        // One chunk sleeps; the other threads take every other chunk meanwhile.
        let team = Team::new(2);
        let ran_by: Vec<Mutex<Option<thread::ThreadId>>> = (0..8).map(|_| Mutex::new(None)).collect();
        team.run(8, &|c| {
            if c == 0 {
                thread::sleep(Duration::from_millis(50));
            }
            *ran_by[c].lock().unwrap() = Some(thread::current().id());
        });
        let slow = ran_by[0].lock().unwrap().unwrap();
        assert!(ran_by[1..].iter().all(|t| t.lock().unwrap().is_some()));
        assert!(ran_by[1..].iter().any(|t| t.lock().unwrap().unwrap() != slow), "another thread took the rest");
    }

    #[test]
    fn a_panicking_chunk_is_reported_and_the_team_keeps_working() {
        let team = Team::new(2);
        for _ in 0..20 {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                team.run(4, &|c| {
                    if c == 1 {
                        panic!("boom");
                    }
                })
            }));
            assert!(r.is_err());
        }
        let n = AtomicUsize::new(0);
        team.run(2, &|_| {
            n.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(n.load(Ordering::Relaxed), 2);
    }
}
