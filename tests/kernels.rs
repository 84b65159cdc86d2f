//! Every kernel against the scalar reference, over many shapes: tiny, odd, with tails in
//! every dimension, the model's real shapes, strided views, and β ∈ {0, 1, other}.
//! Outputs are pre-filled with NaN when β = 0 to prove they are overwritten, and a guard
//! region after each output proves nothing is written out of bounds.
#![cfg(not(target_arch = "wasm32"))]

use burstccn::kernels::{self, Kernels, MatMut, MatRef};
use burstccn::rng::Random;

fn random(rng: &mut Random, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.uniform_in(-1.0, 1.0)).collect()
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Nt,
    Nn,
    Tn,
}

/// Run one product with kernels `k` on fresh copies; return the output with its guard band.
#[allow(clippy::too_many_arguments)]
fn run(k: &dyn Kernels, op: Op, m: usize, n: usize, kk: usize, pad: usize, alpha: f32, beta: f32, seed: u64) -> (Vec<f32>, usize) {
    let mut rng = Random::new(seed, 0);
    // A, B and C with row strides = cols + pad (strided views when pad > 0).
    let (ar, ac) = match op {
        Op::Nt | Op::Nn => (m, kk),
        Op::Tn => (kk, m),
    };
    let (br, bc) = match op {
        Op::Nt => (n, kk),
        Op::Nn | Op::Tn => (kk, n),
    };
    let a = random(&mut rng, ar * (ac + pad));
    let b = random(&mut rng, br * (bc + pad));
    let ldc = n + pad;
    const GUARD: usize = 37;
    let mut c = if beta == 0.0 { vec![f32::NAN; m * ldc + GUARD] } else { random(&mut rng, m * ldc + GUARD) };
    // Padding columns and the guard get a sentinel that must survive.
    for i in 0..m {
        for j in n..ldc {
            c[i * ldc + j] = 12345.0;
        }
    }
    for x in &mut c[m * ldc..] {
        *x = 12345.0;
    }
    let av = MatRef::strided(&a, ar, ac, ac + pad);
    let bv = MatRef::strided(&b, br, bc, bc + pad);
    let cv = MatMut::strided(&mut c, m, n, ldc);
    match op {
        Op::Nt => k.gemm_nt(alpha, av, bv, beta, cv),
        Op::Nn => k.gemm_nn(alpha, av, bv, beta, cv),
        Op::Tn => k.gemm_tn(alpha, av, bv, beta, cv),
    }
    (c, ldc)
}

#[allow(clippy::too_many_arguments)]
fn compare(k: &dyn Kernels, op: Op, m: usize, n: usize, kk: usize, pad: usize, alpha: f32, beta: f32, seed: u64) {
    let (want, ldc) = run(kernels::scalar(), op, m, n, kk, pad, alpha, beta, seed);
    let (got, _) = run(k, op, m, n, kk, pad, alpha, beta, seed);
    // Sums of kk products of values in [-1, 1]: reordering error grows like kk·ε.
    let tol = 1e-5 * (kk as f32 + 1.0) * alpha.abs().max(1.0) + 1e-6;
    for i in 0..m {
        for j in 0..ldc {
            let (w, g) = (want[i * ldc + j], got[i * ldc + j]);
            if j >= n {
                assert_eq!(g, 12345.0, "{} {op:?} {m}x{n}x{kk}: wrote into padding at ({i},{j})", k.name());
            } else {
                assert!(g.is_finite(), "{} {op:?} {m}x{n}x{kk} β={beta}: non-finite at ({i},{j})", k.name());
                assert!((w - g).abs() <= tol, "{} {op:?} {m}x{n}x{kk} pad {pad} α={alpha} β={beta}: ({i},{j}) {g} vs reference {w}", k.name());
            }
        }
    }
    assert!(got[m * ldc..].iter().all(|&x| x == 12345.0), "{} {op:?} {m}x{n}x{kk}: wrote past the end", k.name());
}

fn fast_kernels() -> Vec<&'static dyn Kernels> {
    let names = kernels::available();
    assert!(names.contains(&"scalar"));
    let ks: Vec<_> = names.iter().filter(|n| **n != "scalar").map(|n| kernels::by_name(n).unwrap()).collect();
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        assert!(ks.iter().any(|k| k.name() == "avx2"), "AVX2 kernels should be available on this CPU");
    }
    ks
}

#[test]
fn small_and_odd_shapes_all_ops() {
    let ks = fast_kernels();
    let mut rng = Random::new(42, 1);
    let dims = [1usize, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 33, 47, 49];
    let mut cases = 0;
    for k in &ks {
        for op in [Op::Nt, Op::Nn, Op::Tn] {
            for _ in 0..60 {
                let m = dims[rng.below(dims.len() as u32) as usize];
                let n = dims[rng.below(dims.len() as u32) as usize];
                let kk = dims[rng.below(dims.len() as u32) as usize];
                let pad = rng.below(3) as usize;
                let beta = [0.0, 1.0, 0.7][rng.below(3) as usize];
                let alpha = [1.0, -1.0, 0.03][rng.below(3) as usize];
                compare(*k, op, m, n, kk, pad, alpha, beta, cases);
                cases += 1;
            }
        }
    }
    assert!(ks.is_empty() || cases >= 180);
}

#[test]
fn the_models_real_shapes() {
    for k in fast_kernels() {
        for &(n_in, n_out) in &[(784usize, 500usize), (500, 500), (500, 10)] {
            for &rows in &[32usize, 1, 250] {
                compare(k, Op::Nt, rows, n_out, n_in, 0, 1.0, 0.0, 1); // forward
                compare(k, Op::Nn, rows, n_in, n_out, 0, 1.0, 0.0, 2); // apical / backprop delta
                compare(k, Op::Nn, rows, n_in, n_out, 0, -1.0, 1.0, 3); // − e·Q, accumulated
                compare(k, Op::Tn, n_out, n_in, rows, 0, 0.3 / 32.0, 1.0, 4); // weight update
                compare(k, Op::Tn, n_out, n_in, rows, 0, 0.3 / 32.0, 0.99, 5); // with weight decay
            }
        }
    }
}

#[test]
fn long_k_crosses_the_panel_blocking() {
    for k in fast_kernels() {
        for kk in [255usize, 256, 257, 600, 1031] {
            compare(k, Op::Nn, 9, 29, kk, 1, 1.0, 0.0, kk as u64);
            compare(k, Op::Tn, 9, 29, kk, 1, 1.0, 0.5, kk as u64);
            compare(k, Op::Nt, 9, 29, kk, 1, 1.0, 1.0, kk as u64);
            // Few rows of C, many columns: A·Bᵀ is computed transposed (blocked.rs), into a
            // strided C, with β on the old C.
            compare(k, Op::Nt, 32, 200, kk, 2, 0.5, 0.7, kk as u64);
            compare(k, Op::Nt, 3, 130, kk, 1, 1.0, 0.0, kk as u64);
        }
    }
}

#[test]
fn empty_dimensions_are_harmless() {
    for k in fast_kernels().into_iter().chain([kernels::scalar()]) {
        // k = 0: C = β·C (so 0 when β = 0).
        let mut c = vec![f32::NAN; 6];
        k.gemm_nn(1.0, MatRef::new(&[], 2, 0), MatRef::new(&[], 0, 3), 0.0, MatMut::new(&mut c, 2, 3));
        assert!(c.iter().all(|&x| x == 0.0), "{}: {c:?}", k.name());
        let mut c = vec![2.0f32; 6];
        k.gemm_tn(1.0, MatRef::new(&[], 0, 2), MatRef::new(&[], 0, 3), 0.5, MatMut::new(&mut c, 2, 3));
        assert!(c.iter().all(|&x| x == 1.0), "{}: {c:?}", k.name());
        k.gemm_nt(1.0, MatRef::new(&[], 0, 4), MatRef::new(&[0.0; 8], 2, 4), 0.0, MatMut::new(&mut [], 0, 2));
    }
}

#[test]
fn bias_sigmoid_matches_reference() {
    let mut rng = Random::new(5, 5);
    for k in fast_kernels() {
        for cols in [1usize, 7, 8, 9, 500] {
            let bias = random(&mut rng, cols);
            let x: Vec<f32> = (0..3 * cols).map(|_| rng.uniform_in(-30.0, 30.0)).collect();
            let mut want = x.clone();
            kernels::scalar().bias_sigmoid(&bias, &mut want);
            let mut got = x.clone();
            k.bias_sigmoid(&bias, &mut got);
            for (w, g) in want.iter().zip(&got) {
                assert!((w - g).abs() < 5e-7, "{}: {g} vs {w}", k.name());
            }
        }
    }
}

/// Sizes on both sides of every blocking boundary of the packed driver (kernels/blocked.rs:
/// KC = 256 steps of k, NC = 1024 columns, MC = 144 rows) and of both AVX-512 tiles (6 × 64 and
/// 8 × 32, chosen by the shape) and the AVX2 tile (6 × 16): full tiles, one row or column over,
/// one short; strided views and every β.
#[test]
fn sizes_around_the_block_and_tile_boundaries() {
    let ks = fast_kernels();
    let mut seed = 1000;
    let mut run = |op: Op, m: usize, n: usize, kk: usize| {
        for k in &ks {
            let pad = (seed % 3) as usize;
            let beta = [0.0, 1.0, -0.5][(seed % 3) as usize];
            compare(*k, op, m, n, kk, pad, 0.7, beta, seed);
        }
        seed += 1;
    };
    for op in [Op::Nt, Op::Nn, Op::Tn] {
        // Rows around the tile heights (6, 8) and the row block (144).
        for m in [5usize, 6, 7, 8, 9, 12, 13, 143, 144, 145] {
            run(op, m, 70, 40);
        }
        // Columns around the tile widths (16, 32, 64) and the column block (1024).
        for n in [15usize, 16, 17, 31, 32, 33, 63, 64, 65, 1023, 1024, 1025] {
            run(op, 7, n, 21);
        }
        // k around the panel length (256) and its multiples.
        for kk in [1usize, 255, 256, 257, 511, 512, 513] {
            run(op, 13, 40, kk);
        }
        // Several blocks in every dimension at once.
        run(op, 150, 1030, 260);
    }
}

/// Subnormal inputs: the fast kernels flush them to zero (FTZ/DAZ, see kernels/avx2.rs), which
/// changes results only below 1.2e-38, and they restore the caller's floating-point mode.
#[test]
fn subnormals_are_flushed_inside_and_the_callers_mode_is_restored() {
    let tiny = f32::MIN_POSITIVE / 8.0; // subnormal
    assert!(tiny > 0.0 && !tiny.is_normal());
    for k in fast_kernels() {
        let (m, n, kk) = (9usize, 40usize, 33usize);
        let a: Vec<f32> = (0..m * kk).map(|i| if i % 3 == 0 { tiny } else { 0.5 }).collect();
        let b: Vec<f32> = (0..kk * n).map(|i| if i % 5 == 0 { tiny } else { -0.25 }).collect();
        let mut want = vec![f32::NAN; m * n];
        kernels::scalar().gemm_nn(1.0, MatRef::new(&a, m, kk), MatRef::new(&b, kk, n), 0.0, MatMut::new(&mut want, m, n));
        let mut got = vec![f32::NAN; m * n];
        k.gemm_nn(1.0, MatRef::new(&a, m, kk), MatRef::new(&b, kk, n), 0.0, MatMut::new(&mut got, m, n));
        for (w, g) in want.iter().zip(&got) {
            assert!((w - g).abs() <= 1e-5 * kk as f32, "{}: {g} vs {w}", k.name());
        }
        // A product that is all subnormal comes out 0 (or the exact subnormal, without FTZ).
        let mut c = vec![f32::NAN; 4];
        let t = [tiny; 4];
        k.gemm_nn(1.0, MatRef::new(&t, 2, 2), MatRef::new(&[1.0; 4], 2, 2), 0.0, MatMut::new(&mut c, 2, 2));
        assert!(c.iter().all(|&x| x == 0.0 || x == 2.0 * tiny), "{}: {c:?}", k.name());
        // Back in the caller, subnormals are computed again (the mode was restored).
        let x = std::hint::black_box(1e-30f32) * std::hint::black_box(1e-10f32);
        assert!(x > 0.0 && !x.is_normal(), "{}: the caller's denormal mode was not restored ({x})", k.name());
    }
}

/// A product split across the thread team equals the single-threaded one bit for bit: the
/// blocks of C are cut along whole tiles and every element sums k in the same order. (32 × 192
/// is computed transposed on one thread and as two direct blocks of 96 columns on two: the two
/// routes agree bit for bit too.)
#[test]
fn threaded_products_equal_single_threaded_ones_bit_for_bit() {
    let names = kernels::available();
    for name in names.iter().filter(|n| n.ends_with("-threads")) {
        let threaded = kernels::by_name(name).unwrap();
        let single = kernels::by_name(name.trim_end_matches("-threads")).unwrap();
        for &(seed, (m, n, kk)) in &[(2000u64, (300usize, 200usize, 150usize)), (2001, (37, 1500, 90)), (2002, (1400, 40, 70)), (2003, (64, 75, 3000)), (2004, (32, 192, 300)), (2005, (32, 1480, 2304))] {
            for op in [Op::Nt, Op::Nn, Op::Tn] {
                for beta in [0.0, 1.0] {
                    let (want, _) = run(single, op, m, n, kk, 1, 0.3, beta, seed);
                    let (got, _) = run(threaded, op, m, n, kk, 1, 0.3, beta, seed);
                    let same = want.iter().zip(&got).all(|(w, g)| w.to_bits() == g.to_bits());
                    assert!(same, "{name} {op:?} {m}x{n}x{kk} β={beta}: differs from {}", single.name());
                }
            }
        }
    }
}

/// `for_item_blocks` hands every item to exactly one block, on one thread or on the team, and
/// the blocks it gives are the right parts of every buffer.
#[test]
fn item_blocks_cover_every_item_once() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    for name in kernels::available() {
        let k = kernels::by_name(name).unwrap();
        for &(items, per_item, work) in &[(0usize, 3usize, 1usize), (1, 5, 1 << 20), (7, 3, 1), (33, 4, 1 << 16), (1000, 2, 1 << 10), (97, 300, 64)] {
            let visits: Vec<AtomicUsize> = (0..items).map(|_| AtomicUsize::new(0)).collect();
            let mut a = vec![0.0f32; items * per_item + 3];
            let mut b = vec![0.0f32; items * 2];
            kernels::for_item_blocks(k, items, work, [(&mut a[..], per_item), (&mut b[..], 2)], &|first, count, [a, b]| {
                assert_eq!((a.len(), b.len()), (count * per_item, count * 2));
                for i in 0..count {
                    visits[first + i].fetch_add(1, Ordering::Relaxed);
                    a[i * per_item..(i + 1) * per_item].iter_mut().for_each(|v| *v = (first + i) as f32);
                    b[2 * i] = (first + i) as f32;
                }
            });
            assert!(visits.iter().all(|v| v.load(Ordering::Relaxed) == 1), "{name} {items} items: {visits:?}");
            assert!(a.chunks(per_item).take(items).enumerate().all(|(i, c)| c.iter().all(|&v| v == i as f32)), "{name}");
            assert!(a[items * per_item..].iter().all(|&v| v == 0.0), "{name}: wrote past the items");
            assert!((0..items).all(|i| b[2 * i] == i as f32), "{name}");
        }
    }
}

/// A whole conv net, trained on the team, equals the same net trained on one thread bit for
/// bit: the products, im2col/col2im and the elementwise passes are all cut along the batch or
/// along whole tiles.
#[test]
fn a_conv_net_trained_on_the_team_equals_one_trained_on_one_thread() {
    use burstccn::model::{Config, Network};
    let names = kernels::available();
    for name in names.iter().filter(|n| n.ends_with("-threads")) {
        let train = |k: &'static dyn Kernels| {
            let cfg = Config { batch_size: 32, seed: 5, ..Config::default() }.with_stack("c16k5s2,c32k3s1,f40", [3, 20, 20], 10).unwrap();
            let mut net = Network::new(cfg).unwrap();
            net.set_kernels(k);
            let mut rng = Random::new(11, 0);
            for step in 0..3 {
                let x: Vec<f32> = (0..32 * 1200).map(|_| rng.uniform()).collect();
                let labels: Vec<u8> = (0..32).map(|i| ((i * 7 + step) % 10) as u8).collect();
                net.load_inputs(&x).unwrap();
                net.train_step(&labels, step == 2).unwrap();
            }
            let mut bits = Vec::new();
            for l in net.layers() {
                bits.extend(l.weight.iter().chain(&l.bias).map(|v| v.to_bits()));
            }
            for k in 0..net.layers().len() - 1 {
                bits.extend(net.apical(k).iter().map(|v| v.to_bits()));
            }
            bits
        };
        let single = kernels::by_name(name.trim_end_matches("-threads")).unwrap();
        assert!(train(kernels::by_name(name).unwrap()) == train(single), "{name} differs from {}", single.name());
    }
}
