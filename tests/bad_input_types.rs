//! The bad-input rows the types refuse before any client is involved.

#[test]
fn typed_inputs_refuse_bad_values_naming_the_field() {
    let rows = refunds_testkit::bad_input::type_rows();
    for row in &rows {
        println!("refused at construction: {} -> field `{}`", row.case, row.field);
    }
    assert!(rows.len() >= 20, "{} rows", rows.len());
}
