//! Mapping a provider's status strings onto [`RefundStatus`], keeping unknown ones.

use crate::model::RefundStatus;

/// A provider's status table: wire string to normalized status. Lookups ignore ASCII case; strings not
/// in the table become `RefundStatus::Unknown` with the raw string, never a guessed success.
#[derive(Debug, Clone, Copy)]
pub struct StatusMap {
    table: &'static [(&'static str, RefundStatus)],
}

impl StatusMap {
    /// A table; the first entry for a status is the one written back by [`StatusMap::to_wire`].
    pub const fn new(table: &'static [(&'static str, RefundStatus)]) -> StatusMap {
        StatusMap { table }
    }

    /// The normalized status of `raw`.
    #[inline]
    pub fn to_status(&self, raw: &str) -> RefundStatus {
        // Providers send their own spelling almost always: an exact match first, then any case.
        self.table
            .iter()
            .find(|(wire, _)| *wire == raw)
            .or_else(|| self.table.iter().find(|(wire, _)| wire.eq_ignore_ascii_case(raw)))
            .map(|(_, status)| status.clone())
            .unwrap_or_else(|| RefundStatus::Unknown(raw.to_owned()))
    }

    /// The wire string for `status` (for filters and simulators); unknown statuses give their raw string.
    pub fn to_wire<'a>(&self, status: &'a RefundStatus) -> Option<&'a str> {
        if let RefundStatus::Unknown(raw) = status {
            return Some(raw);
        }
        self.table.iter().find(|(_, s)| s == status).map(|(wire, _)| *wire)
    }

    /// The table, for documentation tests.
    pub fn entries(&self) -> &'static [(&'static str, RefundStatus)] {
        self.table
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAP: StatusMap = StatusMap::new(&[
        ("pending", RefundStatus::Pending),
        ("succeeded", RefundStatus::Succeeded),
        ("success", RefundStatus::Succeeded),
    ]);

    #[test]
    fn maps_known_and_keeps_unknown() {
        assert_eq!(MAP.to_status("SUCCEEDED"), RefundStatus::Succeeded);
        assert_eq!(MAP.to_status("success"), RefundStatus::Succeeded);
        assert_eq!(MAP.to_status("weird"), RefundStatus::Unknown("weird".into()));
        assert_eq!(MAP.to_wire(&RefundStatus::Succeeded), Some("succeeded"));
        assert_eq!(MAP.to_wire(&RefundStatus::Failed), None);
        assert_eq!(MAP.to_wire(&RefundStatus::Unknown("x".into())), Some("x"));
    }
}
