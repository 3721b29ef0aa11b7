//! Reading Cantal files: the meta parser and the values reader.
//!
//! (Being written: see issue 5.)
