//! Differential test: `incr_by_float_text` against Redis's own arithmetic, compiled from C
//! (tests/support/redis_incrbyfloat.c: strtold, long double addition, "%.17Lf") on this
//! machine. Thousands of generated values and increments, decimal and hexadecimal, tiny,
//! huge and malformed, must give byte-identical results.
//!
//! Needs a C compiler (`cc`), which CI installs; without one the test says so and passes.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

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

    fn digits(&mut self, n: u64) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }

    fn number(&mut self) -> String {
        let sign = ["", "-", "+"][self.below(3) as usize];
        match self.below(12) {
            0 => [
                "inf", "-inf", "nan", "", " 1", "1 ", "1e", "abc", "0x", ".", "1..2", "-0",
            ][self.below(12) as usize]
                .to_owned(),
            1 => {
                let (int, frac, exp) = (self.next() >> 20, self.below(4096), self.below(200));
                format!("{sign}0x{int:x}.{frac:x}p{}", exp as i64 - 100)
            }
            2 => {
                let n = 1 + self.below(20);
                let mantissa = self.digits(n);
                format!("{sign}{mantissa}e{}", self.below(9900) as i64 - 4950)
            }
            3 => {
                let n = 1 + self.below(40);
                format!("{sign}0.{}", self.digits(n))
            }
            4 => {
                let n = 1 + self.below(30);
                format!("{sign}{}", self.digits(n))
            }
            _ => {
                let (n_int, n_frac) = (self.below(12), self.below(12));
                let int = self.digits(n_int);
                let frac = self.digits(n_frac);
                let exp = if self.below(3) == 0 {
                    format!("e{}", self.below(60) as i64 - 30)
                } else {
                    String::new()
                };
                format!("{sign}{int}.{frac}{exp}")
            }
        }
    }
}

fn compile_reference(dir: &std::path::Path) -> Option<std::path::PathBuf> {
    let source =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/redis_incrbyfloat.c");
    let binary = dir.join("redis_incrbyfloat");
    let status = Command::new("cc")
        .arg("-O2")
        .arg("-o")
        .arg(&binary)
        .arg(&source)
        .arg("-lm")
        .status()
        .ok()?;
    status.success().then_some(binary)
}

#[test]
fn incr_by_float_matches_redis_arithmetic_byte_for_byte() {
    if !cfg!(target_arch = "x86_64") {
        eprintln!("skipped: long double is the x87 80-bit format only on x86-64");
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let Some(reference) = compile_reference(work.path()) else {
        eprintln!("skipped: no C compiler (cc) to build the reference");
        return;
    };
    let mut rng = Rng(2026);
    let pairs: Vec<(String, String)> = (0..4000).map(|_| (rng.number(), rng.number())).collect();

    let mut child = Command::new(&reference)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = String::new();
    for (a, b) in &pairs {
        input.push_str(&format!("{a}\t{b}\n"));
    }
    // Feed stdin from another thread: the child's output can outgrow a pipe buffer before
    // it has read all of its input.
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
    let output = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    let expected: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(expected.len(), pairs.len());

    let store = common::open_fast(&work.path().join("store"));
    let mut checked_ok = 0;
    for ((a, b), want) in pairs.iter().zip(&expected) {
        store.set(b"f", a.as_bytes()).unwrap();
        let got = match store.incr_by_float_text(b"f", b.as_bytes()) {
            Ok(text) => format!("OK {}", String::from_utf8(text).unwrap()),
            Err(keg::Error::NotAFloat) => "ERR NotAFloat".to_owned(),
            Err(keg::Error::NanOrInfinity) => "ERR NanOrInfinity".to_owned(),
            Err(e) => panic!("{a} + {b}: unexpected error {e}"),
        };
        assert_eq!(&got, want, "value {a:?} + increment {b:?}");
        checked_ok += usize::from(got.starts_with("OK"));
    }
    assert!(
        checked_ok > 1000,
        "only {checked_ok} sums were valid: generator too lax"
    );
}
