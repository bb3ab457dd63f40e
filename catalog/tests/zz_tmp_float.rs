//! temp
#[test]
fn t() {
    let mut x: u64 = 0x1234_5678_9abc_def1;
    let mut worst = 0u64;
    let mut bad = 0;
    for _ in 0..2_000_000 {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        let f = f64::from_bits(x);
        if !f.is_finite() { continue; }
        let text = serde_json::to_string(&f).unwrap();
        let back: f64 = serde_json::from_str(&text).unwrap();
        let d = back.to_bits().abs_diff(f.to_bits());
        if d > 0 { bad += 1; }
        if d > worst { worst = d; println!("{f:e} -> {back:e}: {d}"); }
    }
    println!("worst {worst}, inexact {bad}");
}
