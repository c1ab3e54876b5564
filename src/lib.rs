//! patchwright: keeps container images and dependencies inside an organisation's security policy.
//!
//! The pipeline is pure in the middle (see DESIGN.md): `manifest` parses files into dependencies,
//! `scan` matches them against the `catalog` and advisories, `policy` decides levels, `remedy`
//! plans and verifies minimal edits, `relock` runs package managers
//! in sandboxed working copies for lockfiles, `render` turns results into text. I/O lives at the edges:
//! `forge`, `store`, `service`.

pub mod catalog;
pub mod cli;
pub mod commands;
pub mod forge;
pub mod image;
pub mod infra;
pub mod knowledge;
pub mod manifest;
pub mod model;
pub mod nearest;
pub mod notify;
pub mod owners;
pub mod pipeline;
pub mod policy;
pub mod registry;
pub mod relock;
pub mod remediation;
pub mod remedy;
pub mod render;
pub mod report;
pub mod review;
pub mod scan;
pub mod service;
pub mod snapshot;
pub mod store;
pub mod tracking;
pub mod web;
