//! All user-visible text: templates/ → PR body, comments, check-run summary, text, JSON, SARIF.
