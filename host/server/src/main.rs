//! The `arbiter` binary: parse the command line and hand over to the library.

/// A decision allocates and frees many small strings (context, reasons, module results); the
/// load profile showed glibc malloc at about a tenth of the server's cycles, which mimalloc's
/// thread-local free lists largely remove.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    arbiter_host::cli::main()
}
