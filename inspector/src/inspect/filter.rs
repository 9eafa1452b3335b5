//! Display filters (`-Y`) over the field registry, in Wireshark's syntax:
//! `lct.toi == 3 && !lct.close_object`, `fec.esi >= 100 || finding contains "hdr_len"`.
//!
//! Operators: `==` `!=` `<` `>` `<=` `>=` `contains` (and `eq ne lt gt le ge`), `&&` `||` `!`
//! (and `and or not`), parentheses; a bare field tests presence. A comparison holds if any
//! occurrence of the field matches; `!=` holds if the field is present and no occurrence equals.

use std::net::IpAddr;

use super::dissect::Dissected;
use super::fields::{lookup, values, Field, Kind, Value};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("display filter error at column {column}: {message}")]
pub struct FilterError {
    pub column: usize,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    Contains,
}

pub enum Filter {
    Present(&'static Field),
    Compare(&'static Field, Op, Value),
    Not(Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Sym(&'static str),
}

fn tokenize(s: &str) -> Result<Vec<(usize, Tok)>, FilterError> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        if let Some(sym) = ["==", "!=", "<=", ">=", "&&", "||"]
            .into_iter()
            .find(|s| *s == two)
        {
            out.push((col, Tok::Sym(sym)));
            i += 2;
            continue;
        }
        if let Some(sym) = ["<", ">", "!", "(", ")"]
            .into_iter()
            .find(|s| s.starts_with(c))
        {
            out.push((col, Tok::Sym(sym)));
            i += 1;
            continue;
        }
        if c == '"' {
            let mut j = i + 1;
            let mut text = String::new();
            while j < chars.len() && chars[j] != '"' {
                if chars[j] == '\\' && j + 1 < chars.len() {
                    j += 1;
                }
                text.push(chars[j]);
                j += 1;
            }
            if j == chars.len() {
                return Err(FilterError {
                    column: col,
                    message: "unterminated string".into(),
                });
            }
            out.push((col, Tok::Quoted(text)));
            i = j + 1;
            continue;
        }
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':') {
            let mut j = i;
            while j < chars.len()
                && (chars[j].is_ascii_alphanumeric() || matches!(chars[j], '.' | '_' | '-' | ':'))
            {
                j += 1;
            }
            out.push((col, Tok::Word(chars[i..j].iter().collect())));
            i = j;
            continue;
        }
        return Err(FilterError {
            column: col,
            message: format!("unexpected character {c:?}"),
        });
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }
    fn column(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |(c, _)| *c)
    }
    fn err<T>(&self, message: impl Into<String>) -> Result<T, FilterError> {
        Err(FilterError {
            column: self.column(),
            message: message.into(),
        })
    }
    fn is(&self, sym: &str, word: &str) -> bool {
        match self.peek() {
            Some(Tok::Sym(s)) => *s == sym,
            Some(Tok::Word(w)) => w.eq_ignore_ascii_case(word),
            _ => false,
        }
    }

    fn or(&mut self) -> Result<Filter, FilterError> {
        self.left_assoc(("||", "or"), Self::and, Filter::Or)
    }

    fn and(&mut self) -> Result<Filter, FilterError> {
        self.left_assoc(("&&", "and"), Self::unary, Filter::And)
    }

    /// `operand (op operand)*`, grouped from the left; `op` in its symbol or word form.
    fn left_assoc(
        &mut self,
        (symbol, word): (&str, &str),
        operand: fn(&mut Self) -> Result<Filter, FilterError>,
        join: fn(Box<Filter>, Box<Filter>) -> Filter,
    ) -> Result<Filter, FilterError> {
        let mut left = operand(self)?;
        while self.is(symbol, word) {
            self.pos += 1;
            left = join(Box::new(left), Box::new(operand(self)?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, FilterError> {
        if self.is("!", "not") {
            self.pos += 1;
            return Ok(Filter::Not(Box::new(self.unary()?)));
        }
        if self.is("(", "") {
            self.pos += 1;
            let inner = self.or()?;
            if !self.is(")", "") {
                return self.err("expected ')'");
            }
            self.pos += 1;
            return Ok(inner);
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Filter, FilterError> {
        let Some(Tok::Word(name)) = self.peek().cloned() else {
            return self.err("expected a field name");
        };
        let Some(field) = lookup(&name) else {
            return self.err(format!(
                "unknown field {name:?} (rmt-inspect -G fields lists them)"
            ));
        };
        self.pos += 1;
        let op = match self.peek() {
            Some(Tok::Sym("==")) => Op::Eq,
            Some(Tok::Sym("!=")) => Op::Ne,
            Some(Tok::Sym("<")) => Op::Lt,
            Some(Tok::Sym(">")) => Op::Gt,
            Some(Tok::Sym("<=")) => Op::Le,
            Some(Tok::Sym(">=")) => Op::Ge,
            Some(Tok::Word(w)) => match w.to_ascii_lowercase().as_str() {
                "eq" => Op::Eq,
                "ne" => Op::Ne,
                "lt" => Op::Lt,
                "gt" => Op::Gt,
                "le" => Op::Le,
                "ge" => Op::Ge,
                "contains" => Op::Contains,
                _ => return Ok(Filter::Present(field)),
            },
            _ => return Ok(Filter::Present(field)),
        };
        self.pos += 1;
        let column = self.column();
        let text = match self.peek() {
            Some(Tok::Word(w)) | Some(Tok::Quoted(w)) => w.clone(),
            _ => return self.err("expected a value"),
        };
        self.pos += 1;
        let value =
            parse_value(field, op, &text).map_err(|m| FilterError { column, message: m })?;
        Ok(Filter::Compare(field, op, value))
    }
}

fn parse_value(field: &Field, op: Op, text: &str) -> Result<Value, String> {
    if op == Op::Contains {
        return match field.kind {
            Kind::Str => Ok(Value::Str(text.to_string())),
            Kind::Bytes => parse_bytes(text).map(Value::Bytes),
            _ => Err(format!(
                "{} is a {}: 'contains' needs a string or bytes field",
                field.name,
                field.kind.name()
            )),
        };
    }
    match field.kind {
        Kind::Uint => {
            let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
                Some(hex) => u128::from_str_radix(hex, 16),
                None => text.parse::<u128>(),
            };
            parsed.map(Value::Uint).map_err(|_| {
                format!(
                    "{text:?} is not an unsigned number ({} is a number field)",
                    field.name
                )
            })
        }
        Kind::Bool => match text {
            "1" | "true" | "True" | "TRUE" => Ok(Value::Bool(true)),
            "0" | "false" | "False" | "FALSE" => Ok(Value::Bool(false)),
            _ => Err(format!("{text:?} is not a boolean (1, 0, true, false)")),
        },
        Kind::Ip => text
            .parse::<IpAddr>()
            .map(Value::Ip)
            .map_err(|_| format!("{text:?} is not an IP address")),
        Kind::Str => Ok(Value::Str(text.to_string())),
        Kind::Bytes => parse_bytes(text).map(Value::Bytes),
    }
}

fn parse_bytes(text: &str) -> Result<Vec<u8>, String> {
    let hex: String = text.chars().filter(|c| *c != ':' && *c != '-').collect();
    if !hex.len().is_multiple_of(2) {
        return Err(format!("{text:?} is not hex bytes"));
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| format!("{text:?} is not hex bytes"))
        })
        .collect()
}

impl Filter {
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        let toks = tokenize(text)?;
        if toks.is_empty() {
            return Err(FilterError {
                column: 1,
                message: "empty filter".into(),
            });
        }
        let mut p = Parser {
            toks,
            pos: 0,
            end: text.chars().count() + 1,
        };
        let f = p.or()?;
        if p.pos != p.toks.len() {
            return p.err("unexpected text after the filter");
        }
        Ok(f)
    }

    pub fn matches(&self, d: &Dissected) -> bool {
        match self {
            Filter::Present(f) => !values(f, d).is_empty(),
            Filter::Compare(f, op, want) => {
                let have = values(f, d);
                match op {
                    Op::Ne => !have.is_empty() && have.iter().all(|v| v != want),
                    Op::Contains => have.iter().any(|v| match (v, want) {
                        (Value::Str(h), Value::Str(w)) => h.contains(w.as_str()),
                        (Value::Bytes(h), Value::Bytes(w)) => {
                            w.is_empty() || h.windows(w.len()).any(|x| x == w.as_slice())
                        }
                        _ => false,
                    }),
                    _ => have.iter().any(|v| match op {
                        Op::Eq => v == want,
                        Op::Lt => v < want,
                        Op::Gt => v > want,
                        Op::Le => v <= want,
                        Op::Ge => v >= want,
                        Op::Ne | Op::Contains => false,
                    }),
                }
            }
            Filter::Not(inner) => !inner.matches(d),
            Filter::And(a, b) => a.matches(d) && b.matches(d),
            Filter::Or(a, b) => a.matches(d) || b.matches(d),
        }
    }
}
