//! A small team of persistent worker threads for splitting one product across cores.
//!
//! Why not rayon: a training step makes ~25 products of 0.05–0.3 ms each. Handing each to a
//! pool whose threads have gone to sleep, and waiting for it from outside the pool, costs tens
//! of microseconds per product in wake-ups — measured, it ate most of the second core's gain.
//! Here the calling thread runs part 0 itself, and the workers spin briefly after each job (so
//! the next product of the same step finds them awake) before parking; an idle team uses no CPU.
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
/// The same in polls of the job counter (wasm has no clock in std): about 0.2–0.5 ms.
#[cfg(target_arch = "wasm32")]
const SPIN_POLLS: u32 = 1 << 18;

type Job = dyn Fn(usize) + Sync;

struct Shared {
    /// Incremented for every job; workers wait for it to change.
    epoch: AtomicU64,
    /// Parts of the current job (part 0 is the caller's).
    parts: AtomicUsize,
    /// Worker parts not yet finished.
    pending: AtomicUsize,
    /// A worker's part panicked.
    panicked: AtomicBool,
    /// The current job. Written by the caller before `epoch` is published (Release) and read by
    /// workers after they see the new epoch (Acquire); it stays valid until `pending` is 0.
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
    /// wasm: parts the workers have run (the tests check that products really are split).
    #[cfg(target_arch = "wasm32")]
    worker_parts: AtomicU64,
}

// SAFETY: `job` is written only by the single caller holding `Team::busy`, before the Release
// store of `epoch`, and read by workers only after the matching Acquire load; the pointee is
// `Sync` and outlives the job (the caller waits for `pending == 0` before returning).
unsafe impl Sync for Shared {}
unsafe impl Send for Shared {}

/// The caller plus `workers.len()` threads.
pub struct Team {
    shared: Arc<Shared>,
    #[cfg(not(target_arch = "wasm32"))]
    workers: Vec<Thread>,
    /// One job at a time; a second concurrent caller runs its parts inline instead.
    busy: Mutex<()>,
}

impl Team {
    fn shared() -> Arc<Shared> {
        Arc::new(Shared {
            epoch: AtomicU64::new(0),
            parts: AtomicUsize::new(0),
            pending: AtomicUsize::new(0),
            panicked: AtomicBool::new(false),
            job: UnsafeCell::new(None),
            #[cfg(target_arch = "wasm32")]
            joined: AtomicUsize::new(0),
            #[cfg(target_arch = "wasm32")]
            bell: AtomicU32::new(0),
            #[cfg(target_arch = "wasm32")]
            sleeping: AtomicUsize::new(0),
            #[cfg(target_arch = "wasm32")]
            worker_parts: AtomicU64::new(0),
        })
    }

    /// A team of the caller alone, which Web Workers join later (`join`).
    #[cfg(target_arch = "wasm32")]
    pub fn new_joinable() -> Team {
        Team { shared: Self::shared(), busy: Mutex::new(()) }
    }

    /// Make the calling thread (a Web Worker on the team's memory) a member of the team and
    /// run its parts of every job from now on. Never returns.
    #[cfg(target_arch = "wasm32")]
    pub fn join(&self) -> ! {
        let s = &*self.shared;
        // Read the epoch before counting ourselves in: every job that may include us (published
        // after the count) then has a newer epoch than `seen`, so none is missed.
        let seen = s.epoch.load(Ordering::SeqCst);
        let index = s.joined.fetch_add(1, Ordering::SeqCst) + 1;
        worker(s, index, seen)
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
                    .spawn(move || worker(&shared, index, 0))
                    .expect("cannot start a worker thread")
                    .thread()
                    .clone()
            })
            .collect();
        Team { shared, workers, busy: Mutex::new(()) }
    }

    /// Parts of products the pool workers (not the caller) have run so far.
    #[cfg(target_arch = "wasm32")]
    pub fn worker_parts(&self) -> u64 {
        self.shared.worker_parts.load(Ordering::Relaxed)
    }

    /// Threads in the team, the caller included.
    pub fn threads(&self) -> usize {
        #[cfg(not(target_arch = "wasm32"))]
        return self.workers.len() + 1;
        #[cfg(target_arch = "wasm32")]
        return self.shared.joined.load(Ordering::SeqCst) + 1;
    }

    /// Run `job(p)` for every part `p` in `0..parts` (at most `threads()`), part 0 on this
    /// thread, and return when all are done. A panic in any part is re-raised here.
    pub fn run(&self, parts: usize, job: &(dyn Fn(usize) + Sync + '_)) {
        let parts = parts.min(self.threads());
        let guard = match self.busy.try_lock() {
            Ok(g) if parts > 1 => g,
            // Single part, or the team is busy (another thread is using it): run inline.
            _ => {
                (0..parts).for_each(job);
                return;
            }
        };
        let s = &*self.shared;
        // SAFETY: see `Shared`; the lifetime is erased because we wait for every part below.
        unsafe {
            *s.job.get() = Some(core::mem::transmute::<&(dyn Fn(usize) + Sync + '_), &'static Job>(job) as *const Job);
        }
        s.parts.store(parts, Ordering::Relaxed);
        s.pending.store(parts - 1, Ordering::Relaxed);
        #[cfg(not(target_arch = "wasm32"))]
        {
            s.epoch.fetch_add(1, Ordering::Release);
            for w in &self.workers[..parts - 1] {
                w.unpark();
            }
        }
        #[cfg(target_arch = "wasm32")]
        {
            // SeqCst, paired with the worker's `sleeping` increment before it waits: either we
            // see it asleep and notify, or its wait finds the bell already changed.
            s.epoch.fetch_add(1, Ordering::SeqCst);
            s.bell.fetch_add(1, Ordering::SeqCst);
            if s.sleeping.load(Ordering::SeqCst) > 0 {
                // SAFETY: `bell` is a live, aligned i32-sized atomic in shared memory.
                unsafe { core::arch::wasm32::memory_atomic_notify(s.bell.as_ptr().cast::<i32>(), u32::MAX) };
            }
        }
        let mine = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(0)));
        let mut spins = 0u32;
        while s.pending.load(Ordering::Acquire) != 0 {
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

fn worker(s: &Shared, index: usize, mut seen: u64) -> ! {
    loop {
        let epoch = wait_for_job(s, seen);
        seen = epoch;
        if index < s.parts.load(Ordering::Relaxed) {
            // SAFETY: published before `epoch` (Release/Acquire); valid until `pending` hits 0.
            let job = unsafe { (*s.job.get()).expect("a job is published with its epoch") };
            let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe { (*job)(index) })).is_ok();
            if !ok {
                s.panicked.store(true, Ordering::Relaxed);
            }
            #[cfg(target_arch = "wasm32")]
            s.worker_parts.fetch_add(1, Ordering::Relaxed);
            s.pending.fetch_sub(1, Ordering::Release);
        }
    }
}

/// Wait for a new job: spin for a while, then park. The caller unparks after publishing the
/// epoch, and an unpark that lands before `park` makes it return at once, so no wake-up is
/// missed; spurious wake-ups just loop.
#[cfg(not(target_arch = "wasm32"))]
fn wait_for_job(s: &Shared, seen: u64) -> u64 {
    let started = Instant::now();
    loop {
        let e = s.epoch.load(Ordering::Acquire);
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
/// epoch, so a job published after that read changes the bell and the wait returns at once.
#[cfg(target_arch = "wasm32")]
fn wait_for_job(s: &Shared, seen: u64) -> u64 {
    let mut polls = 0u32;
    loop {
        let bell = s.bell.load(Ordering::SeqCst);
        let e = s.epoch.load(Ordering::SeqCst);
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
    fn every_part_runs_once_and_results_are_seen() {
        let team = Team::new(3);
        for round in 0..200 {
            let hits: Vec<AtomicUsize> = (0..3).map(|_| AtomicUsize::new(0)).collect();
            let parts = 1 + round % 3;
            team.run(parts, &|p| {
                hits[p].fetch_add(1, Ordering::Relaxed);
            });
            for (p, h) in hits.iter().enumerate() {
                assert_eq!(h.load(Ordering::Relaxed), usize::from(p < parts), "round {round} part {p}");
            }
        }
    }

    #[test]
    fn a_panicking_part_is_reported_and_the_team_keeps_working() {
        let team = Team::new(2);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            team.run(2, &|p| {
                if p == 1 {
                    panic!("boom");
                }
            })
        }));
        assert!(r.is_err());
        let n = AtomicUsize::new(0);
        team.run(2, &|_| {
            n.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(n.load(Ordering::Relaxed), 2);
    }
}
