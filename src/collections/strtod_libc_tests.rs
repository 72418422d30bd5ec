//! Differential test: `strtod` here against the C library's, compiled on this machine.
//! Thousands of generated texts — decimal, hexadecimal, infinities, NaNs, white space,
//! signs, NUL bytes, truncated exponents and garbage — must give the same value, the same
//! length read and the same overflow/underflow verdict.
//!
//! Needs a C compiler (`cc`), which CI installs; without one the test says so and passes.

use std::io::Write;
use std::process::{Command, Stdio};

use super::strtod::strtod;

/// Reads lines of hex-encoded bytes, runs strtod on each as a C string, and prints how far
/// it read, whether it overflowed or underflowed to zero, and the value's bits.
const REFERENCE: &str = r#"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    static char line[1 << 16];
    static char text[1 << 15];
    while (fgets(line, sizeof line, stdin)) {
        size_t n = strlen(line) / 2, i;
        for (i = 0; i < n; i++) {
            unsigned int byte;
            sscanf(line + 2 * i, "%2x", &byte);
            text[i] = (char)byte;
        }
        text[n] = '\0';
        char *end;
        errno = 0;
        double v = strtod(text, &end);
        int range = errno == ERANGE && (isinf(v) || v == 0.0);
        unsigned long long bits;
        memcpy(&bits, &v, sizeof bits);
        if (isnan(v)) bits = 1;
        printf("%ld %d %016llx\n", (long)(end - text), range, bits);
    }
    return 0;
}
"#;

/// A deterministic generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, choices: &[&'a str]) -> &'a str {
        choices[self.below(choices.len() as u64) as usize]
    }

    fn digits(&mut self, n: u64, radix: u32) -> String {
        (0..n)
            .map(|_| char::from_digit(self.below(u64::from(radix)) as u32, radix).unwrap())
            .collect()
    }

    fn text(&mut self) -> Vec<u8> {
        let prefix = self.pick(&["", "", "", " ", "\t", "\n ", "\x0b", "\x0c", "\r"]);
        let sign = self.pick(&["", "", "-", "+"]);
        let body = match self.below(10) {
            0 => self
                .pick(&[
                    "inf",
                    "INF",
                    "Infinity",
                    "infinit",
                    "infx",
                    "nan",
                    "NaN",
                    "nan(abc_1)",
                    "nan(",
                    "nan()",
                    "nan(a b)",
                    "",
                    ".",
                    "e5",
                    "x",
                    "0x",
                    "0x.",
                    "0xp1",
                ])
                .to_owned(),
            1 | 2 => {
                let int = self.below(18);
                let frac = self.below(18);
                let point = if self.below(4) == 0 { "" } else { "." };
                let exp = match self.below(4) {
                    0 => format!("p{}", self.below(2400) as i64 - 1200),
                    1 => self.pick(&["p", "p+", "P-", "p1"]).to_owned(),
                    _ => String::new(),
                };
                format!(
                    "{}{}{point}{}{exp}",
                    self.pick(&["0x", "0X"]),
                    self.digits(int, 16),
                    self.digits(frac, 16)
                )
            }
            3 => {
                let n = 1 + self.below(25);
                format!("{}e{}", self.digits(n, 10), self.below(800) as i64 - 400)
            }
            4 => {
                let len = 1 + self.below(30);
                format!("0.{}", self.digits(len, 10))
            }
            5 => {
                let len = 1 + self.below(5);
                let digits = self.digits(len, 10);
                format!("{digits}{}", self.pick(&["e", "e+", "E-", "e-x", "ee1"]))
            }
            _ => {
                let (int_len, frac_len) = (self.below(20), self.below(20));
                let int = self.digits(int_len, 10);
                let frac = self.digits(frac_len, 10);
                let exp = if self.below(3) == 0 {
                    format!("e{}", self.below(700) as i64 - 350)
                } else {
                    String::new()
                };
                format!("{int}.{frac}{exp}")
            }
        };
        let suffix = self.pick(&["", "", "", " ", "x", "\0", "\x001", ".", "e", "5"]);
        format!("{prefix}{sign}{body}{suffix}").into_bytes()
    }
}

fn compile_reference(dir: &std::path::Path) -> Option<std::path::PathBuf> {
    let source = dir.join("strtod_reference.c");
    std::fs::write(&source, REFERENCE).ok()?;
    let binary = dir.join("strtod_reference");
    let status = Command::new("cc")
        .arg("-O1")
        .arg("-o")
        .arg(&binary)
        .arg(&source)
        .arg("-lm")
        .status()
        .ok()?;
    status.success().then_some(binary)
}

#[test]
fn strtod_matches_the_c_library() {
    let work = tempfile::tempdir().unwrap();
    let Some(reference) = compile_reference(work.path()) else {
        eprintln!("skipped: no C compiler (cc) to build the reference");
        return;
    };
    let mut rng = Rng(9);
    let texts: Vec<Vec<u8>> = (0..20_000).map(|_| rng.text()).collect();
    let input: String = texts
        .iter()
        .map(|t| t.iter().map(|b| format!("{b:02x}")).collect::<String>() + "\n")
        .collect();

    let mut child = Command::new(&reference)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // Feed stdin from another thread: the output can outgrow a pipe buffer first.
    let feeder = std::thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
    let output = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    let lines: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), texts.len());

    let mut converted = 0;
    for (text, want) in texts.iter().zip(&lines) {
        let r = strtod(text);
        let bits = if r.value.is_nan() {
            1
        } else {
            r.value.to_bits()
        };
        let got = format!("{} {} {bits:016x}", r.consumed, u8::from(r.range_error));
        assert_eq!(&got, want, "{:?}", String::from_utf8_lossy(text));
        converted += usize::from(r.consumed > 0);
    }
    assert!(
        converted > 15_000,
        "only {converted} texts held a number: generator too lax"
    );
}
