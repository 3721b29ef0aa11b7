//! The Prometheus remote-write 1.0 wire format: a `WriteRequest` protobuf
//! (`prometheus/prompb/remote.proto`, `types.proto`), compressed with
//! snappy's block format; and the samples of an exposition in the text
//! format, turned into its time series.

use prost::Message;

/// `prometheus.WriteRequest` (field 1; the metadata of field 3 is not sent).
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct WriteRequest {
    #[prost(message, repeated, tag = "1")]
    pub(crate) timeseries: Vec<TimeSeries>,
}

/// `prometheus.TimeSeries`: labels sorted by name, `__name__` among them.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct TimeSeries {
    #[prost(message, repeated, tag = "1")]
    pub(crate) labels: Vec<Label>,
    #[prost(message, repeated, tag = "2")]
    pub(crate) samples: Vec<Sample>,
}

/// `prometheus.Label`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Label {
    #[prost(string, tag = "1")]
    pub(crate) name: String,
    #[prost(string, tag = "2")]
    pub(crate) value: String,
}

/// `prometheus.Sample`: a value at a time in milliseconds since the epoch.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Sample {
    #[prost(double, tag = "1")]
    pub(crate) value: f64,
    #[prost(int64, tag = "2")]
    pub(crate) timestamp: i64,
}

/// The series of `exposition` (the Prometheus text format 0.0.4, as our
/// renderer writes it), each with one sample at `timestamp_ms`, and the
/// labels `extra` (such as `job`, `instance`) added where the series has
/// none of that name. Lines that are not samples are skipped.
pub(crate) fn series(
    exposition: &str,
    timestamp_ms: i64,
    extra: &[(String, String)],
) -> Vec<TimeSeries> {
    exposition
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|line| {
            let (name, mut labels, value) = parse_sample(line)?;
            labels.push(Label {
                name: "__name__".into(),
                value: name.to_string(),
            });
            for (k, v) in extra {
                if !labels.iter().any(|l| &l.name == k) {
                    labels.push(Label {
                        name: k.clone(),
                        value: v.clone(),
                    });
                }
            }
            labels.sort_by(|a, b| a.name.cmp(&b.name));
            Some(TimeSeries {
                labels,
                samples: vec![Sample {
                    value,
                    timestamp: timestamp_ms,
                }],
            })
        })
        .collect()
}

/// `name{k="v",...} value` or `name value`: the name, the labels (values
/// unescaped: `\\`, `\"`, `\n`) and the value.
fn parse_sample(line: &str) -> Option<(&str, Vec<Label>, f64)> {
    let name_end = line.find(['{', ' '])?;
    let name = &line[..name_end];
    let mut labels = Vec::new();
    let mut rest = &line[name_end..];
    if let Some(inner) = rest.strip_prefix('{') {
        let mut key_start = 0;
        loop {
            let eq = inner[key_start..].find("=\"")? + key_start;
            let key = inner[key_start..eq].trim_start_matches(',');
            let mut value = String::new();
            let mut end = None;
            let mut escaped = false;
            for (i, c) in inner[eq + 2..].char_indices() {
                match (escaped, c) {
                    (true, 'n') => (value.push('\n'), escaped = false).1,
                    (true, c) => (value.push(c), escaped = false).1,
                    (false, '\\') => escaped = true,
                    (false, '"') => {
                        end = Some(eq + 2 + i);
                        break;
                    }
                    (false, c) => value.push(c),
                }
            }
            let end = end?;
            labels.push(Label {
                name: key.to_string(),
                value,
            });
            match inner[end + 1..].chars().next()? {
                ',' => key_start = end + 2,
                '}' => {
                    rest = &inner[end + 2..];
                    break;
                }
                _ => return None,
            }
        }
    }
    let value = rest.trim().split(' ').next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    Some((name, labels, value))
}

/// The body of a remote-write request: the protobuf, snappy-compressed.
pub(crate) fn encode(request: &WriteRequest) -> Vec<u8> {
    let raw = request.encode_to_vec();
    // Compressing a byte slice in memory cannot fail but for a length
    // beyond snappy's limit (4 GiB), which a bounded scrape never reaches.
    snap::raw::Encoder::new()
        .compress_vec(&raw)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_of_an_exposition() {
        let text = "# HELP x_total X\n# TYPE x_total counter\n\
                    x_total{appname=\"a\\\"b\",path=\"/p\\\\q\\nr\"} 12\n\
                    up 1\nh_bucket{le=\"+Inf\",path=\"/p\"} 3\nf{path=\"/p\"} 1.500\n";
        let extra = [("job".to_string(), "cantal".to_string())];
        let s = series(text, 1_700_000_000_000, &extra);
        assert_eq!(s.len(), 4);
        let labels = |i: usize| -> Vec<(&str, &str)> {
            s[i].labels
                .iter()
                .map(|l| (l.name.as_str(), l.value.as_str()))
                .collect()
        };
        assert_eq!(
            labels(0),
            [
                ("__name__", "x_total"),
                ("appname", "a\"b"),
                ("job", "cantal"),
                ("path", "/p\\q\nr")
            ]
        );
        assert_eq!(
            s[0].samples,
            [Sample {
                value: 12.0,
                timestamp: 1_700_000_000_000
            }]
        );
        assert_eq!(labels(1), [("__name__", "up"), ("job", "cantal")]);
        assert_eq!(labels(2)[2], ("le", "+Inf"));
        assert_eq!(s[3].samples[0].value, 1.5);
        // What the receiver decodes.
        let body = encode(&WriteRequest {
            timeseries: s.clone(),
        });
        let raw = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
        assert_eq!(WriteRequest::decode(raw.as_slice()).unwrap().timeseries, s);
    }

    #[test]
    fn broken_lines_are_skipped() {
        for line in ["x{a=\"1\" 2", "x{a=1} 2", "x", "x{a=\"1\"} notanumber"] {
            assert!(series(line, 0, &[]).is_empty(), "{line}");
        }
    }
}
