//! Shared test support: the reference provider and its sandbox skin.

pub mod listed;
pub mod property;
pub mod reference;
pub mod reference_skin;
