//! The discrete-time BurstCCN (SPEC.md, "Discrete-time model") and ConvBurstCCN (REFERENCE.md
//! §4) and, from the same forward pass, the two rules they are measured against: exact
//! backprop and feedback alignment.
//!
//! - `config.rs`: the settings and architecture (conv stack, dense layers), validated;
//! - `network.rs`: one training step — forward pass, burst pass, plasticity — for any stack;
//! - `dense.rs` and `conv.rs`: the products of each kind of layer;
//! - `diagnostics.rs`: angles to backprop and feedback alignment, Y–Q, mean activity;
//! - `burstprop.rs` and `edn.rs`: the two models the paper compares BurstCCN with, Burstprop
//!   (REFERENCE.md §6, with ConvBurstprop) and the dendritic error network (§7), each built
//!   around a `Network`;
//! - `any.rs`: one entry point for all three (`ModelConfig`, `AnyModel`).

mod any;
mod burstprop;
mod config;
mod conv;
mod dense;
mod edn;
pub(crate) use config::validate_layers;
mod diagnostics;
mod network;

pub use config::{
    Config, ConvSpec, FeedbackMode, LayerShape, Rule, MAX_BATCH, MAX_BATCH_ACTIVITY, MAX_CONV_LAYERS, MAX_CONV_UNITS, MAX_KERNEL,
    MAX_LAYERS, MAX_SEED, MAX_WEIGHTS, MAX_WIDTH, WeightDecayForm,
};
pub use diagnostics::{angle_degrees, Diagnostics, LayerDiagnostics};
pub use network::{argmax, Feedback, Layer, LayerUpdate, Network, StepReport};
pub use any::{AnyModel, ModelConfig, ModelKind};
pub use burstprop::{Burstprop, BurstpropConfig};
pub use edn::{Edn, EdnConfig};
