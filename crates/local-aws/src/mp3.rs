//! A small MPEG audio (Layer III) inspector, so that tests can tell real mp3 from placeholder
//! bytes and measure how long a recording plays without decoding it.
//!
//! It walks the frame headers only: every byte after an optional leading ID3v2 tag must belong to
//! a Layer III frame, up to an optional trailing ID3v1 tag. No trailing garbage is tolerated, not
//! even a partial frame: lame's output and Polly's parse completely, and a torn last frame is
//! exactly the kind of defect (a truncated upload, a bad concatenation) these tests exist to
//! catch. Concatenated streams (how the dictate function stores a note longer than one synthesis)
//! parse as one stream whose duration is the sum, as long as every part has the same sample rate.

use std::time::Duration;

/// What [`inspect`] found: the number of audio frames, how long they play, and their sample rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mp3Info {
    /// Audio frames, not counting a Xing/Info metadata frame.
    pub frames: usize,
    /// Playing time of the audio frames (samples / sample rate).
    pub duration: Duration,
    /// Samples per second, the same in every frame.
    pub sample_rate: u32,
}

/// Why bytes are not a well-formed MPEG Layer III stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mp3Error {
    /// Nothing but tags (or nothing at all): no audio frame.
    #[error("no MPEG audio frame in {length} bytes")]
    NoFrames { length: usize },

    /// The data starts with `ID3` but the tag header is malformed or longer than the data.
    #[error("malformed ID3v2 tag at offset 0: {problem}")]
    BadId3v2 { problem: &'static str },

    /// The bytes at `offset`, where the next frame should start, are not a Layer III header.
    #[error("bad MPEG frame header at offset {offset}: {problem}")]
    BadHeader {
        offset: usize,
        problem: &'static str,
    },

    /// A valid header announces a frame longer than the data that is left.
    #[error(
        "MPEG frame at offset {offset} is {frame_length} bytes long but only {available} bytes are left"
    )]
    TruncatedFrame {
        offset: usize,
        frame_length: usize,
        available: usize,
    },

    /// Frames of different sample rates: a player would not play them as one stream.
    #[error(
        "MPEG frame at offset {offset} is sampled at {found} Hz, earlier frames at {expected} Hz"
    )]
    MixedSampleRates {
        offset: usize,
        expected: u32,
        found: u32,
    },
}

/// Checks that `bytes` are an MPEG-1/2/2.5 Layer III stream and measures it.
pub fn inspect(bytes: &[u8]) -> Result<Mp3Info, Mp3Error> {
    let mut offset = id3v2_length(bytes)?;
    let mut frames = 0_usize;
    let mut samples = 0_u64;
    let mut sample_rate = None;
    loop {
        let rest = bytes.get(offset..).unwrap_or_default();
        if rest.is_empty() || is_id3v1(rest) {
            break;
        }
        let header = rest
            .get(..4)
            .and_then(|header| <[u8; 4]>::try_from(header).ok())
            .ok_or(Mp3Error::BadHeader {
                offset,
                problem: "fewer than 4 bytes left for a frame header",
            })?;
        let header = FrameHeader::parse(header)
            .map_err(|problem| Mp3Error::BadHeader { offset, problem })?;
        let frame = rest.get(..header.length).ok_or(Mp3Error::TruncatedFrame {
            offset,
            frame_length: header.length,
            available: rest.len(),
        })?;
        match sample_rate {
            None => sample_rate = Some(header.sample_rate),
            Some(expected) if expected != header.sample_rate => {
                return Err(Mp3Error::MixedSampleRates {
                    offset,
                    expected,
                    found: header.sample_rate,
                });
            }
            Some(_) => {}
        }
        // A Xing/Info frame carries the encoder's metadata in place of audio: a player skips it,
        // so it counts neither as a frame nor towards the duration.
        if !header.is_xing_or_info(frame) {
            frames += 1;
            samples += u64::from(header.samples);
        }
        offset += header.length;
    }
    match sample_rate {
        Some(rate) if frames > 0 => Ok(Mp3Info {
            frames,
            duration: samples_to_duration(samples, rate),
            sample_rate: rate,
        }),
        _ => Err(Mp3Error::NoFrames {
            length: bytes.len(),
        }),
    }
}

fn samples_to_duration(samples: u64, rate: u32) -> Duration {
    let rate = u64::from(rate.max(1));
    let seconds = samples / rate;
    // (samples % rate) < rate <= 48000, so this stays far below u64::MAX and below a second.
    let nanos = (samples % rate) * 1_000_000_000 / rate;
    Duration::new(seconds, u32::try_from(nanos).unwrap_or(0))
}

/// The length of a leading ID3v2 tag (header, body and footer), 0 when there is none.
fn id3v2_length(bytes: &[u8]) -> Result<usize, Mp3Error> {
    if !bytes.starts_with(b"ID3") {
        return Ok(0);
    }
    let bad = |problem| Mp3Error::BadId3v2 { problem };
    let header = bytes
        .get(..10)
        .ok_or(bad("shorter than its 10-byte header"))?;
    let (version, flags, size) = match header {
        [_, _, _, major, revision, flags, size @ ..] => ([*major, *revision], *flags, size),
        _ => return Err(bad("shorter than its 10-byte header")),
    };
    if version.contains(&0xFF) {
        return Err(bad("version byte 0xFF"));
    }
    // The size is "syncsafe": four 7-bit groups, so that no byte of it looks like a frame sync.
    let mut body = 0_usize;
    for byte in size {
        if byte & 0x80 != 0 {
            return Err(bad("size is not syncsafe"));
        }
        body = (body << 7) | usize::from(*byte);
    }
    let footer = if flags & 0x10 != 0 { 10 } else { 0 };
    let length = 10 + body + footer;
    if length > bytes.len() {
        return Err(bad("longer than the data"));
    }
    Ok(length)
}

/// An ID3v1 tag is the last 128 bytes of a file, starting with `TAG`; only there is it one.
fn is_id3v1(rest: &[u8]) -> bool {
    rest.len() == 128 && rest.starts_with(b"TAG")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MpegVersion {
    Mpeg1,
    Mpeg2,
    Mpeg25,
}

#[derive(Debug, Clone, Copy)]
struct FrameHeader {
    version: MpegVersion,
    sample_rate: u32,
    /// The whole frame, header included.
    length: usize,
    samples: u32,
    mono: bool,
    crc: bool,
}

/// Layer III bitrates in kbit/s by bitrate index; index 0 (free format) and 15 are refused.
const MPEG1_BITRATES: [u32; 16] = [
    0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0,
];
const MPEG2_BITRATES: [u32; 16] = [
    0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0,
];

impl FrameHeader {
    fn parse([b0, b1, b2, b3]: [u8; 4]) -> Result<Self, &'static str> {
        if b0 != 0xFF || b1 & 0xE0 != 0xE0 {
            return Err("no frame sync (11 set bits)");
        }
        let version = match (b1 >> 3) & 0b11 {
            0b00 => MpegVersion::Mpeg25,
            0b10 => MpegVersion::Mpeg2,
            0b11 => MpegVersion::Mpeg1,
            _ => return Err("reserved MPEG version"),
        };
        match (b1 >> 1) & 0b11 {
            0b01 => {}
            0b00 => return Err("reserved layer"),
            _ => return Err("Layer I or II, not Layer III"),
        }
        let crc = b1 & 0b1 == 0;
        let bitrate_index = usize::from(b2 >> 4);
        let bitrates = match version {
            MpegVersion::Mpeg1 => &MPEG1_BITRATES,
            MpegVersion::Mpeg2 | MpegVersion::Mpeg25 => &MPEG2_BITRATES,
        };
        let bitrate_kbps = match bitrate_index {
            0 => return Err("free-format bitrate (index 0) is not supported"),
            15 => return Err("invalid bitrate index 15"),
            index => bitrates.get(index).copied().unwrap_or(0),
        };
        let sample_rate_index = (b2 >> 2) & 0b11;
        let base_rate = match sample_rate_index {
            0 => 44_100,
            1 => 48_000,
            2 => 32_000,
            _ => return Err("reserved sample rate index 3"),
        };
        let sample_rate = match version {
            MpegVersion::Mpeg1 => base_rate,
            MpegVersion::Mpeg2 => base_rate / 2,
            MpegVersion::Mpeg25 => base_rate / 4,
        };
        if b3 & 0b11 == 0b10 {
            return Err("reserved emphasis");
        }
        let padding = u32::from((b2 >> 1) & 0b1);
        // A Layer III frame holds 1152 samples in MPEG-1 and 576 in MPEG-2/2.5: bytes per frame
        // are samples / 8 * bitrate / sample rate, plus one padding byte.
        let (samples, coefficient) = match version {
            MpegVersion::Mpeg1 => (1152, 144),
            MpegVersion::Mpeg2 | MpegVersion::Mpeg25 => (576, 72),
        };
        let length = coefficient * bitrate_kbps * 1000 / sample_rate + padding;
        Ok(Self {
            version,
            sample_rate,
            length: usize::try_from(length).unwrap_or(usize::MAX),
            samples,
            mono: b3 >> 6 == 0b11,
            crc,
        })
    }

    /// Whether `frame` is a Xing/Info frame: the tag sits right after the side information,
    /// whose size depends on the version and the number of channels.
    fn is_xing_or_info(&self, frame: &[u8]) -> bool {
        let side_information = match (self.version, self.mono) {
            (MpegVersion::Mpeg1, false) => 32,
            (MpegVersion::Mpeg1, true) | (_, false) => 17,
            (_, true) => 9,
        };
        let start = 4 + if self.crc { 2 } else { 0 } + side_information;
        matches!(frame.get(start..start + 4), Some(b"Xing") | Some(b"Info"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MPEG-1 Layer III, 128 kbit/s, 44100 Hz, no padding, stereo: 417-byte frames.
    const MPEG1_HEADER: [u8; 4] = [0xFF, 0xFB, 0x90, 0x00];
    /// MPEG-2 Layer III, 32 kbit/s, 22050 Hz, mono (what lame makes of espeak-ng's WAV):
    /// 104-byte frames.
    const MPEG2_HEADER: [u8; 4] = [0xFF, 0xF3, 0x40, 0xC4];
    /// MPEG-2.5 Layer III, 8 kbit/s, 8000 Hz: 72-byte frames.
    const MPEG25_HEADER: [u8; 4] = [0xFF, 0xE3, 0x18, 0xC4];

    /// `count` frames with `header` and a zero payload filling the length it announces.
    fn frames(header: [u8; 4], length: usize, count: usize) -> Vec<u8> {
        let mut frame = header.to_vec();
        frame.resize(length, 0);
        frame.repeat(count)
    }

    fn id3v2(body: usize) -> Vec<u8> {
        let size = u32::try_from(body).unwrap();
        let mut tag = b"ID3\x04\x00\x00".to_vec();
        tag.extend([21, 14, 7, 0].map(|shift| u8::try_from((size >> shift) & 0x7F).unwrap()));
        tag.resize(10 + body, 0);
        tag
    }

    #[test]
    fn frames_of_each_mpeg_version_are_counted_and_timed() {
        let cases = [
            (MPEG1_HEADER, 417, 44_100, 1152, "MPEG-1"),
            (MPEG2_HEADER, 104, 22_050, 576, "MPEG-2"),
            (MPEG25_HEADER, 72, 8_000, 576, "MPEG-2.5"),
        ];
        for (header, length, rate, samples, why) in cases {
            let info = inspect(&frames(header, length, 100)).unwrap();
            assert_eq!(info.frames, 100, "{why}");
            assert_eq!(info.sample_rate, rate, "{why}");
            let expected = Duration::from_secs_f64(f64::from(100 * samples) / f64::from(rate));
            let difference = info.duration.abs_diff(expected);
            assert!(
                difference < Duration::from_micros(1),
                "{why}: {:?}",
                info.duration
            );
        }
    }

    #[test]
    fn a_padded_frame_is_one_byte_longer() {
        let mut padded = MPEG1_HEADER;
        padded[2] |= 0b10;
        let mut bytes = frames(padded, 418, 3);
        bytes.extend(frames(MPEG1_HEADER, 417, 2));
        assert_eq!(inspect(&bytes).unwrap().frames, 5);
    }

    #[test]
    fn id3v2_and_id3v1_tags_are_skipped() {
        let audio = frames(MPEG2_HEADER, 104, 10);
        let mut tagged = id3v2(300);
        tagged.extend(&audio);
        let mut id3v1 = b"TAG".to_vec();
        id3v1.resize(128, b' ');
        tagged.extend(&id3v1);
        assert_eq!(inspect(&tagged), inspect(&audio));
        assert_eq!(inspect(&tagged).unwrap().frames, 10);

        // A tag and nothing else is not audio.
        assert_eq!(inspect(&id3v2(20)), Err(Mp3Error::NoFrames { length: 30 }));
        // A tag that claims more bytes than there are.
        let mut short = id3v2(300);
        short.truncate(100);
        assert!(matches!(inspect(&short), Err(Mp3Error::BadId3v2 { .. })));
    }

    #[test]
    fn a_xing_or_info_frame_is_not_audio() {
        for tag in [b"Xing", b"Info"] {
            let mut first = frames(MPEG1_HEADER, 417, 1);
            // Stereo MPEG-1 without CRC: 4 header bytes and 32 bytes of side information.
            first.splice(36..40, tag.iter().copied());
            first.extend(frames(MPEG1_HEADER, 417, 4));
            assert_eq!(inspect(&first).unwrap().frames, 4);
        }
    }

    #[test]
    fn concatenated_streams_parse_as_one_with_the_summed_duration() {
        let one = frames(MPEG2_HEADER, 104, 40);
        let other = frames(MPEG2_HEADER, 104, 60);
        let both = [one.clone(), other.clone()].concat();
        let (one, other, both) = (
            inspect(&one).unwrap(),
            inspect(&other).unwrap(),
            inspect(&both).unwrap(),
        );
        assert_eq!(both.frames, 100);
        assert_eq!(both.duration, one.duration + other.duration);

        let mixed = [frames(MPEG2_HEADER, 104, 2), frames(MPEG1_HEADER, 417, 2)].concat();
        assert_eq!(
            inspect(&mixed),
            Err(Mp3Error::MixedSampleRates {
                offset: 208,
                expected: 22_050,
                found: 44_100
            })
        );
    }

    #[test]
    fn data_that_is_not_a_clean_layer_iii_stream_is_refused_with_its_offset() {
        let mut trailing_garbage = frames(MPEG2_HEADER, 104, 3);
        trailing_garbage.extend(b"garbage");
        let truncated = {
            let mut bytes = frames(MPEG2_HEADER, 104, 3);
            bytes.truncate(300);
            bytes
        };
        let header_with = |b2: u8, b1: u8| frames([0xFF, b1, b2, 0xC4], 104, 1);
        let cases: Vec<(Vec<u8>, Mp3Error, &str)> = vec![
            (Vec::new(), Mp3Error::NoFrames { length: 0 }, "empty"),
            (
                b"\x00\x01\x02\x03\x04\x05\x06\x07".to_vec(),
                Mp3Error::BadHeader {
                    offset: 0,
                    problem: "no frame sync (11 set bits)",
                },
                "moto's placeholder audio",
            ),
            (
                trailing_garbage,
                Mp3Error::BadHeader {
                    offset: 312,
                    problem: "no frame sync (11 set bits)",
                },
                "garbage after the last frame",
            ),
            (
                truncated,
                Mp3Error::TruncatedFrame {
                    offset: 208,
                    frame_length: 104,
                    available: 92,
                },
                "a torn last frame",
            ),
            (
                header_with(0xF4, 0xF3),
                Mp3Error::BadHeader {
                    offset: 0,
                    problem: "invalid bitrate index 15",
                },
                "bitrate index 15",
            ),
            (
                header_with(0x04, 0xF3),
                Mp3Error::BadHeader {
                    offset: 0,
                    problem: "free-format bitrate (index 0) is not supported",
                },
                "bitrate index 0",
            ),
            (
                header_with(0x4C, 0xF3),
                Mp3Error::BadHeader {
                    offset: 0,
                    problem: "reserved sample rate index 3",
                },
                "sample rate index 3",
            ),
            (
                header_with(0x40, 0xEB),
                Mp3Error::BadHeader {
                    offset: 0,
                    problem: "reserved MPEG version",
                },
                "version bits 01",
            ),
            (
                header_with(0x40, 0xF5),
                Mp3Error::BadHeader {
                    offset: 0,
                    problem: "Layer I or II, not Layer III",
                },
                "Layer II",
            ),
            (
                vec![0xFF, 0xF3],
                Mp3Error::BadHeader {
                    offset: 0,
                    problem: "fewer than 4 bytes left for a frame header",
                },
                "half a header",
            ),
        ];
        for (bytes, expected, why) in cases {
            assert_eq!(inspect(&bytes), Err(expected), "{why}");
        }
    }

    #[test]
    fn errors_say_where_the_stream_broke() {
        let message = inspect(b"\x00\x01\x02\x03\x04\x05\x06\x07")
            .unwrap_err()
            .to_string();
        assert!(message.contains("offset 0"), "{message}");
        assert_eq!(
            inspect(b"").unwrap_err().to_string(),
            "no MPEG audio frame in 0 bytes"
        );
    }
}
