//! The progress spinner on stderr, shared by the commands that show one.

use indicatif::{ProgressBar, ProgressStyle};
use std::time::Duration;

/// A ticking spinner drawn with `template`; hidden unless `show`.
pub fn spinner(show: bool, template: &str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}
