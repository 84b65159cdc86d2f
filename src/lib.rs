//! BurstCCN — "Single-phase deep learning in cortico-cortical networks"
//! (Greedy, Zhu, Pemberton, Mellor, Costa; NeurIPS 2022), as a small, fast engine.
//!
//! Layout (data flows one way: data → model → flat buffers → whoever draws them):
//! - [`model`]: the discrete-time BurstCCN and the two rules it is compared with
//!   (backprop, feedback alignment), all state in flat `f32` buffers. `no_std` + `alloc`.
//! - [`kernels`]: the matrix products and element-wise maps the model calls, behind one
//!   small trait, with a scalar reference and SIMD versions (x86-64 AVX2/FMA, wasm simd128,
//!   wasm relaxed-simd).
//! - [`data`]: MNIST IDX files (raw or gzip) read from bytes, kept as `u8`.
//! - [`snapshot`]: versioned export/import of configuration and every weight.
//! - [`stream`]: a training set that arrives in pieces (the page streams MNIST) and its first pass.
//! - `wasm` (feature `wasm`): the wasm-bindgen API the page's worker uses.
//!
//! The equations follow `SPEC.md`; every name is the paper's (event rate, burst
//! probability, burst rate, apical potential, baseline burst probability).
#![cfg_attr(not(feature = "std"), no_std)]
#![warn(missing_docs)]
// The threaded wasm build (nightly, shared memory) sleeps its pool workers with atomic wait.
#![cfg_attr(all(target_arch = "wasm32", target_feature = "atomics"), feature(stdarch_wasm_atomic_wait))]

extern crate alloc;

pub mod archive;
pub mod cifar;
pub mod continuous;
pub mod data;
pub mod error;
pub mod kernels;
pub mod model;
pub mod multiplex;
pub mod rng;
pub mod snapshot;
pub mod stream;
pub mod train;

#[cfg(all(feature = "wasm", target_arch = "wasm32"))]
pub mod wasm;
#[cfg(all(feature = "wasm", target_arch = "wasm32"))]
pub mod wasm_dynamics;
#[cfg(all(feature = "threads", target_arch = "wasm32"))]
pub mod wasm_threads;

pub use error::Error;
pub use model::{Config, FeedbackMode, Network, Rule};
