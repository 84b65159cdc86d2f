//! Cache blocking and packing for the SIMD matrix products (BLIS / matrixmultiply style), one
//! driver for every layout and every SIMD flavour; the flavours supply only a register-blocked
//! micro-kernel ([`MicroKernel`]).
//!
//! `C (m×n) ← β·C + α·op(A)·op(B)`, where op(A)(i, p) is at `a + i·a_rs + p·a_ks` and
//! op(B)(p, j) at `b + p·b_ks + j·b_cs`: `A·B`, `Aᵀ·B` and `A·Bᵀ` differ only in these strides.
//!
//! Loops, outermost first:
//! 1. columns of C in blocks of [`NC`];
//! 2. the summed dimension in panels of [`KC`]: the `KC × NC` block of op(B) is packed into
//!    `NR`-column micro-panels, contiguous and zero-padded (so edge tiles read no memory they
//!    should not, and no row stride of B can make its rows collide in the cache), and stays in
//!    L2;
//! 3. rows of C in blocks of [`MC`] (packed first when A's layout needs it);
//! 4. `MR`-row tiles of A, kept in L1 ...
//! 5. ... against every micro-panel of the B block, streamed from L2.
//!
//! The micro-kernel loads B as vectors and broadcasts A, so B is the operand streamed and A the
//! one held (BLIS's roles, which broadcast from B, swapped). The other order — a micro-panel of
//! B held in L1 against the tiles of A — measured up to 2.4× slower for short k (the weight
//! updates, k = 32) and never faster.
//!
//! A is read in place where its layout already gives the micro-kernel one stride per step (rows
//! of A for `A·B` / `A·Bᵀ`, columns for `Aᵀ·B`); only a tile at the bottom edge, with fewer
//! than `MR` rows, is copied into a zero-padded panel. Any other layout of A is packed.
//!
//! The k panels are always cut at multiples of [`KC`] from 0 and every tile sums its panel in
//! order, so each element of C gets the same value whatever block of C it is computed in: a
//! product split across threads equals the single-threaded one bit for bit.

#[cfg(not(feature = "std"))]
use alloc::vec::Vec;

/// Steps of the summed dimension per panel: a tile's `MR × KC` values of A (6–8 KiB) stay in
/// L1 while it passes the B block. 192, 384 and 512 (with NC = 1024, 768, 512) measured the
/// same within the noise on the CIFAR-10 shapes; fewer panels mean fewer passes over C.
pub(crate) const KC: usize = 256;
/// Columns of C per packed block of B: `KC × NC` floats (1 MiB) stay in L2 (2 MiB per core on
/// the development machine; half of it is left for A and C).
pub(crate) const NC: usize = 1024;
/// Rows of C per block of A: a packed `MC × KC` block (144 KiB) stays in L2. A multiple of every
/// MR used (6, 8).
pub(crate) const MC: usize = 144;

/// How a micro-kernel reads op(A)(r, p) for the rows r of its tile.
pub(crate) mod a_layout {
    /// Packed: `a[p·MR + r]`.
    pub const PACKED: u8 = 0;
    /// Rows of A in place (`A·B`, `A·Bᵀ`): `a[r·lda + p]`.
    pub const ROWS: u8 = 1;
    /// Columns of A in place (`Aᵀ·B`): `a[p·lda + r]`.
    pub const COLS: u8 = 2;
}

/// A register-blocked micro-kernel: an `MR × NR` tile of C from `kc` steps of rank-1 updates,
/// each a column of `MR` values of op(A) (broadcast) times a row of `NR` values of packed B.
pub(crate) trait MicroKernel {
    /// Rows of C per tile.
    const MR: usize;
    /// Columns of C per tile (whole vectors).
    const NR: usize;

    /// `C[r, j] ← α·Σ_p op(A)(r, p)·bp[p·NR + j] (+ β·C[r, j] unless β = 0)` for r < `rows`,
    /// j < `cols`; A read as `AL` says ([`a_layout`]). All MR rows of A must be readable.
    ///
    /// # Safety
    /// The pointers must cover the tile as described; the CPU must have the kernel's features.
    #[allow(clippy::too_many_arguments)]
    unsafe fn tile<const AL: u8>(kc: usize, a: *const f32, lda: usize, bp: *const f32, alpha: f32, beta: f32, c: *mut f32, ldc: usize, rows: usize, cols: usize);

    /// `dst[p·NR + j] = op(B)(p, j)` for j < `cols`, 0 for `cols ≤ j < NR`, p < `kc`.
    ///
    /// # Safety
    /// `b` must cover the kc × cols block through the strides; `dst` holds kc·NR values.
    #[inline(always)]
    unsafe fn pack_b(kc: usize, b: *const f32, b_ks: usize, b_cs: usize, cols: usize, dst: *mut f32) {
        pack_b_portable(Self::NR, kc, b, b_ks, b_cs, cols, dst)
    }

    /// `dst[p·MR + r] = op(A)(r, p)` for r < `rows`, 0 for `rows ≤ r < MR`, p < `kc`.
    ///
    /// # Safety
    /// `a` must cover the rows × kc block through the strides; `dst` holds kc·MR values.
    #[inline(always)]
    unsafe fn pack_a(kc: usize, a: *const f32, a_rs: usize, a_ks: usize, rows: usize, dst: *mut f32) {
        pack_a_portable(Self::MR, kc, a, a_rs, a_ks, rows, dst)
    }
}

/// [`MicroKernel::pack_b`] in plain loops (the compiler vectorises the unit-stride case).
#[inline(always)]
pub(crate) unsafe fn pack_b_portable(nr: usize, kc: usize, b: *const f32, b_ks: usize, b_cs: usize, cols: usize, dst: *mut f32) {
    for p in 0..kc {
        let d = dst.add(p * nr);
        let s = b.add(p * b_ks);
        if b_cs == 1 {
            core::ptr::copy_nonoverlapping(s, d, cols);
        } else {
            for j in 0..cols {
                *d.add(j) = *s.add(j * b_cs);
            }
        }
        for j in cols..nr {
            *d.add(j) = 0.0;
        }
    }
}

/// [`MicroKernel::pack_a`] in plain loops.
#[inline(always)]
pub(crate) unsafe fn pack_a_portable(mr: usize, kc: usize, a: *const f32, a_rs: usize, a_ks: usize, rows: usize, dst: *mut f32) {
    for p in 0..kc {
        let d = dst.add(p * mr);
        let s = a.add(p * a_ks);
        for r in 0..rows {
            *d.add(r) = *s.add(r * a_rs);
        }
        for r in rows..mr {
            *d.add(r) = 0.0;
        }
    }
}

/// `C ← β·C` (β = 0 writes zeros, so NaN in C does not survive): the product when k = 0.
unsafe fn scale(m: usize, n: usize, beta: f32, c: *mut f32, ldc: usize) {
    for i in 0..m {
        let row = core::slice::from_raw_parts_mut(c.add(i * ldc), n);
        if beta == 0.0 {
            row.fill(0.0);
        } else if beta != 1.0 {
            row.iter_mut().for_each(|x| *x *= beta);
        }
    }
}

/// Floats of scratch a product of this size needs: the packed B block, then room for a packed A
/// block (or one edge tile when A is read in place), 64-byte aligned.
fn scratch_len(mr: usize, nr: usize, m: usize, n: usize, k: usize, pack_a: bool) -> (usize, usize) {
    let kc = KC.min(k);
    let b_len = NC.min(n).next_multiple_of(nr) * kc;
    let a_len = if pack_a { MC.min(m).next_multiple_of(mr) * kc } else { mr * kc };
    (b_len.next_multiple_of(16), a_len)
}

#[cfg(feature = "std")]
type Pool = std::thread::LocalKey<core::cell::Cell<Vec<f32>>>;
#[cfg(not(feature = "std"))]
type Pool = ();

#[cfg(feature = "std")]
std::thread_local! {
    /// Each thread's packing buffer, kept between products (it grows to the largest needed).
    static SCRATCH: core::cell::Cell<Vec<f32>> = const { core::cell::Cell::new(Vec::new()) };
    /// Each thread's buffer for the transposed C of [`gemm_transposed`].
    static CT_SCRATCH: core::cell::Cell<Vec<f32>> = const { core::cell::Cell::new(Vec::new()) };
}
#[cfg(not(feature = "std"))]
static SCRATCH: Pool = ();
#[cfg(not(feature = "std"))]
static CT_SCRATCH: Pool = ();

/// A 64-byte aligned scratch buffer of floats (contents undefined), returned to this thread's
/// pool when dropped. (A guard rather than a closure: a closure's body would be compiled
/// without the caller's SIMD features, leaving every intrinsic an out-of-line call.)
struct Scratch {
    buf: Vec<f32>,
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pool: &'static Pool,
}

impl Scratch {
    fn take(len: usize) -> Scratch {
        Scratch::take_for(&SCRATCH, len)
    }

    fn take_for(pool: &'static Pool, len: usize) -> Scratch {
        #[cfg(feature = "std")]
        let mut buf = pool.with(|s| s.take());
        #[cfg(not(feature = "std"))]
        let mut buf: Vec<f32> = Vec::new();
        if buf.capacity() < len + 16 {
            buf = Vec::with_capacity(len + 16);
        }
        Scratch { buf, pool }
    }

    fn ptr(&mut self) -> *mut f32 {
        let p = self.buf.as_mut_ptr();
        // Up to the next 64-byte boundary (0..15 floats; the capacity has 16 to spare).
        p.wrapping_add(p.align_offset(64).min(15))
    }
}

#[cfg(feature = "std")]
impl Drop for Scratch {
    fn drop(&mut self) {
        let buf = core::mem::take(&mut self.buf);
        self.pool.with(|s| s.set(buf));
    }
}

/// C may have at most this many rows for [`transposed_pays`].
pub(crate) const SHORT_M: usize = 32;

/// Whether `C (m × n) ← β·C + α·op(A)·op(B)` is better computed as `Cᵀ ← op(B)ᵀ·op(A)ᵀ`: when C
/// has few rows and many columns, op(B) (n × k, a dense layer's weights) is the big operand.
/// Directly, the driver packs all of it for every product, a full copy of the weights for a
/// product that uses each weight only m times; transposed, op(B)ᵀ is the A side, read in place,
/// and only the small op(A) is packed. (The CIFAR-10 net's 2,304 → 1,480 layer at batch 32:
/// see `burstccn bench --model paper-cifar --breakdown`.)
pub(crate) fn transposed_pays(m: usize, n: usize, k: usize, b_ks: usize) -> bool {
    // Only where op(B)ᵀ's rows are contiguous (`A·Bᵀ`, b_ks = 1): read in place by rows. For
    // `A·B`, op(B)ᵀ would be read down columns, a cache line per value (measured 3× slower),
    // and packing a row-major B is a plain copy anyway.
    b_ks == 1 && m <= SHORT_M && n >= 4 * m && k >= 64
}

/// The signature of a product by strides (what [`gemm`] takes).
pub(crate) type StridedGemm = unsafe fn(usize, usize, usize, f32, *const f32, usize, usize, *const f32, usize, usize, f32, *mut f32, usize);

/// `C ← β·C + α·op(A)·op(B)` computed as `Cᵀ ← β·Cᵀ + α·op(B)ᵀ·op(A)ᵀ` by `inner` into a
/// scratch Cᵀ, then copied back. Every element gets exactly the arithmetic it gets directly: the
/// same products summed in the same order in the same panels (a·b = b·a in each fused
/// multiply-add), and β applied to the old C in the first panel (Cᵀ starts as a copy of C), so
/// the two ways agree bit for bit.
///
/// # Safety
/// As for [`gemm`]; `inner` must be callable on this CPU.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn gemm_transposed(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: *const f32,
    a_rs: usize,
    a_ks: usize,
    b: *const f32,
    b_ks: usize,
    b_cs: usize,
    beta: f32,
    c: *mut f32,
    ldc: usize,
    inner: StridedGemm,
) {
    let mut scratch = Scratch::take_for(&CT_SCRATCH, n * m);
    let ct = scratch.ptr();
    if beta != 0.0 {
        for i in 0..m {
            for j in 0..n {
                *ct.add(j * m + i) = *c.add(i * ldc + j);
            }
        }
    }
    // op(B)ᵀ(j, p) = op(B)(p, j) = b[p·b_ks + j·b_cs]; op(A)ᵀ(p, i) = a[i·a_rs + p·a_ks].
    inner(n, m, k, alpha, b, b_cs, b_ks, a, a_ks, a_rs, beta, ct, m);
    for i in 0..m {
        for j in 0..n {
            *c.add(i * ldc + j) = *ct.add(j * m + i);
        }
    }
}

/// `C ← β·C + α·op(A)·op(B)` with strides as in the module docs, by micro-kernel `K`.
///
/// # Safety
/// The strides must describe valid m × k, k × n and m × n views; C must not overlap A or B; the
/// CPU must have `K`'s features (call from a function compiled with them).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) unsafe fn gemm<K: MicroKernel>(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: *const f32,
    a_rs: usize,
    a_ks: usize,
    b: *const f32,
    b_ks: usize,
    b_cs: usize,
    beta: f32,
    c: *mut f32,
    ldc: usize,
) {
    use a_layout::*;
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        return scale(m, n, beta, c, ldc);
    }
    let (mr, nr) = (K::MR, K::NR);
    let layout = if a_rs == 1 {
        COLS
    } else if a_ks == 1 {
        ROWS
    } else {
        PACKED
    };
    let (b_len, a_len) = scratch_len(mr, nr, m, n, k, layout == PACKED);
    let mut scratch = Scratch::take(b_len + a_len);
    let bp = scratch.ptr();
    let ap = bp.add(b_len);
    {
        for jc in (0..n).step_by(NC) {
            let nc = NC.min(n - jc);
            for pc in (0..k).step_by(KC) {
                let kc = KC.min(k - pc);
                // The first panel applies β; later ones add to what is there.
                let beta_p = if pc == 0 { beta } else { 1.0 };
                let b_blk = b.add(pc * b_ks + jc * b_cs);
                if b_cs == 1 {
                    // Rows of B are contiguous: copy them row by row, so memory is read in
                    // sequence (the hardware prefetcher follows it) and scattered into the panels.
                    for p in 0..kc {
                        for jr in (0..nc).step_by(nr) {
                            K::pack_b(1, b_blk.add(p * b_ks + jr), b_ks, 1, nr.min(nc - jr), bp.add(jr * kc + p * nr));
                        }
                    }
                } else {
                    for jr in (0..nc).step_by(nr) {
                        K::pack_b(kc, b_blk.add(jr * b_cs), b_ks, b_cs, nr.min(nc - jr), bp.add(jr * kc));
                    }
                }
                for ic in (0..m).step_by(MC) {
                    let mc = MC.min(m - ic);
                    let a_blk = a.add(ic * a_rs + pc * a_ks);
                    let full = mc / mr * mr;
                    if layout == PACKED {
                        for ir in (0..mc).step_by(mr) {
                            K::pack_a(kc, a_blk.add(ir * a_rs), a_rs, a_ks, mr.min(mc - ir), ap.add(ir * kc));
                        }
                    } else if full < mc {
                        K::pack_a(kc, a_blk.add(full * a_rs), a_rs, a_ks, mc - full, ap);
                    }
                    // The tile's rows of A stay in L1 while the micro-panels of B stream from L2.
                    for ir in (0..mc).step_by(mr) {
                        let rows = mr.min(mc - ir);
                        let c_row = c.add((ic + ir) * ldc + jc);
                        for jr in (0..nc).step_by(nr) {
                            let cols = nr.min(nc - jr);
                            let (bpan, ct) = (bp.add(jr * kc), c_row.add(jr));
                            if layout == PACKED {
                                K::tile::<PACKED>(kc, ap.add(ir * kc), 0, bpan, alpha, beta_p, ct, ldc, rows, cols);
                            } else if rows < mr {
                                K::tile::<PACKED>(kc, ap, 0, bpan, alpha, beta_p, ct, ldc, rows, cols);
                            } else if layout == ROWS {
                                K::tile::<ROWS>(kc, a_blk.add(ir * a_rs), a_rs, bpan, alpha, beta_p, ct, ldc, mr, cols);
                            } else {
                                K::tile::<COLS>(kc, a_blk.add(ir * a_rs), a_ks, bpan, alpha, beta_p, ct, ldc, mr, cols);
                            }
                        }
                    }
                }
            }
        }
    }
}
