//! Reading a publication into owned rows, with `cantal_mmap`'s reader: the
//! meta parsed once into a [`Layout`] (the shards of a sharded counter are
//! one row, their sum), the values read against it. `export` keeps the
//! layout per publisher between scrapes (meta files are immutable).

use crate::fail::Result;
use crate::target::Source;
use std::path::Path;

pub(crate) use cantal_mmap::read::{Layout, OwnedValue as Reading, Slot, SlotType};

/// A publication read once.
#[derive(Debug, Clone)]
pub(crate) struct Loaded {
    /// Its layout.
    pub(crate) layout: Layout,
    /// One reading per slot of the layout.
    pub(crate) readings: Vec<Reading>,
    /// Whether a process holds its lock.
    pub(crate) alive: bool,
}

/// Reads and decodes the publication of `source` (inside its process's
/// root when it is in another mount namespace).
pub(crate) fn load(source: &Source) -> Result<Loaded> {
    let options = cantal_mmap::read::Options::new().root(source.root());
    load_with(source.read_path(), &options)
}

/// [`load`] with the reader's checks of `options` (an owner, limits).
pub(crate) fn load_with(base: &Path, options: &cantal_mmap::read::Options) -> Result<Loaded> {
    let snapshot = cantal_mmap::read::read_with(base, options)?;
    let layout = Layout::parse(&snapshot.meta, &snapshot.meta_path)?;
    let readings = layout.read(&snapshot.values, &snapshot.values_path)?;
    Ok(Loaded {
        layout,
        readings,
        alive: snapshot.alive,
    })
}
