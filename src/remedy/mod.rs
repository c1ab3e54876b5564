//! Findings → minimal edits and the risk statement; apply; verify by re-scanning. Pure.
