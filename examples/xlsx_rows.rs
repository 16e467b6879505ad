//! Reads a workbook back with calamine and prints every sheet's size, to check
//! a large report (BENCHMARKS.md): `cargo run --release --example xlsx_rows -- FILE.xlsx`.

use calamine::{Reader, Xlsx, open_workbook};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: xlsx_rows FILE.xlsx")?;
    let mut workbook: Xlsx<_> = open_workbook(&path)?;
    let mut data_rows = 0;
    for name in workbook.sheet_names() {
        let (rows, cols) = workbook.worksheet_range(&name)?.get_size();
        println!("{name:<32} rows {rows:>8} (header included)  columns {cols:>3}");
        if name != "Summary" && name != "Evidence" {
            data_rows += rows.saturating_sub(1);
        }
    }
    println!("data rows in the table sheets: {data_rows}");
    Ok(())
}
