//! Transaction-set definitions as data: the dictionary of each version, the
//! structure of each set, and partner overlays.
//!
//! The files live in `x12/` at the top of the repository and are built into
//! the binary ([`Definitions::embedded`]); `--defs DIR` reads another copy.

mod embedded;
mod load;
mod model;
mod overlay;

pub use embedded::FILES as EMBEDDED_FILES;
pub use load::{Definitions, DefsError, SCHEMA_VERSION, VersionDefs};
pub use model::{
    CodeList, CompositeDef, Dictionary, ElementDef, ElementKind, ElementSpec, ElementType,
    ElementUse, FastSpec, Frame, KEY_PADDING, LoopNode, Node, Quick, Requirement, SegmentDef,
    SegmentNode, SetDef, SyntaxKind, SyntaxRule, Transition, TransitionTable, UNBOUNDED, Usage,
};
pub use overlay::Overlay;
