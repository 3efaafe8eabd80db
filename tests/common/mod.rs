//! Shared test support: the reference provider and its sandbox skin.

pub mod reference;
pub mod reference_skin;
