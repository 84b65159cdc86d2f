//! The discrete-time BurstCCN (SPEC.md, "Discrete-time model") and ConvBurstCCN (REFERENCE.md
//! §4) and, from the same forward pass, the two rules they are measured against: exact
//! backprop and feedback alignment.
//!
//! - `config.rs`: the settings and architecture (conv stack, dense layers), validated;
//! - `network.rs`: one training step — forward pass, burst pass, plasticity — for any stack;
//! - `dense.rs` and `conv.rs`: the products of each kind of layer;
//! - `diagnostics.rs`: angles to backprop and feedback alignment, Y–Q, mean activity.

mod config;
mod conv;
mod dense;
pub(crate) use config::validate_layers;
mod diagnostics;
mod network;

pub use config::{
    Config, ConvSpec, FeedbackMode, LayerShape, Rule, MAX_BATCH, MAX_BATCH_ACTIVITY, MAX_CONV_LAYERS, MAX_CONV_UNITS, MAX_KERNEL,
    MAX_LAYERS, MAX_SEED, MAX_WEIGHTS, MAX_WIDTH, WeightDecayForm,
};
pub use diagnostics::{angle_degrees, Diagnostics, LayerDiagnostics};
pub use network::{argmax, Feedback, Layer, LayerUpdate, Network, StepReport};
