//! `kvctl`: the command-line tool for using, inspecting and operating a keg store.
//!
//! This file only wires things together: parse the arguments (`cli`), run the subcommand
//! (`cmd`), turn the outcome or error into an exit status (`status`). Each subcommand has a
//! file of its own under `cmd/`.
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod bytes;
mod cli;
mod cmd;
mod context;
mod duration;
mod glob;
mod histogram;
mod json;
mod progress;
mod scratch;
mod size;
mod status;
mod value_input;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;
use crate::context::Context;

/// The server allocates small buffers per command; mimalloc serves them faster than the
/// system allocator (see Cargo.toml).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    install_panic_message();
    // Usage errors exit with status 2 here (clap's convention, and ours).
    let cli = Cli::parse();
    let mut ctx = Context::new(cli.global);
    let outcome = cmd::run(cli.command, &mut ctx);
    // Output written before an error still goes out.
    let flushed = ctx.finish();
    let status = match outcome.and_then(|status| flushed.map(|()| status)) {
        Ok(status) => status,
        Err(err) => status::report(&err),
    };
    ExitCode::from(status as u8)
}

/// A panic is a bug in kvctl: say so in one line instead of showing a Rust backtrace note.
fn install_panic_message() {
    std::panic::set_hook(Box::new(|info| {
        eprintln!("kvctl: internal error (please report it): {info}");
    }));
}
