//! Checks that a provider's README says what its code does: the "Status mapping" table lists exactly
//! the status table's strings, each with its status.

use std::collections::BTreeSet;

use refunds::RefundStatus;
use refunds::adapter::StatusMap;

/// The `(wire string, status)` rows of the README's `## Status mapping` table, wire strings in lower
/// case (lookups ignore ASCII case, so `PROCESSING` and `processing` are one row of the table). A
/// row's first column may name several strings (`` `canceled`, `cancelled` ``); rows without a
/// backticked string ("anything else") are skipped.
pub fn readme_status_rows(readme: &str) -> BTreeSet<(String, String)> {
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with("Status mapping"))
        .expect("the README has a `## Status mapping` section");
    let mut rows = BTreeSet::new();
    for line in section.lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let (Some(wire), Some(status)) = (cells.get(1), cells.get(2)) else {
            continue;
        };
        let status = status.trim_matches('`');
        let known = !matches!(RefundStatus::from_name(&snake(status)), RefundStatus::Unknown(_));
        if wire.contains("anything else") || !known {
            continue;
        }
        for name in wire.split('`').skip(1).step_by(2) {
            rows.insert((name.to_ascii_lowercase(), status.to_owned()));
        }
    }
    rows
}

/// `RequiresAction` → `requires_action`.
fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Asserts that `readme`'s status table and `statuses` hold the same strings with the same statuses.
pub fn assert_readme_status_table(readme: &str, statuses: &StatusMap) {
    let documented = readme_status_rows(readme);
    let coded: BTreeSet<(String, String)> = statuses
        .entries()
        .iter()
        .map(|(wire, status)| (wire.to_ascii_lowercase(), format!("{status:?}")))
        .collect();
    assert_eq!(documented, coded, "the README's status table against the code's");
}

/// `#[test] the_readme_status_table_is_the_code_s`: the README text given (`include_str!` of the
/// provider's `README.md`) against its status table.
#[macro_export]
macro_rules! readme_status_table_test {
    ($readme:expr, $statuses:expr $(,)?) => {
        #[test]
        fn the_readme_status_table_is_the_code_s() {
            $crate::readme::assert_readme_status_table($readme, $statuses);
        }
    };
}
