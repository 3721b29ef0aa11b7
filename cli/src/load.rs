//! Reading a publication for `read` and `watch`, with `cantal_mmap`'s one
//! reader ([`cantal_mmap::read::load_with`]): the meta parsed once into a
//! `ParsedMeta` (the shards of a sharded counter are one slot, their sum),
//! the values read against it. `export` keeps the parsed meta per
//! publisher between scrapes instead (meta files are immutable; see
//! `scrape.rs`).

use crate::fail::Result;
use crate::target::Source;

pub(crate) use cantal_mmap::read::Loaded;

/// Reads and decodes the publication of `source` (inside its process's
/// root when it is in another mount namespace).
pub(crate) fn load(source: &Source) -> Result<Loaded> {
    let options = cantal_mmap::read::Options::new().root(source.root());
    Ok(cantal_mmap::read::load_with(source.read_path(), &options)?)
}
