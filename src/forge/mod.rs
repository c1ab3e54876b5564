//! One trait for the hosting side: GitHub (octocrab) and a local git repository (gix).
