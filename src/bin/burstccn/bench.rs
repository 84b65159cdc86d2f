//! `burstccn bench`: training and inference samples/s, and the model's matrix products in
//! GFLOP/s, for every kernel variant in one run, against this CPU's measured FMA peak.
//!
//! Every figure is measured in interleaved rounds (each variant in turn, round after round) and
//! reported as the median with its range, so a slow spell of a shared machine hits all variants
//! alike. Single-threaded figures are also given per second of this thread's CPU time, which
//! other programs on the same cores barely disturb: on a busy machine those are the numbers to
//! compare kernels by; wall-clock figures are what a user waits for.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use burstccn::kernels::{self, Kernels, MatMut, MatRef};
use burstccn::model::{Config, Network};
use burstccn::rng::Random;
use clap::Args;
use serde_json::{json, Value};

use crate::ModelArgs;

#[derive(Args)]
pub struct BenchArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Kernel variants to compare (comma-separated). Default: every one available.
    #[arg(long, value_delimiter = ',')]
    kernels: Vec<String>,
    /// Seconds to measure each figure (split over the rounds).
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// Rounds: the variants are measured in turn, round after round, and the median is
    /// reported, so a slow spell of a shared machine does not favour one variant.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Threads for the parallel variants (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Skip the per-product GEMM figures.
    #[arg(long, conflicts_with = "gemm_only")]
    no_gemm: bool,
    /// Only the per-product GEMM figures (no training or inference).
    #[arg(long)]
    gemm_only: bool,
    /// Also time the matrix products inside each training step, to report which share of the
    /// step they take (the rest is im2col/col2im and the elementwise work).
    #[arg(long, conflicts_with = "gemm_only")]
    breakdown: bool,
}

/// Seconds of CPU time used so far by this thread (`None` where not available).
fn thread_cpu_seconds() -> Option<f64> {
    cpu_seconds(3) // CLOCK_THREAD_CPUTIME_ID
}

/// Seconds of CPU time used so far by all threads of this process.
fn process_cpu_seconds() -> Option<f64> {
    cpu_seconds(2) // CLOCK_PROCESS_CPUTIME_ID
}

#[cfg(target_os = "linux")]
fn cpu_seconds(clock: i32) -> Option<f64> {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    let mut ts = Timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: glibc's clock_gettime with a valid clock id and a pointer to a timespec
    // (64-bit time_t and long on x86-64 and aarch64 Linux).
    let ok = unsafe { clock_gettime(clock, &mut ts) } == 0;
    ok.then_some(ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9)
}

#[cfg(not(target_os = "linux"))]
fn cpu_seconds(_: i32) -> Option<f64> {
    None
}

/// Calls per second of wall-clock time, and per second of this thread's CPU time.
#[derive(Clone, Copy, Debug)]
struct Rate {
    wall: f64,
    cpu: Option<f64>,
}

/// Run `f` repeatedly for about `seconds`; return its calls per second.
fn rate(seconds: f64, mut f: impl FnMut()) -> Rate {
    f(); // warm up (and fault in memory)
    let budget = Duration::from_secs_f64(seconds);
    let cpu0 = thread_cpu_seconds();
    let start = Instant::now();
    let mut calls = 0u64;
    while start.elapsed() < budget || calls < 3 {
        f();
        calls += 1;
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu = match (cpu0, thread_cpu_seconds()) {
        (Some(a), Some(b)) if b > a => Some(calls as f64 / (b - a)),
        _ => None,
    };
    Rate { wall: calls as f64 / wall, cpu }
}

/// Multiply-add throughput of one core in GFLOP/s for AVX2 (8 lanes) and, where the CPU has
/// it, AVX-512 (16 lanes): 12 independent multiply-add chains each, so latency never limits.
#[derive(Clone, Copy, Debug)]
struct Peaks {
    avx2: Option<Rate>,
    avx512: Option<Rate>,
}

#[cfg(target_arch = "x86_64")]
fn fma_peaks(seconds: f64) -> Peaks {
    use std::arch::x86_64::*;
    #[target_feature(enable = "avx2,fma")]
    unsafe fn chains256(iters: u64) -> f32 {
        let mut acc = [_mm256_set1_ps(1.0); 12];
        let (m, a) = (_mm256_set1_ps(0.999_999), _mm256_set1_ps(1e-7));
        for _ in 0..iters {
            for v in acc.iter_mut() {
                *v = _mm256_fmadd_ps(*v, m, a);
            }
        }
        acc.iter().map(|&v| _mm_cvtss_f32(_mm256_castps256_ps128(v))).sum()
    }
    #[target_feature(enable = "avx512f")]
    unsafe fn chains512(iters: u64) -> f32 {
        let mut acc = [_mm512_set1_ps(1.0); 12];
        let (m, a) = (_mm512_set1_ps(0.999_999), _mm512_set1_ps(1e-7));
        for _ in 0..iters {
            for v in acc.iter_mut() {
                *v = _mm512_fmadd_ps(*v, m, a);
            }
        }
        acc.iter().map(|&v| _mm512_reduce_add_ps(v)).sum()
    }
    const ITERS: u64 = 1 << 18;
    let gflops = |lanes: f64, f: &dyn Fn(u64) -> f32| {
        let r = rate(seconds, || {
            std::hint::black_box(f(std::hint::black_box(ITERS)));
        });
        let per_call = ITERS as f64 * 12.0 * lanes * 2.0 / 1e9;
        Rate { wall: r.wall * per_call, cpu: r.cpu.map(|c| c * per_call) }
    };
    let avx2 = (is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"))
        .then(|| gflops(8.0, &|n| unsafe { chains256(n) }));
    let avx512 = is_x86_feature_detected!("avx512f").then(|| gflops(16.0, &|n| unsafe { chains512(n) }));
    Peaks { avx2, avx512 }
}

#[cfg(not(target_arch = "x86_64"))]
fn fma_peaks(_: f64) -> Peaks {
    Peaks { avx2: None, avx512: None }
}

fn random_vec(rng: &mut Random, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.uniform()).collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    /// `C ← A·Bᵀ`
    Nt,
    /// `C ← A·B`
    Nn,
    /// `C ← β·C + α·Aᵀ·B`
    Tn,
}

/// One matrix product of a training step: C is m × n, k the summed dimension.
#[derive(Clone, Debug)]
struct Product {
    layer: usize,
    role: &'static str,
    op: Op,
    m: usize,
    k: usize,
    n: usize,
}

impl Product {
    fn label(&self) -> String {
        let op = match self.op {
            Op::Nt => "A·Bᵀ",
            Op::Nn => "A·B",
            Op::Tn => "Aᵀ·B",
        };
        format!("layer {} {} {op} {}x{}x{}", self.layer + 1, self.role, self.m, self.k, self.n)
    }
}

/// The products one training step runs, per layer: the forward pass (`x·Wᵀ` for a dense layer,
/// `im2col(x)·Wᵀ` as `A·B` against the transposed kernels for a conv layer), the burst pass
/// through the layer onto the one below (`A·B`, every layer but the first) and the weight
/// update (`Aᵀ·B`, β = 1).
fn products(cfg: &Config) -> Vec<Product> {
    let b = cfg.batch_size;
    let mut out = Vec::new();
    for (layer, s) in cfg.shapes().iter().enumerate() {
        let (m, n_in, n_out, fwd) = match &s.conv {
            Some(g) => (b * g.positions(), g.window(), g.c_out, Op::Nn),
            None => (b, s.n_in, s.n_out, Op::Nt),
        };
        out.push(Product { layer, role: "forward", op: fwd, m, k: n_in, n: n_out });
        if layer > 0 {
            out.push(Product { layer, role: "burst pass", op: Op::Nn, m, k: n_out, n: n_in });
        }
        out.push(Product { layer, role: "update", op: Op::Tn, m: n_out, k: m, n: n_in });
    }
    out
}

/// Operands of one product, allocated once and shared by every variant.
struct Operands {
    a: Vec<f32>,
    b: Vec<f32>,
    c: Vec<f32>,
}

impl Operands {
    fn new(p: &Product, rng: &mut Random) -> Self {
        Operands { a: random_vec(rng, p.m * p.k), b: random_vec(rng, p.k * p.n), c: random_vec(rng, p.m * p.n) }
    }

    fn run(&mut self, k: &dyn Kernels, p: &Product) {
        let (m, kk, n) = (p.m, p.k, p.n);
        let c = MatMut::new(&mut self.c, m, n);
        match p.op {
            Op::Nt => k.gemm_nt(1.0, MatRef::new(&self.a, m, kk), MatRef::new(&self.b, n, kk), 0.0, c),
            Op::Nn => k.gemm_nn(1.0, MatRef::new(&self.a, m, kk), MatRef::new(&self.b, kk, n), 0.0, c),
            // Small α so the accumulated C stays finite however long the run.
            Op::Tn => k.gemm_tn(1e-6, MatRef::new(&self.a, kk, m), MatRef::new(&self.b, kk, n), 1.0, c),
        }
    }
}

/// Run `f` for about `seconds`; return the CPU seconds of each call (empty where this thread's
/// CPU time cannot be read).
fn call_cpu_times(seconds: f64, mut f: impl FnMut()) -> Vec<f64> {
    f();
    let mut times = Vec::new();
    let start = Instant::now();
    while start.elapsed().as_secs_f64() < seconds || times.len() < 3 {
        let (Some(t0), ()) = (thread_cpu_seconds(), f()) else { return Vec::new() };
        match thread_cpu_seconds() {
            Some(t1) if t1 > t0 => times.push(t1 - t0),
            _ => {}
        }
    }
    times
}

/// The `q`-quantile (0..=1) of the values.
fn quantile(v: &[f64], q: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[((s.len() - 1) as f64 * q).round() as usize]
}

/// Median of the measurements, and their (min, max).
fn median_and_spread(v: &[f64]) -> (f64, (f64, f64)) {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let mid = s.len() / 2;
    let median = if s.len() % 2 == 1 { s[mid] } else { 0.5 * (s[mid - 1] + s[mid]) };
    (median, (s[0], s[s.len() - 1]))
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// `{median, range}` of a series, scaled, rounded to 0.01.
fn summary(v: &[f64], scale: f64) -> Value {
    if v.is_empty() {
        return Value::Null;
    }
    let (m, (lo, hi)) = median_and_spread(v);
    json!({ "median": round2(m * scale), "range": [round2(lo * scale), round2(hi * scale)] })
}

/// A [`Kernels`] wrapper that adds up the time spent in the products, in all and per shape
/// (this thread's CPU time where it can be read, else wall-clock time).
struct Timed {
    inner: &'static dyn Kernels,
    nanos: AtomicU64,
    /// (shape, seconds, calls).
    shapes: Mutex<Vec<(Shape, f64, u64)>>,
}

/// A product's kind and size: (op, m, k, n).
type Shape = (Op, usize, usize, usize);

impl Timed {
    fn time<R>(&self, key: Shape, f: impl FnOnce() -> R) -> R {
        let (t, c) = (Instant::now(), thread_cpu_seconds());
        let r = f();
        let secs = match (c, thread_cpu_seconds()) {
            (Some(a), Some(b)) => b - a,
            _ => t.elapsed().as_secs_f64(),
        };
        self.nanos.fetch_add((secs * 1e9) as u64, Ordering::Relaxed);
        let mut shapes = self.shapes.lock().unwrap_or_else(|e| e.into_inner());
        match shapes.iter_mut().find(|s| s.0 == key) {
            Some(s) => {
                s.1 += secs;
                s.2 += 1;
            }
            None => shapes.push((key, secs, 1)),
        }
        r
    }
}

impl Kernels for Timed {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn gemm_nt(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, c: MatMut) {
        self.time((Op::Nt, c.rows, a.cols, c.cols), || self.inner.gemm_nt(alpha, a, b, beta, c))
    }
    fn gemm_nn(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, c: MatMut) {
        self.time((Op::Nn, c.rows, a.cols, c.cols), || self.inner.gemm_nn(alpha, a, b, beta, c))
    }
    fn gemm_tn(&self, alpha: f32, a: MatRef, b: MatRef, beta: f32, c: MatMut) {
        self.time((Op::Tn, c.rows, a.rows, c.cols), || self.inner.gemm_tn(alpha, a, b, beta, c))
    }
    fn bias_sigmoid(&self, bias: &[f32], x: &mut [f32]) {
        self.inner.bias_sigmoid(bias, x)
    }
    fn for_blocks(&self, items: usize, work: usize, job: &(dyn Fn(usize, usize) + Sync)) {
        self.inner.for_blocks(items, work, job)
    }
}

pub fn run(a: BenchArgs) -> Result<(), String> {
    crate::set_threads(a.threads)?;
    let cfg = a.model.burstccn_config()?;
    let names: Vec<String> = if a.kernels.is_empty() {
        kernels::available().into_iter().map(String::from).collect()
    } else {
        a.kernels.clone()
    };
    let flops = cfg.train_flops();
    let fwd_flops = cfg.forward_flops();
    let threads = burstccn::kernels::team::global().threads();
    let rounds = a.rounds.max(1);
    let slice = a.seconds / rounds as f64;
    let figures = if a.gemm_only { 1.0 } else { 2.0 } + if a.no_gemm { 0.0 } else { 1.0 };
    eprintln!("benchmarking {} kernels for about {:.0} s each, in {rounds} interleaved rounds…", names.len(), a.seconds * figures);

    struct Variant {
        kernels: &'static dyn Kernels,
        timed: Option<&'static Timed>,
        cores: usize,
        net: Option<Network>,
        train: Vec<f64>,
        train_cpu: Vec<f64>,
        train_process_cpu: Vec<f64>,
        inference: Vec<f64>,
        gemm_share: Vec<f64>,
        gemm: Vec<(Vec<f64>, Vec<f64>)>,
    }
    let prods = products(&cfg);
    let mut variants = Vec::new();
    let mut rng = Random::new(3, 3);
    let pixels: Vec<u8> = (0..cfg.batch_size * cfg.input_len()).map(|_| rng.below(256) as u8).collect();
    let outputs = cfg.outputs();
    let labels: Vec<u8> = (0..cfg.batch_size).map(|_| rng.below(outputs.min(256) as u32) as u8).collect();
    for name in &names {
        let k = kernels::by_name(name).ok_or_else(|| format!("unknown kernels `{name}`; available: {}", kernels::available().join(", ")))?;
        let cores = if name.ends_with("-threads") { threads } else { 1 };
        let timed: Option<&'static Timed> = a.breakdown.then(|| &*Box::leak(Box::new(Timed { inner: k, nanos: AtomicU64::new(0), shapes: Mutex::new(Vec::new()) })));
        let net = if a.gemm_only {
            None
        } else {
            let mut net = Network::new(cfg.clone()).map_err(|e| e.to_string())?;
            net.set_kernels(match timed {
                Some(t) => t,
                None => k,
            });
            net.load_images_u8(&pixels).map_err(|e| e.to_string())?;
            Some(net)
        };
        let gemm = prods.iter().map(|_| (Vec::new(), Vec::new())).collect();
        variants.push(Variant { kernels: k, timed, cores, net, train: Vec::new(), train_cpu: Vec::new(), train_process_cpu: Vec::new(), inference: Vec::new(), gemm_share: Vec::new(), gemm });
    }
    let mut peak_512 = (Vec::new(), Vec::new());
    let mut peak_256 = (Vec::new(), Vec::new());
    let mut operands: Vec<Operands> = if a.no_gemm { Vec::new() } else { prods.iter().map(|p| Operands::new(p, &mut rng)).collect() };
    for round in 0..rounds {
        let p = fma_peaks((slice / 4.0).min(0.25));
        for (peak, series) in [(p.avx512, &mut peak_512), (p.avx2, &mut peak_256)] {
            if let Some(r) = peak {
                series.0.push(r.wall);
                series.1.extend(r.cpu);
            }
        }
        // Alternate the order of the variants from round to round.
        let order: Vec<usize> = if round % 2 == 0 { (0..variants.len()).collect() } else { (0..variants.len()).rev().collect() };
        for &vi in &order {
            let v = &mut variants[vi];
            if let Some(net) = v.net.as_mut() {
                // Plasticity is on, so weights drift; the timing does not depend on their values.
                let before = v.timed.map(|t| t.nanos.load(Ordering::Relaxed));
                let (t0, c0, p0) = (Instant::now(), thread_cpu_seconds(), process_cpu_seconds());
                let r = rate(slice, || {
                    let _ = net.train_step(&labels, false);
                });
                let elapsed = match (c0, thread_cpu_seconds()) {
                    (Some(a), Some(b)) if v.cores == 1 => (b - a) * 1e9,
                    _ => t0.elapsed().as_nanos() as f64,
                };
                v.train.push(r.wall * cfg.batch_size as f64);
                if let (Some(a), Some(b)) = (p0, process_cpu_seconds()) {
                    // Samples per second of CPU time of the whole process (all its threads).
                    v.train_process_cpu.push(r.wall * cfg.batch_size as f64 * t0.elapsed().as_secs_f64() / (b - a));
                }
                if v.cores == 1 {
                    v.train_cpu.extend(r.cpu.map(|c| c * cfg.batch_size as f64));
                }
                if let (Some(t), Some(b)) = (v.timed, before) {
                    v.gemm_share.push((t.nanos.load(Ordering::Relaxed) - b) as f64 / elapsed);
                }
                v.inference.push(rate(slice, || net.forward()).wall * cfg.batch_size as f64);
            }
            for (pi, p) in prods.iter().enumerate().take(operands.len()) {
                let ops = &mut operands[pi];
                let f = 2.0 * (p.m * p.k * p.n) as f64 / 1e9;
                if v.cores == 1 {
                    // Per call: a call that nothing else interrupted shows the kernel's own speed.
                    let times = call_cpu_times(slice / prods.len() as f64 / 2.0, || ops.run(v.kernels, p));
                    v.gemm[pi].1.extend(times.iter().map(|t| f / t));
                }
                let r = rate(slice / prods.len() as f64 / 2.0, || ops.run(v.kernels, p));
                v.gemm[pi].0.push(r.wall * f);
            }
        }
    }
    let peak_512_cpu = (!peak_512.1.is_empty()).then(|| median_and_spread(&peak_512.1).0);
    let peak_256_cpu = (!peak_256.1.is_empty()).then(|| median_and_spread(&peak_256.1).0);
    let peak_cpu_for = |name: &str| if name.starts_with("avx512") { peak_512_cpu } else if name.starts_with("avx2") { peak_256_cpu } else { None };
    let peak_512_wall = (!peak_512.0.is_empty()).then(|| median_and_spread(&peak_512.0).0);
    let peak_256_wall = (!peak_256.0.is_empty()).then(|| median_and_spread(&peak_256.0).0);
    let peak_wall_for = |name: &str| if name.starts_with("avx512") { peak_512_wall } else if name.starts_with("avx2") { peak_256_wall } else { None };
    let mut results = Vec::new();
    for v in &variants {
        let name = v.kernels.name();
        let mut entry = json!({ "kernels": name, "threads": v.cores });
        if !v.train.is_empty() {
            let (train_sps, spread) = median_and_spread(&v.train);
            let (infer_sps, _) = median_and_spread(&v.inference);
            let gflops = train_sps * flops / 1e9;
            entry["train_samples_per_sec"] = json!(train_sps.round());
            entry["train_samples_per_sec_range"] = json!([spread.0.round(), spread.1.round()]);
            entry["train_gflops"] = json!(round2(gflops));
            entry["inference_samples_per_sec"] = json!(infer_sps.round());
            entry["inference_gflops"] = json!(round2(infer_sps * fwd_flops / 1e9));
            if let Some(p) = peak_wall_for(name) {
                entry["fraction_of_peak"] = json!((gflops / (p * v.cores as f64) * 1000.0).round() / 1000.0);
            }
            if !v.train_cpu.is_empty() {
                let (cpu_sps, cpu_spread) = median_and_spread(&v.train_cpu);
                entry["train_samples_per_cpu_sec"] = json!(cpu_sps.round());
                entry["train_samples_per_cpu_sec_range"] = json!([cpu_spread.0.round(), cpu_spread.1.round()]);
                if let Some(p) = peak_cpu_for(name) {
                    entry["cpu_fraction_of_peak"] = json!((cpu_sps * flops / 1e9 / p * 1000.0).round() / 1000.0);
                }
            }
            if !v.train_process_cpu.is_empty() {
                let (p, _) = median_and_spread(&v.train_process_cpu);
                entry["train_samples_per_process_cpu_sec"] = json!(p.round());
            }
            if !v.gemm_share.is_empty() {
                entry["gemm_share_of_step"] = summary(&v.gemm_share, 1.0);
            }
            if let Some(t) = v.timed {
                // Every product as it ran inside the training steps (and forward passes).
                let shapes = t.shapes.lock().unwrap_or_else(|e| e.into_inner());
                let in_step: Vec<Value> = shapes
                    .iter()
                    .map(|&((op, m, k, n), secs, calls)| {
                        let label = Product { layer: 0, role: "", op, m, k, n }.label();
                        let label = label.trim_start_matches("layer 1  ").to_string();
                        json!({ "product": label, "calls": calls, "ms_per_call": round2(secs * 1e3 / calls as f64), "gflops": round2(2.0 * (m * k * n) as f64 * calls as f64 / secs / 1e9) })
                    })
                    .collect();
                entry["gemm_in_step"] = Value::Array(in_step);
            }
            eprintln!("  {:<16} {:>8.0} samples/s training ({:.0}–{:.0}), {:>6.1} GFLOP/s", name, train_sps, spread.0, spread.1, gflops);
        }
        if !operands.is_empty() {
            let gemm: Vec<Value> = prods
                .iter()
                .zip(&v.gemm)
                .map(|(p, (wall, cpu))| {
                    let mut g = json!({ "product": p.label(), "gflops": summary(wall, 1.0) });
                    if !cpu.is_empty() {
                        // Per call, over every round: median and the 90th percentile (the
                        // speed of an undisturbed call).
                        let p90 = quantile(cpu, 0.9);
                        g["gflops_per_cpu_sec"] = json!({ "median": round2(median_and_spread(cpu).0), "p90": round2(p90), "calls": cpu.len() });
                        if let Some(peak) = peak_cpu_for(name) {
                            g["cpu_fraction_of_peak"] = json!((p90 / peak * 1000.0).round() / 1000.0);
                        }
                    }
                    g
                })
                .collect();
            entry["gemm"] = Value::Array(gemm);
        }
        results.push(entry);
    }
    let summary = json!({
        "architecture": cfg.describe(),
        "batch_size": cfg.batch_size,
        "rule": cfg.rule.as_str(),
        "q_learning": cfg.lr_q > 0.0,
        "train_mflop_per_sample": round2(flops / 1e6),
        "cpu_threads": threads,
        "fma_peak_gflops_per_core": peak_256_wall.map(round2),
        "avx512_fma_peak_gflops_per_core": peak_512_wall.map(round2),
        "fma_peak_gflops_per_cpu_sec": peak_256_cpu.map(round2),
        "avx512_fma_peak_gflops_per_cpu_sec": peak_512_cpu.map(round2),
        "results": results,
    });
    println!("{}", serde_json::to_string_pretty(&summary).unwrap());
    Ok(())
}
