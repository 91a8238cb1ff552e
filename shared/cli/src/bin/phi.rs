//! `phi`: PHI detection and de-identification of JSON Lines and text files from the command line.

fn main() -> std::process::ExitCode {
    medvault_cli::phi::main()
}
