//! Aligned text tables that fit the terminal.
//!
//! Every command that prints a table builds a [`Table`] and renders it for
//! a width: the terminal's when stdout is one ([`terminal_width`]), none
//! otherwise. With no width the table is as wide as its cells (a pipe or a
//! file gets every character). With a width, the columns marked
//! [`Fit::Shorten`] give up characters, in the middle of each cell that is
//! too long (`{"group": "ma…": "ticks"}`, so both ends of a name stay
//! readable), and those marked [`Fit::Cut`] at the end (`waiting for th…`),
//! down to their minimum widths; every row keeps its columns aligned. Widths
//! count characters, not bytes.

use std::io::IsTerminal;

/// How a column's cells are placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    /// Text: left-aligned.
    Left,
    /// Numbers: right-aligned.
    Right,
}

/// What a column gives up when the table is too wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fit {
    /// Nothing: its cells stay whole (types, numbers, rates).
    Keep,
    /// Characters in the middle of a long cell, down to `min` characters.
    Shorten {
        /// The narrowest the column gets.
        min: usize,
    },
    /// Characters at the end of a long cell, down to `min` characters.
    Cut {
        /// The narrowest the column gets.
        min: usize,
    },
}

/// One column: its header and how its cells are laid out.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Column {
    /// The header text.
    pub(crate) header: &'static str,
    /// How a cell is placed.
    pub(crate) align: Align,
    /// What the column gives up for a narrow terminal.
    pub(crate) fit: Fit,
}

/// A cell: its text, and whether it is placed as the column says or to
/// the left (a state's text in the value column of numbers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cell {
    text: String,
    left: bool,
}

impl Cell {
    /// A cell placed as its column says.
    pub(crate) fn new(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            left: false,
        }
    }

    /// A cell left-aligned in any column.
    pub(crate) fn left(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            left: true,
        }
    }
}

/// Rows of cells under headers.
#[derive(Debug, Clone)]
pub(crate) struct Table {
    columns: Vec<Column>,
    rows: Vec<Vec<Cell>>,
}

/// The character that stands for the characters left out.
const ELLIPSIS: char = '…';

/// Two spaces between columns.
const GAP: usize = 2;

impl Table {
    /// An empty table with these columns.
    pub(crate) fn new(columns: &[Column]) -> Table {
        Table {
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are empty, extra ones are dropped.
    pub(crate) fn push(&mut self, mut row: Vec<Cell>) {
        row.resize(self.columns.len(), Cell::new(""));
        self.rows.push(row);
    }

    /// The table as lines of text, each at most `width` characters when a
    /// width is given and the columns can shrink that far.
    pub(crate) fn render(&self, width: Option<usize>) -> String {
        let widths = self.widths(width);
        let mut out = String::new();
        let header: Vec<Cell> = self.columns.iter().map(|c| Cell::new(c.header)).collect();
        for row in std::iter::once(&header).chain(&self.rows) {
            let mut line = String::new();
            for (c, (cell, column)) in row.iter().zip(&self.columns).enumerate() {
                if c > 0 {
                    line.push_str(&" ".repeat(GAP));
                }
                let text = fit(&cell.text, widths[c], column.fit);
                let pad = widths[c].saturating_sub(text.chars().count());
                if column.align == Align::Right && !cell.left {
                    line.extend(std::iter::repeat_n(' ', pad));
                    line.push_str(&text);
                } else {
                    line.push_str(&text);
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    /// Each column's width: as wide as its widest cell, then narrowed
    /// (shortened columns first, then cut ones, each to its minimum) until
    /// the whole fits `width`.
    fn widths(&self, width: Option<usize>) -> Vec<usize> {
        let mut widths: Vec<usize> = self
            .columns
            .iter()
            .enumerate()
            .map(|(c, column)| {
                self.rows
                    .iter()
                    .map(|row| row[c].text.chars().count())
                    .chain([column.header.chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let Some(width) = width else { return widths };
        let total = |w: &[usize]| w.iter().sum::<usize>() + GAP * w.len().saturating_sub(1);
        // Cut columns (state texts) give up characters before names do:
        // a name tells which metric a row is.
        for cut_first in [true, false] {
            for (c, column) in self.columns.iter().enumerate() {
                let min = match (column.fit, cut_first) {
                    (Fit::Cut { min }, true) | (Fit::Shorten { min }, false) => {
                        min.max(column.header.chars().count())
                    }
                    _ => continue,
                };
                let excess = total(&widths).saturating_sub(width);
                widths[c] = widths[c].saturating_sub(excess).max(min.min(widths[c]));
            }
        }
        widths
    }
}

/// `text` in at most `width` characters, as `fit` says.
fn fit(text: &str, width: usize, fit: Fit) -> String {
    let len = text.chars().count();
    if len <= width || width == 0 {
        return text.to_string();
    }
    match fit {
        Fit::Keep => text.to_string(),
        Fit::Cut { .. } => cut(text, width),
        Fit::Shorten { .. } => {
            // Keep a little more of the start than of the end.
            let tail = (width - 1) / 2;
            let head = width - 1 - tail;
            let mut s: String = text.chars().take(head).collect();
            s.push(ELLIPSIS);
            s.extend(text.chars().skip(len - tail));
            s
        }
    }
}

/// `text` cut to at most `width` characters, the last one an ellipsis when
/// anything was cut.
pub(crate) fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
    s.push(ELLIPSIS);
    s
}

/// The width to fit tables to: the terminal's, when stdout is a terminal
/// (`COLUMNS`, when set to a number, overrides what the terminal says);
/// `None` when stdout is a pipe or a file, which then gets whole cells.
pub(crate) fn terminal_width() -> Option<usize> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    if let Some(columns) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0)
    {
        return Some(columns);
    }
    terminal_size::terminal_size().map(|(w, _)| usize::from(w.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: [Column; 3] = [
        Column {
            header: "NAME",
            align: Align::Left,
            fit: Fit::Shorten { min: 12 },
        },
        Column {
            header: "VALUE",
            align: Align::Right,
            fit: Fit::Cut { min: 8 },
        },
        Column {
            header: "RATE",
            align: Align::Right,
            fit: Fit::Keep,
        },
    ];

    fn sample() -> Table {
        let mut t = Table::new(&COLUMNS);
        t.push(vec![
            Cell::new(r#"{"group": "main_loop", "metric": "ticks"}"#),
            Cell::new("12345"),
            Cell::new("10.0/s"),
        ]);
        t.push(vec![
            Cell::new(r#"{"metric": "phase"}"#),
            Cell::left(format!("{} (3.0 s)", "x".repeat(120))),
            Cell::new(""),
        ]);
        t.push(vec![
            Cell::new(r#"{"metric": "mode"}"#),
            Cell::left("idle (1.0 s)"),
            Cell::new(""),
        ]);
        t
    }

    /// The character offset at which `needle` starts in `line`.
    fn column_of(line: &str, needle: &str) -> usize {
        line[..line.find(needle).unwrap()].chars().count()
    }

    #[test]
    fn without_a_width_every_cell_is_whole() {
        let out = sample().render(None);
        assert!(
            out.contains(r#"{"group": "main_loop", "metric": "ticks"}"#),
            "{out}"
        );
        assert!(out.contains(&"x".repeat(120)), "{out}");
    }

    #[test]
    fn every_line_fits_the_width_and_columns_stay_aligned() {
        for width in [80, 60, 40] {
            let out = sample().render(Some(width));
            let lines: Vec<&str> = out.lines().collect();
            for line in &lines {
                assert!(line.chars().count() <= width, "{width}: {line:?}\n{out}");
            }
            // Right-aligned columns end where their headers end.
            let end = |line: &str, needle: &str| column_of(line, needle) + needle.len();
            assert_eq!(end(lines[1], "10.0/s"), end(lines[0], "RATE"), "{out}");
            assert_eq!(end(lines[1], "12345"), end(lines[0], "VALUE"), "{out}");
            // Texts in the value column start in one place.
            assert_eq!(
                column_of(lines[2], "xxx"),
                column_of(lines[3], "idle"),
                "{out}"
            );
        }
    }

    #[test]
    fn names_are_shortened_in_the_middle_and_states_cut_at_the_end() {
        let out = sample().render(Some(40));
        let name = out.lines().nth(1).unwrap();
        assert!(name.starts_with(r#"{"group": ""#), "{out}");
        assert!(name.contains(r#"…: "ticks"}"#), "{out}");
        assert!(out.contains("xxxxx…"), "{out}");
        assert!(!out.contains("(3.0 s)"), "{out}");
    }

    #[test]
    fn columns_never_shrink_below_their_minimum() {
        let out = sample().render(Some(10));
        let first = out.lines().nth(1).unwrap();
        // 12 for the name, 8 for the value, the rate whole.
        assert!(first.starts_with(r#"{"grou…cks"}"#), "{out}");
        assert!(first.ends_with("10.0/s"), "{out}");
    }

    #[test]
    fn cutting_counts_characters() {
        assert_eq!(cut("Zürich ✓ Zürich", 8), "Zürich …");
        assert_eq!(cut("short", 8), "short");
        assert_eq!(fit("αβγδεζηθικ", 5, Fit::Shorten { min: 1 }), "αβ…ικ");
    }
}
