//! The numeric kernels the model calls: three matrix products over flat row-major buffers and
//! the fused bias + sigmoid of the forward pass.
//!
//! One trait, [`Kernels`]; each SIMD flavour is one type in its own file:
//! - [`scalar::Scalar`]: the plain, obviously-correct reference every other kernel is tested against;
//! - `avx2::Avx2Fma` (x86-64, chosen at run time when the CPU has AVX2 and FMA);
//! - `avx512::Avx512` (x86-64 with AVX-512F, preferred at run time);
//! - `simd128::Simd128` and `relaxed::RelaxedSimd` (wasm32, chosen at compile time by
//!   `cfg(target_feature)`: the page loads the relaxed build only where the browser has it);
//! - `parallel::Parallel` (native, feature `parallel`): splits any of them across the cores
//!   of a persistent `team::Team`.
//!
//! The x86-64 kernels share one cache-blocked, packed driver (`blocked.rs`, BLIS style); each
//! supplies only its register-blocked micro-kernel and packing routines.
//!
//! Conventions (BLAS-like): `C ← β·C + α·op(A)·op(B)`. When β = 0, C is *overwritten*
//! (NaN already in C does not leak through), which the tests check by pre-filling with NaN.

use core::marker::PhantomData;

pub mod conv;
pub mod scalar;
#[cfg(target_arch = "x86_64")]
pub mod avx2;
#[cfg(target_arch = "x86_64")]
pub mod avx512;
#[cfg(target_arch = "x86_64")]
mod blocked;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod simd128;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm_simd;
#[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
pub mod relaxed;
#[cfg(feature = "parallel")]
pub mod parallel;
#[cfg(feature = "parallel")]
pub mod team;
pub mod sigmoid;

/// A read-only row-major matrix view: element (r, c) is `data[r * stride + c]`.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a> {
    data: &'a [f32],
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Distance in elements between the starts of two rows (≥ cols).
    pub stride: usize,
}

impl<'a> MatRef<'a> {
    /// A dense rows × cols view of `data`. Panics if `data` is too short (a programming error).
    pub fn new(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self::strided(data, rows, cols, cols)
    }

    /// A view with an explicit row stride.
    pub fn strided(data: &'a [f32], rows: usize, cols: usize, stride: usize) -> Self {
        assert!(stride >= cols, "stride {stride} < cols {cols}");
        assert!(rows == 0 || data.len() >= (rows - 1) * stride + cols, "matrix view out of bounds");
        MatRef { data, rows, cols, stride }
    }

    /// Element (r, c).
    #[inline(always)]
    pub fn at(&self, r: usize, c: usize) -> f32 {
        self.data[r * self.stride + c]
    }

    /// Row r as a slice.
    #[inline(always)]
    pub fn row(&self, r: usize) -> &'a [f32] {
        &self.data[r * self.stride..r * self.stride + self.cols]
    }

    /// Pointer to the first element (for SIMD kernels).
    #[inline(always)]
    pub fn ptr(&self) -> *const f32 {
        self.data.as_ptr()
    }

    /// Columns `start..start + len` as a view (same rows and stride).
    pub fn cols_range(&self, start: usize, len: usize) -> MatRef<'a> {
        assert!(start + len <= self.cols);
        if self.rows == 0 || len == 0 {
            return MatRef { data: &self.data[..0], rows: self.rows, cols: len, stride: self.stride.max(len) };
        }
        MatRef::strided(&self.data[start..], self.rows, len, self.stride)
    }

    /// Rows `start..start + len` as a view.
    pub fn rows_range(&self, start: usize, len: usize) -> MatRef<'a> {
        assert!(start + len <= self.rows);
        if len == 0 {
            return MatRef { data: &self.data[..0], rows: 0, cols: self.cols, stride: self.stride };
        }
        MatRef::strided(&self.data[start * self.stride..], len, self.cols, self.stride)
    }
}

/// A mutable row-major matrix view. Holds a raw pointer so that disjoint column blocks of one
/// matrix can be handed to different threads ([`MatMut::split_cols`]).
#[derive(Debug)]
pub struct MatMut<'a> {
    ptr: *mut f32,
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Distance in elements between the starts of two rows (≥ cols).
    pub stride: usize,
    _life: PhantomData<&'a mut [f32]>,
}

// SAFETY: a MatMut is an exclusive borrow of its elements, like `&mut [f32]`.
unsafe impl Send for MatMut<'_> {}

impl<'a> MatMut<'a> {
    /// A dense rows × cols view of `data`.
    pub fn new(data: &'a mut [f32], rows: usize, cols: usize) -> Self {
        Self::strided(data, rows, cols, cols)
    }

    /// A view with an explicit row stride.
    pub fn strided(data: &'a mut [f32], rows: usize, cols: usize, stride: usize) -> Self {
        assert!(stride >= cols, "stride {stride} < cols {cols}");
        assert!(rows == 0 || data.len() >= (rows - 1) * stride + cols, "matrix view out of bounds");
        MatMut { ptr: data.as_mut_ptr(), rows, cols, stride, _life: PhantomData }
    }

    /// Pointer to the first element (for SIMD kernels).
    #[inline(always)]
    pub fn ptr(&mut self) -> *mut f32 {
        self.ptr
    }

    /// Row r as a mutable slice.
    #[inline(always)]
    pub fn row_mut(&mut self, r: usize) -> &mut [f32] {
        assert!(r < self.rows);
        // SAFETY: in bounds by construction; rows of one view never overlap (stride ≥ cols).
        unsafe { core::slice::from_raw_parts_mut(self.ptr.add(r * self.stride), self.cols) }
    }

    /// Split into columns `[0, at)` and `[at, cols)`: two views of disjoint elements.
    pub fn split_cols(self, at: usize) -> (MatMut<'a>, MatMut<'a>) {
        assert!(at <= self.cols);
        let left = MatMut { ptr: self.ptr, rows: self.rows, cols: at, stride: self.stride, _life: PhantomData };
        // SAFETY: `at ≤ cols ≤ stride`, so the pointer stays within (or one past) row 0.
        let right = MatMut {
            ptr: unsafe { self.ptr.add(at) },
            rows: self.rows,
            cols: self.cols - at,
            stride: self.stride,
            _life: PhantomData,
        };
        (left, right)
    }

    /// The block of rows `r0..r0 + rows` and columns `c0..c0 + cols`, borrowed from this view.
    pub fn sub(&mut self, r0: usize, rows: usize, c0: usize, cols: usize) -> MatMut<'_> {
        assert!(r0 + rows <= self.rows && c0 + cols <= self.cols, "sub-view out of bounds");
        // SAFETY: the block lies inside this view (checked above), which we borrow mutably.
        let ptr = if rows == 0 || cols == 0 { self.ptr } else { unsafe { self.ptr.add(r0 * self.stride + c0) } };
        MatMut { ptr, rows, cols, stride: self.stride, _life: PhantomData }
    }

    /// Split into rows `[0, at)` and `[at, rows)`.
    pub fn split_rows(self, at: usize) -> (MatMut<'a>, MatMut<'a>) {
        assert!(at <= self.rows);
        let top = MatMut { ptr: self.ptr, rows: at, cols: self.cols, stride: self.stride, _life: PhantomData };
        // SAFETY: at ≤ rows, so the offset is within (or one past) the view.
        let bottom = MatMut {
            ptr: unsafe { self.ptr.add(at * self.stride) },
            rows: self.rows - at,
            cols: self.cols,
            stride: self.stride,
            _life: PhantomData,
        };
        (top, bottom)
    }
}

/// The kernel family. All products use row-major views; shapes are checked by the callers in
/// [`check_nt`], [`check_nn`], [`check_tn`] (a mismatch is a bug in the caller, so it panics).
pub trait Kernels: Send + Sync {
    /// A short name: "scalar", "avx2", "simd128", "relaxed-simd", "…×2 threads".
    fn name(&self) -> &'static str;

    /// `C (m×n) ← β·C + α·A·Bᵀ` with A m×k and B n×k: the forward pass `e_{l-1} W_lᵀ`.
    fn gemm_nt(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, c: MatMut);

    /// `C (m×n) ← β·C + α·A·B` with A m×k and B k×n: the apical potential `b_{l+1} Y_l`
    /// and the backprop/FA deltas.
    fn gemm_nn(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, c: MatMut);

    /// `C (m×n) ← β·C + α·Aᵀ·B` with A k×m and B k×n: the weight update `W += η δᵀ e / B`
    /// (β = 1 − η·weight_decay), fused so W is read and written once.
    fn gemm_tn(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, c: MatMut);

    /// `x[r, j] ← σ(x[r, j] + bias[j])` for a rows × bias.len() dense matrix.
    fn bias_sigmoid(&self, bias: &[f32], x: &mut [f32]) {
        sigmoid::bias_sigmoid_portable(bias, x)
    }

    /// Run `job(first, count)` over blocks that together cover the items `0..items` exactly
    /// once, `work` being about how many values the whole job reads or writes. Here: one block
    /// on this thread. Kernels with a team of threads (`parallel.rs`) share the blocks among
    /// them when the work is large enough to pay for waking the team. The elementwise passes
    /// and `im2col`/`col2im` go through [`for_item_blocks`], which calls this.
    fn for_blocks(&self, items: usize, work: usize, job: &(dyn Fn(usize, usize) + Sync)) {
        let _ = work;
        if items > 0 {
            job(0, items)
        }
    }
}

/// The cost of one sigmoid in [`Kernels::for_blocks`]' work units (values touched): about what
/// four copies cost.
pub const SIGMOID_WORK: usize = 4;

/// One output buffer of [`for_item_blocks`], as raw parts so disjoint blocks of it can be
/// handed to different threads.
#[derive(Clone, Copy)]
struct BlockOut {
    ptr: *mut f32,
    item_len: usize,
}

// SAFETY: only used by `for_item_blocks` to build non-overlapping slices, one set per block,
// while the caller's exclusive borrows are held.
unsafe impl Send for BlockOut {}
unsafe impl Sync for BlockOut {}

/// The per-block job of [`for_item_blocks`]: `(first item, item count, the N output blocks)`.
pub type ItemBlockJob<'a, const N: usize> = dyn Fn(usize, usize, [&mut [f32]; N]) + Sync + 'a;

/// `f(first, count, blocks)` over the items `0..items`, cut into blocks by
/// [`Kernels::for_blocks`]: `blocks[i]` is items `first..first + count` of `outs[i]`, which holds
/// `item_len` values per item (given with each buffer). Read-only inputs are captured by `f` and
/// indexed with `first`. `work_per_item` is about the values one item touches. Each value is
/// computed by the same code whatever the cut, so the results never depend on the threads.
///
/// Panics if a buffer holds fewer than `items · item_len` values.
pub fn for_item_blocks<const N: usize>(
    kern: &dyn Kernels,
    items: usize,
    work_per_item: usize,
    outs: [(&mut [f32], usize); N],
    f: &ItemBlockJob<'_, N>,
) {
    let mut outs = outs;
    // The exclusive borrows in `outs` are held until we return, so nobody else sees the buffers.
    let parts: [BlockOut; N] = core::array::from_fn(|i| {
        let (buf, item_len) = (&mut *outs[i].0, outs[i].1);
        assert!(buf.len() >= items * item_len, "for_item_blocks: buffer {i} holds {} values, needs {}", buf.len(), items * item_len);
        BlockOut { ptr: buf.as_mut_ptr(), item_len }
    });
    kern.for_blocks(items, items.saturating_mul(work_per_item), &|first, count| {
        assert!(first + count <= items, "for_blocks gave a block past the end");
        // SAFETY: blocks never overlap (for_blocks covers each item once) and lie inside the
        // buffers (checked above); the buffers are exclusively borrowed for this call.
        let blocks = parts.map(|b| unsafe { core::slice::from_raw_parts_mut(b.ptr.add(first * b.item_len), count * b.item_len) });
        f(first, count, blocks)
    });
}

/// Shapes of `C ← β C + α A Bᵀ`.
#[inline]
pub fn check_nt(a: &MatRef, b: &MatRef, c: &MatMut) {
    assert!(a.cols == b.cols && c.rows == a.rows && c.cols == b.rows, "gemm_nt shape mismatch");
}

/// Shapes of `C ← β C + α A B`.
#[inline]
pub fn check_nn(a: &MatRef, b: &MatRef, c: &MatMut) {
    assert!(a.cols == b.rows && c.rows == a.rows && c.cols == b.cols, "gemm_nn shape mismatch");
}

/// Shapes of `C ← β C + α Aᵀ B`.
#[inline]
pub fn check_tn(a: &MatRef, b: &MatRef, c: &MatMut) {
    assert!(a.rows == b.rows && c.rows == a.cols && c.cols == b.cols, "gemm_tn shape mismatch");
}

/// `c ← β·c + α·acc`, with β = 0 meaning overwrite (so a NaN already in c is dropped).
#[inline(always)]
pub(crate) fn blend(c: f32, beta: f32, alpha: f32, acc: f32) -> f32 {
    if beta == 0.0 { alpha * acc } else { beta * c + alpha * acc }
}

static SCALAR: scalar::Scalar = scalar::Scalar;

/// The plain reference kernels.
pub fn scalar() -> &'static dyn Kernels {
    &SCALAR
}

/// The fastest single-threaded kernels for this CPU / this wasm build.
pub fn best_single() -> &'static dyn Kernels {
    #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
    {
        return &relaxed::RelaxedSimd;
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128", not(target_feature = "relaxed-simd")))]
    {
        return &simd128::Simd128;
    }
    #[cfg(target_arch = "x86_64")]
    {
        if let Some(k) = avx512::Avx512::detect() {
            return k;
        }
        if let Some(k) = avx2::Avx2Fma::detect() {
            return k;
        }
    }
    #[allow(unreachable_code)]
    scalar()
}

/// The fastest kernels overall: [`best_single`] split across all cores where that is available.
pub fn best() -> &'static dyn Kernels {
    #[cfg(feature = "parallel")]
    {
        if let Some(k) = parallel::shared(best_single()) {
            return k;
        }
    }
    best_single()
}

/// Kernels by name, for benchmarks and the CLI's `--kernels`: "scalar", "avx2", "avx512", "simd128",
/// "relaxed-simd", "best", with an optional "-threads" suffix for the multi-core version.
pub fn by_name(name: &str) -> Option<&'static dyn Kernels> {
    let (base, threaded) = match name.strip_suffix("-threads") {
        Some(b) => (b, true),
        None => (name, false),
    };
    let single: &'static dyn Kernels = match base {
        "scalar" => scalar(),
        "best" => return Some(best()),
        #[cfg(target_arch = "x86_64")]
        "avx2" => avx2::Avx2Fma::detect()?,
        #[cfg(target_arch = "x86_64")]
        "avx512" => avx512::Avx512::detect()?,
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        "simd128" => &simd128::Simd128,
        #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
        "relaxed-simd" => &relaxed::RelaxedSimd,
        _ => return None,
    };
    if threaded {
        #[cfg(feature = "parallel")]
        return parallel::shared(single);
        #[cfg(not(feature = "parallel"))]
        return None;
    }
    Some(single)
}

/// Names accepted by [`by_name`] on this build and machine.
pub fn available() -> alloc::vec::Vec<&'static str> {
    let mut v = alloc::vec!["scalar"];
    #[cfg(target_arch = "x86_64")]
    if avx2::Avx2Fma::detect().is_some() {
        v.push("avx2");
    }
    #[cfg(target_arch = "x86_64")]
    if avx512::Avx512::detect().is_some() {
        v.push("avx512");
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    v.push("simd128");
    #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
    v.push("relaxed-simd");
    #[cfg(feature = "parallel")]
    if team::global().threads() > 1 {
        let singles = v.clone();
        for s in singles {
            v.push(match s {
                "scalar" => "scalar-threads",
                "avx2" => "avx2-threads",
                "avx512" => "avx512-threads",
                "simd128" => "simd128-threads",
                "relaxed-simd" => "relaxed-simd-threads",
                _ => continue,
            });
        }
    }
    v
}
