//! `kvctl`: the command-line tool for keg stores. Its subcommands arrive with their own
//! issue; for now it names itself and exits with the usage status.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--version" | "-V") => {
            println!("kvctl {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!(
                "kvctl {}: the keg command-line tool. No subcommands are available yet.",
                env!("CARGO_PKG_VERSION")
            );
            ExitCode::from(2)
        }
    }
}
