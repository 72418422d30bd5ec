//! Progress bars on standard error, drawn only when it is a terminal: piped or redirected
//! output stays free of control sequences.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A bar counting to `len` units (records, bytes), labelled `what`; hidden unless stderr
/// is a terminal.
pub fn bar(len: u64, what: &str, template: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    ProgressBar::new(len)
        .with_style(style)
        .with_message(what.to_owned())
}

/// A bar counting items: "exporting [=====>    ] 1200/5000 keys 00:03".
pub fn items(len: u64, what: &str, unit: &str) -> ProgressBar {
    bar(
        len,
        what,
        &format!("{{msg}} [{{bar:40}}] {{pos}}/{{len}} {unit} {{elapsed}}"),
    )
}

/// A bar counting bytes: "importing [=====>    ] 1.2 MiB/5.0 MiB 00:03".
pub fn bytes(len: u64, what: &str) -> ProgressBar {
    bar(
        len,
        what,
        "{msg} [{bar:40}] {bytes}/{total_bytes} {elapsed}",
    )
}

/// A spinner for work of unknown length that cannot report progress (a single library
/// call such as check); it ticks by itself.
pub fn spinner(what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let spinner = ProgressBar::new_spinner().with_message(what.to_owned());
    spinner.enable_steady_tick(Duration::from_millis(100));
    spinner
}
