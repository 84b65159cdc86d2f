//! Sweeps: a grid over any `train` flags × seeds, expanded into independent runs, each one
//! `burstccn train … --result DIR/runs/ID.json`. They run here one after another, or go to
//! the scheduler the researcher already has: a GNU parallel job list (`--emit parallel`, also
//! across hosts with `--sshlogin`) or a Slurm job array (`--emit slurm`, one array task per
//! run). A run writes its result atomically and keeps a checkpoint after every epoch, so the
//! same jobs run again skip finished runs and resume killed ones. `sweep collect DIR` merges
//! the results into the experiment's tables and figures.
//!
//! A plan (TOML):
//!
//! ```toml
//! experiment = "grid"        # or "depth", "table1", "q-learning": what `collect` makes
//! seeds = [1, 2, 3]          # every grid point runs once per seed (--seed)
//!
//! [flags]                    # the same for every run: `train` flags without their dashes
//! epochs = 2
//! train-limit = 5000
//!
//! [grid]                     # every combination of these values, in this order
//! rule = ["burstccn", "fa", "backprop"]
//! layers = ["784,500,10", "784,500,500,10"]
//! ```
//!
//! A value `true` gives the bare flag (`no-teacher = true`), `false` leaves it out, and an
//! array inside a grid value is joined by commas (`layers = [[784, 500, 10]]`).

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::harness::{write_atomic, ResultFiles, RESULT_FORMAT};

/// `burstccn sweep --help`.
pub const HELP: &str = "A grid over any `train` flags × seeds, expanded into independent runs \
(`burstccn train … --result DIR/runs/ID.json`), run here one after another, or written for the \
scheduler you have: `--emit parallel` writes DIR/jobs.txt for GNU parallel (also across hosts \
with --sshlogin), `--emit slurm` DIR/sweep.sbatch, a job array with one task per run. Running \
the same again skips finished runs and resumes killed ones after their last epoch. \
`burstccn sweep collect DIR` writes the tables and figures.

A plan (TOML):

  experiment = \"grid\"      # or depth, table1, q-learning: what collect makes
  seeds = [1, 2, 3]        # every grid point once per seed
  [flags]                  # train flags without their dashes, for every run
  epochs = 2
  train-limit = 5000
  [grid]                   # every combination, the first key varying slowest
  rule = [\"burstccn\", \"fa\", \"backprop\"]
  layers = [\"784,500,10\", \"784,500,500,10\"]

`true` gives a bare flag (no-teacher = true), `false` leaves it out.";

/// Every run of a sweep or an experiment.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Plan {
    pub format: String,
    /// Which tables and figures `collect` makes: grid, depth, table1, q-learning.
    pub experiment: String,
    pub runs: Vec<PlannedRun>,
    /// What the plan's settings rest on, said in the tables (e.g. what the repository leaves open).
    #[serde(default)]
    pub notes: Vec<String>,
}

pub const PLAN_FORMAT: &str = "burstccn-plan";

/// One run: its `train` flags (without --result), and what it stands for.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PlannedRun {
    pub id: String,
    /// (name, value) pairs in plan order: the grid point and the seed, or the experiment's
    /// model, depth, seed, ….
    pub labels: Vec<(String, Value)>,
    pub flags: Vec<String>,
    /// Why the run cannot be run by this build (e.g. a model not implemented yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

impl PlannedRun {
    pub fn label(&self, name: &str) -> Option<&Value> {
        self.labels.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    pub fn result_path(&self, dir: &Path) -> PathBuf {
        dir.join("runs").join(format!("{}.json", self.id))
    }
}

/// Where a plan's runs go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Emit {
    /// Write DIR/jobs.txt, one `burstccn train` command per line, for GNU parallel.
    Parallel,
    /// Write DIR/jobs.txt and DIR/sweep.sbatch, a Slurm job array with one task per run.
    Slurm,
}

/// How the runs of a plan are carried out (shared by `sweep` and `experiment`).
#[derive(Args, Clone, Debug)]
pub struct Launch {
    /// Write the runs for a scheduler instead of running them here one after another.
    #[arg(long, value_enum)]
    pub emit: Option<Emit>,
    /// The burstccn binary the jobs run [default: this one].
    #[arg(long)]
    pub bin: Option<PathBuf>,
    /// Slurm: CPUs per array task (pass --threads the same in the run flags).
    #[arg(long, default_value_t = 2)]
    pub cpus_per_task: u32,
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SweepArgs {
    #[command(subcommand)]
    command: Option<SweepCommand>,
    /// The plan (TOML; see `burstccn sweep --help`).
    #[arg(required = true)]
    plan: Option<PathBuf>,
    /// Directory of the sweep: plan.json, jobs, runs/ (one result per run), tables, figures.
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    launch: Launch,
}

#[derive(Subcommand)]
enum SweepCommand {
    /// Merge the finished runs of DIR into the experiment's tables and figures.
    Collect {
        /// The sweep's directory (with plan.json).
        dir: PathBuf,
    },
}

pub fn run(a: SweepArgs) -> Result<(), String> {
    if let Some(SweepCommand::Collect { dir }) = a.command {
        return collect(&dir);
    }
    let path = a.plan.ok_or("give a plan (TOML) or `collect DIR`")?;
    let plan = from_toml(&path)?;
    let out = a.out.unwrap_or_else(|| path.with_extension(""));
    launch(&plan, &out, &a.launch)
}

/// Run a plan here, or write it for a scheduler.
pub fn launch(plan: &Plan, out: &Path, how: &Launch) -> Result<(), String> {
    let out = prepare(plan, out)?;
    match how.emit {
        None => {
            run_here(plan, &out)?;
            collect(&out)
        }
        Some(emit) => {
            let exe = match &how.bin {
                Some(b) => b.clone(),
                None => std::env::current_exe().map_err(|e| format!("cannot find this program's path: {e}"))?,
            };
            let jobs = write_jobs(plan, &out, &exe)?;
            let n = plan.runs.iter().filter(|r| r.unavailable.is_none()).count();
            let q = |p: &Path| sh_quote(&p.display().to_string());
            eprintln!("wrote {} ({n} runs)", jobs.display());
            match emit {
                Emit::Parallel => {
                    eprintln!("run them:      parallel --jobs 2 --joblog {} < {}", q(&out.join("parallel.log")), q(&jobs));
                    eprintln!(
                        "on more hosts: parallel --sshlogin 2/host1,2/host2 --joblog {} < {}   (the hosts must see {} and the data at the same paths)",
                        q(&out.join("parallel.log")),
                        q(&jobs),
                        out.display()
                    );
                }
                Emit::Slurm => {
                    let script = write_slurm(plan, &out, how.cpus_per_task)?;
                    eprintln!("submit:        sbatch {}   (sbatch options such as --partition or --time go before the script)", q(&script));
                }
            }
            eprintln!("to resume after a stop, run the same again: finished runs are skipped, killed ones resume after their last epoch");
            eprintln!("then:          {} sweep collect {}", q(&exe), q(&out));
            Ok(())
        }
    }
}

/// Read a plan file and expand it.
pub fn from_toml(path: &Path) -> Result<Plan, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let table: toml::Table = text.parse().map_err(|e| format!("{}: {e}", path.display()))?;
    expand(&table).map_err(|e| format!("{}: {e}", path.display()))
}

const RESERVED: [&str; 5] = ["result", "json", "save", "seed", "help"];

fn flag_values(key: &str, v: &toml::Value, inner: bool) -> Result<Option<String>, String> {
    Ok(match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => b.then(String::new),
        toml::Value::Array(items) if inner => {
            let parts: Result<Vec<String>, String> =
                items.iter().map(|x| flag_values(key, x, false)?.ok_or_else(|| format!("`{key}`: a list inside a value holds numbers or strings"))).collect();
            Some(parts?.join(","))
        }
        _ => return Err(format!("`{key}`: expected a string, number, boolean or list, got {v}")),
    })
}

fn push_flag(flags: &mut Vec<String>, key: &str, value: Option<String>) {
    match value {
        None => {}
        Some(v) if v.is_empty() => flags.push(format!("--{key}")),
        // `--lr=-5`: a value that looks like a flag stays a value.
        Some(v) if v.starts_with('-') => flags.push(format!("--{key}={v}")),
        Some(v) => flags.extend([format!("--{key}"), v]),
    }
}

/// Expand a plan table: [flags] × every combination of [grid] × seeds.
pub fn expand(table: &toml::Table) -> Result<Plan, String> {
    for key in table.keys() {
        if !["experiment", "seeds", "flags", "grid", "notes"].contains(&key.as_str()) {
            return Err(format!("unknown key `{key}` (known: experiment, seeds, flags, grid, notes)"));
        }
    }
    let experiment = match table.get("experiment") {
        None => "grid".to_string(),
        Some(toml::Value::String(s)) if crate::experiment::KINDS.contains(&s.as_str()) => s.clone(),
        Some(v) => return Err(format!("`experiment` must be one of {}, got {v}", crate::experiment::KINDS.join(", "))),
    };
    let seeds: Vec<u64> = match table.get("seeds") {
        None => vec![1],
        Some(toml::Value::Array(a)) if !a.is_empty() => a
            .iter()
            .map(|v| v.as_integer().and_then(|i| u64::try_from(i).ok()).ok_or_else(|| format!("`seeds` holds whole numbers ≥ 0, got {v}")))
            .collect::<Result<_, _>>()?,
        Some(v) => return Err(format!("`seeds` must be a list of whole numbers, got {v}")),
    };
    let empty = toml::Table::new();
    let section = |name: &str| -> Result<&toml::Table, String> {
        match table.get(name) {
            None => Ok(&empty),
            Some(toml::Value::Table(t)) => Ok(t),
            Some(v) => Err(format!("`{name}` must be a table ([{name}]), got {v}")),
        }
    };
    let (fixed, grid) = (section("flags")?, section("grid")?);
    let mut base = Vec::new();
    for (k, v) in fixed {
        check_key(k)?;
        push_flag(&mut base, k, flag_values(k, v, true)?);
    }
    let mut axes: Vec<(String, Vec<toml::Value>)> = Vec::new();
    for (k, v) in grid {
        check_key(k)?;
        if fixed.contains_key(k) {
            return Err(format!("`{k}` is both in [flags] and in [grid]"));
        }
        match v {
            toml::Value::Array(a) if !a.is_empty() => axes.push((k.clone(), a.clone())),
            _ => return Err(format!("[grid] `{k}` must be a non-empty list of values, got {v}")),
        }
    }
    let notes = match table.get("notes") {
        None => Vec::new(),
        Some(toml::Value::Array(a)) => a.iter().map(|v| v.as_str().map(str::to_string).ok_or("`notes` is a list of strings")).collect::<Result<_, _>>()?,
        Some(_) => return Err("`notes` is a list of strings".into()),
    };
    // Every combination, the first grid key varying slowest.
    let mut points: Vec<Vec<(String, toml::Value)>> = vec![Vec::new()];
    for (k, values) in &axes {
        points = points.into_iter().flat_map(|p| values.iter().map(move |v| [p.clone(), vec![(k.clone(), v.clone())]].concat())).collect();
    }
    if points.len().saturating_mul(seeds.len()) > 100_000 {
        return Err(format!("{} runs is more than 100,000", points.len() * seeds.len()));
    }
    let mut runs = Vec::new();
    for point in &points {
        for &seed in &seeds {
            let mut flags = base.clone();
            let mut labels = Vec::new();
            for (k, v) in point {
                let value = flag_values(k, v, true)?;
                labels.push((k.clone(), toml_to_json(v)));
                push_flag(&mut flags, k, value);
            }
            flags.extend(["--seed".to_string(), seed.to_string()]);
            labels.push(("seed".to_string(), Value::from(seed)));
            runs.push(PlannedRun { id: String::new(), labels, flags, unavailable: None });
        }
    }
    assign_ids(&mut runs);
    for r in &runs {
        crate::check_train_flags(&r.flags).map_err(|e| format!("run {}: {e}", r.id))?;
    }
    Ok(Plan { format: PLAN_FORMAT.into(), experiment, runs, notes })
}

fn check_key(k: &str) -> Result<(), String> {
    if RESERVED.contains(&k) {
        return Err(match k {
            "seed" => "give the seeds as `seeds = [...]`, not as a flag".to_string(),
            _ => format!("`{k}` is set by the sweep itself (every run writes runs/ID.json)"),
        });
    }
    if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(format!("`{k}` is not a flag name"));
    }
    Ok(())
}

fn toml_to_json(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::from(s.as_str()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => Value::from(*f),
        toml::Value::Boolean(b) => Value::from(*b),
        toml::Value::Array(a) => Value::Array(a.iter().map(toml_to_json).collect()),
        other => Value::from(other.to_string()),
    }
}

/// Readable, file-safe, unique ids from the labels: `rule-fa_layers-784.500.10_seed-1`.
pub fn assign_ids(runs: &mut [PlannedRun]) {
    let mut seen = std::collections::HashSet::new();
    for (i, r) in runs.iter_mut().enumerate() {
        let text: Vec<String> = r
            .labels
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s.clone(),
                    Value::Array(a) => a.iter().map(|x| x.to_string()).collect::<Vec<_>>().join("."),
                    other => other.to_string(),
                };
                format!("{k}-{v}")
            })
            .collect();
        let mut id: String = text.join("_").chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '.' }).collect();
        if id.is_empty() {
            id = format!("run{i:04}");
        }
        if id.len() > 120 {
            id = format!("{}-{i:04}", &id[..100]);
        }
        while !seen.insert(id.clone()) {
            id = format!("{id}-{i:04}");
        }
        r.id = id;
    }
}

/// Create DIR (and runs/, logs/), and write plan.json. A directory holding another plan is
/// refused, so results of different sweeps never mix.
pub fn prepare(plan: &Plan, out: &Path) -> Result<PathBuf, String> {
    std::fs::create_dir_all(out.join("runs")).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    std::fs::create_dir_all(out.join("logs")).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let out = std::fs::canonicalize(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let path = out.join("plan.json");
    let text = serde_json::to_string_pretty(plan).map_err(|e| e.to_string())?;
    if let Ok(old) = std::fs::read_to_string(&path) {
        let same = serde_json::from_str::<Plan>(&old).map(|p| {
            p.experiment == plan.experiment && p.runs.iter().map(|r| (&r.id, &r.flags)).eq(plan.runs.iter().map(|r| (&r.id, &r.flags)))
        });
        if !matches!(same, Ok(true)) {
            return Err(format!("{} holds another plan; give another --out or remove it", out.display()));
        }
    }
    write_atomic(&path, text.as_bytes())?;
    Ok(out)
}

/// Every available run of the plan, here, one after another (finished runs are skipped,
/// killed ones resume).
pub fn run_here(plan: &Plan, out: &Path) -> Result<(), String> {
    let todo: Vec<&PlannedRun> = plan.runs.iter().filter(|r| r.unavailable.is_none()).collect();
    for r in plan.runs.iter().filter(|r| r.unavailable.is_some()) {
        eprintln!("not run: {} ({})", r.id, r.unavailable.as_deref().unwrap_or_default());
    }
    for (i, r) in todo.iter().enumerate() {
        eprintln!("run {}/{}: {}", i + 1, todo.len(), r.id);
        let path = r.result_path(out);
        let mut flags = r.flags.clone();
        flags.extend(["--result".to_string(), path.display().to_string()]);
        if let Err(e) = crate::run_train_flags(&flags, true) {
            // A diverged run is a result too (it is written, marked as diverged).
            if read_result(&path).is_some() {
                eprintln!("  {}", e.lines().next().unwrap_or_default());
            } else {
                return Err(format!("run {}: {e}", r.id));
            }
        }
    }
    Ok(())
}

/// Quote for a POSIX shell when needed.
pub fn sh_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "_./:=,+-%@".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// One shell command per available run, in plan order.
pub fn job_lines(plan: &Plan, out: &Path, exe: &Path) -> Result<Vec<String>, String> {
    let cwd = std::env::current_dir().map_err(|e| format!("no working directory: {e}"))?;
    Ok(plan
        .runs
        .iter()
        .filter(|r| r.unavailable.is_none())
        .map(|r| {
            let mut words = vec![sh_quote(&exe.display().to_string()), "train".to_string()];
            words.extend(r.flags.iter().map(|f| sh_quote(f)));
            words.extend(["--result".to_string(), sh_quote(&r.result_path(out).display().to_string())]);
            format!("cd {} && {}", sh_quote(&cwd.display().to_string()), words.join(" "))
        })
        .collect())
}

fn write_jobs(plan: &Plan, out: &Path, exe: &Path) -> Result<PathBuf, String> {
    let lines = job_lines(plan, out, exe)?;
    let path = out.join("jobs.txt");
    write_atomic(&path, (lines.join("\n") + "\n").as_bytes())?;
    Ok(path)
}

fn write_slurm(plan: &Plan, out: &Path, cpus: u32) -> Result<PathBuf, String> {
    let n = plan.runs.iter().filter(|r| r.unavailable.is_none()).count();
    if n == 0 {
        return Err("the plan has no run this build can run".into());
    }
    let jobs = sh_quote(&out.join("jobs.txt").display().to_string());
    let name: String = out.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default().chars().filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c)).collect();
    let script = format!(
        "#!/bin/bash
#SBATCH --job-name=burstccn-{name}
#SBATCH --array=0-{last}
#SBATCH --cpus-per-task={cpus}
#SBATCH --output={logs}/slurm-%A_%a.out
# Written by `burstccn` for the {experiment} plan in {dir}: {n} runs, one array task each;
# task i runs line i + 1 of jobs.txt. Submitting it again resumes the sweep: finished runs
# are skipped, killed runs resume after their last finished epoch.
set -euo pipefail
JOBS={jobs}
: \"${{SLURM_ARRAY_TASK_ID:?this script is a Slurm array job: submit it with sbatch}}\"
line=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" \"$JOBS\")
if [ -z \"$line\" ]; then
    echo \"no run $SLURM_ARRAY_TASK_ID in $JOBS\" >&2
    exit 1
fi
eval \"$line\"
",
        last = n - 1,
        logs = out.join("logs").display(),
        experiment = plan.experiment,
        dir = out.display(),
    );
    let path = out.join("sweep.sbatch");
    write_atomic(&path, script.as_bytes())?;
    Ok(path)
}

/// A finished run's result file, if there is one.
pub fn read_result(path: &Path) -> Option<Value> {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    (v["format"] == RESULT_FORMAT && v["finished"] == true).then_some(v)
}

/// Merge DIR's results into the plan's tables and figures.
pub fn collect(dir: &Path) -> Result<(), String> {
    let path = dir.join("plan.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e} (is {} a sweep's directory?)", path.display(), dir.display()))?;
    let plan: Plan = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if plan.format != PLAN_FORMAT {
        return Err(format!("{} is not a burstccn plan", path.display()));
    }
    let mut results = Vec::with_capacity(plan.runs.len());
    for r in &plan.runs {
        let path = r.result_path(dir);
        let result = read_result(&path);
        if let Some(v) = &result {
            // A result whose flags are not the plan's is another run's.
            if v["args"] != Value::from(r.flags.clone()) {
                return Err(format!("{} was run with other flags than the plan's run {}", path.display(), r.id));
            }
        }
        let checkpoint = ResultFiles::new(&path).progress.exists();
        results.push(RunState { result, in_progress: checkpoint });
    }
    crate::experiment::collect(&plan, &results, dir)
}

/// What a planned run has left in the sweep's directory.
pub struct RunState {
    pub result: Option<Value>,
    /// A checkpoint exists: started, not finished.
    pub in_progress: bool,
}
