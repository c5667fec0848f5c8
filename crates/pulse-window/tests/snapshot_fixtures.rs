//! Snapshots written by earlier builds must keep restoring. The fixtures are
//! layout-1 snapshots of fixed events with their query answers; when the
//! layout evolves, these files stay and must still restore to the same
//! answers. `PULSE_WRITE_FIXTURES=1 cargo test` regenerates them (only ever
//! for a new layout version, alongside the old files).

mod common;

use std::path::PathBuf;

use common::*;
use pulse_window::{StateOptions, ViewSpec, ViewState};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// 60 deterministic events over 40 minutes, nulls included.
fn events() -> Vec<Event> {
    let mut x: u64 = 2026;
    let mut next = move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        x >> 33
    };
    (0..60)
        .map(|i| {
            let r = next();
            Event {
                ts: 1_767_225_600_000 + (i * 40_000) as i64 + (r % 30_000) as i64,
                dev: (r % 7 != 0).then(|| ["a", "b", "c"][(r % 3) as usize].to_string()),
                site: (r % 5 != 0).then_some((r % 2) as i64),
                temp: (r % 9 != 0).then(|| (r % 4000) as f64 / 100.0 - 10.0),
                amount: (r % 6 != 0).then_some((r % 1000) as i64 - 300),
                user: (r % 4 != 0).then(|| format!("u{}", r % 17)),
                flag: (r % 3 != 0).then_some(r % 2 == 0),
            }
        })
        .collect()
}

fn check(name: &str, window: &str, group_by: &[&str]) {
    let view = view_json(window, group_by);
    let state = state_of(&view, &events(), &[17]);
    let (snap_path, rows_path) = (
        fixture(&format!("{name}.v1.arrows")),
        fixture(&format!("{name}.v1.rows.txt")),
    );
    if std::env::var_os("PULSE_WRITE_FIXTURES").is_some() {
        std::fs::write(&snap_path, state.snapshot().unwrap()).unwrap();
        std::fs::write(&rows_path, all(&state).join("\n") + "\n").unwrap();
    }
    let bytes =
        std::fs::read(&snap_path).unwrap_or_else(|e| panic!("{}: {e}", snap_path.display()));
    let expected = std::fs::read_to_string(&rows_path).unwrap();
    let restored = ViewState::restore(
        schema(),
        "ts",
        ViewSpec::from_json(&view).unwrap(),
        StateOptions::default(),
        &bytes,
    )
    .unwrap();
    let expected: Vec<String> = expected.lines().map(str::to_string).collect();
    assert_eq!(all(&restored), expected, "{name}: restored answers changed");
    assert_eq!(
        all(&state),
        expected,
        "{name}: this build computes different answers"
    );
    assert_eq!(restored.watermark(), state.watermark());
    assert!(!expected.is_empty());
}

#[test]
fn layout_1_tumbling_snapshot_restores() {
    check(
        "tumbling_dev_site",
        r#"{"type":"tumbling","sizeMs":600000}"#,
        &["dev", "site"],
    );
}

#[test]
fn layout_1_hopping_snapshot_restores() {
    check(
        "hopping_flag",
        r#"{"type":"hopping","sizeMs":900000,"slideMs":300000}"#,
        &["flag"],
    );
}

#[test]
fn layout_1_session_snapshot_restores() {
    check(
        "session_dev",
        r#"{"type":"session","gapMs":70000,"alignMs":120000}"#,
        &["dev"],
    );
}
