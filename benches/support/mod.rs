//! Inputs for the scan benchmark.

pub mod monorepo;
pub mod rng;
