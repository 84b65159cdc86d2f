//! The parts of the authors' harness (REFERENCE.md §2) that `train` adds around the epochs: a
//! seeded validation split of the training set, early stopping, and the result file of a run
//! (written atomically, with a checkpoint after every epoch so a killed run resumes).

use std::path::{Path, PathBuf};

use burstccn::rng::Random;
use burstccn::train::Samples;
use serde_json::{json, Value};

/// Random stream of the validation split (the model uses 1–3, the batch order 4, CIFAR-10's
/// augmentation 6).
const STREAM_VALIDATION: u64 = 11;

/// Some samples of a set, by index.
pub struct Subset<'a> {
    pub data: &'a dyn Samples,
    pub indices: Vec<u32>,
}

impl Samples for Subset<'_> {
    fn len(&self) -> usize {
        self.indices.len()
    }
    fn input_len(&self) -> usize {
        self.data.input_len()
    }
    fn label(&self, i: usize) -> u8 {
        self.data.label(self.indices[i] as usize)
    }
    fn write(&self, i: usize, augment: Option<&mut Random>, out: &mut [f32]) {
        self.data.write(self.indices[i] as usize, augment, out)
    }
}

/// Split `n` training samples into (train, validation) index lists: a random permutation drawn
/// from `seed`, the last `validation` of it held out (each list in ascending order, so the
/// trainer's own shuffle decides the batch order). MNIST 60,000 → 50,000 / 10,000 and CIFAR-10
/// 50,000 → 40,000 / 10,000, as the authors' `random_split`.
pub fn validation_split(n: usize, validation: usize, seed: u64) -> Result<(Vec<u32>, Vec<u32>), String> {
    if validation == 0 || validation >= n {
        return Err(format!("--validation-size must be between 1 and {} (the training set has {n} images), got {validation}", n.saturating_sub(1)));
    }
    let mut order: Vec<u32> = (0..n as u32).collect();
    Random::new(seed, STREAM_VALIDATION).shuffle(&mut order);
    let mut held = order.split_off(n - validation);
    order.sort_unstable();
    held.sort_unstable();
    Ok((order, held))
}

/// Early stopping as the authors' loop does it (REFERENCE.md §2.3): stop once
/// `epoch > best_epoch + max_stagnant`, the best being strictly smaller than all before.
#[derive(Clone, Debug)]
pub struct Stopping {
    /// `"val_error"` or `"test_error"`.
    pub metric: &'static str,
    pub max_stagnant: Option<u32>,
    pub best: Option<(f64, u32)>,
}

impl Stopping {
    pub fn new(metric: &'static str, max_stagnant: Option<u32>) -> Self {
        Stopping { metric, max_stagnant, best: None }
    }

    /// Record this epoch's value; true when training should stop after it.
    pub fn update(&mut self, epoch: u32, value: f64) -> bool {
        if self.best.is_none_or(|(b, _)| value < b) {
            self.best = Some((value, epoch));
        }
        match (self.max_stagnant, self.best) {
            (Some(n), Some((_, best_epoch))) => epoch > best_epoch + n,
            _ => false,
        }
    }

    pub fn to_json(&self, stop: bool) -> Value {
        json!({
            "metric": self.metric,
            "max_stagnant_epochs": self.max_stagnant,
            "best": self.best.map(|b| b.0),
            "best_epoch": self.best.map(|b| b.1),
            "stop": stop,
        })
    }
}

/// Write `bytes` to `path` through a temporary file beside it and a rename, so a reader (or a
/// resumed sweep) sees either the old file or the complete new one, never a torn one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path)).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {}: {e}", path.display())
    })
}

/// The files of one run with `--result FILE`: FILE itself (complete runs only), and the
/// checkpoint after the last finished epoch, FILE.ckpt.snap (the network) and FILE.ckpt.json
/// (the records so far).
pub struct ResultFiles {
    pub result: PathBuf,
    pub snapshot: PathBuf,
    pub progress: PathBuf,
}

impl ResultFiles {
    pub fn new(result: &Path) -> Self {
        let with = |ext: &str| {
            let mut p = result.as_os_str().to_owned();
            p.push(ext);
            PathBuf::from(p)
        };
        ResultFiles { result: result.to_path_buf(), snapshot: with(".ckpt.snap"), progress: with(".ckpt.json") }
    }

    /// The records of a finished run with these arguments, if FILE holds one. A file with other
    /// arguments, or one that is not a result, is an error (it is left as it is).
    pub fn finished(&self, args: &[String]) -> Result<Option<Vec<Value>>, String> {
        let Ok(text) = std::fs::read_to_string(&self.result) else { return Ok(None) };
        let v: Value = serde_json::from_str(&text).map_err(|e| format!("{} is not a run's result ({e}); move it away or choose another --result", self.result.display()))?;
        if v["format"] != RESULT_FORMAT || v["finished"] != true {
            return Err(format!("{} is not a finished run's result; move it away or choose another --result", self.result.display()));
        }
        if v["args"] != json!(args) {
            return Err(format!(
                "{} holds a run with other arguments ({}); move it away or choose another --result",
                self.result.display(),
                v["args"]
            ));
        }
        Ok(Some(v["records"].as_array().cloned().unwrap_or_default()))
    }

    /// The checkpoint of an unfinished run with these arguments: (epochs done, records so far),
    /// if there is one whose two files agree (`steps` = the snapshot's step count).
    pub fn checkpoint(&self, args: &[String], steps_of_snapshot: impl Fn(&Path) -> Option<u64>) -> Option<(u32, Vec<Value>)> {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&self.progress).ok()?).ok()?;
        if v["format"] != CHECKPOINT_FORMAT || v["args"] != json!(args) {
            return None;
        }
        let epochs = u32::try_from(v["epochs_done"].as_u64()?).ok()?;
        (steps_of_snapshot(&self.snapshot)? == v["steps"].as_u64()?).then(|| (epochs, v["records"].as_array().cloned().unwrap_or_default()))
    }

    /// Save the progress file after the snapshot was written (the pair is checked on resume).
    pub fn save_progress(&self, args: &[String], epochs_done: u32, steps: u64, records: &[Value]) -> Result<(), String> {
        let v = json!({"format": CHECKPOINT_FORMAT, "args": args, "epochs_done": epochs_done, "steps": steps, "records": records});
        write_atomic(&self.progress, v.to_string().as_bytes())
    }

    /// Write the finished result, then remove the checkpoint.
    pub fn finish(&self, args: &[String], records: &[Value], extra: Value) -> Result<(), String> {
        let mut v = json!({"format": RESULT_FORMAT, "finished": true, "args": args, "records": records});
        if let (Some(obj), Value::Object(more)) = (v.as_object_mut(), extra) {
            obj.extend(more);
        }
        write_atomic(&self.result, format!("{v}\n").as_bytes())?;
        let _ = std::fs::remove_file(&self.progress);
        let _ = std::fs::remove_file(&self.snapshot);
        Ok(())
    }
}

pub const RESULT_FORMAT: &str = "burstccn-run";
const CHECKPOINT_FORMAT: &str = "burstccn-run-checkpoint";

/// A run's arguments as stored in its result: the flags without `--result FILE` (the result's
/// place is not part of what was run).
pub fn canonical_args(argv: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(argv.len());
    let mut it = argv.iter();
    while let Some(a) = it.next() {
        if a == "--result" {
            it.next();
        } else if !a.starts_with("--result=") {
            out.push(a.clone());
        }
    }
    out
}

/// Fault injection for the sweep tests: `BURSTCCN_KILL_AFTER_EPOCH=N` kills this process with
/// SIGKILL right after the checkpoint of epoch N is written, as a node failure would.
pub fn maybe_die_after(epoch: u32) {
    let Some(n) = std::env::var("BURSTCCN_KILL_AFTER_EPOCH").ok().and_then(|v| v.parse::<u32>().ok()) else { return };
    if n == epoch {
        let pid = std::process::id().to_string();
        let _ = std::process::Command::new("kill").args(["-KILL", &pid]).status();
        std::process::abort();
    }
}
