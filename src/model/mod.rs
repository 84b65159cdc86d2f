//! The discrete-time BurstCCN (SPEC.md, "Discrete-time model") and, from the same forward
//! pass, the two rules it is measured against: exact backprop and feedback alignment.

mod config;
pub(crate) use config::validate_layers;
mod diagnostics;
mod network;

pub use config::{Config, FeedbackMode, Rule, MAX_BATCH, MAX_LAYERS, MAX_SEED, MAX_WEIGHTS, MAX_WIDTH};
pub use diagnostics::{angle_degrees, Diagnostics, LayerDiagnostics};
pub use network::{argmax, Feedback, Layer, LayerUpdate, Network, StepReport};
