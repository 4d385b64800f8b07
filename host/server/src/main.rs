//! The `arbiter` binary: parse the command line and hand over to the library.

fn main() -> std::process::ExitCode {
    arbiter_host::cli::main()
}
