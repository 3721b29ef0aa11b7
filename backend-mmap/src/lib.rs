//! Publishing Cantal metrics into memory-mapped files (being written).
