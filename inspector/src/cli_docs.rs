//! Man pages and shell completions for the three binaries, from their clap definitions
//! (`rmt-inspect --generate KIND`, `rmt-ref generate KIND`, `rmt-conform generate KIND`;
//! `contrib/generate-man-and-completions.sh` writes them all). Behind the `cli` feature.

use std::io::{self, Write};

use clap_complete::Shell;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Generated {
    /// A roff man page (section 1), for `man -l FILE` or a `man1` folder.
    Man,
    Bash,
    Zsh,
    Fish,
    Elvish,
    Powershell,
}

/// [`generate`] to standard output, as the binary's exit code (1 when it cannot be written).
pub fn print(kind: Generated, cmd: clap::Command) -> std::process::ExitCode {
    match generate(kind, cmd, &mut io::stdout()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(_) => std::process::ExitCode::from(1),
    }
}

/// Writes `kind` for the command `cmd` (the binary's whole clap definition) to `out`.
pub fn generate(kind: Generated, mut cmd: clap::Command, out: &mut dyn Write) -> io::Result<()> {
    let shell = match kind {
        Generated::Man => return clap_mangen::Man::new(cmd).render(out),
        Generated::Bash => Shell::Bash,
        Generated::Zsh => Shell::Zsh,
        Generated::Fish => Shell::Fish,
        Generated::Elvish => Shell::Elvish,
        Generated::Powershell => Shell::PowerShell,
    };
    let name = cmd.get_name().to_string();
    clap_complete::generate(shell, &mut cmd, name, out);
    Ok(())
}
