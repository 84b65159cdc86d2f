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

/// The accessors a model built around a [`Network`] (in its field `net`, with its settings in
/// `cfg`) passes straight through: Burstprop and EDN.
macro_rules! network_accessors {
    ($config:ty, $holds:literal) => {
        /// The settings in force.
        pub fn config(&self) -> &$config {
            &self.cfg
        }

        #[doc = concat!("The wrapped network: ", $holds, ".")]
        pub fn network(&self) -> &Network {
            &self.net
        }

        pub(crate) fn network_mut(&mut self) -> &mut Network {
            &mut self.net
        }

        /// Use other kernels from now on.
        pub fn set_kernels(&mut self, kern: &'static dyn Kernels) {
            self.net.set_kernels(kern);
        }

        /// Load a batch of inputs given as floats (`rows × input_len`).
        pub fn load_inputs(&mut self, x: &[f32]) -> Result<usize, Error> {
            self.net.load_inputs(x)
        }

        /// Load a batch of byte images (0–255), scaled to [0, 1].
        pub fn load_images_u8(&mut self, pixels: &[u8]) -> Result<usize, Error> {
            self.net.load_images_u8(pixels)
        }
    };
}
use network_accessors;

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
    MAX_LAYERS, MAX_SEED, MAX_WEIGHTS, MAX_WIDTH, Optimiser, WeightDecayForm,
};
pub use diagnostics::{angle_degrees, Diagnostics, LayerDiagnostics};
pub use network::{argmax, Feedback, Layer, LayerUpdate, Network, StepReport};
pub use any::{AnyModel, ModelConfig, ModelKind};
pub use burstprop::{Burstprop, BurstpropConfig};
pub use edn::{Edn, EdnConfig};
