use super::*;
use cantal_mmap::help::Description;
use cantal_mmap::read::OwnedValue;
use std::path::Path;

fn source(base: &str, pid: u32) -> Source {
    Source {
        base: base.into(),
        pid: Some(pid),
        appname: Some("web".into()),
        inner: None,
    }
}

const META: &str = "counter 8: {\"group\": \"http\", \"metric\": \"requests\"}\n\
    counter 8: {\"group\": \"http\", \"metric\": \"total_duration\"}\n\
    level 8 float: {\"metric\": \"load\", \"pid\": \"x\", \"__a\": \"q\\\"\\n\\\\\"}\n\
    state 24: {\"state\": \"main\"}\nstate 24: {\"state\": \"idle\"}\n\
    counter 8: {\"metric\": \"h_count\"}\nlevel 8 float: {\"metric\": \"h_sum\"}\n\
    counter 8: {\"le\": \"10\", \"metric\": \"h_bucket\"}\n\
    counter 8: {\"le\": \"2.5\", \"metric\": \"h_bucket\"}";

fn readings() -> Vec<OwnedValue> {
    vec![
        OwnedValue::Counter(u64::MAX),
        OwnedValue::Counter(1_234_567),
        OwnedValue::Float(f64::NAN),
        OwnedValue::State {
            timestamp: 1_700_000_000_012,
            text: "a\"very long text".into(),
        },
        OwnedValue::State {
            timestamp: 0,
            text: "old".into(),
        },
        OwnedValue::Histogram {
            count: 7,
            sum: 1500.0,
            // Read while the publisher was between two buckets.
            buckets: vec![(2.5, 4), (10.0, 3)],
        },
    ]
}

#[test]
fn families_labels_units_and_histograms() {
    let layout = ParsedMeta::parse(META.as_bytes(), Path::new("m")).unwrap();
    let help: Help = [(
        r#"{"metric": "h"}"#.to_string(),
        Description {
            unit: Some("milliseconds".into()),
            text: "How long \\ it took\nin all".into(),
        },
    )]
    .into_iter()
    .collect();
    let prepared = prepare_with(&layout, Some(&help), &Options::DEFAULT);
    let readings = readings();
    let src = source("/tmp/cantal.1000.42", 42);
    let scraped = [Scraped {
        source: &src,
        up: true,
        reason: None,
        metrics: Some((&prepared, &readings)),
        process: None,
        extra_labels: Vec::new(),
    }];
    let options = Options {
        state_text_limit: 6,
        ..Options::DEFAULT
    };
    let text = render(&scraped, options, Format::Prometheus, 0);
    let expected = "\
# HELP cantal_h_seconds How long \\\\ it took\\nin all
# TYPE cantal_h_seconds histogram
cantal_h_seconds_bucket{le=\"0.0025\",appname=\"web\",path=\"/tmp/cantal.1000\"} 4
cantal_h_seconds_bucket{le=\"0.01\",appname=\"web\",path=\"/tmp/cantal.1000\"} 4
cantal_h_seconds_bucket{le=\"+Inf\",appname=\"web\",path=\"/tmp/cantal.1000\"} 7
cantal_h_seconds_sum{appname=\"web\",path=\"/tmp/cantal.1000\"} 1.5
cantal_h_seconds_count{appname=\"web\",path=\"/tmp/cantal.1000\"} 7
# HELP cantal_http_duration_seconds_total A Cantal counter (group=\"http\", metric=\"total_duration\"), published in milliseconds, served in seconds
# TYPE cantal_http_duration_seconds_total counter
cantal_http_duration_seconds_total{appname=\"web\",path=\"/tmp/cantal.1000\"} 1234.567
# HELP cantal_http_requests_total A Cantal counter (group=\"http\", metric=\"requests\")
# TYPE cantal_http_requests_total counter
cantal_http_requests_total{appname=\"web\",path=\"/tmp/cantal.1000\"} 18446744073709551615
# HELP cantal_load A Cantal level (metric=\"load\")
# TYPE cantal_load gauge
cantal_load{name___a=\"q\\\"\\n\\\\\",name_pid=\"x\",appname=\"web\",path=\"/tmp/cantal.1000\"} NaN
# HELP cantal_state_start_seconds When the Cantal state (text in label state_text) was entered, in seconds since the Unix epoch
# TYPE cantal_state_start_seconds gauge
cantal_state_start_seconds{state=\"main\",state_text=\"a\\\"very\",appname=\"web\",path=\"/tmp/cantal.1000\"} 1700000000.012
# HELP cantal_up 1 when the Cantal publisher's files were read and it is alive
# TYPE cantal_up gauge
cantal_up{appname=\"web\",path=\"/tmp/cantal.1000\"} 1
";
    assert_eq!(text, expected);
    // The prefix is applied when a layout is prepared.
    let options = Options {
        states: false,
        label_pid: true,
        prefix: "app_",
        ..options
    };
    let prepared = prepare_with(&layout, Some(&help), &options);
    let scraped = [Scraped {
        metrics: Some((&prepared, &readings)),
        extra_labels: Vec::new(),
        ..scraped[0]
    }];
    let om = render(&scraped, options, Format::OpenMetrics, 0);
    assert!(om.contains("# TYPE app_http_requests counter\n"), "{om}");
    assert!(
        om.contains(
            "\napp_http_requests_total{appname=\"web\",path=\"/tmp/cantal.1000\",pid=\"42\"} "
        ),
        "{om}"
    );
    assert!(
        om.contains("# UNIT app_http_duration_seconds seconds\n"),
        "{om}"
    );
    assert!(om.contains("# UNIT app_h_seconds seconds\n"), "{om}");
    assert!(
        om.contains("# HELP app_h_seconds How long \\\\ it took\\nin all\n"),
        "{om}"
    );
    assert!(!om.contains("state_start"));
    assert!(om.ends_with("# EOF\n"));
}

#[test]
fn a_family_does_not_depend_on_other_publishers() {
    // A counter `queue_len` elsewhere does not rename our level.
    let ours = ParsedMeta::parse(b"level 8 float: {\"metric\": \"queue_len\"}", "a").unwrap();
    let theirs = ParsedMeta::parse(b"counter 8: {\"metric\": \"queue_len\"}", "b").unwrap();
    let (a, b) = (
        prepare_with(&ours, None, &Options::DEFAULT),
        prepare_with(&theirs, None, &Options::DEFAULT),
    );
    let (ra, rb) = ([OwnedValue::Float(3.0)], [OwnedValue::Counter(9)]);
    let (sa, sb) = (source("/run/a", 1), source("/run/b", 2));
    let alone = render(
        &[Scraped {
            source: &sa,
            up: true,
            reason: None,
            metrics: Some((&a, &ra)),
            process: None,
            extra_labels: Vec::new(),
        }],
        Options::DEFAULT,
        Format::Prometheus,
        0,
    );
    let both = render(
        &[
            Scraped {
                source: &sa,
                up: true,
                reason: None,
                metrics: Some((&a, &ra)),
                process: None,
                extra_labels: Vec::new(),
            },
            Scraped {
                source: &sb,
                up: true,
                reason: None,
                metrics: Some((&b, &rb)),
                process: None,
                extra_labels: Vec::new(),
            },
        ],
        Options::DEFAULT,
        Format::Prometheus,
        0,
    );
    let line = "cantal_queue_len{appname=\"web\",path=\"/run/a\"} 3.0\n";
    assert!(alone.contains(line), "{alone}");
    assert!(both.contains(line), "{both}");
    assert!(
        both.contains("cantal_queue_len_total{appname=\"web\",path=\"/run/b\"} 9\n"),
        "{both}"
    );
}

#[test]
fn skipped_slots_are_counted_per_publisher() {
    let meta = b"counter 8: {\"metric\": \"a\"}\ncounter 4: {\"metric\": \"b\"}\npad 0\n\
                 counter 8: {\"metric\": \"c\"}";
    let render_one = |meta: &[u8], readings: &[OwnedValue]| {
        let layout = ParsedMeta::parse(meta, Path::new("m")).unwrap();
        let prepared = prepare_with(&layout, None, &Options::DEFAULT);
        let src = source("/run/app", 42);
        let scraped = [Scraped {
            source: &src,
            up: true,
            reason: None,
            metrics: Some((&prepared, readings)),
            process: None,
            extra_labels: Vec::new(),
        }];
        render(&scraped, Options::DEFAULT, Format::Prometheus, 0)
    };
    let text = render_one(
        meta,
        &[
            OwnedValue::Counter(1),
            OwnedValue::Unknown,
            OwnedValue::Unknown,
            OwnedValue::Counter(3),
        ],
    );
    assert!(text.contains("\ncantal_a_total{"), "{text}");
    assert!(text.contains("\ncantal_c_total{"), "{text}");
    assert!(!text.contains("cantal_b"), "{text}");
    assert!(
        text.ends_with(
            "# TYPE cantal_exporter_skipped_slots gauge\n\
             cantal_exporter_skipped_slots{appname=\"web\",path=\"/run/app\"} 2\n"
        ),
        "{text}"
    );
    // None skipped: no such family.
    let text = render_one(b"counter 8: {}", &[OwnedValue::Counter(1)]);
    assert!(!text.contains("skipped"), "{text}");
}

#[test]
fn process_families_in_both_formats() {
    let src = source("/run/app", 7);
    let stats = crate::procfs::ProcessStats {
        cpu_seconds: 1.5,
        resident_bytes: 4096,
        virtual_bytes: 8192,
        start_time_seconds: 1_700_000_000.25,
        open_fds: None,
        max_fds: Some(1024),
    };
    let scraped = [Scraped {
        source: &src,
        up: true,
        reason: None,
        metrics: None,
        process: Some(stats),
        extra_labels: Vec::new(),
    }];
    let text = render(&scraped, Options::DEFAULT, Format::Prometheus, 0);
    let id = r#"{appname="web",path="/run/app"}"#;
    for line in [
        "# TYPE process_cpu_seconds_total counter\n".to_string(),
        format!("process_cpu_seconds_total{id} 1.5\n"),
        format!("process_max_fds{id} 1024.0\n"),
        format!("process_resident_memory_bytes{id} 4096.0\n"),
        format!("process_start_time_seconds{id} 1700000000.25\n"),
        format!("process_virtual_memory_bytes{id} 8192.0\n"),
    ] {
        assert!(text.contains(&line), "{line:?} not in\n{text}");
    }
    // Unknown: no family at all.
    assert!(!text.contains("process_open_fds"), "{text}");
    let om = render(&scraped, Options::DEFAULT, Format::OpenMetrics, 0);
    assert!(om.contains("# TYPE process_cpu_seconds counter\n"), "{om}");
    assert!(
        om.contains(&format!("process_cpu_seconds_total{id} 1.5\n")),
        "{om}"
    );
}
