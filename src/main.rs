//! The `dropgate` binary: everything happens in [`dropgate::cli`].

fn main() -> std::process::ExitCode {
    dropgate::cli::main()
}
