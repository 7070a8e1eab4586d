//! The `dropgate` command line.
