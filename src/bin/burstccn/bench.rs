//! `burstccn bench`: training and inference samples/s, and the model's matrix products in
//! GFLOP/s, for every kernel variant in one run, against this CPU's measured FMA peak.

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
    #[arg(long)]
    no_gemm: bool,
}

/// Run `f` repeatedly for about `seconds`; return calls per second.
fn rate(seconds: f64, mut f: impl FnMut()) -> f64 {
    f(); // warm up (and fault in memory)
    let budget = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut calls = 0u64;
    while start.elapsed() < budget || calls < 3 {
        f();
        calls += 1;
    }
    calls as f64 / start.elapsed().as_secs_f64()
}

/// Multiply-add throughput of one core in GFLOP/s for AVX2 (8 lanes) and, where the CPU has
/// it, AVX-512 (16 lanes): 12 independent multiply-add chains each, so latency never limits.
#[derive(Clone, Copy, Debug)]
struct Peaks {
    avx2: Option<f64>,
    avx512: Option<f64>,
}

impl Peaks {
    /// The peak that bounds `kernels` (by its name), if measured.
    fn for_kernels(&self, name: &str) -> Option<f64> {
        if name.starts_with("avx512") { self.avx512 } else { self.avx2 }
    }
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
    const ITERS: u64 = 1 << 20;
    let gflops = |lanes: f64, f: &dyn Fn(u64) -> f32| {
        let calls = rate(seconds, || {
            std::hint::black_box(f(std::hint::black_box(ITERS)));
        });
        calls * ITERS as f64 * 12.0 * lanes * 2.0 / 1e9
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

/// GFLOP/s of each layer's three products at its own shape: forward `A·Bᵀ`, backward `A·B`
/// (the burst pass through the layer), update `Aᵀ·B`. A dense layer's products are
/// B × n_in × n_out; a conv layer's are (B·positions) × window × c_out (im2col form).
fn gemm_figures(k: &dyn Kernels, cfg: &Config, seconds: f64) -> Vec<Value> {
    let b = cfg.batch_size;
    let mut rng = Random::new(9, 9);
    let mut out = Vec::new();
    let mut shapes: Vec<(usize, usize, usize)> = cfg
        .shapes()
        .iter()
        .map(|s| match &s.conv {
            Some(g) => (b * g.positions(), g.window(), g.c_out),
            None => (b, s.n_in, s.n_out),
        })
        .collect();
    shapes.dedup();
    for (m, n_in, n_out) in shapes {
        let x = random_vec(&mut rng, m * n_in);
        let w = random_vec(&mut rng, n_out * n_in);
        let d = random_vec(&mut rng, m * n_out);
        let mut c = vec![0.0f32; m * n_out.max(n_in)];
        let mut big = vec![0.0f32; n_out * n_in];
        let flops = 2.0 * (m * n_in * n_out) as f64;
        let nt = rate(seconds / 3.0, || {
            k.gemm_nt(1.0, MatRef::new(&x, m, n_in), MatRef::new(&w, n_out, n_in), 0.0, MatMut::new(&mut c[..m * n_out], m, n_out))
        });
        let nn = rate(seconds / 3.0, || {
            k.gemm_nn(1.0, MatRef::new(&d, m, n_out), MatRef::new(&w, n_out, n_in), 0.0, MatMut::new(&mut c[..m * n_in], m, n_in))
        });
        let tn = rate(seconds / 3.0, || {
            k.gemm_tn(1e-6, MatRef::new(&d, m, n_out), MatRef::new(&x, m, n_in), 1.0, MatMut::new(&mut big, n_out, n_in))
        });
        out.push(json!({
            "shape": format!("{m}x{n_in}x{n_out}"),
            "forward_A_Bt_gflops": round2(nt * flops / 1e9),
            "backward_A_B_gflops": round2(nn * flops / 1e9),
            "update_At_B_gflops": round2(tn * flops / 1e9),
        }));
    }
    out
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
    let peaks = fma_peaks(a.seconds.min(1.0));
    let threads = burstccn::kernels::team::global().threads();
    eprintln!("benchmarking {} kernels for about {:.0} s each, in {} interleaved rounds…", names.len(), a.seconds * 2.0 + if a.no_gemm { 0.0 } else { a.seconds }, a.rounds.max(1));
    struct Variant {
        kernels: &'static dyn Kernels,
        cores: usize,
        net: Network,
        train: Vec<f64>,
        inference: Vec<f64>,
    }
    let mut variants = Vec::new();
    let mut rng = Random::new(3, 3);
    let pixels: Vec<u8> = (0..cfg.batch_size * cfg.input_len()).map(|_| rng.below(256) as u8).collect();
    let outputs = cfg.outputs();
    let labels: Vec<u8> = (0..cfg.batch_size).map(|_| rng.below(outputs.min(256) as u32) as u8).collect();
    for name in &names {
        let k = kernels::by_name(name).ok_or_else(|| format!("unknown kernels `{name}`; available: {}", kernels::available().join(", ")))?;
        let cores = if name.ends_with("-threads") { threads } else { 1 };
        let mut net = Network::new(cfg.clone()).map_err(|e| e.to_string())?;
        net.set_kernels(k);
        net.load_images_u8(&pixels).map_err(|e| e.to_string())?;
        variants.push(Variant { kernels: k, cores, net, train: Vec::new(), inference: Vec::new() });
    }
    let rounds = a.rounds.max(1);
    let slice = a.seconds / rounds as f64;
    for _ in 0..rounds {
        for v in &mut variants {
            let net = &mut v.net;
            // Plasticity is on, so weights drift; the timing does not depend on their values.
            v.train.push(rate(slice, || {
                let _ = net.train_step(&labels, false);
            }) * cfg.batch_size as f64);
            v.inference.push(rate(slice, || net.forward()) * cfg.batch_size as f64);
        }
    }
    let mut results = Vec::new();
    for v in &variants {
        let (train_sps, spread) = median_and_spread(&v.train);
        let (infer_sps, _) = median_and_spread(&v.inference);
        let gflops = train_sps * flops / 1e9;
        let mut entry = json!({
            "kernels": v.kernels.name(),
            "threads": v.cores,
            "train_samples_per_sec": train_sps.round(),
            "train_samples_per_sec_range": [spread.0.round(), spread.1.round()],
            "train_gflops": round2(gflops),
            "inference_samples_per_sec": infer_sps.round(),
            "inference_gflops": round2(infer_sps * fwd_flops / 1e9),
        });
        if let Some(p) = peaks.for_kernels(v.kernels.name()) {
            entry["fraction_of_peak"] = json!((gflops / (p * v.cores as f64) * 1000.0).round() / 1000.0);
        }
        if !a.no_gemm {
            entry["gemm"] = Value::Array(gemm_figures(v.kernels, &cfg, a.seconds));
        }
        eprintln!("  {:<16} {:>8.0} samples/s training ({:.0}–{:.0}), {:>6.1} GFLOP/s", v.kernels.name(), train_sps, spread.0, spread.1, gflops);
        results.push(entry);
    }
    let summary = json!({
        "architecture": cfg.describe(),
        "batch_size": cfg.batch_size,
        "rule": cfg.rule.as_str(),
        "q_learning": cfg.lr_q > 0.0,
        "train_mflop_per_sample": round2(flops / 1e6),
        "cpu_threads": threads,
        "fma_peak_gflops_per_core": peaks.avx2.map(round2),
        "avx512_fma_peak_gflops_per_core": peaks.avx512.map(round2),
        "results": results,
    });
    println!("{}", serde_json::to_string_pretty(&summary).unwrap());
    Ok(())
}
