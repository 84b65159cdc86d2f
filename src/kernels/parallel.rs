//! Multi-core kernels (feature `parallel`: native threads, or Web Workers in the threaded wasm
//! build): each product is cut into column (or row) blocks of the output, each block computed
//! by the single-threaded kernel over the whole inner dimension, so every element is summed in
//! the same order as on one thread (the results are equal bit for bit). The team's threads take
//! the blocks one at a time (see `team.rs`, also for why a hand-rolled team rather than rayon).
//! Small products stay on one core, where splitting costs more than it saves. The passes that
//! are not products (im2col, col2im, the sigmoids, the burst pass) go through `for_blocks`:
//! blocks of whole samples (or rows), each computed by the same code as on one thread.

use alloc::boxed::Box;
use alloc::format;
use alloc::vec::Vec;
use core::marker::PhantomData;
use std::sync::Mutex;

use super::team::{self, Team};
use super::{check_nn, check_nt, check_tn, for_item_blocks, Kernels, MatMut, MatRef, SIGMOID_WORK};

/// Products below this many multiply-adds run on one thread.
const MIN_SPLIT_WORK: usize = 1 << 16;
/// Column split points are multiples of this (keeps the SIMD tiles full: 32 = 2 vectors of
/// 16, 4 of 8).
const ALIGN: usize = 32;
/// Row split points are multiples of this (the micro-kernels' tiles are 6 or 8 rows high; a
/// block of 6-row tiles then ends in at most one partial tile).
const ALIGN_ROWS: usize = 8;
/// Elementwise jobs (`for_blocks`) touching fewer values than this stay on one thread: below
/// it, waking the team costs more than the pass (natively a few µs; a Web Worker takes longer).
#[cfg(not(target_arch = "wasm32"))]
const MIN_SPLIT_VALUES: usize = 1 << 15;
#[cfg(target_arch = "wasm32")]
const MIN_SPLIT_VALUES: usize = 1 << 17;
/// Blocks per thread. Natively one (threads wake within microseconds and rarely lose their
/// core). In the browser two: a Web Worker is more often descheduled for a while, and with
/// smaller blocks the others take more of its share meanwhile.
#[cfg(not(target_arch = "wasm32"))]
const BLOCKS_PER_THREAD: usize = 1;
#[cfg(target_arch = "wasm32")]
const BLOCKS_PER_THREAD: usize = 2;

/// `inner` split across the threads of a team.
pub struct Parallel {
    inner: &'static dyn Kernels,
    team: &'static Team,
    name: &'static str,
}

static CACHE: Mutex<Vec<(&'static str, &'static Parallel)>> = Mutex::new(Vec::new());

/// The multi-threaded version of `inner` on the global team, if it has more than one thread.
pub fn shared(inner: &'static dyn Kernels) -> Option<&'static dyn Kernels> {
    let team = team::global();
    if team.threads() < 2 {
        return None;
    }
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, k)) = cache.iter().find(|(n, _)| *n == inner.name()) {
        return Some(*k);
    }
    let name: &'static str = Box::leak(format!("{}-threads", inner.name()).into_boxed_str());
    let k: &'static Parallel = Box::leak(Box::new(Parallel { inner, team, name }));
    cache.push((inner.name(), k));
    Some(k)
}

/// The output's raw parts, shareable with the team: each part writes a disjoint block.
#[derive(Clone, Copy)]
struct Out {
    ptr: *mut f32,
    rows: usize,
    cols: usize,
    stride: usize,
}

// SAFETY: only used to build views of disjoint blocks, one per part, while the caller waits.
unsafe impl Sync for Out {}
unsafe impl Send for Out {}

impl Out {
    fn of(c: &mut MatMut) -> Out {
        Out { ptr: c.ptr(), rows: c.rows, cols: c.cols, stride: c.stride }
    }

    /// Columns `c0..c0 + n` (`by_rows` false) or rows `c0..c0 + n` (`by_rows` true).
    ///
    /// # Safety
    /// Blocks handed to different threads must not overlap.
    unsafe fn block<'a>(self, by_rows: bool, start: usize, len: usize) -> MatMut<'a> {
        let (ptr, rows, cols) = if by_rows {
            (self.ptr.add(start * self.stride), len, self.cols)
        } else {
            (self.ptr.add(start), self.rows, len)
        };
        MatMut { ptr, rows, cols, stride: self.stride, _life: PhantomData }
    }
}

impl Parallel {

    /// Run `job(c_block, start, len)` on the team over `len` rows or columns of C.
    fn split(&self, work: usize, len: usize, by_rows: bool, mut c: MatMut, job: &(dyn Fn(MatMut, usize, usize) + Sync)) {
        let threads = self.team.threads();
        let align = if by_rows { ALIGN_ROWS } else { ALIGN };
        if work < MIN_SPLIT_WORK || len <= align || threads < 2 {
            return job(c, 0, len);
        }
        let (blocks, share) = cut(len, align, threads);
        let out = Out::of(&mut c);
        self.team.run(blocks, &|b| {
            let start = (b * share).min(len);
            let n = share.min(len - start);
            if n > 0 {
                // SAFETY: the ranges of different blocks are disjoint.
                job(unsafe { out.block(by_rows, start, n) }, start, n);
            }
        });
    }
}

/// `len` rows or columns cut into aligned blocks for `threads`: (blocks, rows or columns per
/// block, the last one shorter).
fn cut(len: usize, align: usize, threads: usize) -> (usize, usize) {
    let share = len.div_ceil(threads * BLOCKS_PER_THREAD).div_ceil(align) * align;
    let blocks = len.div_ceil(share).min(team::MAX_CHUNKS);
    (blocks, len.div_ceil(blocks).div_ceil(align) * align)
}

/// Whether to cut C (`rows × cols`) into row blocks rather than column blocks. Each block
/// shares the operand along the other dimension (every thread packs its own copy of it), so
/// cutting the longer side duplicates the smaller operand: the conv layers' tall
/// `im2col(x)·Wᵀ` (6,272 × 64) is cut into rows, the burst pass's wide `δ·W` (800 × 1,600) into
/// columns. Unless the longer side cuts unevenly and the other evenly: the weight update of
/// the first CIFAR-10 layer (64 × 75) goes 32 + 32 by rows, not 64 + 11 by columns.
fn by_rows(rows: usize, cols: usize, threads: usize) -> bool {
    // The largest block's share of the work, relative to an even cut (1 = even).
    let spread = |len: usize, align: usize| {
        if len <= align {
            return f64::INFINITY;
        }
        let (_, share) = cut(len, align, threads);
        share.min(len) as f64 * threads as f64 / len as f64
    };
    let (r, c) = (spread(rows, ALIGN_ROWS), spread(cols, ALIGN));
    if r < c * 0.9 {
        true
    } else if c < r * 0.9 {
        false
    } else {
        rows > cols
    }
}

impl Kernels for Parallel {
    fn name(&self) -> &'static str {
        self.name
    }

    fn gemm_nt(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, c: MatMut) {
        check_nt(&a, &b, &c);
        let work = a.rows * b.rows * a.cols;
        if by_rows(c.rows, c.cols, self.team.threads()) {
            self.split(work, c.rows, true, c, &|c, start, len| self.inner.gemm_nt(alpha, a.rows_range(start, len), b, beta, c));
        } else {
            self.split(work, c.cols, false, c, &|c, start, len| self.inner.gemm_nt(alpha, a, b.rows_range(start, len), beta, c));
        }
    }

    fn gemm_nn(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, c: MatMut) {
        check_nn(&a, &b, &c);
        let work = a.rows * b.cols * a.cols;
        if by_rows(c.rows, c.cols, self.team.threads()) {
            self.split(work, c.rows, true, c, &|c, start, len| self.inner.gemm_nn(alpha, a.rows_range(start, len), b, beta, c));
        } else {
            self.split(work, c.cols, false, c, &|c, start, len| self.inner.gemm_nn(alpha, a, b.cols_range(start, len), beta, c));
        }
    }

    fn gemm_tn(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, c: MatMut) {
        check_tn(&a, &b, &c);
        let work = a.cols * b.cols * a.rows;
        if by_rows(c.rows, c.cols, self.team.threads()) {
            self.split(work, c.rows, true, c, &|c, start, len| self.inner.gemm_tn(alpha, a.cols_range(start, len), b, beta, c));
        } else {
            self.split(work, c.cols, false, c, &|c, start, len| self.inner.gemm_tn(alpha, a, b.cols_range(start, len), beta, c));
        }
    }

    fn bias_sigmoid(&self, bias: &[f32], x: &mut [f32]) {
        let n = bias.len();
        if n == 0 {
            return;
        }
        let rows = x.len() / n;
        for_item_blocks(self, rows, n * SIGMOID_WORK, [(x, n)], &|_, _, [x]| self.inner.bias_sigmoid(bias, x));
    }

    fn for_blocks(&self, items: usize, work: usize, job: &(dyn Fn(usize, usize) + Sync)) {
        let threads = self.team.threads();
        if items == 0 {
            return;
        }
        if work < MIN_SPLIT_VALUES || items < 2 || threads < 2 {
            return job(0, items);
        }
        let blocks = (threads * BLOCKS_PER_THREAD).min(items).min(team::MAX_CHUNKS);
        let share = items.div_ceil(blocks);
        self.team.run(blocks, &|b| {
            let first = (b * share).min(items);
            let count = share.min(items - first);
            if count > 0 {
                job(first, count);
            }
        });
    }
}
