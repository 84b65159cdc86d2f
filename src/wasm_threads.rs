//! The threaded browser build (feature `threads`, wasm32 with shared memory and atomics): the
//! hooks `www/threads.js` uses to give the engine's thread team its Web Workers.
//!
//! The page's training worker instantiates the module on a shared `WebAssembly.Memory`, then
//! starts `n − 1` pool workers that instantiate the same module on the same memory and call
//! [`threads_join`]; once [`threads_count`] says they are all in, engines built from then on
//! split every large matrix product across them (`kernels::parallel`, as natively), each part
//! summed in the same order as on one thread, so results equal the single-threaded build's.
//! No separate API: the same `Engine` as `src/wasm.rs`.

use wasm_bindgen::prelude::*;

use crate::kernels::team;

/// Join the engine's thread team and run its share of every split product, forever. Called
/// by each pool worker (never by the worker that owns the Engine); blocks that Web Worker.
#[wasm_bindgen(js_name = threadsJoin)]
pub fn threads_join() {
    team::join_global()
}

/// Threads in the team now: the calling (engine) thread plus the pool workers that joined.
#[wasm_bindgen(js_name = threadsCount)]
pub fn threads_count() -> u32 {
    team::global().threads() as u32
}

/// Blocks of split products the pool workers have run so far (0: nothing ran on them).
#[wasm_bindgen(js_name = threadsWorkerBlocks)]
pub fn threads_worker_blocks() -> f64 {
    team::global().worker_chunks() as f64
}
