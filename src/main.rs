fn main() -> std::process::ExitCode {
    patchwright::cli::main()
}
