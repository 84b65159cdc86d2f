use burstccn::kernels;
use burstccn::model::{Config, Network};
use std::time::Instant;
fn main() {
    let mut r = burstccn::rng::Random::new(1, 1);
    let px: Vec<u8> = (0..32 * 784).map(|_| r.below(256) as u8).collect();
    let labels: Vec<u8> = (0..32).map(|_| r.below(10) as u8).collect();
    for name in ["avx2", "avx2-threads", "avx2", "avx2-threads"] {
        let mut net = Network::new(Config::default()).unwrap();
        net.set_kernels(kernels::by_name(name).unwrap());
        net.load_images_u8(&px).unwrap();
        for _ in 0..20 { net.train_step(&labels, false).unwrap(); }
        let t = Instant::now();
        let iters = 300;
        for _ in 0..iters { net.train_step(&labels, false).unwrap(); }
        let dt = t.elapsed().as_secs_f64() / iters as f64;
        let t2 = Instant::now();
        for _ in 0..iters { net.forward(); }
        let dt2 = t2.elapsed().as_secs_f64() / iters as f64;
        println!("{name}: {:.0} us/step ({:.0} samples/s), forward {:.0} us", dt * 1e6, 32.0 / dt, dt2 * 1e6);
    }
}
