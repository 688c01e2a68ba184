//! `Content-Encoding: gzip` request bodies (RFC 9110 §8.4.1.3; what CXF's GZIP feature
//! sends), inflated under the gateway's limits.
//!
//! The inflate runs in bounded steps and both limits are checked after each step, so a
//! decompression bomb costs at most one step past the point where it is refused:
//! - the inflated size against `[limits] max_request_bytes`, the same bound a plain body has;
//! - past [`RATIO_FLOOR`] inflated bytes, the ratio of inflated to compressed bytes read so
//!   far against `[limits] max_inflate_ratio`. SOAP XML compresses some 5 to 20 times; a
//!   run of zeros some 1,000 times. The floor keeps small, very repetitive messages (an
//!   empty query compresses well) out of the ratio check.

use std::io::Read;

use flate2::bufread::MultiGzDecoder;

use super::receive::ReceiveError;

/// Below this many inflated bytes the ratio is not checked.
pub const RATIO_FLOOR: usize = 1024 * 1024;

/// Bytes inflated per step.
const STEP: usize = 64 * 1024;

/// Inflates a gzip body (one or more members, RFC 1952 §2.2) under `max_bytes` inflated
/// bytes and `max_ratio`.
pub fn gunzip(
    compressed: &[u8],
    max_bytes: usize,
    max_ratio: u64,
) -> Result<Vec<u8>, ReceiveError> {
    let mut rest = compressed;
    let mut decoder = MultiGzDecoder::new(&mut rest);
    let mut out = Vec::with_capacity(compressed.len().saturating_mul(4).min(max_bytes));
    let mut step = vec![0u8; STEP];
    loop {
        let n = decoder
            .read(&mut step)
            .map_err(|e| ReceiveError::BadGzip(e.to_string()))?;
        if n == 0 {
            return Ok(out);
        }
        if out.len() + n > max_bytes {
            return Err(ReceiveError::TooLarge { limit: max_bytes });
        }
        out.extend_from_slice(&step[..n]);
        let read = (compressed.len() - decoder.get_ref().len()).max(1) as u64;
        if out.len() > RATIO_FLOOR && out.len() as u64 > read.saturating_mul(max_ratio) {
            return Err(ReceiveError::InflateRatio { max_ratio });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::write::GzEncoder;
    use flate2::Compression;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn inflates_one_or_more_members() {
        let xml = b"<a>Ti\xe1\xba\xbfng Vi\xe1\xbb\x87t</a>".repeat(1000);
        assert_eq!(gunzip(&gzip(&xml), 1 << 20, 100).unwrap(), xml);
        let mut two = gzip(b"<a>");
        two.extend(gzip(b"</a>"));
        assert_eq!(gunzip(&two, 100, 100).unwrap(), b"<a></a>");
    }

    #[test]
    fn refuses_oversize_bombs_and_garbage() {
        let zeros = gzip(&vec![0u8; 8 << 20]);
        assert!(matches!(
            gunzip(&zeros, 4 << 20, 10_000),
            Err(ReceiveError::TooLarge { limit }) if limit == 4 << 20
        ));
        assert!(matches!(
            gunzip(&zeros, 64 << 20, 100),
            Err(ReceiveError::InflateRatio { max_ratio: 100 })
        ));
        // Repetitive but under the floor: fine.
        let small = vec![b' '; RATIO_FLOOR / 2];
        assert_eq!(
            gunzip(&gzip(&small), 64 << 20, 100).unwrap().len(),
            small.len()
        );
        let mut cut = gzip(b"<a>x</a>");
        cut.truncate(cut.len() - 4);
        assert!(matches!(
            gunzip(&cut, 100, 100),
            Err(ReceiveError::BadGzip(_))
        ));
        let mut trailing = gzip(b"<a/>");
        trailing.extend_from_slice(b"junk");
        assert!(matches!(
            gunzip(&trailing, 100, 100),
            Err(ReceiveError::BadGzip(_))
        ));
        assert!(matches!(
            gunzip(b"<a/>", 100, 100),
            Err(ReceiveError::BadGzip(_))
        ));
    }
}
