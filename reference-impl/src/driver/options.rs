//! Command-line values the drivers of this workspace share (`rmt-ref`, `rmt-conform`).

/// An on/off switch given as a value (`--close-session-packet off`), for options whose
/// default is on. clap needs `action = clap::ArgAction::Set` beside it: a `bool` field is a
/// flag otherwise, and the parser would be handed "true".
pub fn parse_on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" | "yes" | "true" => Ok(true),
        "off" | "no" | "false" => Ok(false),
        _ => Err(format!("{s:?}: on or off")),
    }
}
