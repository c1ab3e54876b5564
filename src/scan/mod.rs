//! Dependencies × catalog × advisories → findings. Pure.
