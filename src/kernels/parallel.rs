//! Multi-core kernels (native, feature `parallel`): each product is cut into as many column
//! (or row) blocks of the output as there are threads, run with rayon, each block by the
//! single-threaded kernel. Small products stay on one core, where splitting costs more than it saves.

use alloc::boxed::Box;
use alloc::format;
use alloc::vec::Vec;
use std::sync::Mutex;

use super::{check_nn, check_nt, check_tn, Kernels, MatMut, MatRef};

/// Products below this many multiply-adds run on one thread.
const MIN_SPLIT_WORK: usize = 1 << 16;
/// Split points are multiples of this (keeps the SIMD tiles full: 24 = 3 vectors of 8).
const ALIGN: usize = 24;

/// `inner` split across `threads` threads.
pub struct Parallel {
    inner: &'static dyn Kernels,
    threads: usize,
    name: &'static str,
}

static CACHE: Mutex<Vec<(&'static str, &'static Parallel)>> = Mutex::new(Vec::new());

/// The multi-threaded version of `inner` using rayon's global pool, if it has more than one thread.
pub fn shared(inner: &'static dyn Kernels) -> Option<&'static dyn Kernels> {
    let threads = rayon::current_num_threads();
    if threads < 2 {
        return None;
    }
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, k)) = cache.iter().find(|(n, _)| *n == inner.name()) {
        return Some(*k);
    }
    let name: &'static str = Box::leak(format!("{}-threads", inner.name()).into_boxed_str());
    let k: &'static Parallel = Box::leak(Box::new(Parallel { inner, threads, name }));
    cache.push((inner.name(), k));
    Some(k)
}

impl Parallel {
    /// Where to cut `len` into `parts` pieces: the first piece's length, aligned.
    fn first_part(len: usize, parts: usize) -> usize {
        let share = len.div_ceil(parts);
        (share.div_ceil(ALIGN) * ALIGN).min(len)
    }

    fn worth_splitting(&self, work: usize, len: usize) -> bool {
        self.threads > 1 && work >= MIN_SPLIT_WORK && len > ALIGN
    }
}

impl Kernels for Parallel {
    fn name(&self) -> &'static str {
        self.name
    }

    fn gemm_nt(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, c: MatMut) {
        check_nt(&a, &b, &c);
        split(self.threads, a.rows * b.rows * a.cols, b.rows, self, c, &|k, c, start, len| {
            k.inner.gemm_nt(alpha, a, b.rows_range(start, len), beta, c)
        }, MatMut::split_cols);
    }

    fn gemm_nn(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, c: MatMut) {
        check_nn(&a, &b, &c);
        split(self.threads, a.rows * b.cols * a.cols, b.cols, self, c, &|k, c, start, len| {
            k.inner.gemm_nn(alpha, a, b.cols_range(start, len), beta, c)
        }, MatMut::split_cols);
    }

    fn gemm_tn(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, c: MatMut) {
        check_tn(&a, &b, &c);
        split(self.threads, a.cols * b.cols * a.rows, a.cols, self, c, &|k, c, start, len| {
            k.inner.gemm_tn(alpha, a.cols_range(start, len), b, beta, c)
        }, MatMut::split_rows);
    }

    fn bias_sigmoid(&self, bias: &[f32], x: &mut [f32]) {
        self.inner.bias_sigmoid(bias, x)
    }
}

type Job<'a> = dyn Fn(&Parallel, MatMut, usize, usize) + Sync + 'a;

/// Run `job` on `parts` blocks of the output dimension `len` (columns or rows of C, cut by
/// `cut`), recursively halving with `rayon::join`.
fn split<'a>(
    parts: usize,
    work: usize,
    len: usize,
    k: &Parallel,
    c: MatMut<'a>,
    job: &Job<'_>,
    cut: fn(MatMut<'a>, usize) -> (MatMut<'a>, MatMut<'a>),
) {
    fn go<'a>(
        parts: usize,
        start: usize,
        len: usize,
        k: &Parallel,
        c: MatMut<'a>,
        job: &Job<'_>,
        cut: fn(MatMut<'a>, usize) -> (MatMut<'a>, MatMut<'a>),
    ) {
        if parts <= 1 || len <= ALIGN {
            return job(k, c, start, len);
        }
        let left_parts = parts / 2;
        let first = Parallel::first_part(len, parts) * left_parts;
        let first = first.min(len);
        if first == 0 || first == len {
            return job(k, c, start, len);
        }
        let (left, right) = cut(c, first);
        rayon::join(
            || go(left_parts, start, first, k, left, job, cut),
            || go(parts - left_parts, start + first, len - first, k, right, job, cut),
        );
    }
    if k.worth_splitting(work, len) {
        go(parts, 0, len, k, c, job, cut)
    } else {
        job(k, c, 0, len)
    }
}
