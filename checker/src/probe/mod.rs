//! Probes: read-only observations of the engine, each bounded by a timeout. What changes a
//! learner's stack (the drills) lives in `crate::drill`, and runs only with `--drill`.

pub mod compose;
pub mod container;
pub mod cx;
pub mod exec;
pub mod ext;
pub mod ext_facts;
pub mod facts;
pub mod helper;
pub mod http;
pub mod image;
pub mod image_facts;
pub mod net;
pub mod postgres;
pub mod race;

pub use crate::limits::{bounded, error_chain, Timeouts};
