//! The `cantal` command; see the library's documentation.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    cantal_cli::main()
}
