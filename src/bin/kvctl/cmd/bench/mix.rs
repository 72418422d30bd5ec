//! The operation mix of a benchmark: percentages of set, get and incr.

use std::fmt;

/// One benchmark operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Set,
    Get,
    Incr,
}

impl Op {
    pub const ALL: [Op; 3] = [Op::Set, Op::Get, Op::Incr];

    pub fn name(self) -> &'static str {
        match self {
            Op::Set => "set",
            Op::Get => "get",
            Op::Incr => "incr",
        }
    }

    /// Position in [`Op::ALL`], for per-operation arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Percentages per operation, adding up to 100.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mix {
    percent: [u32; 3],
}

impl Mix {
    /// Parses `set=20,get=70,incr=10`; operations left out get 0 %.
    pub fn parse(text: &str) -> Result<Mix, String> {
        let mut percent = [None; 3];
        for part in text.split(',') {
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?} is not op=percent (e.g. set=20)"))?;
            let op = Op::ALL
                .into_iter()
                .find(|op| op.name() == name.trim())
                .ok_or_else(|| format!("unknown operation {name:?} (use set, get, incr)"))?;
            let value: u32 = value
                .trim()
                .parse()
                .map_err(|_| format!("{value:?} is not a whole percentage"))?;
            let slot = percent
                .get_mut(op.index())
                .ok_or("operation out of range")?;
            if slot.replace(value).is_some() {
                return Err(format!("{} is given twice", op.name()));
            }
        }
        let percent = percent.map(|p| p.unwrap_or(0));
        let total: u32 = percent.iter().sum();
        if total != 100 {
            return Err(format!("the percentages add up to {total}, not 100"));
        }
        Ok(Mix { percent })
    }

    /// The operation for a roll `r` in `0..100`.
    pub fn pick(&self, r: u32) -> Op {
        let mut below = 0;
        for op in Op::ALL {
            below += self.percent.get(op.index()).copied().unwrap_or(0);
            if r < below {
                return op;
            }
        }
        Op::Get
    }

    pub fn percent(&self, op: Op) -> u32 {
        self.percent.get(op.index()).copied().unwrap_or(0)
    }
}

impl fmt::Display for Mix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = Op::ALL
            .into_iter()
            .filter(|&op| self.percent(op) > 0)
            .map(|op| format!("{} {}%", op.name(), self.percent(op)))
            .collect();
        f.write_str(&parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixes_parse_and_pick_in_proportion() {
        let mix = Mix::parse("set=20,get=70,incr=10").unwrap();
        let mut counts = [0; 3];
        for r in 0..100 {
            counts[mix.pick(r).index()] += 1;
        }
        assert_eq!(counts, [20, 70, 10]);
        assert_eq!(mix.to_string(), "set 20%, get 70%, incr 10%");
        assert_eq!(Mix::parse("get=100").unwrap().pick(0), Op::Get);
        for bad in [
            "set=20",
            "set=50,get=60",
            "put=100",
            "set=50,set=50",
            "set",
            "get=x",
        ] {
            assert!(Mix::parse(bad).is_err(), "{bad}");
        }
    }
}
