//! Findings × org tiers × repository config × exceptions × now → levels. Pure.
