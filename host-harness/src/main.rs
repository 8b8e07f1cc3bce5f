//! `harness`: the Infraon host for the Okta plugin, on a developer's machine.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
